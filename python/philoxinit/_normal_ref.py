"""Definitive reference of the Box-Muller normal transform (numpy, vectorized).

Every operation is one correctly rounded IEEE operation in the array's dtype (float32 or float64),
in the order written, never fused into an FMA; csrc/transforms.h (normal_pair_f32 / _f64) and
_normal_torch.py mirror it op for op. log_fP is _quantile_ref's. Constants: _quantile_coeffs.py.

A pair of N-bit words (a, b) (N = 32 for float32, 64 for float64; SHIFT = N - 3)::

    u1  = float(a >> 1) * 2^-(N-1) + 2^-N          # the conversion rounds to nearest
    r   = sqrt(log_fP(u1) * -2)
    o   = b >> SHIFT                               # octant of theta = 2 pi b / 2^N
    k   = b & (2^SHIFT - 1)
    k'  = 2^SHIFT - k if o is odd else k           # integer; phi = k' (pi/4) 2^-SHIFT in [0, pi/4]
    phi = float(k') * ANGLE_STEP                   # ANGLE_STEP = RN(pi/4) 2^-SHIFT
    z   = phi * phi
    s   = phi + phi * (z * S(z))                   # sin(phi); S, K: Horner, separate * and +
    c   = (1 - z * 0.5) + (z * z) * K(z)           # cos(phi)
    x, y = (s, c) if o in {1, 2, 5, 6} else (c, s)
    z0  = r * x, negated if o in {2, 3, 4, 5}      # r cos(theta)
    z1  = r * y, negated if o in {4, 5, 6, 7}      # r sin(theta)
"""

import numpy as np

try:
    from . import _quantile_coeffs as _C
    from ._quantile_ref import _horner, log_f32, log_f64
except ImportError:  # pragma: no cover - loaded outside the package
    import _quantile_coeffs as _C
    from _quantile_ref import _horner, log_f32, log_f64


def _rotate(r, o, k, shift, dt, pre):
    kk = np.where((o & 1) == 1, (1 << shift) - k, k)
    phi = kk.astype(dt) * dt(getattr(_C, pre + "_ANGLE_STEP"))
    z = phi * phi
    s = phi + phi * (z * _horner(getattr(_C, pre + "_SIN"), z, dt))
    c = (dt(1.0) - z * dt(0.5)) + (z * z) * _horner(getattr(_C, pre + "_COS"), z, dt)
    swap = np.isin(o, (1, 2, 5, 6))
    z0 = r * np.where(swap, s, c)
    z1 = r * np.where(swap, c, s)
    return np.where(np.isin(o, (2, 3, 4, 5)), -z0, z0), np.where(o >= 4, -z1, z1)


def normal_pair_f32(a, b):
    """(z0, z1) float32 from uint32 word arrays a (radius) and b (angle)."""
    a = np.asarray(a, dtype=np.uint32).astype(np.int64)
    b = np.asarray(b, dtype=np.uint32).astype(np.int64)
    u1 = (a >> 1).astype(np.float32) * np.float32(2.0**-31) + np.float32(2.0**-32)
    r = np.sqrt(log_f32(u1) * np.float32(-2.0))
    return _rotate(r, b >> 29, b & ((1 << 29) - 1), 29, np.float32, "F32")


def normal_pair_f64(a, b):
    """(z0, z1) float64 from uint64 word arrays a (radius) and b (angle)."""
    a = np.asarray(a, dtype=np.uint64)
    b = np.asarray(b, dtype=np.uint64)
    u1 = (a >> np.uint64(1)).astype(np.float64) * 2.0**-63 + 2.0**-64
    r = np.sqrt(log_f64(u1) * -2.0)
    o = (b >> np.uint64(61)).astype(np.int64)
    k = (b & np.uint64((1 << 61) - 1)).astype(np.int64)
    return _rotate(r, o, k, 61, np.float64, "F64")
