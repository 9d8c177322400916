"""The core fill: the one path every random fill takes once the public function has handed over.

Arguments are checked (the distribution's, then the layout, the global box, stream, offset and
seed), then the key is drawn (a call that raises never advances a generator), then one
:class:`Request` goes to the backend. ``called`` is the public function the user called: philoxinit's
own error messages name it. torch's own checks raise torch's own exceptions, as torch.nn.init would.

The public functions (_distributions.py) and the torch.compile op (_ops.py) both call
:data:`DISTRIBUTIONS`.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor

from . import _backend, distributed
from ._keys import check_u64, draw_key, resolve_key
from ._request import Dist, Params, Request, row_major_strides, through_real_view
from ._truncation import trunc_params
from ._validate import (
    check_bits_dtype,
    check_layout,
    check_normal,
    check_trunc_dtype,
    check_uniform,
    real_dtype,
    where,
)

_increment_version = torch.autograd.graph.increment_version
_CPU = torch.device("cpu")  # tensor.device builds a new object per call; is_cpu is a flag


def global_map(called: str, tensor: Tensor, global_shape, global_offset) -> tuple[int, tuple]:
    """(global index of the first element, global-index strides of the local dims)."""
    if global_shape is None:
        if global_offset is not None:
            raise ValueError(f"{where(called)}: global_offset needs global_shape")
        return 0, row_major_strides(tensor.shape)
    shape = tuple(tensor.shape)
    gshape = tuple(int(s) for s in global_shape)
    goff = tuple(int(o) for o in global_offset) if global_offset is not None else (0,) * len(gshape)
    if len(gshape) != len(shape) or len(goff) != len(shape):
        raise ValueError(
            f"{where(called)}: global_shape {list(gshape)} and global_offset {list(goff)} must have "
            f"one entry per dim of the tensor (shape {list(shape)})"
        )
    for d, (s, g, o) in enumerate(zip(shape, gshape, goff)):
        if o < 0 or o + s > g:
            raise ValueError(
                f"{where(called)}: the tensor (shape {list(shape)}) at global_offset {list(goff)} "
                f"does not fit in global_shape {list(gshape)} (dim {d})"
            )
    if math.prod(gshape) > 1 << 62:  # global indices (x2 for complex) must fit in int64
        raise ValueError(f"{where(called)}: global_shape {list(gshape)} has more than 2**62 elements")
    gstrides = row_major_strides(gshape)
    return sum(o * st for o, st in zip(goff, gstrides)), gstrides


def fill(
    called: str,
    tensor: Tensor,
    dist: Dist,
    params: Union[Params, Callable[[torch.dtype], Params]],
    generator: Optional[torch.Generator],
    seed: Optional[int],
    stream: int,
    offset: int,
    global_shape: Optional[Sequence[int]],
    global_offset: Optional[Sequence[int]],
) -> Tensor:
    """Check the rest, then draw the key and write. ``params``: the kernel's parameters, or a
    function of the tensor's real dtype that returns them (and may raise), called after the layout
    and box checks.

    A small fill spends most of its time here, in Python: every step is a cheap test on the common
    case (a dense CPU tensor, no box, int stream and offset) and the rest only when it fails."""
    check_layout(tensor, called)
    sizes = tensor.shape
    if global_shape is None and global_offset is None:
        goffset, gstrides = 0, row_major_strides(sizes)
    else:
        goffset, gstrides = global_map(called, tensor, global_shape, global_offset)
    if type(params) is not Params:
        params = params(real_dtype(tensor))
    stream = check_u64("stream", stream, called)
    offset = check_u64("offset", offset, called)
    if seed is not None:
        check_u64("seed", seed, called)
    if distributed.is_dtensor(tensor):  # each rank fills only its shard; the key is drawn there
        return distributed.fill_dtensor(
            tensor, dist, params, seed=seed, generator=generator, stream=stream, offset=offset,
            global_shape=global_shape, global_offset=global_offset,
        )  # fmt: skip
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    path = _backend.ready(_CPU if tensor.is_cpu else tensor.device)
    key = draw_key(generator) if seed is None else resolve_key(seed, generator, called)
    target = tensor
    if tensor.is_complex():
        target, sizes, gstrides, goffset = through_real_view(tensor, sizes, gstrides, goffset)
    _backend.fill([target], [Request(dist, params, key, stream, offset, sizes, gstrides, goffset)], path)
    _increment_version(tensor)  # an in-place write, as torch's would count
    return tensor


# ---- one function per distribution: its own checks, then fill() --------------------------------
# Each takes (called, tensor, params, generator, seed, stream, offset, global_shape, global_offset),
# ``params`` being the public function's distribution parameters in its order.


def uniform(called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    a, b = params
    check_uniform(tensor, a, b, called)
    return fill(
        called, tensor, Dist.UNIFORM, Params(float(a), float(b)), generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def normal(called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    mean, std = params
    check_normal(tensor, mean, std, called)
    component_std = std / math.sqrt(2.0) if tensor.is_complex() else std  # as torch does
    return fill(
        called, tensor, Dist.NORMAL, Params(float(mean), float(component_std)), generator, seed,
        stream, offset, global_shape, global_offset,
    )  # fmt: skip


def trunc_normal(called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    mean, std, a, b = params
    check_trunc_dtype(tensor)
    if (mean < a - 2 * std) or (mean > b + 2 * std):  # torch's warning, word for word
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=5,  # the user's call: user -> public function -> random_fill -> run_fill -> here
        )
    if tensor.is_complex():
        raise TypeError(f"{where(called)}: complex tensors are not supported")

    def params_of(dtype: torch.dtype) -> Params:
        lane_bits = 64 if dtype == torch.float64 else 32
        return trunc_params(float(mean), float(std), float(a), float(b), lane_bits, called)

    return fill(
        called, tensor, Dist.TRUNC_NORMAL, params_of, generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def random_bits(called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    check_bits_dtype(tensor, called)
    if seed is None:
        raise TypeError(f"{where(called)} needs seed=")
    return fill(
        called, tensor, Dist.BITS, Params(), None, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


# the eager function of each random fill, by the name of its public function
DISTRIBUTIONS = {
    "uniform_": uniform,
    "normal_": normal,
    "trunc_normal_": trunc_normal,
    "random_bits_": random_bits,
}
