"""The scaled families: Xavier, Kaiming, variance scaling and LeCun, each a distribution of
_distributions.py with its scale computed in torch.nn.init's floating-point order (so
``kaiming_uniform_(t)`` writes exactly what ``uniform_(t, -bound, bound)`` writes).

Public through philoxinit.init; see its docstring for the keyword-only extras.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, Optional, Sequence

import torch
from torch import Tensor
from torch.overrides import has_torch_function_variadic

from ._distributions import hand_off, normal_, random_fill, run_fill, trunc_normal_, uniform_
from ._fans import calculate_gain, correct_fan, fan_in_and_fan_out, variance_scaling_fan

_FanMode = Literal["fan_in", "fan_out"]
_Nonlinearity = Literal[
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]  # fmt: skip


def _fan_shape(tensor: Tensor, global_shape) -> Sequence[int]:
    """The shape the fans come from: the whole tensor's when the tensor is a box of it."""
    return tensor.shape if global_shape is None else tuple(global_shape)


def xavier_uniform_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Xavier uniform distribution.

    The method is described in `Understanding the difficulty of training deep feedforward neural
    networks` - Glorot, X. & Bengio, Y. (2010). The values are drawn from
    :math:`\mathcal{U}(-a, a)` by :func:`uniform_`, where

    .. math::
        a = \text{gain} \times \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}

    computed in torch's order (``std = gain * sqrt(2 / (fan_in + fan_out)); a = sqrt(3) * std``).

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        gain: an optional scaling factor
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.xavier_uniform_(torch.empty(3, 5), gain=philoxinit.calculate_gain("relu"), seed=0)
        >>> a = math.sqrt(3.0) * (math.sqrt(2.0) * math.sqrt(2.0 / (5 + 3)))
        >>> torch.equal(w, philoxinit.uniform_(torch.empty(3, 5), -a, a, seed=0))
        True
    """
    fan_in, fan_out = fan_in_and_fan_out(_fan_shape(tensor, global_shape))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return random_fill(
        uniform_, "xavier_uniform_", tensor, (-a, a), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def xavier_normal_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Xavier normal distribution.

    The method is described in `Understanding the difficulty of training deep feedforward neural
    networks` - Glorot, X. & Bengio, Y. (2010). The values are drawn from
    :math:`\mathcal{N}(0, \text{std}^2)` by :func:`normal_`, where

    .. math::
        \text{std} = \text{gain} \times \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        gain: an optional scaling factor
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.xavier_normal_(torch.empty(3, 5), seed=0)
        >>> torch.equal(w, philoxinit.normal_(torch.empty(3, 5), 0.0, math.sqrt(2.0 / (5 + 3)), seed=0))
        True
    """
    fan_in, fan_out = fan_in_and_fan_out(_fan_shape(tensor, global_shape))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return random_fill(
        normal_, "xavier_normal_", tensor, (0.0, std), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


# gain / sqrt(fan_mode) per (fan shape, mode, nonlinearity, a) seen before: a model's layers come
# in a few shapes. Only results are kept (bad arguments raise torch's exceptions every time), and
# type(a) is in the key because a bool slope is an error while 1 == True.
_KAIMING_STD: dict = {}
_KAIMING_STD_MAX = 1024


def _kaiming_std(tensor: Tensor, a, mode, nonlinearity, global_shape) -> Optional[float]:
    """gain / sqrt(fan_mode), in torch's order; None (after torch's warning) for an empty tensor."""
    shape = tensor.shape
    if 0 in shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    if global_shape is not None:
        shape = tuple(global_shape)
    key = (shape, mode, nonlinearity, type(a), a)
    try:
        return _KAIMING_STD[key]
    except KeyError:
        keep = len(_KAIMING_STD) < _KAIMING_STD_MAX
    except TypeError:  # an unhashable argument: torch's checks below say whether it is wrong
        keep = False
    fan = correct_fan(shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    if keep:
        _KAIMING_STD[key] = std
    return std


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: _FanMode = "fan_in",
    nonlinearity: _Nonlinearity = "leaky_relu",
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Kaiming uniform distribution.

    The method is described in `Delving deep into rectifiers: Surpassing human-level performance
    on ImageNet classification` - He, K. et al. (2015). The values are drawn from
    :math:`\mathcal{U}(-\text{bound}, \text{bound})` by :func:`uniform_`, where

    .. math::
        \text{bound} = \text{gain} \times \sqrt{\frac{3}{\text{fan\_mode}}}

    computed in torch's order (``std = gain / sqrt(fan_mode); bound = sqrt(3) * std``), so the
    values are exactly those of ``uniform_(tensor, -bound, bound)`` with the same key.

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        a: the negative slope of the rectifier used after this layer (only used with
            ``'leaky_relu'``)
        mode: either ``'fan_in'`` (default) or ``'fan_out'``. Choosing ``'fan_in'`` preserves the
            magnitude of the variance of the weights in the forward pass. Choosing ``'fan_out'``
            preserves the magnitudes in the backwards pass.
        nonlinearity: the non-linear function (`nn.functional` name), recommended to use only
            with ``'relu'`` or ``'leaky_relu'`` (default)
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.kaiming_uniform_(torch.empty(4, 6), nonlinearity="relu", seed=1)
        >>> bound = math.sqrt(3.0) * (math.sqrt(2.0) / math.sqrt(6))
        >>> torch.equal(w, philoxinit.uniform_(torch.empty(4, 6), -bound, bound, seed=1))
        True
    """
    if has_torch_function_variadic(tensor):
        return hand_off(
            kaiming_uniform_, tensor, (a, mode, nonlinearity, generator), seed, stream, offset,
            global_shape, global_offset,
        )  # fmt: skip
    std = _kaiming_std(tensor, a, mode, nonlinearity, global_shape)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return run_fill(  # (the __torch_function__ hand-off was this function's own, above)
        "uniform_", "kaiming_uniform_", tensor, (-bound, bound), generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: _FanMode = "fan_in",
    nonlinearity: _Nonlinearity = "leaky_relu",
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Kaiming normal distribution.

    The method is described in `Delving deep into rectifiers: Surpassing human-level performance
    on ImageNet classification` - He, K. et al. (2015). The values are drawn from
    :math:`\mathcal{N}(0, \text{std}^2)` by :func:`normal_`, where

    .. math::
        \text{std} = \frac{\text{gain}}{\sqrt{\text{fan\_mode}}}

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        a: the negative slope of the rectifier used after this layer (only used with
            ``'leaky_relu'``)
        mode: either ``'fan_in'`` (default) or ``'fan_out'``. Choosing ``'fan_in'`` preserves the
            magnitude of the variance of the weights in the forward pass. Choosing ``'fan_out'``
            preserves the magnitudes in the backwards pass.
        nonlinearity: the non-linear function (`nn.functional` name), recommended to use only
            with ``'relu'`` or ``'leaky_relu'`` (default)
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.kaiming_normal_(torch.empty(4, 6), mode="fan_out", nonlinearity="relu", seed=1)
        >>> torch.equal(w, philoxinit.normal_(torch.empty(4, 6), 0.0, math.sqrt(2.0) / math.sqrt(4), seed=1))
        True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, global_shape)
    if std is None:
        return tensor
    return random_fill(
        normal_, "kaiming_normal_", tensor, (0, std), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


TRUNCATED_STD_CORRECTION = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def variance_scaling_(
    tensor: Tensor,
    scale: float = 1.0,
    mode: Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"] = "fan_in",
    distribution: Literal["truncated_normal", "normal", "uniform"] = "truncated_normal",
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with values of variance ``scale / fan`` (JAX, Keras and timm's rule).

    With :math:`\sigma^2 = \text{scale} / \text{fan}`, the values are drawn from

    * ``'truncated_normal'``: :math:`\mathcal{N}(0, s^2)` truncated to :math:`[-2s, 2s]` by
      :func:`trunc_normal_`, :math:`s = \sigma / 0.87962566103423978` (the std of a standard
      normal truncated to :math:`[-2, 2]`), so the variance is :math:`\sigma^2`;
    * ``'normal'``: :math:`\mathcal{N}(0, \sigma^2)` by :func:`normal_`;
    * ``'uniform'``: :math:`\mathcal{U}(-\sqrt{3}\sigma, \sqrt{3}\sigma)` by :func:`uniform_`.

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        scale: the variance times the fan
        mode: the fan: ``'fan_in'`` (default), ``'fan_out'``, ``'fan_avg'`` (their mean) or
            ``'fan_geo_avg'`` (their geometric mean)
        distribution: ``'truncated_normal'`` (default), ``'normal'`` or ``'uniform'``
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.variance_scaling_(torch.empty(4, 6), 2.0, "fan_avg", "uniform", seed=5)
        >>> bound = math.sqrt(3.0 * (2.0 / 5.0))
        >>> torch.equal(w, philoxinit.uniform_(torch.empty(4, 6), -bound, bound, seed=5))
        True
    """
    return _variance_scaling(
        "variance_scaling_", tensor, scale, mode, distribution, generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def _variance_scaling(
    called, tensor, scale, mode, distribution, generator, seed, stream, offset, global_shape, global_offset
) -> Tensor:
    """variance_scaling_ for ``called`` (variance_scaling_ or a lecun_* preset)."""
    valid = ["truncated_normal", "normal", "uniform"]
    if distribution not in valid:
        raise ValueError(f"Distribution {distribution} not supported, please use one of {valid}")
    fan = variance_scaling_fan(_fan_shape(tensor, global_shape), mode)
    variance = scale / fan
    if distribution == "truncated_normal":
        std = math.sqrt(variance) / TRUNCATED_STD_CORRECTION
        public, params = trunc_normal_, (0.0, std, -2.0 * std, 2.0 * std)
    elif distribution == "normal":
        public, params = normal_, (0.0, math.sqrt(variance))
    else:
        bound = math.sqrt(3.0 * variance)
        public, params = uniform_, (-bound, bound)
    return random_fill(public, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset)


def lecun_normal_(
    tensor: Tensor,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with LeCun normal values: variance :math:`1 / \text{fan\_in}`.

    ``variance_scaling_(tensor, 1.0, 'fan_in', 'truncated_normal')``: :math:`\mathcal{N}(0, s^2)`
    truncated to :math:`[-2s, 2s]` with :math:`s = 1 / (0.87962566103423978 \sqrt{\text{fan\_in}})`.

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.lecun_normal_(torch.empty(4, 6), seed=2)
        >>> v = philoxinit.variance_scaling_(torch.empty(4, 6), 1.0, "fan_in", "truncated_normal", seed=2)
        >>> torch.equal(w, v)
        True
    """
    return _variance_scaling(
        "lecun_normal_", tensor, 1.0, "fan_in", "truncated_normal", generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def lecun_uniform_(
    tensor: Tensor,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input `Tensor` with LeCun uniform values: variance :math:`1 / \text{fan\_in}`.

    ``variance_scaling_(tensor, 1.0, 'fan_in', 'uniform')``: :math:`\mathcal{U}(-\text{bound},
    \text{bound})` with :math:`\text{bound} = \sqrt{3 / \text{fan\_in}}`.

    Args:
        tensor: an n-dimensional `torch.Tensor` (at least 2 dims)
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of; the fans are the
            whole tensor's (default: None, the tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.lecun_uniform_(torch.empty(4, 6), seed=2)
        >>> bound = math.sqrt(3.0 * (1.0 / 6))
        >>> torch.equal(w, philoxinit.uniform_(torch.empty(4, 6), -bound, bound, seed=2))
        True
    """
    return _variance_scaling(
        "lecun_uniform_", tensor, 1.0, "fan_in", "uniform", generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip
