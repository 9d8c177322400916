"""The fill request that crosses from Python to a backend (mirrors csrc/fill.h)."""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

import torch


class Dist(IntEnum):
    BITS = 0
    UNIFORM = 1
    NORMAL = 2
    TRUNC_NORMAL = 3


# dtype -> the kernel's dtype code (csrc/kinds.h DType)
DTYPE_CODES = {
    torch.float32: 0,
    torch.float64: 1,
    torch.float16: 2,
    torch.bfloat16: 3,
    torch.int32: 4,
}
if hasattr(torch, "uint32"):
    DTYPE_CODES[torch.uint32] = 4


class Params(NamedTuple):
    """Uniform: a=low, b=high. Normal: a=mean, b=std. Truncated normal: a=mean, b=std, t0, dt,
    flip, series (the reflected interval and how it is sampled, see _truncation.py) and lo, hi
    (the bounds)."""

    a: float = 0.0
    b: float = 0.0
    t0: float = 0.0
    dt: float = 0.0
    flip: float = 1.0
    lo: float = 0.0
    hi: float = 0.0
    series: float = 0.0


class Request(NamedTuple):  # a NamedTuple: built on every call, and cheaper than a dataclass
    dist: Dist
    params: Params
    key: int
    stream: int
    offset: int
    sizes: tuple
    global_strides: tuple
    global_offset: int = 0

    def as_tuple(self, tensor: torch.Tensor) -> tuple:
        """The tuple ``_C`` takes for this request writing into ``tensor``."""
        return (
            tensor.data_ptr(),
            DTYPE_CODES[tensor.dtype],
            self.dist,  # an int already
            self.sizes,
            tensor.stride(),
            self.global_strides,
            self.global_offset,
            self.key,
            self.stream,
            self.offset,
            self.params,  # a tuple already
        )


@lru_cache(maxsize=512)  # most fills are of a shape filled before
def row_major_strides(shape: tuple) -> tuple:
    strides = []
    step = 1
    for s in reversed(shape):
        strides.append(step)
        step *= s
    return tuple(reversed(strides))


def through_real_view(target: torch.Tensor, sizes: tuple, global_strides: tuple, global_offset: int):
    """A complex tensor is filled under the contract through ``torch.view_as_real``: its global
    tensor gains a trailing dim of 2, so every global index doubles. Other tensors pass unchanged."""
    if not target.is_complex():
        return target, sizes, global_strides, global_offset
    return (
        torch.view_as_real(target),
        tuple(sizes) + (2,),
        tuple(st * 2 for st in global_strides) + (1,),
        global_offset * 2,
    )
