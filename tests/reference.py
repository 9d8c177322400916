"""An independent numpy model of the contract (docs/contract.md), for tests only.

Written from the specification, not from the package's code: Philox4x32-10 with uint64 numpy
arithmetic, the counter layout, and the exact uniform rule.
"""

from __future__ import annotations

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = np.uint64(0xFFFFFFFF)


def philox(ctr, key):
    """ctr: 4 uint64 arrays holding uint32 values; key: (k0, k1) ints. Returns 4 uint64 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in ctr)
    k0, k1 = key
    for _ in range(10):
        p0 = c0 * M0  # < 2^64: exact in uint64
        p1 = c2 * M1
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
    return c0, c1, c2, c3


def blocks(key: int, stream: int, block_numbers) -> np.ndarray:
    """Philox output words, shape (n, 4), for 64-bit block numbers B (Python ints or uint64)."""
    b = np.asarray(block_numbers, dtype=np.uint64)
    ctr = (b & MASK, b >> np.uint64(32), np.full_like(b, stream & 0xFFFFFFFF), np.full_like(b, stream >> 32))
    return np.stack(philox(ctr, (key & 0xFFFFFFFF, key >> 32)), axis=-1)


def words(key: int, stream: int, offset: int, n: int, start: int = 0) -> np.ndarray:
    """x_i for global indices start .. start+n-1 (uint32): word i mod 4 of block offset + i // 4."""
    g = np.arange(start, start + n, dtype=np.uint64)
    b = (np.uint64(offset) + g // np.uint64(4)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    w = blocks(key, stream, b)
    return w[np.arange(n), (g % np.uint64(4)).astype(np.int64)].astype(np.uint32)


def words64(key: int, stream: int, offset: int, n: int, start: int = 0) -> np.ndarray:
    """(hi << 32) | lo for float64 elements (uint64): block offset + i // 2, words 2(i%2), 2(i%2)+1."""
    g = np.arange(start, start + n, dtype=np.uint64)
    b = np.uint64(offset) + g // np.uint64(2)
    w = blocks(key, stream, b)
    j = (g % np.uint64(2)).astype(np.int64) * 2
    lo = w[np.arange(n), j]
    hi = w[np.arange(n), j + 1]
    return (hi << np.uint64(32)) | lo


def uniform_f32(x: np.ndarray, low: float, high: float) -> np.ndarray:
    lo, hi = np.float32(low), np.float32(high)
    u = (x >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-24)
    v = lo + u * (hi - lo)  # numpy float32: separate, correctly rounded ops
    return np.where(v < hi, v, lo)


def uniform_f64(bits: np.ndarray, low: float, high: float) -> np.ndarray:
    u = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    v = low + u * (high - low)
    return np.where(v < high, v, low)


def round_narrow(v32: np.ndarray, dtype: str) -> np.ndarray:
    """float32 -> float16 / bfloat16 (round to nearest even), returned as float32 values."""
    if dtype == "float16":
        return v32.astype(np.float16).astype(np.float32)
    bits = v32.view(np.uint32).astype(np.uint64)
    r = ((bits + np.uint64(0x7FFF) + ((bits >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)) << np.uint64(16)
    return r.astype(np.uint32).view(np.float32)


def uniform_narrow(x: np.ndarray, low: float, high: float, dtype: str) -> np.ndarray:
    v = round_narrow(uniform_f32(x, low, high), dtype)
    lo = round_narrow(np.array([low], dtype=np.float32), dtype)[0]
    hi = round_narrow(np.array([high], dtype=np.float32), dtype)[0]
    return np.where(v < hi, v, lo)


def normal_f32(key: int, stream: int, offset: int, n: int, mean: float, std: float) -> np.ndarray:
    """normal_ float32: Box-Muller (philoxinit._normal_ref) on words (0, 1) and (2, 3) of a block."""
    from philoxinit._normal_ref import normal_pair_f32

    g = np.arange(n, dtype=np.uint64)
    w = blocks(key, stream, (np.uint64(offset) + g // np.uint64(4)) & np.uint64(0xFFFFFFFFFFFFFFFF))
    lane = (g % np.uint64(4)).astype(np.int64)
    rows = np.arange(n)
    z0, z1 = normal_pair_f32(w[rows, lane & 2], w[rows, (lane & 2) + 1])
    z = np.where(lane % 2 == 0, z0, z1)
    return np.float32(mean) + np.float32(std) * z


def normal_f64(key: int, stream: int, offset: int, n: int, mean: float, std: float) -> np.ndarray:
    """normal_ float64: Box-Muller on the block's 64-bit words (w1 w0) and (w3 w2)."""
    from philoxinit._normal_ref import normal_pair_f64

    g = np.arange(n, dtype=np.uint64)
    w = blocks(key, stream, np.uint64(offset) + g // np.uint64(2)).astype(np.uint64)
    a = (w[:, 1] << np.uint64(32)) | w[:, 0]
    b = (w[:, 3] << np.uint64(32)) | w[:, 2]
    z0, z1 = normal_pair_f64(a, b)
    return mean + std * np.where(g % np.uint64(2) == 0, z0, z1)
