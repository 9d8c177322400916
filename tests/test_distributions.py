"""Normal and truncated normal: statistics (they are not fixed bit-for-bit by an outside formula),
bounds in every dtype, and compiled == fallback bits."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

import philoxinit as P

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]


def draw(fn, n, dtype=torch.float32, **kw):
    t = torch.empty(n, dtype=dtype)
    fn(t, **kw)
    return t.double().numpy()


def test_normal_float32_ten_million_moments_ks_and_tails():
    x = draw(P.normal_, 10_000_000, seed=2024)
    n = x.size
    assert abs(x.mean()) < 5 / math.sqrt(n)
    assert abs(x.std() - 1) < 5 * math.sqrt(0.5 / n)
    assert abs(stats.skew(x)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(x)) < 5 * math.sqrt(24 / n)
    assert stats.kstest(x[:2_000_000], "norm").pvalue > 1e-4
    for z in (3.0, 4.0, 4.5, 5.0):
        expected = 2 * stats.norm.sf(z) * n
        got = int((np.abs(x) > z).sum())
        assert abs(got - expected) < 5 * math.sqrt(expected) + 1, (z, got, expected)
    assert np.abs(x).max() < 6.67  # u1 >= 2^-32: |z| <= sqrt(64 ln 2) = 6.66


def test_normal_pairs_are_independent_and_rotation_invariant():
    """Box-Muller: the two values of a word pair (elements 2j, 2j+1) are uncorrelated, their squared
    radius is chi-square with 2 degrees of freedom and their angle is uniform."""
    x = draw(P.normal_, 2_000_000, seed=31).reshape(-1, 2)
    n = len(x)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 5 / math.sqrt(n)
    assert abs(np.corrcoef(x[:, 0] ** 2, x[:, 1] ** 2)[0, 1]) < 5 / math.sqrt(n)
    assert stats.kstest((x**2).sum(1)[:500_000], "chi2", args=(2,)).pvalue > 1e-4
    angle = np.arctan2(x[:, 1], x[:, 0])
    assert stats.kstest(angle[:500_000], "uniform", args=(-math.pi, 2 * math.pi)).pvalue > 1e-4
    # neighbouring pairs (the other half of the block, the next block) are independent too
    assert abs(np.corrcoef(x[:-1, 1], x[1:, 0])[0, 1]) < 5 / math.sqrt(n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_every_dtype(dtype):
    x = draw(P.normal_, 400_000, dtype, mean=1.5, std=0.25, seed=3)
    assert abs(x.mean() - 1.5) < 0.002 and abs(x.std() - 0.25) < 0.002
    if dtype in (torch.float32, torch.float64):
        assert stats.kstest(x, "norm", args=(1.5, 0.25)).pvalue > 1e-4


def test_normal_float64_tails_reach_further():
    x = draw(P.normal_, 1_000_000, torch.float64, seed=5)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    assert len(np.unique(x)) == x.size  # 63-bit resolution: no repeats


def test_normal_is_symmetric():
    x = draw(P.normal_, 200_000, seed=11)
    assert abs((x > 0).mean() - 0.5) < 0.005


INTERVALS = [  # mean, std, a, b
    (0.0, 1.0, -2.0, 2.0),
    (0.0, 0.02, -0.04, 0.04),
    (0.0, 1.0, 5.0, 6.0),  # deep in one tail
    (0.0, 1.0, -6.0, -5.0),
    (0.3, 2.0, -1.0, 9.0),
    (0.0, 1.0, -100.0, 100.0),  # wider than the distribution
    (0.0, 1.0, 0.0, math.inf),  # half-normal
    (0.0, 1.0, 1.0, 1.001),  # very narrow
    (2.0, 0.5, -1.0, -0.5),  # mean outside [a, b] (torch warns; exact here)
    (0.0, 1.0, 10.0, 11.0),  # 10 sigma
]


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("mean,std,a,b", INTERVALS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_trunc_normal_matches_the_truncated_distribution(mean, std, a, b, dtype):
    x = draw(P.trunc_normal_, 200_000, dtype, mean=mean, std=std, a=a, b=b, seed=17)
    lo, hi = (a - mean) / std, (b - mean) / std
    ra, rb = (float(torch.tensor(v, dtype=dtype)) for v in (a, b))  # the bounds rounded to the dtype
    assert x.min() >= ra and x.max() <= rb
    assert stats.kstest(x, "truncnorm", args=(lo, hi, mean, std)).pvalue > 1e-4
    ref_mean, ref_var = stats.truncnorm.stats(lo, hi, loc=mean, scale=std, moments="mv")
    assert abs(x.mean() - ref_mean) < 6 * math.sqrt(ref_var / x.size)
    assert abs(x.var() / ref_var - 1) < 0.02


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("mean,std,a,b", INTERVALS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_trunc_normal_bounds_hold_after_rounding(mean, std, a, b, dtype):
    t = torch.empty(100_000, dtype=dtype)
    P.trunc_normal_(t, mean, std, a, b, seed=23)
    ra = torch.tensor(a, dtype=torch.float32).to(dtype) if math.isfinite(a) else torch.tensor(-math.inf)
    rb = torch.tensor(b, dtype=torch.float32).to(dtype) if math.isfinite(b) else torch.tensor(math.inf)
    if dtype == torch.float64:
        ra, rb = torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)
    assert torch.isfinite(t).all()
    assert (t >= ra.to(dtype)).all() and (t <= rb.to(dtype)).all()


def test_trunc_normal_draws_q_at_most_one():
    """The kernels' quantile takes x = 1 - 2q from q itself (csrc/quantile_impl.h), which gives the
    lower-tail formula's bits only for q <= 1: q = t0 + u dt <= fl(t0 + dt) must hold in each lane
    precision, for any interval, including those whose Phi(beta) rounds to 1."""
    from philoxinit._truncation import trunc_params

    rng = np.random.default_rng(5)
    ends = np.concatenate([rng.uniform(-45, 45, (20_000, 2)), rng.uniform(-9, 9, (20_000, 2))])
    ends = np.concatenate([ends, [[-z, z] for z in np.linspace(0.01, 45, 4_000)]])  # symmetric
    checked = 0
    for lane_bits, lane in ((32, np.float32), (64, np.float64)):
        for a, b in np.sort(ends, axis=1):
            try:
                p = trunc_params(0.0, 1.0, float(a), float(b), lane_bits)
            except ValueError:
                continue  # too deep for the lane precision, or a == b
            if p.series:
                continue
            assert lane(p.t0) + lane(p.dt) <= 1.0, (lane_bits, a, b)
            checked += 1
    assert checked > 60_000


# torch.nn.init.trunc_normal_'s own warning, which philoxinit gives where torch does.
FAR_FROM_MEAN = "mean is more than 2 std from \\[a, b\\] in nn.init.trunc_normal_"


def test_trunc_normal_too_deep_for_float32_is_a_clear_error():
    with pytest.warns(UserWarning, match=FAR_FROM_MEAN), pytest.raises(ValueError, match="standard deviations"):
        P.trunc_normal_(torch.empty(4), 0.0, 1.0, 20.0, 21.0)
    with pytest.warns(UserWarning, match=FAR_FROM_MEAN):
        P.trunc_normal_(torch.empty(4, dtype=torch.float64), 0.0, 1.0, 20.0, 21.0, seed=1)


def test_variance_scaling_truncated_normal_has_the_requested_variance():
    w = torch.empty(1024, 512)
    P.variance_scaling_(w, 2.0, "fan_in", "truncated_normal", seed=4)
    assert abs(w.var().item() - 2.0 / 512) < 0.02 * 2.0 / 512
    std = math.sqrt(2.0 / 512) / 0.87962566103423978
    assert w.abs().max() <= 2 * std


@pytest.mark.parametrize(
    "mode,fan", [("fan_in", 30), ("fan_out", 20), ("fan_avg", 25.0), ("fan_geo_avg", math.sqrt(600))]
)
def test_variance_scaling_modes(mode, fan):
    w = P.variance_scaling_(torch.empty(20, 30), 1.0, mode, "uniform", seed=1)
    bound = math.sqrt(3.0 / fan)
    assert torch.equal(w, P.uniform_(torch.empty(20, 30), -bound, bound, seed=1))


def test_lecun_presets():
    assert torch.equal(P.lecun_normal_(torch.empty(8, 9), seed=2), P.variance_scaling_(torch.empty(8, 9), seed=2))
    w = P.lecun_uniform_(torch.empty(8, 9), seed=2)
    assert torch.equal(w, P.variance_scaling_(torch.empty(8, 9), 1.0, "fan_in", "uniform", seed=2))


def test_complex_normal_has_std_over_sqrt2_per_component():
    z = P.normal_(torch.empty(200_000, dtype=torch.complex64), 0.0, 2.0, seed=3)
    assert abs(z.real.std().item() - math.sqrt(2)) < 0.01 and abs(z.imag.std().item() - math.sqrt(2)) < 0.01


# ---- compiled == fallback -----------------------------------------------------------------------

FILLS = {
    "uniform": lambda t: P.uniform_(t, -0.3, 0.7, seed=99, stream=5, offset=3),
    "normal": lambda t: P.normal_(t, 0.1, 1.7, seed=99, stream=5, offset=3),
    "trunc": lambda t: P.trunc_normal_(t, 0.0, 1.0, -1.0, 3.0, seed=99),
    "trunc_tail": lambda t: P.trunc_normal_(t, 0.0, 1.0, 5.0, 6.0, seed=99),
    # Within +-2.87 sigma the CPU kernels skip the quantile's tail test; +-3.05 needs the tail region.
    "trunc_central": lambda t: P.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0, seed=99),
    "trunc_edge": lambda t: P.trunc_normal_(t, 0.0, 1.0, -3.05, 3.05, seed=99),
    "trunc_deep64": lambda t: P.trunc_normal_(t, 0.0, 1.0, -30.0, -29.0, seed=99),
}
FAR_FROM_MEAN_FILLS = {"trunc_tail", "trunc_deep64"}  # [a, b] more than 2 std from the mean: torch warns


@pytest.mark.parametrize("name", list(FILLS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_equals_fallback_bitwise(monkeypatch, name, dtype):
    if name == "trunc_deep64" and dtype != torch.float64:
        pytest.skip("30 sigma needs float64 draws")
    assert P.backend().name == "compiled"
    warns = name in FAR_FROM_MEAN_FILLS

    def fill(t):
        if not warns:
            return FILLS[name](t)
        with pytest.warns(UserWarning, match=FAR_FROM_MEAN):
            return FILLS[name](t)

    compiled = fill(torch.empty(3, 40_001, dtype=dtype))
    monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
    fallback = fill(torch.empty(3, 40_001, dtype=dtype))
    assert torch.equal(compiled.view(-1).view(torch.uint8), fallback.view(-1).view(torch.uint8))


# Exact edge cases of the quantile, on every path: the fallback and each compiled ISA.
PATHS = ["fallback", *P._C.cpu_isas()] if P.backend().name == "compiled" else ["fallback"]


def trunc_normal_on(monkeypatch, path, *args, **kw):
    """trunc_normal_ of a 4-element float32 tensor through `path` (the ISA forced only for the call)."""
    if path == "fallback":
        monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
        return P.trunc_normal_(torch.empty(4), *args, **kw)
    P._C.set_isa(path)
    try:
        return P.trunc_normal_(torch.empty(4), *args, **kw)
    finally:
        P._C.set_isa("")


@pytest.mark.parametrize("path", PATHS)
def test_truncated_normal_at_the_median_is_negative_zero(monkeypatch, path):
    """q = 1/2 exactly: the quantile goes through the lower tail, -(x g(w)) with x = 1 - 2q = 0, so z
    is -0 and mean -0 + std * z stays -0 on every path. With [a, b] = [-z0.25, z0.25], t0 = 1/4 and
    dt = 1/2; element 3 of block 5194699 of seed 0 reads the word 0x7fffffa8, whose u gives
    1/4 + (2^24 - 1) 2^-26, which rounds (to even) to 1/2."""
    z25 = 0.6744897501960817  # Phi(z25) = 3/4 to double precision
    words = P.random_bits_(torch.empty(4, dtype=torch.int32), seed=0, offset=5194699)
    assert words[3].item() & 0xFFFFFFFF == 0x7FFFFFA8
    t = trunc_normal_on(monkeypatch, path, -0.0, 1.0, -z25, z25, seed=0, offset=5194699)
    assert t[3].item() == 0.0 and math.copysign(1.0, t[3].item()) == -1.0


@pytest.mark.parametrize("path", PATHS)
def test_truncated_normal_at_q_one_takes_the_clamp(monkeypatch, path):
    """q = 1 exactly: the largest u rounds to 1, and with [a, b] = [-inf, inf] (t0 = 0, dt = 1) q
    is u. The quantile then clamps q(1 - q) = 0 to 2^-126 and returns Phi^-1(1 - 2^-126), the
    same on every path. Element 2 of block 2330056 of seed 0 reads the word 0xffffff45."""
    words = P.random_bits_(torch.empty(4, dtype=torch.int32), seed=0, offset=2330056)
    assert words[2].item() & 0xFFFFFFFF == 0xFFFFFF45
    args = (0.0, 1.0, -math.inf, math.inf)
    t = trunc_normal_on(monkeypatch, path, *args, seed=0, offset=2330056)
    assert abs(t[2].item() - stats.norm.isf(2.0**-126)) < 1e-4  # 12.9500...
    reference = trunc_normal_on(monkeypatch, "fallback", *args, seed=0, offset=2330056)
    assert torch.equal(t.view(torch.int32), reference.view(torch.int32))


def test_backend_reports_forced_fallback(monkeypatch):
    monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
    info = P.backend()
    assert info.name == "torch" and "PHILOXINIT_BACKEND" in info.reason
