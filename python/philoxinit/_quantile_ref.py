"""Definitive reference of the normal quantile transform (numpy, vectorized).

Every operation below is one correctly rounded IEEE operation in the array's dtype (float32 or
float64), evaluated exactly in the order written; nothing is fused into an FMA. The C++ kernels
(transforms.h) and the torch fallback give exactly these roundings (the C++ through a few exact
rewrites, listed in quantile_impl.h). Constants: _quantile_coeffs.py.

log_fP(y), y > 0 normal (P = f32 / f64; NB = 23 / 52, BIAS = 127 / 1023)::

    bits = as_int(y)                                 # integer operations, exact:
    t    = bits - FOLD                               # FOLD = SQRT2_BITS - 2^NB + 1, the smallest m
    e    = t >> NB                                   # arithmetic shift
    m    = as_float(bits - (t & ~MANT_MASK))         # m in (SQRT2/2, SQRT2], SQRT2 = sqrt(2) rounded
    f    = m - 1                                     # exact, f in [sqrt(1/2)-1, sqrt(2)-1]
    s    = f / (2 + f)
    z    = s * s
    r    = LOG_R[0];  r = r*z + LOG_R[k]  (k = 1..)  # Horner, separate * and +
    R    = r * z                                     # R ~ 2*(atanh(s)/s - 1)
    hfsq = (0.5 * f) * f
    lm   = f - (hfsq - s * (hfsq + R))               # log(m)
    ef   = float(e)                                  # exact
    log  = ef*LN2_HI + (lm + ef*LN2_LO)              # ef*LN2_HI is exact

quantile_lower_P(q), q in (0, 0.5] (f32: q >= 2^-126; f64: q >= 2^-1000)::

    y = (4 * q) * (1 - q)
    w = -log_fP(y)                                   # negation is exact
    x = 1 - 2 * q
    region k = number of boundaries W with w >= W (0-based, W increasing)
    region 0:   t = w - C[0]
    region k>0: t = sqrt(w) - C[k]
    p = P[k][0];  p = p*t + P[k][j]  (j = 1..)        # Horner, separate * and +
    z = -(x * p)                                     # Phi^{-1}(q) <= 0

Here P[k] approximates g(w) = sqrt(2)*erfinv(x)/x with x = sqrt(1 - exp(-w)), so that
x*g(w) = sqrt(2)*erfinv(1 - 2q) = -Phi^{-1}(q). q = 0.5 gives z = -0.0.
"""

import numpy as np

try:
    from . import _quantile_coeffs as _C
except ImportError:  # pragma: no cover - loaded outside the package
    import _quantile_coeffs as _C


def _horner(coeffs, t, dt):
    p = np.full_like(t, dt(coeffs[0]))
    for c in coeffs[1:]:
        p = p * t + dt(c)
    return p


def _log(y, dt, it, pre):
    y = np.atleast_1d(np.asarray(y, dtype=dt))
    nb = getattr(_C, pre + "_MANT_BITS")
    bits = y.view(it)
    t = bits - it(getattr(_C, pre + "_SQRT2_BITS") - (1 << nb) + 1)
    e = t >> it(nb)
    m = (bits - (t & it(~getattr(_C, pre + "_MANT_MASK")))).view(dt)
    f = m - dt(1.0)
    s = f / (dt(2.0) + f)
    z = s * s
    r = _horner(getattr(_C, pre + "_LOG_R"), z, dt)
    R = r * z
    hfsq = (dt(0.5) * f) * f
    lm = f - (hfsq - s * (hfsq + R))
    ef = e.astype(dt)
    return ef * dt(getattr(_C, pre + "_LN2_HI")) + (lm + ef * dt(getattr(_C, pre + "_LN2_LO")))


def log_f32(y):
    """log(y) for float32 y > 0 (normal), as specified in the module docstring."""
    y = np.asarray(y, dtype=np.float32)
    return _log(y, np.float32, np.int32, "F32").reshape(y.shape)


def log_f64(y):
    """log(y) for float64 y > 0 (normal), as specified in the module docstring."""
    y = np.asarray(y, dtype=np.float64)
    return _log(y, np.float64, np.int64, "F64").reshape(y.shape)


def _quantile(q, dt, it, pre):
    q = np.asarray(q, dtype=dt)
    shape = q.shape
    q = q.reshape(-1)
    with np.errstate(all="ignore"):
        y = (dt(4.0) * q) * (dt(1.0) - q)
        w = -_log(y, dt, it, pre)
        x = dt(1.0) - dt(2.0) * q
        Ws = getattr(_C, pre + "_W")
        Cs = getattr(_C, pre + "_C")
        Ps = getattr(_C, pre + "_P")
        sq = getattr(_C, pre + "_SQRT_REGION")
        region = np.zeros(w.shape, dtype=np.int64)
        for W in Ws:
            region += w >= dt(W)
        v = np.sqrt(w)
        p = np.zeros_like(w)
        for k in range(len(Ps)):
            t = (v if sq[k] else w) - dt(Cs[k])
            p = np.where(region == k, _horner(Ps[k], t, dt), p)
        return (-(x * p)).reshape(shape)


def quantile_lower_f32(q):
    """Phi^{-1}(q) <= 0 for float32 q in [2^-126, 0.5], every op in float32."""
    return _quantile(q, np.float32, np.int32, "F32")


def quantile_lower_f64(q):
    """Phi^{-1}(q) <= 0 for float64 q in [2^-1000, 0.5], every op in float64."""
    return _quantile(q, np.float64, np.int64, "F64")
