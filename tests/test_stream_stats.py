"""Quick statistical checks of the stream (the full battery is tools/dieharder.sh, docs/hardening.md).

Fixed keys make every statistic deterministic; thresholds are p > 1e-6 (and, against a stream
that is too regular, p < 1 - 1e-6). Each detector is first shown to reject a flawed stream, so
none of these tests passes vacuously.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

import philoxinit as P

P_MIN = 1e-6
KEYS = [(0, 0), (0x0123456789ABCDEF, 0), (1, (1 << 64) - 1), (0xFFFFFFFFFFFFFFFF, 12345)]


def words(n, seed, stream=0, offset=0) -> np.ndarray:
    t = torch.empty(n, dtype=torch.int32)
    P.random_bits_(t, seed=seed, stream=stream, offset=offset)
    return t.numpy().view(np.uint32)


def uniforms(n, seed, stream=0, dtype=torch.float32) -> np.ndarray:
    t = torch.empty(n, dtype=dtype)
    P.uniform_(t, seed=seed, stream=stream)
    return t.double().numpy()


def normals(n, seed, stream=0, dtype=torch.float32) -> np.ndarray:
    t = torch.empty(n, dtype=dtype)
    P.normal_(t, seed=seed, stream=stream)
    return t.double().numpy()


# ---- detectors --------------------------------------------------------------------------------


def chi2_p(counts: np.ndarray, expected=None) -> float:
    counts = np.asarray(counts, dtype=np.float64).ravel()
    if expected is None:
        expected = np.full_like(counts, counts.sum() / counts.size)
    return float(stats.chisquare(counts, np.asarray(expected, dtype=np.float64).ravel()).pvalue)


def uniform_bins_p(u: np.ndarray, bins: int = 1000) -> float:
    return chi2_p(np.bincount(np.minimum((u * bins).astype(np.int64), bins - 1), minlength=bins))


def pairs_p(u: np.ndarray, bins: int = 32) -> float:
    """Successive non-overlapping pairs in a bins x bins grid (a 2-D serial test)."""
    k = np.minimum((u * bins).astype(np.int64), bins - 1)
    k = k[: k.size // 2 * 2].reshape(-1, 2)
    return chi2_p(np.bincount(k[:, 0] * bins + k[:, 1], minlength=bins * bins))


def serial_r(x: np.ndarray, lag: int) -> float:
    return float(np.corrcoef(x[:-lag], x[lag:])[0, 1])


def bytes_p(w: np.ndarray) -> float:
    return chi2_p(np.bincount(w.view(np.uint8), minlength=256))


def bit_balance_p(w: np.ndarray) -> float:
    """Each of the 32 bit positions is 1 half the time (a chi-square over the 32 counts)."""
    ones = np.array([((w >> np.uint32(b)) & np.uint32(1)).sum() for b in range(32)], dtype=np.float64)
    z = (ones - w.size / 2) / np.sqrt(w.size / 4)
    return float(stats.chi2.sf((z**2).sum(), 32))


def ok(p: float) -> bool:
    return P_MIN < p < 1 - P_MIN


def test_detectors_reject_flawed_streams():
    rng = np.random.default_rng(0)
    good = rng.random(1_000_000)
    assert ok(uniform_bins_p(good)) and ok(pairs_p(good))
    assert not ok(uniform_bins_p(good**1.05))  # slightly biased
    assert not ok(uniform_bins_p((np.arange(good.size) % 1000 + 0.5) / 1000))  # too regular
    sticky = good.copy()
    sticky[1::2] = np.clip(sticky[::2] + 0.05 * rng.standard_normal(sticky[1::2].size), 0, 0.999)
    assert not ok(pairs_p(sticky))
    assert abs(serial_r(sticky, 1)) > 0.3  # half the pairs are tied
    w = rng.integers(0, 1 << 32, 1_000_000, dtype=np.uint64).astype(np.uint32)
    assert ok(bytes_p(w)) and ok(bit_balance_p(w))
    assert not ok(bytes_p(w & np.uint32(0xFFFFFFFE)))  # a stuck bit
    assert not ok(bit_balance_p(w | np.uint32(1 << 31)))


# ---- the stream ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed,stream", KEYS)
def test_uniform_bins_and_pairs(seed, stream):
    for dtype in (torch.float32, torch.float64):
        u = uniforms(1_000_000, seed, stream, dtype)
        assert ok(uniform_bins_p(u)), (dtype, uniform_bins_p(u))
        assert ok(pairs_p(u)), (dtype, pairs_p(u))


@pytest.mark.parametrize("seed,stream", KEYS)
def test_serial_correlation_of_uniforms_and_normals(seed, stream):
    n = 1_000_000
    bound = 5 / np.sqrt(n)
    u = uniforms(n, seed, stream)
    z = normals(n, seed, stream + 1 if stream < (1 << 64) - 1 else 0)
    # lags 1..8: inside one Philox block (1-3), block to block (4, 8), across
    for lag in range(1, 9):
        assert abs(serial_r(u, lag)) < bound, ("uniform", lag, serial_r(u, lag))
        assert abs(serial_r(z, lag)) < bound, ("normal", lag, serial_r(z, lag))
    # |z| and z^2: a dependence in magnitude that a plain correlation misses
    assert abs(serial_r(np.abs(z), 1)) < bound and abs(serial_r(z * z, 4)) < bound


def test_normal_quantile_bins():
    z = normals(1_000_000, 99)
    edges = stats.norm.ppf(np.linspace(0, 1, 201)[1:-1])
    counts = np.bincount(np.searchsorted(edges, z), minlength=200)
    assert ok(chi2_p(counts)), chi2_p(counts)


@pytest.mark.parametrize("seed,stream", KEYS)
def test_raw_word_bytes_and_bits(seed, stream):
    w = words(1 << 22, seed, stream)
    assert ok(bytes_p(w)), bytes_p(w)
    assert ok(bit_balance_p(w)), bit_balance_p(w)
    # each byte position of the word, and each word of the 4-word Philox block, on its own
    b = w.view(np.uint8).reshape(-1, 4)
    for pos in range(4):
        p = chi2_p(np.bincount(b[:, pos], minlength=256))
        assert ok(p), ("byte", pos, p)
    for lane in range(4):
        p = bytes_p(np.ascontiguousarray(w[lane::4]))
        assert ok(p), ("word of block", lane, p)


NEIGHBOURS = {  # (seed, stream) pairs that differ in one small way
    "adjacent streams": ((42, 0), (42, 1)),
    "streams 2^32 apart": ((42, 5), (42, 5 + (1 << 32))),
    "adjacent keys": ((42, 0), (43, 0)),
    "keys differing in the top bit": ((42, 0), (42 | (1 << 63), 0)),
    "stream 0 and the last stream": ((7, 0), (7, (1 << 64) - 1)),
}


@pytest.mark.parametrize("name", list(NEIGHBOURS))
def test_streams_and_keys_are_independent(name):
    (k1, s1), (k2, s2) = NEIGHBOURS[name]
    n = 1 << 20
    a, b = words(n, k1, s1), words(n, k2, s2)
    bound = 5 / np.sqrt(n)
    ua, ub = a.astype(np.float64), b.astype(np.float64)
    assert abs(np.corrcoef(ua, ub)[0, 1]) < bound
    # lagged and between a's uniforms and b's normals (one transform on each side)
    assert abs(np.corrcoef(ua[1:], ub[:-1])[0, 1]) < bound
    assert abs(np.corrcoef(uniforms(n, k1, s1), normals(n, k2, s2))[0, 1]) < bound
    # the XOR of the two streams looks random too (bit balance and bytes)
    x = a ^ b
    assert ok(bit_balance_p(x)) and ok(bytes_p(x)), (bit_balance_p(x), bytes_p(x))
    assert not np.array_equal(a[:64], b[:64])


def test_offsets_partition_one_stream():
    """Offsets are positions in one stream, not new streams: offset k continues where 4k words
    left off (so the independence above is about streams and keys, not offsets)."""
    a = words(1024, 5)
    assert np.array_equal(words(1024 - 40, 5, offset=10), a[40:])


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -1e-6, 1e-6), (0.0, 1e8, -2.0, 2.0), (0.0, 1.0, 2.0, 2.0001)])
def test_trunc_normal_float32_narrow_interval_distribution(mean, std, a, b):
    """An interval much narrower than std: N(mean, std^2) restricted to it is nearly uniform on
    [a, b], and float32 has millions of values there. Float32 lanes compute q = qa + u * dq near
    q = 1/2 (or Phi(-2)), whose float32 spacing leaves few distinct quantiles: 21 distinct values
    for [-1e-6, 1e-6], a single one (0.0) for std = 1e8 on [-2, 2] (fixed by the series mode).
    [2, 2.0001] holds only ~420 float32 values: all of them must be used."""
    t = torch.empty(200_000)
    P.trunc_normal_(t, mean, std, a, b, seed=1)
    x = t.double().numpy()
    p = stats.kstest(x, "truncnorm", args=((a - mean) / std, (b - mean) / std, mean, std)).pvalue
    lo, hi = np.float32(a).view(np.int32).astype(np.int64), np.float32(b).view(np.int32).astype(np.int64)
    representable = abs(int(hi) - int(lo)) if a * b > 0 else 10**9
    assert p > P_MIN and len(np.unique(x)) > min(10_000, 0.9 * representable), (p, len(np.unique(x)))
