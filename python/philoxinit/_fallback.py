"""The contract in plain PyTorch ops, for any device torch supports and for when ``_C`` is missing.

Every step mirrors csrc/transforms.h operation for operation (int64 tensors emulate the uint32
words; float ops are single IEEE ops, never fused), so uniform and raw words are bit-identical to
the compiled kernels, and normal / truncated normal are too wherever torch's elementwise ops are
correctly rounded (they are on CPU and CUDA).

Philox runs once per block (not once per element), over chunks of consecutive blocks small enough
for the intermediate tensors to stay in cache; each chunk's values are written straight into the
output where its elements are a contiguous range of global indices, and gathered otherwise.
"""

from __future__ import annotations

from typing import Sequence

import torch

from . import _fallback_compiled
from ._normal_torch import normal_pair_f32, normal_pair_f64
from ._quantile_torch import quantile_lower
from ._request import Dist, Request

_M32 = 0xFFFFFFFF
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)

# Blocks per eager chunk on a CPU: its intermediates stay in L2, and every op covers fewer than
# torch's parallel grain (32768 elements; 4 a block) so runs on the calling thread: a fork-join of
# OpenMP workers per op costs more than it gains on ops this short, and far more when other
# processes hold the cores. On other devices a chunk is larger: there each op is a kernel launch.
CHUNK_BLOCKS = 32768 // 4 - 1
DEVICE_CHUNK_BLOCKS = 1 << 20
# Blocks per compiled chunk (fixed: one compilation serves every size; a tail is computed and dropped).
COMPILED_CHUNK_BLOCKS = 1 << 18


def _xor3(hi, c, k):
    """hi ^ c ^ k with the Python ints combined first (one tensor op fewer where hi or c is one)."""
    if isinstance(hi, int):
        return c ^ (hi ^ k)
    if isinstance(c, int):
        return hi ^ (c ^ k)
    return (hi ^ c) ^ k


def _rounds(c0, c1, c2, c3, k0, k1):
    """The ten rounds of Philox4x32: counter and key words held as uint32 in int64 tensors
    (broadcasting) or Python ints.

    A 32x32-bit product fits in 64 bits but not always in int64: torch's int64 multiply wraps
    modulo 2^64, so its low 64 bits are still exact, and (p >> 32) & 0xFFFFFFFF, p & 0xFFFFFFFF
    are the high and low words. A low word is carried as the whole product until it is masked:
    it only enters XORs, whose low 32 bits do not see the bits above.
    """
    for _ in range(10):
        p0 = c0 * _PHILOX_M[0]
        p1 = c2 * _PHILOX_M[1]
        c0, c1, c2, c3 = _xor3(p1 >> 32, c1, k0) & _M32, p1, _xor3(p0 >> 32, c3, k1) & _M32, p0
        k0 = (k0 + _PHILOX_W[0]) & _M32
        k1 = (k1 + _PHILOX_W[1]) & _M32
    return c0, c1 & _M32, c2, c3 & _M32


def philox(c0, c1, c2, c3, key: int):
    """Philox4x32-10: counter words held as uint32 in int64 tensors (broadcasting) or Python ints;
    returns the four output words the same way."""
    return _rounds(c0, c1, c2, c3, key & _M32, key >> 32)


def global_indices(req: Request, device) -> torch.Tensor:
    """int64 global index of every local element, in the local tensor's logical shape."""
    g = torch.full((), req.global_offset, dtype=torch.int64, device=device)
    for d, (size, step) in enumerate(zip(req.sizes, req.global_strides)):
        shape = [1] * len(req.sizes)
        shape[d] = size
        g = g + torch.arange(size, dtype=torch.int64, device=device).view(shape) * step
    return g.expand(tuple(req.sizes))


def _block_words(req: Request, q: torch.Tensor) -> tuple:
    """The four Philox words of the blocks B = offset + q (mod 2^64), q an int64 tensor."""
    lo = (q & _M32) + (req.offset & _M32)
    hi = ((q >> 32) + (req.offset >> 32) + (lo >> 32)) & _M32
    return philox(lo & _M32, hi, req.stream & _M32, req.stream >> 32, req.key)


def words(req: Request, g: torch.Tensor, per_block: int) -> list[torch.Tensor]:
    """The Philox block of every element: B = offset + g // per_block (mod 2^64), g's shape."""
    return [torch.broadcast_to(w, g.shape) for w in _block_words(req, g // per_block)]


def _interleave(*ts: torch.Tensor) -> torch.Tensor:
    """Elements t0[0], t1[0], ..., t0[1], t1[1], ...: one block's (or pair's) outputs in order."""
    return torch.stack(ts, -1).view(-1)


def _param(params, i: int, dtype: torch.dtype, device) -> torch.Tensor:
    """Parameter i (Params order) as a 0-dim tensor of dtype, rounded to nearest from the double:
    from the Params themselves, or from their float64 tensor (what a compiled chunk takes)."""
    if isinstance(params, torch.Tensor):
        return params[i].to(dtype)
    return torch.tensor(params[i], dtype=dtype, device=device)


_A, _B, _T0, _DT, _FLIP, _LO, _HI = range(7)  # indices into Params


def _round_to(v: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return v.to(dtype).to(torch.float32) if dtype in (torch.float16, torch.bfloat16) else v


def _values32(dist: Dist, series: bool, params, ws: Sequence[torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
    """The values of every element of the blocks whose words are ws, in element order (4 a block)."""
    if dist == Dist.BITS:
        x = _interleave(*ws)
        return x.to(torch.int32) if dtype == torch.int32 else x.to(dtype)
    f32 = lambda i: _param(params, i, torch.float32, ws[0].device)  # noqa: E731
    a, b = f32(_A), f32(_B)
    if dist == Dist.NORMAL:  # Box-Muller on the word pairs (0, 1) and (2, 3)
        z0, z1 = normal_pair_f32(_interleave(ws[0], ws[2]), _interleave(ws[1], ws[3]))
        return _round_to(a + b * _interleave(z0, z1), dtype).to(dtype)
    x = _interleave(*ws)
    if dist == Dist.UNIFORM:
        u = (x >> 8).to(torch.float32) * 2.0**-24
        v = a + u * (b - a)
        v = torch.where(v < b, v, a)
        if dtype == torch.float32:  # v < b or v == a: the rule below would keep v
            return v
        lo, hi = _round_to(a, dtype), _round_to(b, dtype)
        r = _round_to(v, dtype)
        return torch.where(r < hi, r, lo).to(dtype)
    # truncated normal
    u = ((x >> 8).to(torch.float32) + 0.5) * 2.0**-24
    z = _std_trunc(u, series, f32(_T0), f32(_DT), 2.0**-126) * f32(_FLIP)
    r = _round_to(a + b * z, dtype)
    lo, hi = _round_to(f32(_LO), dtype), _round_to(f32(_HI), dtype)
    return torch.clamp(r, lo, hi).to(dtype)


def _std_trunc(u: torch.Tensor, series: bool, t0: torch.Tensor, dt: torch.Tensor, qmin: float) -> torch.Tensor:
    """The standardized truncated-normal value (csrc/transforms.h std_trunc_f32 / _f64), u's dtype."""
    if series:  # z = alpha + the third-order inverse of c(delta) = u c(h)
        T = u * dt
        k2 = t0 * 0.5
        k3 = ((t0 * t0) * 2.0 + 1.0) / 6.0
        return t0 + (T + (T * T) * (k2 + T * k3))
    q = t0 + u * dt
    upper = q > 0.5
    z = quantile_lower(torch.clamp_min(torch.where(upper, 1.0 - q, q), qmin))
    return torch.where(upper, -z, z)


def _values64(dist: Dist, series: bool, params, ws: Sequence[torch.Tensor]) -> torch.Tensor:
    """float64 values of every element of the blocks whose words are ws, in element order (2 a
    block: words (0, 1) and (2, 3) as (low, high) halves of a 64-bit word)."""
    f64 = lambda i: _param(params, i, torch.float64, ws[0].device)  # noqa: E731
    a, b = f64(_A), f64(_B)
    if dist == Dist.NORMAL:  # Box-Muller on the block's two 64-bit words
        z0, z1 = normal_pair_f64(*ws)
        return a + b * _interleave(z0, z1)
    lo, hi = _interleave(ws[0], ws[2]), _interleave(ws[1], ws[3])
    top53 = ((hi << 21) | (lo >> 11)).to(torch.float64)
    if dist == Dist.UNIFORM:
        v = a + top53 * 2.0**-53 * (b - a)
        return torch.where(v < b, v, a)
    u = (top53 + 0.5) * 2.0**-53
    v = a + b * (_std_trunc(u, series, f64(_T0), f64(_DT), 2.0**-1000) * f64(_FLIP))
    return torch.clamp(v, f64(_LO), f64(_HI))


def _per_block(dtype: torch.dtype) -> int:
    return 2 if dtype == torch.float64 else 4


def _values(dist: Dist, series: bool, params, ws: Sequence[torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.float64:
        return _values64(dist, series, params, ws)
    return _values32(dist, series, params, ws, dtype)


def _chunk_values(steps, counter, params, dtype: torch.dtype, dist: Dist, series: bool) -> torch.Tensor:
    """The values of the blocks with counters (counter[0] + steps, counter[1], counter[2],
    counter[3]) under the key (counter[4], counter[5]), in element order. counter and params are
    Python numbers (eager) or an int64 and a float64 tensor (what a compiled chunk takes, so one
    compilation serves every key and parameter)."""
    return _values(dist, series, params, _rounds(steps + counter[0], *counter[1:]), dtype)


def _eager_chunk_blocks(device: torch.device) -> int:
    return CHUNK_BLOCKS if device.type == "cpu" else DEVICE_CHUNK_BLOCKS


def _contiguous_start(req: Request):
    """The first global index if the local elements, in logical order, are consecutive global
    indices (a whole tensor, or a box of whole rows); else None."""
    step = 1
    for size, stride in reversed(list(zip(req.sizes, req.global_strides))):
        if size != 1 and stride != step:
            return None
        step *= size
    return req.global_offset


def _fill_range(out: torch.Tensor, req: Request, start: int, compiled) -> None:
    """out (flat, contiguous) gets the elements of global indices start, start + 1, ...; chunks
    run through ``compiled`` (a fixed number of blocks, the tail computed and dropped) or eagerly."""
    n, per, dtype, device = out.numel(), _per_block(out.dtype), out.dtype, out.device
    size = COMPILED_CHUNK_BLOCKS if compiled is not None else _eager_chunk_blocks(device)
    first, end = start // per, (start + n - 1) // per + 1
    steps = torch.arange(size if compiled is not None else min(size, end - first), dtype=torch.int64, device=device)
    stream_key = (req.stream & _M32, req.stream >> 32, req.key & _M32, req.key >> 32)
    series = bool(req.params.series)
    q = first
    while q < end:
        block = (req.offset + q) & ((1 << 64) - 1)
        lo = block & _M32
        whole = min(size, end - q)
        count = min(whole, (1 << 32) - lo)  # the counter's high word is the same for the whole chunk
        counter = (lo, block >> 32) + stream_key
        if compiled is not None and count == whole:
            vals = compiled.run(steps, counter, req.params, dtype)
        else:
            vals = _chunk_values(steps[:count], counter, req.params, dtype, req.dist, series)
        e0, e1 = max(start, q * per), min(start + n, (q + count) * per)
        out[e0 - start : e1 - start].copy_(vals[e0 - q * per : e1 - q * per])
        q += count


def _fill_gathered(out: torch.Tensor, req: Request) -> None:
    """out (flat, contiguous) gets the elements of any global-index map, chunk by chunk: each
    run of elements in one block computes that block once."""
    per = _per_block(out.dtype)
    g = global_indices(req, out.device).reshape(-1)
    step = _eager_chunk_blocks(out.device) * per
    for s in range(0, g.numel(), step):
        gc = g[s : s + step]
        blocks, which = torch.unique_consecutive(gc // per, return_inverse=True)
        vals = _values(req.dist, bool(req.params.series), req.params, _block_words(req, blocks), out.dtype)
        out[s : s + step].copy_(vals[which * per + gc % per])


def values(req: Request, dtype: torch.dtype, device) -> torch.Tensor:
    """The values (or raw words) of ``req``'s elements, in its logical shape."""
    out = torch.empty(tuple(req.sizes), dtype=dtype, device=device)
    fill(out, req)
    return out


def fill(tensor: torch.Tensor, req: Request) -> None:
    n = tensor.numel()
    if n == 0:
        return
    if tensor.is_contiguous():
        out = tensor.view(-1)
    else:
        out = torch.empty(n, dtype=tensor.dtype, device=tensor.device)
    start = _contiguous_start(req)
    if start is None:
        _fill_gathered(out, req)
    else:
        compiled = _fallback_compiled.chunk_for(
            req, tensor.dtype, tensor.device, n, COMPILED_CHUNK_BLOCKS, _chunk_values
        )
        _fill_range(out, req, start, compiled)
    if not tensor.is_contiguous():
        tensor.copy_(out.view(tensor.shape))
