"""Box-Muller normal pairs in torch ops, op for op as csrc/transforms.h (normal_pair_f32 / _f64)
and _normal_ref.py. Used by the fallback; every line is one correctly rounded elementwise op."""

from __future__ import annotations

import torch

from . import _quantile_coeffs as C
from ._quantile_torch import _horner, _sqrt, log_basic


def _rotate(r: torch.Tensor, octant: torch.Tensor, k: torch.Tensor, shift: int, pre: str):
    """r (cos theta, sin theta) for the angle in `octant` (0..7) at position k < 2^shift in it."""
    kk = torch.where((octant & 1) == 1, (1 << shift) - k, k)
    phi = kk.to(r.dtype) * getattr(C, f"{pre}_ANGLE_STEP")
    z = phi * phi
    s = phi + phi * (z * _horner(getattr(C, f"{pre}_SIN"), z))
    c = (1.0 - z * 0.5) + (z * z) * _horner(getattr(C, f"{pre}_COS"), z)
    swap = ((octant ^ (octant >> 1)) & 1) == 1
    rx = r * torch.where(swap, s, c)
    ry = r * torch.where(swap, c, s)
    cos_negative = ((octant ^ (octant >> 1)) & 2) == 2
    return torch.where(cos_negative, -rx, rx), torch.where(octant >= 4, -ry, ry)


def normal_pair_f32(a: torch.Tensor, b: torch.Tensor):
    """Standard normal float32 pair from two uint32 words held in int64 tensors."""
    u1 = (a >> 1).to(torch.float32) * 2.0**-31 + 2.0**-32
    r = _sqrt(log_basic(u1) * -2.0)
    return _rotate(r, b >> 29, b & ((1 << 29) - 1), 29, "F32")


def normal_pair_f64(a_lo, a_hi, b_lo, b_hi):
    """Standard normal float64 pair from the 64-bit words a = (a_hi a_lo), b = (b_hi b_lo), each
    half a uint32 held in an int64 tensor."""
    u1 = ((a_hi << 31) | (a_lo >> 1)).to(torch.float64) * 2.0**-63 + 2.0**-64
    r = _sqrt(log_basic(u1) * -2.0)
    return _rotate(r, b_hi >> 29, ((b_hi & ((1 << 29) - 1)) << 32) | b_lo, 61, "F64")
