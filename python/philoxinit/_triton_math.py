"""Philox4x32-10 and the contract's transforms as Triton device functions (used by _triton.py).

Operation for operation csrc/philox.h, csrc/transforms.h, csrc/quantile_impl.h and the store rules
of csrc/fill.h, so the Triton path writes the compiled kernels' bits. Every float step is one
correctly rounded IEEE operation:

* ``+ - *`` never contracted into an FMA (the kernel is launched with ``enable_fp_fusion=False``);
* float32 division and square root through ``tl.math.div_rn`` / ``sqrt_rn`` (Triton's ``/`` and
  ``tl.sqrt`` are approximate in float32 on NVIDIA GPUs); float64 ``/`` and ``tl.sqrt`` are the
  IEEE operations (div.rn.f64 / sqrt.rn.f64 in PTX; LLVM's correctly rounded sequences on AMD),
  and ``div_rn`` / ``sqrt_rn`` take float32 only;
* int -> float conversions of values below 2^31 (2^63) through the signed type, rounded to nearest;
* float16 / bfloat16 rounding in integer operations (fill.h's f32_to_f16_bits / f32_to_bf16_bits),
  not the hardware conversion, so NaN and overflow patterns match too.

Python float constants combined with a float64 tensor become float64 constants exactly (Triton
types a Python scalar by the tensor it meets); coefficient tuples are read from _quantile_coeffs,
the single source of the constants. What a kernel applies to a Philox block is ``block_bits32`` /
``block_bits64`` at the end.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from . import _quantile_coeffs as C
from ._request import DTYPE_CODES, Dist


def _scaled(coeffs, factor):
    """Coefficients times a power of two: exact, as quantile_impl.h's Scaled."""
    return tl.constexpr(tuple(factor * c for c in coeffs))


# Philox4x32-10 (csrc/philox.h)
PHILOX_M0 = tl.constexpr(0xD2511F53)
PHILOX_M1 = tl.constexpr(0xCD9E8D57)
PHILOX_W0 = tl.constexpr(0x9E3779B9)
PHILOX_W1 = tl.constexpr(0xBB67AE85)

# log and quantile constants (csrc/quantile_coeffs.h, quantile_impl.h)
F32_LOG_R = tl.constexpr(C.F32_LOG_R)
F32_FOLD = tl.constexpr(C.F32_SQRT2_BITS - (1 << C.F32_MANT_BITS) + 1)
F32_NOT_MANT = tl.constexpr(0xFFFFFFFF ^ C.F32_MANT_MASK)
F32_MANT_BITS = tl.constexpr(C.F32_MANT_BITS)
F32_LN2_HI = tl.constexpr(C.F32_LN2_HI)
F32_LN2_LO = tl.constexpr(C.F32_LN2_LO)
F32_QMIN = tl.constexpr(2.0**-126)
F32_W0 = tl.constexpr(C.F32_W[0])
F32_W1 = tl.constexpr(C.F32_W[1])
F32_C1 = tl.constexpr(C.F32_C1)
F32_C2 = tl.constexpr(C.F32_C2)
F32_C3 = tl.constexpr(C.F32_C3)
F32_Q1 = _scaled(C.F32_P1, -2.0)
F32_Q2 = _scaled(C.F32_P2, -2.0)
F32_Q3 = _scaled(C.F32_P3, -2.0)
F32_SIN = tl.constexpr(C.F32_SIN)
F32_COS = tl.constexpr(C.F32_COS)
F32_ANGLE_STEP = tl.constexpr(C.F32_ANGLE_STEP)
F32_OCTANT_LOW = tl.constexpr(1 << C.F32_OCTANT_SHIFT)

F64_LOG_R = tl.constexpr(C.F64_LOG_R)
F64_FOLD = tl.constexpr(C.F64_SQRT2_BITS - (1 << C.F64_MANT_BITS) + 1)
F64_NOT_MANT = tl.constexpr(0xFFFFFFFFFFFFFFFF ^ C.F64_MANT_MASK)
F64_MANT_BITS = tl.constexpr(C.F64_MANT_BITS)
F64_LN2_HI = tl.constexpr(C.F64_LN2_HI)
F64_LN2_LO = tl.constexpr(C.F64_LN2_LO)
F64_QMIN = tl.constexpr(2.0**-1000)
F64_W0 = tl.constexpr(C.F64_W[0])
F64_W1 = tl.constexpr(C.F64_W[1])
F64_W2 = tl.constexpr(C.F64_W[2])
F64_W3 = tl.constexpr(C.F64_W[3])
F64_C1 = tl.constexpr(C.F64_C1)
F64_C2 = tl.constexpr(C.F64_C2)
F64_C3 = tl.constexpr(C.F64_C3)
F64_C4 = tl.constexpr(C.F64_C4)
F64_C5 = tl.constexpr(C.F64_C5)
F64_Q1 = _scaled(C.F64_P1, -2.0)
F64_Q2 = _scaled(C.F64_P2, -2.0)
F64_Q3 = _scaled(C.F64_P3, -2.0)
F64_Q4 = _scaled(C.F64_P4, -2.0)
F64_Q5 = _scaled(C.F64_P5, -2.0)
F64_SIN = tl.constexpr(C.F64_SIN)
F64_COS = tl.constexpr(C.F64_COS)
F64_ANGLE_STEP = tl.constexpr(C.F64_ANGLE_STEP)
F64_OCTANT_LOW = tl.constexpr(1 << C.F64_OCTANT_SHIFT)

# Distribution and dtype codes (csrc/kinds.h Dist, DType)
BITS = tl.constexpr(int(Dist.BITS))
UNIFORM = tl.constexpr(int(Dist.UNIFORM))
NORMAL = tl.constexpr(int(Dist.NORMAL))
TRUNC_NORMAL = tl.constexpr(int(Dist.TRUNC_NORMAL))
FLOAT16 = tl.constexpr(DTYPE_CODES[torch.float16])
BFLOAT16 = tl.constexpr(DTYPE_CODES[torch.bfloat16])


# ---- Philox4x32-10 ------------------------------------------------------------------------------
@triton.jit
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Ten rounds on uint32 counters (c0..c3) under the key words (k0, k1)."""
    for _ in tl.static_range(10):
        hi0 = tl.umulhi(c0, PHILOX_M0)
        lo0 = c0 * PHILOX_M0
        hi1 = tl.umulhi(c2, PHILOX_M1)
        lo1 = c2 * PHILOX_M1
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = k0 + PHILOX_W0
        k1 = k1 + PHILOX_W1
    return c0, c1, c2, c3


# ---- polynomials --------------------------------------------------------------------------------
@triton.jit
def horner(c: tl.constexpr, t):
    """Horner's rule, separate multiply and add, coefficients highest degree first (c a constexpr
    tuple: len(c.value), as the interpreter has no len() of a constexpr)."""
    p = c[0] * t + c[1]
    for k in tl.static_range(2, len(c.value)):
        p = p * t + c[k]
    return p


@triton.jit
def horner_at_negative(c: tl.constexpr, t):
    """The same polynomial at -t, computed at t: c - p t (transforms.h horner_at_negative)."""
    p = c[1] - c[0] * t
    for k in tl.static_range(2, len(c.value)):
        p = c[k] - p * t
    return p


# ---- int -> float, rounded to nearest ----------------------------------------------------------
@triton.jit
def to_f32(u):
    """uint32 u < 2^31 as float32 (transforms.h to_float_i31)."""
    return u.to(tl.int32, bitcast=True).to(tl.float32)


@triton.jit
def to_f64(u):
    """uint64 u < 2^63 as float64 (transforms.h to_double_i63)."""
    return u.to(tl.int64, bitcast=True).to(tl.float64)


# ---- log (quantile_impl.h log_basic) ------------------------------------------------------------
@triton.jit
def log_f32(y, E_BIAS: tl.constexpr):
    """log(2^k y) for y > 0 normal, with E_BIAS = 128 - k (log_f32<k>)."""
    bits = y.to(tl.uint32, bitcast=True)
    t = bits - F32_FOLD
    m = (bits - (t & F32_NOT_MANT)).to(tl.float32, bitcast=True)
    e = to_f32((t + (1 << 30)) >> F32_MANT_BITS) - E_BIAS  # t's exponent field, made non-negative
    f = m - 1.0
    s = tl.math.div_rn(f, 2.0 + f)
    z = s * s
    r = horner(F32_LOG_R, z) * z
    hfsq = (0.5 * f) * f
    lm = f - (hfsq - s * (hfsq + r))
    return e * F32_LN2_HI + (lm + e * F32_LN2_LO)


@triton.jit
def log_f64(y, E_BIAS: tl.constexpr):
    """log(2^k y) for y > 0 normal, with E_BIAS = 1024 - k (log_f64<k>)."""
    bits = y.to(tl.uint64, bitcast=True)
    t = bits - F64_FOLD
    m = (bits - (t & F64_NOT_MANT)).to(tl.float64, bitcast=True)
    e = to_f64((t + (1 << 62)) >> F64_MANT_BITS) - E_BIAS
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    r = horner(F64_LOG_R, z) * z
    hfsq = (0.5 * f) * f
    lm = f - (hfsq - s * (hfsq + r))
    return e * F64_LN2_HI + (lm + e * F64_LN2_LO)


# ---- the normal quantile (quantile_impl.h quantile_f32 / _f64) ---------------------------------
@triton.jit
def vmax(a, b):
    return tl.where(a < b, b, a)


@triton.jit
def vmin(a, b):
    return tl.where(b < a, b, a)


@triton.jit
def _min2(a, b):
    return tl.minimum(a, b)


@triton.jit
def _max2(a, b):
    return tl.maximum(a, b)


@triton.jit
def lowest(x):
    """The least lane of a program's block (tl.reduce with our own combine: no standard function)."""
    return tl.reduce(x, 0, _min2)


@triton.jit
def highest(x):
    return tl.reduce(x, 0, _max2)


@triton.jit
def quantile_f32(q):
    """Phi^-1(q), q in [0, 1]. As in quantile_impl.h, a tail region is computed only when some
    lane of the program needs it (which never changes a value), so central intervals skip them."""
    y = vmax(q * (1.0 - q), F32_QMIN)
    lg = log_f32(y, 126)  # log(4 q (1 - q)) = -w
    p = horner_at_negative(F32_Q1, lg + F32_C1)
    if lowest(lg) <= -F32_W0:
        w = -lg
        s = tl.math.sqrt_rn(w)
        pt = horner(F32_Q2, s - F32_C2)
        if highest(w) >= F32_W1:
            pt = tl.where(w >= F32_W1, horner(F32_Q3, s - F32_C3), pt)
        p = tl.where(w >= F32_W0, pt, p)
    return (0.5 - q) * p


@triton.jit
def quantile_f64(q):
    lg = log_f64(vmax(q * (1.0 - q), F64_QMIN), 1022)
    p = horner_at_negative(F64_Q1, lg + F64_C1)
    if lowest(lg) <= -F64_W0:
        w = -lg
        s = tl.sqrt(w)
        pt = horner(F64_Q2, s - F64_C2)
        top = highest(w)
        if top >= F64_W1:
            pt = tl.where(w >= F64_W1, horner(F64_Q3, s - F64_C3), pt)
            if top >= F64_W2:
                pt = tl.where(w >= F64_W2, horner(F64_Q4, s - F64_C4), pt)
                if top >= F64_W3:
                    pt = tl.where(w >= F64_W3, horner(F64_Q5, s - F64_C5), pt)
        p = tl.where(w >= F64_W0, pt, p)
    return (0.5 - q) * p


# ---- Box-Muller (transforms.h box_muller, sincos_octant) ---------------------------------------
@triton.jit
def rotate(r, b, low, phi, kS: tl.constexpr, kK: tl.constexpr):
    """r (cos theta, sin theta) for the angle word b, as bit patterns with the signs still to xor
    in: b's top three bits are the octant, phi in [0, pi/4] the angle inside it (folded in odd
    octants), low the octant's lowest bit. Returns (r x, r y, sign of x, sign of y)."""
    z = phi * phi
    s = phi + phi * (z * horner(kS, z))
    c = (1.0 - z * 0.5) + (z * z) * horner(kK, z)
    t = b ^ (b << 1)  # bit shift+1: octant bits o0 ^ o1 (swap), bit shift+2: o1 ^ o2 (cos < 0)
    swap = (t & (low << 1)) != 0
    x = tl.where(swap, s, c)
    y = tl.where(swap, c, s)
    return r * x, r * y, t & (low << 2), b & (low << 2)


@triton.jit
def normal_pair_f32(a, b, mean, std):
    """mean + std (r cos theta, r sin theta) from uint32 words a, b (normal_pair_f32)."""
    u1 = to_f32(a >> 1) * 2.0**-31 + 2.0**-32
    r = tl.math.sqrt_rn(log_f32(u1, 128) * -2.0)
    low = tl.full(b.shape, F32_OCTANT_LOW, tl.uint32)
    k = b & (low - 1)
    kk = tl.where((b & low) != 0, low - k, k)
    rx, ry, sx, sy = rotate(r, b, low, to_f32(kk) * F32_ANGLE_STEP, F32_SIN, F32_COS)
    v0 = mean + std * (rx.to(tl.uint32, bitcast=True) ^ sx).to(tl.float32, bitcast=True)
    v1 = mean + std * (ry.to(tl.uint32, bitcast=True) ^ sy).to(tl.float32, bitcast=True)
    return v0, v1


@triton.jit
def normal_pair_f64(a, b, mean, std):
    """The same from uint64 words a, b (normal_pair_f64)."""
    u1 = to_f64(a >> 1) * 2.0**-63 + 2.0**-64
    r = tl.sqrt(log_f64(u1, 1024) * -2.0)
    low = tl.full(b.shape, F64_OCTANT_LOW, tl.uint64)
    k = b & (low - 1)
    kk = tl.where((b & low) != 0, low - k, k)
    rx, ry, sx, sy = rotate(r, b, low, to_f64(kk) * F64_ANGLE_STEP, F64_SIN, F64_COS)
    v0 = mean + std * (rx.to(tl.uint64, bitcast=True) ^ sx).to(tl.float64, bitcast=True)
    v1 = mean + std * (ry.to(tl.uint64, bitcast=True) ^ sy).to(tl.float64, bitcast=True)
    return v0, v1


# ---- uniform and truncated normal (transforms.h) ----------------------------------------------
@triton.jit
def uniform_f32(x, low, width):
    return low + (to_f32(x >> 8) * 2.0**-24) * width


@triton.jit
def uniform_f64(bits, low, width, high):
    v = low + (to_f64(bits >> 11) * 2.0**-53) * width
    return tl.where(v < high, v, low)


@triton.jit
def std_trunc(u, t0, dt, series, QUANTILE: tl.constexpr):
    """The standardized truncated-normal value for u in (0, 1] (transforms.h std_trunc): the
    series mode for narrow intervals, else the quantile of t0 + u dt."""
    if series:
        T = u * dt
        k2 = t0 * 0.5
        if QUANTILE == 32:
            k3 = tl.math.div_rn((t0 * t0) * 2.0 + 1.0, 6.0)
        else:
            k3 = ((t0 * t0) * 2.0 + 1.0) / 6.0
        z = t0 + (T + (T * T) * (k2 + T * k3))
    else:
        if QUANTILE == 32:
            z = quantile_f32(t0 + u * dt)
        else:
            z = quantile_f64(t0 + u * dt)
    return z


@triton.jit
def trunc_normal_f32(x, t0, dt, std_flip, series, mean):
    """u = k 2^-25 with the odd k = 2 (x >> 8) + 1 (trunc_normal_f32), v = mean + (std flip) z."""
    u = to_f32((x >> 7) | 1) * 2.0**-25
    return mean + std_flip * std_trunc(u, t0, dt, series, 32)


@triton.jit
def trunc_normal_f64(bits, t0, dt, std_flip, series, mean):
    u = to_f64((bits >> 10) | 1) * 2.0**-54
    return mean + std_flip * std_trunc(u, t0, dt, series, 64)


# ---- narrow float formats in integer operations (transforms.h), on uint32 lanes ----------------
@triton.jit
def f32_to_bf16_bits(f):
    u = f.to(tl.uint32, bitcast=True)
    return (u + 0x7FFF + ((u >> 16) & 1)) >> 16


@triton.jit
def bf16_bits_to_f32(h):
    return (h << 16).to(tl.float32, bitcast=True)


@triton.jit
def f32_to_f16_bits(f):
    u = f.to(tl.uint32, bitcast=True)
    sign = (u >> 16) & 0x8000
    a = u & 0x7FFFFFFF
    big = sign | tl.where(a > 0x7F800000, 0x7E00, 0x7C00).to(tl.uint32)  # >= 65520: inf (or NaN)
    # below 2^-14: a subnormal half; adding 0.5 makes the float add round at the 2^-24 step
    small = sign | ((a.to(tl.float32, bitcast=True) + 0.5).to(tl.uint32, bitcast=True) - 0x3F000000)
    normal = sign | (((a + 0xFFF + ((a >> 13) & 1)) - 0x38000000) >> 13)
    return tl.where(a >= 0x477FF000, big, tl.where(a < 0x38800000, small, normal))


@triton.jit
def f16_bits_to_f32(h):
    sign = (h & 0x8000) << 16
    a = h & 0x7FFF
    special = sign | 0x7F800000 | ((a & 0x3FF) << 13)
    sub = sign | (a.to(tl.float32) * 2.0**-24).to(tl.uint32, bitcast=True)  # a < 2^10: exact
    normal = sign | ((a << 13) + 0x38000000)
    return tl.where(a >= 0x7C00, special, tl.where(a < 0x400, sub, normal)).to(tl.float32, bitcast=True)


@triton.jit
def round_to(v, DTYPE: tl.constexpr):
    """v rounded to nearest even in DTYPE, as float32 (fill.h round_to_dtype)."""
    if DTYPE == BFLOAT16:
        r = bf16_bits_to_f32(f32_to_bf16_bits(v))
    elif DTYPE == FLOAT16:
        r = f16_bits_to_f32(f32_to_f16_bits(v))
    else:
        r = v
    return r


@triton.jit
def store_bits32(v, lo, hi, DIST: tl.constexpr, DTYPE: tl.constexpr):
    """The stored pattern of a 32-bit-lane value as uint32 (fill.h store_bits32): rounded to the
    dtype, then its store rule (uniform: v < hi or lo; truncated normal: clamped to [lo, hi])."""
    r = round_to(v, DTYPE)
    if DIST == UNIFORM:
        r = tl.where(r < hi, r, lo)
    elif DIST == TRUNC_NORMAL:
        r = vmin(vmax(r, lo), hi)
    if DTYPE == BFLOAT16:
        out = f32_to_bf16_bits(r)
    elif DTYPE == FLOAT16:
        out = f32_to_f16_bits(r)
    else:
        out = r.to(tl.uint32, bitcast=True)
    return out


# ---- a Philox block's elements (fill.h block_bits32 / block_bits64) ----------------------------
@triton.jit
def block_bits32(
    w0, w1, w2, w3, a, b, width, t0, dt, std_flip, series, lo, hi, DIST: tl.constexpr, DTYPE: tl.constexpr
):
    """The four uint32 store patterns of a block's words (raw bits, or float32 / float16 / bfloat16
    values in the low half). a, b, width, ... are prepare32's float32 parameters."""
    if DIST == BITS:
        v0, v1, v2, v3 = w0, w1, w2, w3
    else:
        if DIST == NORMAL:
            f0, f1 = normal_pair_f32(w0, w1, a, b)
            f2, f3 = normal_pair_f32(w2, w3, a, b)
        elif DIST == UNIFORM:
            f0 = uniform_f32(w0, a, width)
            f1 = uniform_f32(w1, a, width)
            f2 = uniform_f32(w2, a, width)
            f3 = uniform_f32(w3, a, width)
        else:
            f0 = trunc_normal_f32(w0, t0, dt, std_flip, series, a)
            f1 = trunc_normal_f32(w1, t0, dt, std_flip, series, a)
            f2 = trunc_normal_f32(w2, t0, dt, std_flip, series, a)
            f3 = trunc_normal_f32(w3, t0, dt, std_flip, series, a)
        v0 = store_bits32(f0, lo, hi, DIST, DTYPE)
        v1 = store_bits32(f1, lo, hi, DIST, DTYPE)
        v2 = store_bits32(f2, lo, hi, DIST, DTYPE)
        v3 = store_bits32(f3, lo, hi, DIST, DTYPE)
    return v0, v1, v2, v3


@triton.jit
def block_bits64(w0, w1, w2, w3, a, b, width, t0, dt, std_flip, series, lo, hi, DIST: tl.constexpr):
    """The two float64 elements of a block as uint64 patterns: 64-bit words (w1 w0) and (w3 w2)."""
    x = (w1.to(tl.uint64) << 32) | w0.to(tl.uint64)
    y = (w3.to(tl.uint64) << 32) | w2.to(tl.uint64)
    if DIST == NORMAL:
        v0, v1 = normal_pair_f64(x, y, a, b)
    elif DIST == UNIFORM:
        v0 = uniform_f64(x, a, width, b)
        v1 = uniform_f64(y, a, width, b)
    else:
        v0 = vmin(vmax(trunc_normal_f64(x, t0, dt, std_flip, series, a), lo), hi)
        v1 = vmin(vmax(trunc_normal_f64(y, t0, dt, std_flip, series, a), lo), hi)
    return v0.to(tl.uint64, bitcast=True), v1.to(tl.uint64, bitcast=True)
