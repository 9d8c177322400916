"""Truncated-normal parameters: the interval's probability range, computed once per call on the host.

Python floats (IEEE doubles) and basic operations only, so every backend and platform gets the same
numbers. The interval is reflected so that most of its mass lies below zero, where the lower-tail
quantile is accurate: see docs/contract.md.
"""

from __future__ import annotations

import math

from ._phi import normal_cdf
from ._request import Params
from ._validate import ArgumentError

# Deepest standardized bound each lane precision resolves: Phi(z) must stay above the quantile's
# smallest supported probability (2^-126 for float32 lanes, 2^-1000 for float64).
DEEPEST_Z = {32: -13.0, 64: -37.0}


def trunc_params(mean: float, std: float, a: float, b: float, lane_bits: int) -> Params:
    for name, v in (("mean", mean), ("std", std), ("a", a), ("b", b)):
        if math.isnan(v):
            raise ValueError(f"trunc_normal_: {name} must not be NaN")
    if not math.isfinite(mean) or not math.isfinite(std):
        raise ValueError(f"trunc_normal_: mean and std must be finite, got mean={mean}, std={std}")
    if std < 0:
        raise ValueError(f"trunc_normal_: std must be non-negative, got std={std}")
    if a > b:
        raise ArgumentError(f"trunc_normal_: a must be less than b, got a={a}, b={b}")
    if a == b:
        raise ValueError(f"trunc_normal_: a must be less than b, got a=b={a}")
    if std == 0:
        return Params(a=mean, b=0.0, qa=0.5, dq=0.0, flip=1.0, lo=a, hi=b)
    alpha = (a - mean) / std
    beta = (b - mean) / std
    flip = 1.0
    if alpha + beta > 0:  # reflect: the lower tail is where the quantile is accurate
        alpha, beta, flip = -beta, -alpha, -1.0
    if beta < DEEPEST_Z[lane_bits]:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] lies more than {-DEEPEST_Z[lane_bits]:g} standard "
            f"deviations from the mean, beyond what {lane_bits}-bit draws resolve"
        )
    qa = normal_cdf(alpha)
    qb = normal_cdf(beta)
    return Params(a=mean, b=std, qa=qa, dq=qb - qa, flip=flip, lo=a, hi=b)
