"""torch.nn.init, drop-in: same names, positional parameters, defaults, errors and warnings.

The random functions draw from the Philox4x32-10 stream of docs/contract.md on philoxinit's kernels,
with the scale computed in torch's floating-point order (so ``kaiming_uniform_(t)`` writes exactly
what ``uniform_(t, -bound, bound)`` writes). Extras are keyword-only on every random function:

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
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor
from torch.overrides import handle_torch_function, has_torch_function_variadic

from . import _backend, _ops, distributed
from ._fans import calculate_gain, correct_fan, fan_in_and_fan_out, variance_scaling_fan
from ._keys import check_u64, resolve_key
from ._request import Dist, Params, Request, row_major_strides, through_real_view
from ._truncation import trunc_params
from ._validate import (
    check_bits_dtype,
    check_layout,
    check_normal,
    check_trunc_dtype,
    check_uniform,
    real_dtype,
)

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

# ---- the one path every random fill takes -------------------------------------------------------


def _global_map(tensor: Tensor, global_shape, global_offset) -> tuple[int, tuple]:
    """(global index of the first element, global-index strides of the local dims)."""
    shape = tuple(tensor.shape)
    if global_shape is None:
        if global_offset is not None:
            raise ValueError("global_offset needs global_shape")
        return 0, row_major_strides(shape)
    gshape = tuple(int(s) for s in global_shape)
    goff = tuple(int(o) for o in global_offset) if global_offset is not None else (0,) * len(gshape)
    if len(gshape) != len(shape) or len(goff) != len(shape):
        raise ValueError(
            f"global_shape {list(gshape)} and global_offset {list(goff)} must have one entry per "
            f"dim of the tensor (shape {list(shape)})"
        )
    for d, (s, g, o) in enumerate(zip(shape, gshape, goff)):
        if o < 0 or o + s > g:
            raise ValueError(
                f"the tensor (shape {list(shape)}) at global_offset {list(goff)} does not fit in "
                f"global_shape {list(gshape)} (dim {d})"
            )
    if math.prod(gshape) > 1 << 62:  # global indices (x2 for complex) must fit in int64
        raise ValueError(f"global_shape {list(gshape)} has more than 2**62 elements")
    gstrides = row_major_strides(gshape)
    return sum(o * st for o, st in zip(goff, gstrides)), gstrides


def _fill(
    tensor: Tensor,
    dist: Dist,
    params: Callable[[torch.dtype], Params],
    *,
    seed,
    generator,
    stream,
    offset,
    global_shape=None,
    global_offset=None,
) -> Tensor:
    """Validate the rest, then draw the key and write. ``params(real dtype)`` may raise."""
    check_layout(tensor)
    goffset, gstrides = _global_map(tensor, global_shape, global_offset)
    p = params(real_dtype(tensor))
    stream = check_u64("stream", stream)
    offset = check_u64("offset", offset)
    if seed is not None:
        check_u64("seed", seed)
    if distributed.is_dtensor(tensor):  # each rank fills only its shard; the key is drawn there
        return distributed.fill_dtensor(
            tensor, dist, p, seed=seed, generator=generator, stream=stream, offset=offset,
            global_shape=global_shape, global_offset=global_offset,
        )  # fmt: skip
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    path = _backend.ready(tensor.device)
    key = resolve_key(seed, generator)
    target, sizes, gstrides, goffset = through_real_view(tensor, tuple(tensor.shape), gstrides, goffset)
    req = Request(dist, p, key, stream, offset, sizes, gstrides, goffset)
    _backend.fill([target], [req], path)
    torch.autograd.graph.increment_version(tensor)  # an in-place write, as torch's would count
    return tensor


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

    float32: ``v = a + u * (b - a)`` with ``u = (x >> 8) * 2**-24`` from the element's Philox word
    ``x``; a value that rounds up to ``b`` becomes ``a`` (docs/contract.md).

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the lower bound of the uniform distribution
        b: the upper bound of the uniform distribution
        generator: the torch Generator to draw the Philox key from (default: None)
    """
    if has_torch_function_variadic(tensor):
        return handle_torch_function(
            uniform_, (tensor,), tensor, a, b, generator, seed=seed, stream=stream, offset=offset,
            global_shape=global_shape, global_offset=global_offset,
        )  # fmt: skip
    if torch.compiler.is_compiling():  # one philoxinit::fill_ op in the graph (_ops.py)
        return _ops.traced_fill(
            "uniform_", tensor, (a, b), generator, seed, stream, offset,
            global_shape, global_offset,
        )  # fmt: skip
    check_uniform(tensor, a, b)
    return _fill(
        tensor, Dist.UNIFORM, lambda _: Params(a=float(a), b=float(b)), seed=seed, generator=generator,
        stream=stream, offset=offset, global_shape=global_shape, global_offset=global_offset,
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

    ``v = mean + std * z`` with ``z`` the inverse normal CDF of the element's Philox word
    (docs/contract.md). Complex tensors get ``std / sqrt(2)`` per component, as in torch.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution
        generator: the torch Generator to draw the Philox key from (default: None)
    """
    if has_torch_function_variadic(tensor):
        return handle_torch_function(
            normal_, (tensor,), tensor, mean, std, generator, seed=seed, stream=stream,
            offset=offset, global_shape=global_shape, global_offset=global_offset,
        )  # fmt: skip
    if torch.compiler.is_compiling():
        return _ops.traced_fill(
            "normal_", tensor, (mean, std), generator, seed, stream, offset,
            global_shape, global_offset,
        )  # fmt: skip
    check_normal(tensor, mean, std)
    component_std = std / math.sqrt(2.0) if tensor.is_complex() else std
    return _fill(
        tensor, Dist.NORMAL, lambda _: Params(a=float(mean), b=float(component_std)), seed=seed,
        generator=generator, stream=stream, offset=offset, global_shape=global_shape,
        global_offset=global_offset,
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
    every stored value ``v`` has ``round(a) <= v <= round(b)`` in the tensor's dtype. Bounds deep in
    one tail are exact too.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution
        a: the minimum cutoff value
        b: the maximum cutoff value
        generator: the torch Generator to draw the Philox key from (default: None)
    """
    if has_torch_function_variadic(tensor):
        return handle_torch_function(
            trunc_normal_, (tensor,), tensor, mean, std, a, b, generator, seed=seed, stream=stream,
            offset=offset, global_shape=global_shape, global_offset=global_offset,
        )  # fmt: skip
    if torch.compiler.is_compiling():
        return _ops.traced_fill(
            "trunc_normal_", tensor, (mean, std, a, b), generator, seed, stream, offset,
            global_shape, global_offset,
        )  # fmt: skip
    check_trunc_dtype(tensor)
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    if tensor.is_complex():
        raise TypeError("trunc_normal_: complex tensors are not supported")

    def params(dtype: torch.dtype) -> Params:
        return trunc_params(float(mean), float(std), float(a), float(b), 64 if dtype == torch.float64 else 32)

    return _fill(
        tensor, Dist.TRUNC_NORMAL, params, seed=seed, generator=generator, stream=stream,
        offset=offset, global_shape=global_shape, global_offset=global_offset,
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
    """Fill an int32 or uint32 tensor with the raw Philox words ``x_i`` of the contract (bit patterns)."""
    if torch.compiler.is_compiling():
        return _ops.traced_fill(
            "random_bits_", tensor, (), None, seed, stream, offset, global_shape,
            global_offset,
        )  # fmt: skip
    check_bits_dtype(tensor)
    if seed is None:
        raise TypeError("random_bits_ needs seed=")
    return _fill(
        tensor, Dist.BITS, lambda _: Params(), seed=seed, generator=None, stream=stream,
        offset=offset, global_shape=global_shape, global_offset=global_offset,
    )  # fmt: skip


# ---- the scaled families --------------------------------------------------------------------------


def xavier_uniform_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: Optional[torch.Generator] = None,
    **extras,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Xavier uniform distribution.

    Glorot, X. & Bengio, Y. (2010): values from :math:`\mathcal{U}(-a, a)` with
    :math:`a = \text{gain} \times \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}`.
    Keyword-only extras as for :func:`uniform_`.
    """
    fan_in, fan_out = fan_in_and_fan_out(_fan_shape(tensor, extras.get("global_shape")))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator, **extras)


def xavier_normal_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: Optional[torch.Generator] = None,
    **extras,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Xavier normal distribution.

    Glorot, X. & Bengio, Y. (2010): values from :math:`\mathcal{N}(0, \text{std}^2)` with
    :math:`\text{std} = \text{gain} \times \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}`.
    Keyword-only extras as for :func:`normal_`.
    """
    fan_in, fan_out = fan_in_and_fan_out(_fan_shape(tensor, extras.get("global_shape")))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator, **extras)


def _kaiming_std(tensor: Tensor, a, mode, nonlinearity, global_shape) -> Optional[float]:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = correct_fan(_fan_shape(tensor, global_shape), mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Optional[torch.Generator] = None,
    **extras,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Kaiming uniform distribution.

    He, K. et al. (2015): values from :math:`\mathcal{U}(-\text{bound}, \text{bound})` with
    :math:`\text{bound} = \text{gain} \times \sqrt{\frac{3}{\text{fan\_mode}}}`.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the negative slope of the rectifier used after this layer (only used with ``'leaky_relu'``)
        mode: ``'fan_in'`` (default) or ``'fan_out'``
        nonlinearity: the non-linear function (`nn.functional` name)
        generator: the torch Generator to draw the Philox key from (default: None)
    """
    if has_torch_function_variadic(tensor):
        return handle_torch_function(
            kaiming_uniform_, (tensor,), tensor, a, mode, nonlinearity, generator, **extras
        )
    std = _kaiming_std(tensor, a, mode, nonlinearity, extras.get("global_shape"))
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator, **extras)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Optional[torch.Generator] = None,
    **extras,
) -> Tensor:
    r"""Fill the input `Tensor` with values using a Kaiming normal distribution.

    He, K. et al. (2015): values from :math:`\mathcal{N}(0, \text{std}^2)` with
    :math:`\text{std} = \frac{\text{gain}}{\sqrt{\text{fan\_mode}}}`. Arguments as
    :func:`kaiming_uniform_`.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, extras.get("global_shape"))
    if std is None:
        return tensor
    return normal_(tensor, 0, std, generator, **extras)


TRUNCATED_STD_CORRECTION = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def variance_scaling_(
    tensor: Tensor,
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    generator: Optional[torch.Generator] = None,
    **extras,
) -> Tensor:
    r"""Variance scaling (JAX / Keras / timm): values with variance ``scale / fan``.

    ``mode`` picks the fan: ``fan_in``, ``fan_out``, ``fan_avg`` ((in + out) / 2) or
    ``fan_geo_avg`` (sqrt(in * out)). ``distribution``: ``truncated_normal`` (std
    ``sqrt(scale / fan) / .87962566103423978`` truncated to ±2 std, so the variance is
    ``scale / fan``), ``normal``, or ``uniform`` (bound ``sqrt(3 scale / fan)``).
    """
    valid = ["truncated_normal", "normal", "uniform"]
    if distribution not in valid:
        raise ValueError(f"Distribution {distribution} not supported, please use one of {valid}")
    fan = variance_scaling_fan(_fan_shape(tensor, extras.get("global_shape")), mode)
    variance = scale / fan
    if distribution == "truncated_normal":
        std = math.sqrt(variance) / TRUNCATED_STD_CORRECTION
        return trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std, generator, **extras)
    if distribution == "normal":
        return normal_(tensor, 0.0, math.sqrt(variance), generator, **extras)
    bound = math.sqrt(3.0 * variance)
    return uniform_(tensor, -bound, bound, generator, **extras)


def lecun_normal_(tensor: Tensor, generator: Optional[torch.Generator] = None, **extras) -> Tensor:
    """LeCun normal: truncated normal with variance 1 / fan_in (``variance_scaling_(t, 1, 'fan_in')``)."""
    return variance_scaling_(tensor, 1.0, "fan_in", "truncated_normal", generator, **extras)


def lecun_uniform_(tensor: Tensor, generator: Optional[torch.Generator] = None, **extras) -> Tensor:
    """LeCun uniform: uniform with variance 1 / fan_in."""
    return variance_scaling_(tensor, 1.0, "fan_in", "uniform", generator, **extras)


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
