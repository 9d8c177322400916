"""Checks that run before any memory is touched or any generator advances.

Where torch.nn.init raises for an input, the same exception (type and message) is raised here,
usually by letting torch check an empty tensor of the same dtype with the same arguments.
"""

from __future__ import annotations

import math

import torch

from ._request import DTYPE_CODES

_REAL_OF_COMPLEX = {torch.complex64: torch.float32, torch.complex128: torch.float64}
if hasattr(torch, "complex32"):
    _REAL_OF_COMPLEX[torch.complex32] = torch.float16

FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
_MAX = {dt: torch.finfo(dt).max for dt in FLOAT_DTYPES}
OVERLAP_MESSAGE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)


# torch checks arguments by running the op on one element; it draws from this generator, never
# from the user's (nor torch's default one), so validation consumes no user randomness.
_SCRATCH = torch.Generator()


class ArgumentError(ValueError, RuntimeError):
    """A bad argument torch reports as RuntimeError; a ValueError too, as philoxinit's own checks."""


def where(called: str) -> str:
    """How philoxinit's own messages name the function the user called."""
    return f"philoxinit.{called}" if called else "philoxinit"


def real_dtype(tensor: torch.Tensor) -> torch.dtype:
    return _REAL_OF_COMPLEX.get(tensor.dtype, tensor.dtype)


_PLAIN_NUMBERS = (float, int)


def _finite_below(x, limit: float) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and -limit <= x <= limit


def check_uniform(tensor: torch.Tensor, a, b, called: str = "uniform_") -> None:
    limit = _MAX.get(tensor.dtype)
    # Bounds torch surely accepts (plain finite numbers, in order, b - a within a floating dtype's
    # range) pass at once; anything else (complex tensors too) goes to torch's own check (one op on
    # a scratch tensor: it costs more than the rest of a small call) for torch's exact exception,
    # then to philoxinit's.
    if (
        limit is not None and type(a) in _PLAIN_NUMBERS and type(b) in _PLAIN_NUMBERS
        and -limit <= a <= b <= limit and b - a <= limit
    ):  # fmt: skip
        return
    # torch's exception for the dtype, a > b, bounds beyond the dtype's range, b - a overflowing
    torch.empty(1, dtype=real_dtype(tensor)).uniform_(a, b, generator=_SCRATCH)
    _check_dtype(tensor, called)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{where(called)}: bounds must be finite, got a={a}, b={b}")


def check_normal(tensor: torch.Tensor, mean, std, called: str = "normal_") -> None:
    dtype = real_dtype(tensor)
    if not (dtype in _MAX and _finite_below(std, math.inf) and std >= 0):
        torch.empty(1, dtype=dtype).normal_(mean, std, generator=_SCRATCH)  # dtype, std < 0 or NaN
    _check_dtype(tensor, called)
    if not math.isfinite(std):
        raise ValueError(f"{where(called)}: std must be finite, got std={std}")
    if not math.isfinite(mean):
        raise ValueError(f"{where(called)}: mean must be finite, got mean={mean}")


def check_trunc_dtype(tensor: torch.Tensor, called: str = "trunc_normal_") -> None:
    torch.empty(1, dtype=real_dtype(tensor)).normal_(generator=_SCRATCH)  # torch's error for integer dtypes
    _check_dtype(tensor, called)


def _check_dtype(tensor: torch.Tensor, called: str) -> None:
    if real_dtype(tensor) not in FLOAT_DTYPES:
        raise TypeError(f"{where(called)}: unsupported dtype {tensor.dtype}; use a floating-point tensor")


def check_bits_dtype(tensor: torch.Tensor, called: str = "random_bits_") -> None:
    if tensor.dtype not in DTYPE_CODES or tensor.dtype.is_floating_point:
        raise TypeError(f"{where(called)} fills int32 or uint32 tensors, got {tensor.dtype}")


def non_overlapping(size, stride) -> bool:
    """No two elements share memory: sorted by stride, each dim must step past everything the
    smaller strides reach (a conservative test: some exotic non-overlapping views fail it)."""
    reach = 0
    for st, sz in sorted((abs(st), sz) for sz, st in zip(size, stride) if sz > 1):
        if st <= reach:
            return False
        reach += st * (sz - 1)
    return True


def check_layout(tensor: torch.Tensor, called: str = "") -> None:
    """Strided, not quantized, and no two elements sharing memory (a conservative stride check)."""
    if tensor.layout != torch.strided:
        raise TypeError(f"{where(called)}: {tensor.layout} tensors are not supported; use a dense tensor")
    if tensor.is_nested:
        raise TypeError(f"{where(called)}: nested tensors are not supported; fill each component tensor")
    if tensor.is_quantized:
        raise TypeError(f"{where(called)}: quantized tensors are not supported; fill a float tensor and quantize it")
    if tensor.is_inference() and not torch.is_inference_mode_enabled():
        tensor.view(-1)[:0].zero_()  # torch's own error for in-place writes to inference tensors
    if not (tensor.is_contiguous() or non_overlapping(tensor.shape, tensor.stride())):
        raise RuntimeError(OVERLAP_MESSAGE)
