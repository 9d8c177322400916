"""torch.nn.init, drop-in: same names, positional parameters, defaults, errors and warnings.

The random functions draw from the Philox4x32-10 stream of docs/contract.md on philoxinit's kernels,
with the scale computed in torch's floating-point order (so ``kaiming_uniform_(t)`` writes exactly
what ``uniform_(t, -bound, bound)`` writes). Every random function takes the same keyword-only
extras after torch's parameters:

* ``seed``: the Philox key K (int in 0..2**64-1). Without it K is drawn from ``generator``
  (torch's default CPU generator when None), so ``torch.manual_seed`` reproduces results.
* ``stream``, ``offset``: the Philox stream S and block offset O (default 0).
* ``global_shape``, ``global_offset``: the tensor is the box ``global_offset + tensor.shape`` of
  a larger tensor of shape ``global_shape``; it gets exactly that box's values, and fans come from
  the global shape (for frameworks that shard by hand).
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Literal, Optional, Sequence

import torch
from torch import Tensor
from torch.overrides import handle_torch_function, has_torch_function_variadic

from . import _ops
from ._fans import calculate_gain, correct_fan, fan_in_and_fan_out, variance_scaling_fan
from ._fill import DISTRIBUTIONS

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
    "uniform",
    "normal",
    "constant",
    "eye",
    "dirac",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
    "variance_scaling_",
    "lecun_uniform_",
    "lecun_normal_",
    "random_bits_",
]

_FanMode = Literal["fan_in", "fan_out"]
_Nonlinearity = Literal[
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]  # fmt: skip

# ---- the preamble every random function shares ----------------------------------------------


def _torch_function(
    public: Callable, tensor: Tensor, args: tuple, seed, stream, offset, global_shape, global_offset
):
    """Hand the call to a ``__torch_function__`` override (a tensor subclass or a mode), as
    torch.nn.init does: ``args`` are the public function's positional arguments after the tensor."""
    return handle_torch_function(
        public, (tensor,), tensor, *args, seed=seed, stream=stream, offset=offset,
        global_shape=global_shape, global_offset=global_offset,
    )  # fmt: skip


def _random(public, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    """Fill ``tensor`` with the distribution of ``public`` (uniform_, normal_ or trunc_normal_) and
    its ``params``: through a ``__torch_function__`` override if there is one, else :func:`_run`.
    ``called``: the public function the user called (errors name it)."""
    if has_torch_function_variadic(tensor):
        return _torch_function(
            public, tensor, params + (generator,), seed, stream, offset, global_shape, global_offset
        )
    return _run(
        public.__name__, called, tensor, params, generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def _run(fn, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    """One ``philoxinit::fill_`` op while torch.compile traces (_ops.py); else the eager fill."""
    if torch.compiler.is_compiling():
        return _ops.traced_fill(
            fn, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset
        )
    return DISTRIBUTIONS[fn](
        called, tensor, params, generator, seed, stream, offset, global_shape, global_offset
    )


def _fan_shape(tensor: Tensor, global_shape) -> Sequence[int]:
    return tensor.shape if global_shape is None else tuple(global_shape)


# ---- distributions ------------------------------------------------------------------------------


def uniform_(
    tensor: Tensor,
    a: float = 0.0,
    b: float = 1.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input Tensor with values drawn from the uniform distribution :math:`\mathcal{U}(a, b)`.

    Each element reads its own 32-bit Philox word :math:`x` (two for float64) and gets

    .. math::
        v = a + u \, (b - a), \qquad u = \lfloor x / 2^8 \rfloor \cdot 2^{-24} \in [0, 1)

    in float32 (float64: :math:`u` from 53 bits); a value that rounds up to :math:`b` becomes
    :math:`a`. float16 and bfloat16 round the float32 value. Complex tensors draw each component
    from :math:`\mathcal{U}(a, b)`. The exact rule is docs/contract.md, section 2.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the lower bound of the uniform distribution
        b: the upper bound of the uniform distribution
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = torch.empty(2, 3)
        >>> philoxinit.uniform_(w, -1.0, 1.0, seed=0)
        tensor([[-0.2019,  0.7610,  0.4714],
                [ 0.2110,  0.9445, -0.2758]])
        >>> torch.equal(w, philoxinit.uniform_(torch.empty(2, 3), -1.0, 1.0, seed=0))  # same key, same values
        True
    """
    return _random(
        uniform_, "uniform_", tensor, (a, b), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input Tensor with values drawn from the normal distribution :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Box-Muller on pairs of the element's Philox words :math:`(x_1, x_2)`:

    .. math::
        v = \text{mean} + \text{std} \cdot \sqrt{-2 \ln u_1} \, \cos(2 \pi u_2)
        \quad (\sin \text{ for the pair's second element})

    with :math:`u_1 \in (0, 1]`, :math:`u_2 \in [0, 1)` from :math:`x_1, x_2`, computed from basic
    IEEE operations only (docs/contract.md, section 3). Complex tensors get
    :math:`\text{std} / \sqrt{2}` per component, as in torch.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> full = philoxinit.normal_(torch.empty(4, 3), 0.0, 0.02, seed=7)
        >>> shard = philoxinit.normal_(torch.empty(2, 3), 0.0, 0.02, seed=7,
        ...                            global_shape=(4, 3), global_offset=(2, 0))
        >>> torch.equal(shard, full[2:])  # a box of the whole gets the whole's values
        True
    """
    return _random(
        normal_, "normal_", tensor, (mean, std), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input Tensor with values drawn from a truncated normal distribution.

    The values follow :math:`\mathcal{N}(\text{mean}, \text{std}^2)` restricted to :math:`[a, b]`,
    drawn in one pass by the inverse CDF over the interval's probability range (no resampling):

    .. math::
        v = \text{mean} + \text{std} \cdot \Phi^{-1}\big(\Phi(\alpha) + u \, (\Phi(\beta) - \Phi(\alpha))\big),
        \qquad \alpha = \frac{a - \text{mean}}{\text{std}}, \quad \beta = \frac{b - \text{mean}}{\text{std}}

    with :math:`u \in (0, 1]` from the element's Philox word, the interval reflected so that its
    mass lies in the lower tail (docs/contract.md, section 4). Every stored value has
    ``round(a) <= v <= round(b)`` in the tensor's dtype; bounds deep in one tail are exact too.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution
        a: the minimum cutoff value
        b: the maximum cutoff value
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.trunc_normal_(torch.empty(256, 256), std=0.02, a=-0.04, b=0.04, seed=3)
        >>> bool((w >= -0.04).all() and (w <= 0.04).all())
        True
    """
    return _random(
        trunc_normal_, "trunc_normal_", tensor, (mean, std, a, b), generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def random_bits_(
    tensor: Tensor,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill an int32 or uint32 tensor with the raw Philox words (bit patterns).

    The element with global row-major index :math:`i` gets word :math:`i \bmod 4` of

    .. math::
        \text{Philox4x32-10}\big(\text{key} = K,\ \text{counter} = (O + \lfloor i / 4 \rfloor,\ S)\big)

    (each 64-bit number split in two 32-bit words, low first): cuRAND's ``Philox4_32_10`` stream
    with seed :math:`K`, subsequence :math:`S` and offset :math:`4 O + i` (docs/contract.md,
    section 1). Every other distribution is a transform of these words.

    Args:
        tensor: an int32 or uint32 `torch.Tensor`
        seed: the Philox key K, an int in 0..2**64-1 (required)
        stream: the Philox stream S, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block O, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> bits = philoxinit.random_bits_(torch.empty(4, dtype=torch.int32), seed=0)
        >>> words = philoxinit.philox4x32_10((0, 0, 0, 0), (0, 0))  # block 0 of stream 0
        >>> [x & 0xFFFFFFFF for x in bits.tolist()] == list(words)
        True
    """
    return _run(  # no __torch_function__ hand-off: random_bits_ is not one of torch's
        "random_bits_", "random_bits_", tensor, (), None, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


# ---- the scaled families --------------------------------------------------------------------------


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
    return _random(
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
    return _random(
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
        return _torch_function(
            kaiming_uniform_, tensor, (a, mode, nonlinearity, generator), seed, stream, offset,
            global_shape, global_offset,
        )  # fmt: skip
    std = _kaiming_std(tensor, a, mode, nonlinearity, global_shape)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _run(  # (the __torch_function__ hand-off was this function's own, above)
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
    return _random(
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
    return _random(
        public, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset
    )


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


# ---- no kernel of their own: torch's code, under philoxinit's names -----------------------------

constant_ = torch.nn.init.constant_
ones_ = torch.nn.init.ones_
zeros_ = torch.nn.init.zeros_
eye_ = torch.nn.init.eye_
dirac_ = torch.nn.init.dirac_
orthogonal_ = torch.nn.init.orthogonal_
sparse_ = torch.nn.init.sparse_


def _make_deprecate(meth: Callable) -> Callable:
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"""
    {old_name}(...)

    .. warning::
        This method is now deprecated in favor of :func:`philoxinit.{new_name}`."""
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
