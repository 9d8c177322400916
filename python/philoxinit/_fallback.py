"""The contract in plain PyTorch ops, for any device torch supports and for when ``_C`` is missing.

Every step mirrors csrc/transforms.h operation for operation (int64 tensors emulate the uint32
words; float ops are single IEEE ops, never fused), so uniform and raw words are bit-identical to
the compiled kernels, and normal / truncated normal are too wherever torch's elementwise ops are
correctly rounded (they are on CPU and CUDA).
"""

from __future__ import annotations

from typing import Sequence

import torch

from ._normal_torch import normal_pair_f32, normal_pair_f64
from ._quantile_torch import quantile_lower
from ._request import Dist, Request

_M32 = 0xFFFFFFFF
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def _mulhilo(a: torch.Tensor, m: int):
    """hi, lo 32-bit halves of a * m for int64 tensors holding uint32 (no int64 overflow)."""
    t = a * (m & 0xFFFF)
    u = a * (m >> 16)
    s = t + ((u & 0xFFFF) << 16)
    return (u >> 16) + (s >> 32), s & _M32


def philox(c0, c1, c2, c3, key: int):
    """Philox4x32-10 over int64 tensors holding uint32 counters; returns the four output words."""
    k0, k1 = key & _M32, key >> 32
    for _ in range(10):
        hi0, lo0 = _mulhilo(c0, _PHILOX_M[0])
        hi1, lo1 = _mulhilo(c2, _PHILOX_M[1])
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = (k0 + _PHILOX_W[0]) & _M32
        k1 = (k1 + _PHILOX_W[1]) & _M32
    return c0, c1, c2, c3


def global_indices(req: Request, device) -> torch.Tensor:
    """int64 global index of every local element, in the local tensor's logical shape."""
    g = torch.full((), req.global_offset, dtype=torch.int64, device=device)
    for d, (size, step) in enumerate(zip(req.sizes, req.global_strides)):
        shape = [1] * len(req.sizes)
        shape[d] = size
        g = g + torch.arange(size, dtype=torch.int64, device=device).view(shape) * step
    return g.expand(tuple(req.sizes))


def words(req: Request, g: torch.Tensor, per_block: int) -> list[torch.Tensor]:
    """The Philox block of every element: B = offset + g // per_block (mod 2^64)."""
    q = g // per_block
    lo = (q & _M32) + (req.offset & _M32)
    hi = ((q >> 32) + (req.offset >> 32) + (lo >> 32)) & _M32
    s = torch.full_like(q, 0)
    c2 = s + (req.stream & _M32)
    c3 = s + (req.stream >> 32)
    return list(philox(lo & _M32, hi, c2, c3, req.key))


def _pick(ws: Sequence[torch.Tensor], lane: torch.Tensor) -> torch.Tensor:
    out = ws[0]
    for j in range(1, len(ws)):
        out = torch.where(lane == j, ws[j], out)
    return out


def _f32(x: float, device) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float32, device=device)


def _round_to(v: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return v.to(dtype).to(torch.float32) if dtype in (torch.float16, torch.bfloat16) else v



def _sample32(req: Request, ws: Sequence[torch.Tensor], lane: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Values of 32-bit-lane elements from their block's words ws and their word index lane."""
    dev = lane.device
    p = req.params
    a, b = _f32(p.a, dev), _f32(p.b, dev)
    if req.dist == Dist.NORMAL:  # Box-Muller on the word pairs (0, 1) and (2, 3)
        first = lane < 2
        z0, z1 = normal_pair_f32(torch.where(first, ws[0], ws[2]), torch.where(first, ws[1], ws[3]))
        return _round_to(a + b * torch.where((lane & 1) == 0, z0, z1), dtype)
    x = _pick(ws, lane)
    if req.dist == Dist.UNIFORM:
        u = (x >> 8).to(torch.float32) * 2.0**-24
        v = a + u * (b - a)
        v = torch.where(v < b, v, a)
        lo, hi = _round_to(a, dtype), _round_to(b, dtype)
        r = _round_to(v, dtype)
        return torch.where(r < hi, r, lo)
    # truncated normal
    u = ((x >> 8).to(torch.float32) + 0.5) * 2.0**-24
    z = _std_trunc(u, p, 2.0**-126) * _f32(p.flip, dev)
    r = _round_to(a + b * z, dtype)
    lo, hi = _round_to(_f32(p.lo, dev), dtype), _round_to(_f32(p.hi, dev), dtype)
    return torch.clamp(r, lo, hi)


def _std_trunc(u: torch.Tensor, p, qmin: float) -> torch.Tensor:
    """The standardized truncated-normal value (csrc/transforms.h std_trunc_f32 / _f64), u's dtype."""
    t0 = torch.tensor(p.t0, dtype=u.dtype, device=u.device)
    dt = torch.tensor(p.dt, dtype=u.dtype, device=u.device)
    if p.series:  # z = alpha + the third-order inverse of c(delta) = u c(h)
        T = u * dt
        k2 = t0 * 0.5
        k3 = ((t0 * t0) * 2.0 + 1.0) / 6.0
        return t0 + (T + (T * T) * (k2 + T * k3))
    q = t0 + u * dt
    upper = q > 0.5
    z = quantile_lower(torch.clamp_min(torch.where(upper, 1.0 - q, q), qmin))
    return torch.where(upper, -z, z)


def _sample64(req: Request, ws: Sequence[torch.Tensor], half: torch.Tensor) -> torch.Tensor:
    """Values of float64 elements from their block's words ws; half: which 64-bit word."""
    dev = half.device
    p = req.params
    f64 = lambda v: torch.tensor(v, dtype=torch.float64, device=dev)  # noqa: E731
    a, b = f64(p.a), f64(p.b)
    if req.dist == Dist.NORMAL:  # Box-Muller on the block's two 64-bit words
        z0, z1 = normal_pair_f64(*ws)
        return a + b * torch.where(half == 0, z0, z1)
    lo = torch.where(half == 0, ws[0], ws[2])
    hi = torch.where(half == 0, ws[1], ws[3])
    top53 = ((hi << 21) | (lo >> 11)).to(torch.float64)
    if req.dist == Dist.UNIFORM:
        v = a + top53 * 2.0**-53 * (b - a)
        return torch.where(v < b, v, a)
    u = (top53 + 0.5) * 2.0**-53
    v = a + b * (_std_trunc(u, p, 2.0**-1000) * f64(p.flip))
    return torch.clamp(v, f64(p.lo), f64(p.hi))


def values(req: Request, dtype: torch.dtype, device) -> torch.Tensor:
    """The values (or raw words) of ``req``'s elements, in its logical shape."""
    g = global_indices(req, device)
    if dtype == torch.float64:
        return _sample64(req, words(req, g, 2), g % 2)
    ws, lane = words(req, g, 4), g % 4
    if req.dist == Dist.BITS:
        x = _pick(ws, lane)
        return x.to(torch.int32) if dtype == torch.int32 else x.to(dtype)
    return _sample32(req, ws, lane, dtype).to(dtype)


def fill(tensor: torch.Tensor, req: Request) -> None:
    tensor.copy_(values(req, tensor.dtype, tensor.device))
