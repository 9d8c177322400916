"""Truncated-normal parameters: the interval's probability range, computed once per call on the host.

Python floats (IEEE doubles) and basic operations only, so every backend and platform gets the same
numbers. The interval is reflected so that most of its mass lies below zero, where the lower-tail
quantile is accurate: see docs/contract.md.
"""

from __future__ import annotations

import math

from ._phi import normal_cdf
from ._request import Params
from ._validate import ArgumentError, where

# Deepest standardized bound each lane precision resolves: Phi(z) must stay above the quantile's
# smallest supported probability (2^-126 for float32 lanes, 2^-1000 for float64).
DEEPEST_Z = {32: -13.0, 64: -37.0}
_FLOAT32_MAX = 3.4028234663852886e38
# Intervals with h max(1, |alpha|, |beta|) <= 2^-7 (h = beta - alpha) are sampled by the series mode
# (csrc/transforms.h): their probability range can be narrower than a float32 step of Phi.
_SERIES_MAX = 2.0**-7


def _c_of(alpha: float, h: float) -> float:
    """c(h) = (Phi(alpha + h) - Phi(alpha)) / phi(alpha) = sum_n (-1)^(n-1) He_{n-1}(alpha) h^n / n!
    (He the probabilists' Hermite polynomials), by basic operations; converges fast for small
    h max(1, |alpha|)."""
    he_prev, he = 0.0, 1.0  # He_{n-2}, He_{n-1}
    term = 1.0  # h^n / n!
    total = 0.0
    for n in range(1, 60):
        term = term * h / n
        piece = he * term if n % 2 == 1 else -(he * term)
        total = total + piece
        if abs(piece) <= 1e-18 * abs(total):
            break
        he_prev, he = he, alpha * he - (n - 1) * he_prev
    return total


def trunc_params(mean: float, std: float, a: float, b: float, lane_bits: int, called: str = "trunc_normal_") -> Params:
    """The kernel's parameters for N(mean, std^2) truncated to [a, b] in lanes of ``lane_bits``
    bits; a ValueError naming the argument (and ``called``, the public function) for bad ones."""
    fn = where(called)
    for name, v in (("mean", mean), ("std", std), ("a", a), ("b", b)):
        if math.isnan(v):
            raise ValueError(f"{fn}: {name} must not be NaN")
    if not math.isfinite(mean) or not math.isfinite(std):
        raise ValueError(f"{fn}: mean and std must be finite, got mean={mean}, std={std}")
    if std < 0:
        raise ValueError(f"{fn}: std must be non-negative, got std={std}")
    if lane_bits == 32 and max(abs(mean), std) > _FLOAT32_MAX:
        raise ValueError(f"{fn}: mean={mean} and std={std} must be within float32's range for this dtype")
    if a > b:
        raise ArgumentError(f"{fn}: a must be less than b, got a={a}, b={b}")
    if a == b:
        raise ValueError(f"{fn}: a must be less than b, got a=b={a}")
    if std == 0:
        return Params(a=mean, b=0.0, t0=0.5, dt=0.0, flip=1.0, lo=a, hi=b)
    alpha = (a - mean) / std
    beta = (b - mean) / std
    flip = 1.0
    if alpha + beta > 0:  # reflect: the lower tail is where the quantile is accurate
        alpha, beta, flip = -beta, -alpha, -1.0
    h = beta - alpha
    if h * max(1.0, abs(alpha), abs(beta)) <= _SERIES_MAX:
        return Params(a=mean, b=std, t0=alpha, dt=_c_of(alpha, h), flip=flip, lo=a, hi=b, series=1.0)
    if beta < DEEPEST_Z[lane_bits]:
        raise ValueError(
            f"{fn}: [a, b] = [{a}, {b}] lies more than {-DEEPEST_Z[lane_bits]:g} standard "
            f"deviations from the mean, beyond what {lane_bits}-bit draws resolve"
        )
    qa = normal_cdf(alpha)
    return Params(a=mean, b=std, t0=qa, dt=normal_cdf(beta) - qa, flip=flip, lo=a, hi=b)
