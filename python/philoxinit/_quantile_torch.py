"""The normal quantile in torch ops, op for op as csrc/quantile_impl.h and _quantile_ref.py.

Used by the fallback. Each line is one elementwise torch op (correctly rounded on CPU and CUDA, never
fused), so the fallback reproduces the compiled kernels' bits.
"""

from __future__ import annotations

import torch

from . import _quantile_coeffs as C

_INT_OF = {torch.float32: torch.int32, torch.float64: torch.int64}


def _consts(dtype: torch.dtype):
    return "F32" if dtype == torch.float32 else "F64"


def _horner(coeffs, t: torch.Tensor) -> torch.Tensor:
    p = torch.full_like(t, coeffs[0])
    for c in coeffs[1:]:
        p = p * t + c
    return p


def log_basic(y: torch.Tensor) -> torch.Tensor:
    pre = _consts(y.dtype)
    k = lambda name: getattr(C, f"{pre}_{name}")  # noqa: E731
    bits = y.view(_INT_OF[y.dtype])
    t = bits - (k("SQRT2_BITS") - (1 << k("MANT_BITS")) + 1)
    e = (t >> k("MANT_BITS")).to(y.dtype)
    m = (bits - (t & ~k("MANT_MASK"))).view(y.dtype)
    f = m - 1.0
    s = f / (f + 2.0)
    z = s * s
    R = _horner(k("LOG_R"), z) * z
    hfsq = (f * 0.5) * f
    lm = f - (hfsq - s * (hfsq + R))
    return e * k("LN2_HI") + (lm + e * k("LN2_LO"))


def _product(a: torch.Tensor, b: torch.Tensor):
    """a * b = p + e exactly (Dekker: Veltkamp splits, no FMA), float64 tensors."""

    def split(x):
        c = x * 134217729.0  # 2^27 + 1
        hi = c - (c - x)
        return hi, x - hi

    ah, al = split(a)
    bh, bl = split(b)
    p = a * b
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _sqrt(w: torch.Tensor) -> torch.Tensor:
    """IEEE sqrt (correctly rounded, sqrt(-0) = -0). torch's CPU sqrt is not: it misses the last
    bit for ~18% of float32 and ~1% of float64 inputs. Start from it, then apply Tuckerman's test
    with exact products: s = RN(sqrt(w)) iff s * prev(s) < w <= s * next(s)."""
    return torch.where(w == 0, w, _sqrt_positive(w))


def _sqrt_positive(w: torch.Tensor) -> torch.Tensor:
    if w.dtype == torch.float32:
        s = torch.sqrt(w.double()).float()
        w64 = w.double()
        up = torch.nextafter(s, torch.full_like(s, float("inf")))
        s = torch.where(w64 > s.double() * up.double(), up, s)  # 24-bit products: exact in double
        down = torch.nextafter(s, torch.zeros_like(s))
        return torch.where(w64 <= s.double() * down.double(), down, s)
    s = torch.sqrt(w)
    up = torch.nextafter(s, torch.full_like(s, float("inf")))
    p, e = _product(s, up)
    s = torch.where((w - p) > e, up, s)  # w - p is exact (Sterbenz)
    down = torch.nextafter(s, torch.zeros_like(s))
    p, e = _product(s, down)
    return torch.where((w - p) <= e, down, s)


def quantile_lower(q: torch.Tensor) -> torch.Tensor:
    """Phi^-1(q) <= 0 for q in (0, 1/2], in q's dtype (float32 or float64)."""
    pre = _consts(q.dtype)
    W, Cs, Ps = getattr(C, f"{pre}_W"), getattr(C, f"{pre}_C"), getattr(C, f"{pre}_P")
    y = (q * 4.0) * (1.0 - q)
    x = 1.0 - q * 2.0
    w = -log_basic(y)
    p = _horner(Ps[0], w - Cs[0])
    if torch.compiler.is_compiling() or bool((w >= W[0]).any()):
        s = _sqrt(w)
        for k in range(1, len(Ps)):
            region = w >= W[k - 1]
            if not torch.compiler.is_compiling() and not bool(region.any()):
                break
            p = torch.where(region, _horner(Ps[k], s - Cs[k]), p)
    return -(x * p)
