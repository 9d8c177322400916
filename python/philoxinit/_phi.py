"""Host-side standard normal CDF from basic float operations only.

No libm (math.exp / erf / erfc differ between platforms): only + - * /, floor division and
math.ldexp on Python floats (IEEE doubles, round to nearest), so every platform gets the same
bits. Used on scalars (e.g. the bounds of truncated normal), once per call.

Phi(x) for |x| <= PHI_SERIES_MAX:   1/2 + x/sqrt(2 pi) * sum_n (-x^2/2)^n / (n! (2n+1))
Phi(-t) for t > PHI_SERIES_MAX:     phi(t) * M(t), M the Mills ratio:
    t < PHI_CF_MIN:  M is a fitted polynomial in t - PHI_C[i] on [PHI_A[i], PHI_B[i])
    t >= PHI_CF_MIN: M = 1/(t + 1/(t + 2/(t + 3/(t + ...)))) (Laplace), PHI_CF_TERMS levels
    phi(t) * M = 2^k * (exp(r) * M) with t^2/2 + log(sqrt(2 pi)) = -(k*ln2 + r) reduced in
    extra precision (t split into a 16-fractional-bit head and a tail, so t_head^2 is exact).
Phi(x) for x > PHI_SERIES_MAX:      1 - Phi(-x).
"""

import math

try:
    from . import _quantile_coeffs as _C
except ImportError:  # pragma: no cover - loaded outside the package
    import _quantile_coeffs as _C

_h = float.fromhex
# ln 2 split: _LN2_HI has 29 significant bits (k * _LN2_HI exact for |k| < 2^24)
_LN2_HI = _h("0x1.62e42ffp-1")
_LN2_LO = _h("-0x1.718432a1b0e26p-35")
_INV_LN2 = _h("0x1.71547652b82fep+0")
# log(sqrt(2 pi)) = 0.91893853320467274178... split, the head with 32 significant bits
_LSQ_HI = _h("0x1.d67f1c86p-1")
_LSQ_LO = _h("0x1.2fad29a4a5e48p-35")
# 1/sqrt(2 pi)
_INV_SQRT_2PI = _h("0x1.9884533d43651p-2")
# 1/n! for the exp polynomial, n = 2..17
_INV_FACT = []
_f = 1.0
for _n in range(1, 18):
    _f = _f * _n
    _INV_FACT.append(1.0 / _f)  # 1/n! to within an ulp (exact for n <= 2); see _exp_small
del _f, _n


def _exp_small(r):
    """exp(r) for |r| <= ~0.36: 1 + (r + r^2 * (1/2 + r/6 + ... + r^15/17!))."""
    e2 = _INV_FACT[16]
    for n in range(15, 0, -1):  # _INV_FACT[n] = 1/(n+1)!
        e2 = e2 * r + _INV_FACT[n]
    return 1.0 + (r + (r * r) * e2)


def _mills(t):
    """M(t) = Phi(-t)/phi(t) for t >= PHI_SERIES_MAX."""
    if t >= _C.PHI_CF_MIN:
        r = 0.0
        for k in range(_C.PHI_CF_TERMS, 0, -1):
            r = k / (t + r)
        return 1.0 / (t + r)
    for _a, b, c, coeffs in zip(_C.PHI_A, _C.PHI_B, _C.PHI_C, _C.PHI_M):
        if t < b:
            u = t - c
            p = coeffs[0]
            for cf in coeffs[1:]:
                p = p * u + cf
            return p
    raise AssertionError("unreachable")


def _lower_tail(t):
    """Phi(-t) for t > PHI_SERIES_MAX (t <= 40)."""
    # t = th + d with th = t truncated to 16 fractional bits: th*th is exact (t < 64)
    th = (t * 65536.0) // 1.0 / 65536.0
    d = t - th  # exact
    a = (th * th) * 0.5  # exact
    b = (d * (t + th)) * 0.5  # t^2/2 = a + b (b tiny, rounded)
    # t^2/2 + log(sqrt(2 pi)) = k*ln2 - r  ->  phi(t) = 2^-k * exp(r)
    k = ((a + _LSQ_HI) * _INV_LN2 + 0.5) // 1.0
    hi = (k * _LN2_HI - a) - _LSQ_HI  # exact (Sterbenz / short operands)
    r = hi + ((k * _LN2_LO - _LSQ_LO) - b)
    return math.ldexp(_exp_small(r) * _mills(t), -int(k))


def _center(x):
    """Phi(x) - 1/2 for |x| <= PHI_SERIES_MAX."""
    u = -((x * x) * 0.5)
    # terms u^n/n!/(2n+1); summed from the smallest
    terms = []
    a = 1.0
    n = 0
    while True:
        terms.append(a / (2 * n + 1))
        n += 1
        a = a * u / n
        if abs(a) < 1e-20:
            break
    s = 0.0
    for tm in reversed(terms):
        s = s + tm
    return (x * _INV_SQRT_2PI) * s


def normal_cdf(x: float) -> float:
    """Phi(x) = P(N(0,1) <= x), relative error <= ~3e-16 (see docs/normal_transform.md)."""
    x = float(x)
    if x != x:
        return x
    if x < -40.0:
        return 0.0
    if x > 40.0:
        return 1.0
    if -_C.PHI_SERIES_MAX <= x <= _C.PHI_SERIES_MAX:
        return 0.5 + _center(x)
    if x < 0.0:
        return _lower_tail(-x)
    return 1.0 - _lower_tail(x)


def normal_cdf_upper(x: float) -> float:
    """1 - Phi(x) = Phi(-x), without cancellation."""
    return normal_cdf(-float(x))
