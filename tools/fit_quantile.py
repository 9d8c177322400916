#!/usr/bin/env python
"""Fit the coefficients of philoxinit's normal transforms (Box-Muller and the quantile).

Run from the repository root:  python tools/fit_quantile.py   [--quick]

Steps (deterministic, mpmath at 50 digits):
  1. log(m) polynomial for m in [sqrt(1/2), sqrt(2)]: R(z) = 2*(atanh(s)/s - 1), z = s*s,
     fitted as z * Q(z) (both transforms use this log).
  2. For each region of the quantile, g(w) = sqrt(2)*erfinv(x)/x with x = sqrt(1 - exp(-w)),
     is approximated as a polynomial in t = v - C (v = w in region 1, v = sqrt(w) in the other
     regions): discrete Chebyshev least squares on Chebyshev nodes, converted to the power basis
     in t, then rounded coefficient by coefficient (highest degree first) to the target
     precision, refitting the lower coefficients after each rounding.
  3. Box-Muller's sin and cos on [0, pi/4] (z = phi^2): S(z) = (sin(phi)/phi - 1)/z and
     K(z) = (cos(phi) - 1 + z/2)/z^2, fitted the same way.
  4. Host-side normal CDF: the Mills ratio M(t) = Phi(-t)/phi(t) on a few intervals (Python only).
  5. Writes python/philoxinit/_quantile_coeffs.py and csrc/quantile_coeffs.h.
  6. Measures the reference evaluations (python/philoxinit/_quantile_ref.py, _normal_ref.py) and
     prints the accuracy tables (ulp of the output dtype, against the exact quantile of the input
     q, and against the exact r cos / r sin of the same Box-Muller inputs).
"""

import importlib.util
import os
import sys
import time
import types

import mpmath as mp
import numpy as np

mp.mp.dps = 50
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG_DIR = os.path.join(ROOT, "python", "philoxinit")

# --------------------------------------------------------------------------------------------
# configuration (the choices; everything else follows)
# --------------------------------------------------------------------------------------------
# log: number of coefficients of Q(z) (R(z) = z*Q(z))
LOG_TERMS = {"f32": 4, "f64": 8}
# bits kept in LN2_HI so that e*LN2_HI is exact for every exponent that occurs
LN2_HI_BITS = {"f32": 16, "f64": 42}
# regions: (kind, w_lower, w_upper, center, degree); kind 'w': t = w - C, 's': t = sqrt(w) - C.
# A region is fitted on [w_lower, w_upper] in its variable (w, or sqrt(w)); the boundaries W_k are
# the w_lower of regions 2, 3, ...  The last region is fitted a little beyond the supported domain
# (f32: q >= 2^-128, w <= 87.3; f64: q >= 2^-1024, w <= 708.4).
REGIONS = {
    "f32": [
        ("w", 0, 5, 1.0, 9),
        ("s", 5, 22, 2.75, 11),
        ("s", 22, 87.5, 7.0, 8),
    ],
    "f64": [
        ("w", 0, 5, 0.0, 22),
        ("s", 5, 16, 2.5, 22),
        ("s", 16, 44, 5.25, 21),
        ("s", 44, 169, 9.75, 19),
        ("s", 169, 710, 20.0, 19),
    ],
}
BITS = {"f32": 24, "f64": 53}
NP = {"f32": np.float32, "f64": np.float64}
CT = {"f32": "float", "f64": "double"}

# Box-Muller sin / cos on [0, pi/4] (z = phi^2): coefficients of S(z) and K(z) in
#   sin(phi) = phi + phi * (z * S(z)),   cos(phi) = (1 - z/2) + z^2 * K(z)
SINCOS_TERMS = {"f32": (3, 3), "f64": (6, 6)}
# bits of the word below the three octant bits (the angle is 2 pi b / 2^(OCTANT_SHIFT + 3))
OCTANT_SHIFT = {"f32": 29, "f64": 61}

# host-side Phi: Mills ratio pieces (t lower, t upper, degree), coefficients in t - center
PHI_SERIES_MAX = 0.5  # |x| <= this: Taylor series of Phi(x) - 1/2
PHI_PIECES = [(0.5, 1.5, 22), (1.5, 2.5, 22), (2.5, 4.0, 24)]
PHI_CF_MIN = 4.0  # t >= this: Laplace continued fraction
PHI_CF_TERMS = 64


# --------------------------------------------------------------------------------------------
# mpmath helpers
# --------------------------------------------------------------------------------------------
def ninv_mp(q):
    """Exact (50 digit) Phi^{-1}(q) for 0 < q <= 1/2."""
    q = mp.mpf(q)
    if q == mp.mpf(0.5):
        return mp.mpf(0)
    t = mp.sqrt(-2 * mp.log(q))
    z = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3))
    lq = mp.log(q)
    for _ in range(200):
        c = mp.ncdf(z)
        step = (mp.log(c) - lq) * c / mp.npdf(z)
        z -= step
        if abs(step) <= abs(z) * mp.mpf(10) ** (-46):
            break
    return z


def g_mp(w):
    """g(w) = sqrt(2)*erfinv(x)/x, x = sqrt(1 - exp(-w))."""
    w = mp.mpf(w)
    if w == 0:
        return mp.sqrt(mp.pi / 2)
    x = mp.sqrt(-mp.expm1(-w))
    q = mp.exp(-w) / (2 * (1 + x))
    return -ninv_mp(q) / x


def round_bits(c, bits):
    with mp.workprec(bits):
        return +c


def cheb_nodes(a, b, N):
    a, b = mp.mpf(a), mp.mpf(b)
    return [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (k + mp.mpf(0.5)) / N) for k in range(N)]


def cheb_ls_power(vals, a, b, n, C):
    """Degree-n discrete Chebyshev least squares on the N = len(vals) Chebyshev nodes of [a, b],
    returned as power-basis coefficients (low -> high) in t = v - C."""
    a, b, C = mp.mpf(a), mp.mpf(b), mp.mpf(C)
    N = len(vals)
    c = []
    for j in range(n + 1):
        s = mp.fsum(vals[k] * mp.cos(mp.pi * j * (k + mp.mpf(0.5)) / N) for k in range(N))
        c.append(2 * s / N)
    c[0] /= 2
    al = 2 / (b - a)
    be = (C - (a + b) / 2) * al  # u = al*t + be
    P = [mp.mpf(0)] * (n + 1)
    Tm, Tc = [mp.mpf(1)], [be, al]
    P[0] += c[0]
    for j in range(1, n + 1):
        for i, v in enumerate(Tc):
            P[i] += c[j] * v
        Tn = [mp.mpf(0)] * (len(Tc) + 1)
        for i, v in enumerate(Tc):
            Tn[i] += 2 * be * v
            Tn[i + 1] += 2 * al * v
        for i, v in enumerate(Tm):
            Tn[i] -= v
        Tm, Tc = Tc, Tn
    return P


def fit_rounded(f, a, b, C, n, bits, oversample=3):
    """Power coefficients (low -> high) in t = v - C of a degree-n fit of f on [a, b], every
    coefficient rounded to `bits` bits; after rounding c_k the lower ones are refitted."""
    N = oversample * (n + 1)
    nodes = cheb_nodes(a, b, N)
    vals = [f(v) for v in nodes]
    ts = [v - mp.mpf(C) for v in nodes]
    P = cheb_ls_power(vals, a, b, n, C)
    fixed = {}
    for k in range(n, 0, -1):
        fixed[k] = round_bits(P[k], bits)
        res = [y - mp.fsum(fixed[j] * t**j for j in fixed) for y, t in zip(vals, ts)]
        low = cheb_ls_power(res, a, b, k - 1, C)
        P = low + [fixed[j] for j in range(k, n + 1)]
    fixed[0] = round_bits(P[0], bits)
    return [fixed[j] for j in range(n + 1)]


def poly_err(f, P, a, b, C, npts=200):
    """max relative error of sum P_k t^k (exact arithmetic) against f on a grid of [a, b]."""
    a, b = mp.mpf(a), mp.mpf(b)
    mx = 0
    for k in range(npts + 1):
        v = a + (b - a) * (1 - mp.cos(mp.pi * k / npts)) / 2
        y = f(v)
        mx = max(mx, abs(mp.polyval(P[::-1], v - C) / y - 1))
    return float(mx)


# --------------------------------------------------------------------------------------------
# the fits
# --------------------------------------------------------------------------------------------
def fit_log(prec):
    bits = BITS[prec]
    K = LOG_TERMS[prec]
    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    zmax = smax * smax * (1 + mp.mpf(10) ** -6)

    def Q(z):
        s = mp.sqrt(z)
        return 2 * (mp.atanh(s) / s - 1) / z

    P = fit_rounded(Q, 0, zmax, 0, K - 1, bits)
    # absolute error of R = z*Q, which is 2x the relative error it causes in log(m)
    mx = 0
    for k in range(1, 401):
        z = zmax * k / 400
        mx = max(mx, abs(z * (mp.polyval(P[::-1], z) - Q(z))))
    ln2 = mp.log(2)
    hi = round_bits(ln2, LN2_HI_BITS[prec])
    lo = round_bits(ln2 - hi, bits)
    sqrt2 = round_bits(mp.sqrt(2), bits)
    return {"L": P[::-1], "R_abs_err": float(mx), "LN2_HI": hi, "LN2_LO": lo, "SQRT2": sqrt2}


def fit_regions(prec):
    out = []
    for kind, wa, wb, C, n in REGIONS[prec]:
        if kind == "w":
            f, a, b = g_mp, mp.mpf(wa), mp.mpf(wb)
        else:
            f, a, b = (lambda v: g_mp(v * v)), mp.sqrt(wa), mp.sqrt(wb)
        P = fit_rounded(f, a, b, C, n, BITS[prec])
        err = poly_err(f, P, a, b, C)
        out.append({"kind": kind, "wa": wa, "wb": wb, "a": a, "b": b, "C": mp.mpf(C), "P": P[::-1], "err": err})
    return out


def fit_sincos(prec):
    bits = BITS[prec]
    ns, nc = SINCOS_TERMS[prec]
    zmax = (mp.pi / 4) ** 2 * (1 + mp.mpf(10) ** -6)

    def S(z):
        x = mp.sqrt(z)
        return (mp.sin(x) / x - 1) / z

    def K(z):
        return (mp.cos(mp.sqrt(z)) - 1 + z / 2) / (z * z)

    PS = fit_rounded(S, 0, zmax, 0, ns - 1, bits)
    PK = fit_rounded(K, 0, zmax, 0, nc - 1, bits)
    es = ec = 0
    for k in range(1, 401):  # exact arithmetic: relative error of sin, absolute of cos (>= 0.7)
        x = mp.pi / 4 * k / 400
        z = x * x
        es = max(es, abs((x + x * z * mp.polyval(PS[::-1], z)) / mp.sin(x) - 1))
        ec = max(ec, abs((1 - z / 2) + z * z * mp.polyval(PK[::-1], z) - mp.cos(x)))
    step = round_bits(mp.pi / 4, bits) * mp.mpf(2) ** -OCTANT_SHIFT[prec]
    return {"SIN": PS[::-1], "COS": PK[::-1], "STEP": step, "sin_err": float(es), "cos_err": float(ec)}


def fit_phi():
    def M(t):
        return mp.sqrt(mp.pi / 2) * mp.exp(t * t / 2) * mp.erfc(t / mp.sqrt(2))

    out = []
    for a, b, n in PHI_PIECES:
        C = (a + b) / 2
        P = fit_rounded(M, a, b, C, n, 53)
        out.append({"a": a, "b": b, "C": mp.mpf(C), "P": P[::-1], "err": poly_err(M, P, a, b, C)})
    return out


# --------------------------------------------------------------------------------------------
# emit
# --------------------------------------------------------------------------------------------
def hex_of(x, prec):
    """Shortest exact hex literal of the float value x (float32 values checked exact)."""
    v = float(x)
    if prec == "f32":
        assert float(np.float32(v)) == v
    h = v.hex()
    mant, exp = h.split("p")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    h = mant + "p" + exp
    assert float.fromhex(h) == v
    return h


def c_lit(x, prec):
    return hex_of(x, prec) + ("f" if prec == "f32" else "")


def boundaries(regs):
    return [mp.mpf(r["wa"]) for r in regs[1:]]


def emit(log_fit, reg_fit, sc_fit, phi_fit):
    py = [
        '"""Constants of the normal transforms (Box-Muller, the quantile) and the normal CDF.',
        "",
        "generated by tools/fit_quantile.py, do not edit",
        "",
        "See docs/normal_transform.md, _normal_ref.py and _quantile_ref.py for how they are used.",
        "Coefficient tuples are highest degree first (Horner order).",
        '"""',
        "",
        "_h = float.fromhex",
        "",
    ]
    hd = [
        "// generated by tools/fit_quantile.py, do not edit",
        "// Constants of the normal transforms; see docs/normal_transform.md and",
        "// python/philoxinit/_normal_ref.py, _quantile_ref.py (the op-by-op specifications).",
        "// Coefficient arrays are highest degree first (Horner order). Region k (1-based) is",
        "// used for kW[k-2] <= w < kW[k-1]; region 1 takes t = w - kC1, the others",
        "// t = sqrt(w) - kCk.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        "// Arrays are read by host+device code; CUDA device code cannot read host constexpr",
        "// arrays, so the device pass gets its own __device__ copy.",
        "#ifndef PXI_TABLE",
        "#if defined(__CUDA_ARCH__)",
        "#define PXI_TABLE __device__ constexpr",
        "#else",
        "#define PXI_TABLE constexpr",
        "#endif",
        "#endif",
        "",
        "namespace philoxinit {",
        "namespace coeffs {",
        "",
    ]
    for prec in ("f32", "f64"):
        P = prec.upper()
        ct = CT[prec]
        lf = log_fit[prec]
        regs = reg_fit[prec]
        nb = 23 if prec == "f32" else 52
        bias = 127 if prec == "f32" else 1023
        itype = "int32_t" if prec == "f32" else "int64_t"
        mant_mask = (1 << nb) - 1
        one_bits = bias << nb
        sqrt2_bits = int(
            np.array([float(lf["SQRT2"])], dtype=NP[prec]).view(np.int32 if prec == "f32" else np.int64)[0]
        )
        s = prec
        py += [
            f"# ---- {prec} " + "-" * 60,
            f"{P}_MANT_BITS = {nb}",
            f"{P}_EXP_BIAS = {bias}",
            f"{P}_MANT_MASK = {mant_mask:#x}",
            f"{P}_ONE_BITS = {one_bits:#x}",
            f"{P}_SQRT2 = _h('{hex_of(lf['SQRT2'], prec)}')  # m > SQRT2 -> m*0.5, e+1",
            f"{P}_SQRT2_BITS = {sqrt2_bits:#x}  # the same test on bits: bits(m) > SQRT2_BITS",
            f"{P}_LN2_HI = _h('{hex_of(lf['LN2_HI'], prec)}')",
            f"{P}_LN2_LO = _h('{hex_of(lf['LN2_LO'], prec)}')",
            f"{P}_LOG_R = (" + ", ".join(f"_h('{hex_of(c, prec)}')" for c in lf["L"]) + ",)",
            f"{P}_NREGIONS = {len(regs)}",
            "# W[k-1] separates region k-1 from region k (w < W -> lower region)",
            f"{P}_W = (" + ", ".join(f"_h('{hex_of(w, prec)}')" for w in boundaries(regs)) + ",)",
        ]
        hd += [
            f"// ---- {prec} " + "-" * 60,
            f"constexpr int kMantBits_{s} = {nb};",
            f"constexpr {itype} kMantMask_{s} = {mant_mask:#x};",
            f"constexpr {itype} kSqrt2Bits_{s} = {sqrt2_bits:#x};",
            f"constexpr {ct} kLn2Hi_{s} = {c_lit(lf['LN2_HI'], prec)};",
            f"constexpr {ct} kLn2Lo_{s} = {c_lit(lf['LN2_LO'], prec)};",
            f"PXI_TABLE {ct} kLogR_{s}[] = {{" + ", ".join(c_lit(c, prec) for c in lf["L"]) + "};",
            f"constexpr int kLogR_{s}_len = {len(lf['L'])};",
            f"constexpr int kNRegions_{s} = {len(regs)};",
            f"PXI_TABLE {ct} kW_{s}[] = {{" + ", ".join(c_lit(w, prec) for w in boundaries(regs)) + "};",
        ]
        for i, r in enumerate(regs, 1):
            kind = "t = w - C" if r["kind"] == "w" else "t = sqrt(w) - C"
            rng = f"{r['wa']} <= w < {r['wb']}" if i < len(regs) else f"w >= {r['wa']}"
            py += [
                f"# region {i} ({rng}): {kind}, degree {len(r['P']) - 1}",
                f"{P}_C{i} = _h('{hex_of(r['C'], prec)}')",
                f"{P}_P{i} = (" + ", ".join(f"_h('{hex_of(c, prec)}')" for c in r["P"]) + ",)",
            ]
            hd += [
                f"// region {i} ({rng}): {kind}, degree {len(r['P']) - 1}",
                f"constexpr {ct} kC{i}_{s} = {c_lit(r['C'], prec)};",
                f"PXI_TABLE {ct} kP{i}_{s}[] = {{" + ", ".join(c_lit(c, prec) for c in r["P"]) + "};",
                f"constexpr int kP{i}_{s}_len = {len(r['P'])};",
            ]
        sc = sc_fit[prec]
        py += [
            "# Box-Muller: sin(phi) = phi + phi*(z*S(z)), cos(phi) = (1 - z/2) + z^2*K(z), z = phi^2",
            f"{P}_SIN = (" + ", ".join(f"_h('{hex_of(c, prec)}')" for c in sc["SIN"]) + ",)",
            f"{P}_COS = (" + ", ".join(f"_h('{hex_of(c, prec)}')" for c in sc["COS"]) + ",)",
            f"{P}_OCTANT_SHIFT = {OCTANT_SHIFT[prec]}",
            f"{P}_ANGLE_STEP = _h('{hex_of(sc['STEP'], prec)}')  # pi/4 rounded, * 2^-OCTANT_SHIFT",
        ]
        hd += [
            "// Box-Muller: sin(phi) = phi + phi*(z*S(z)), cos(phi) = (1 - z/2) + z^2*K(z), z = phi^2",
            f"PXI_TABLE {ct} kSin_{s}[] = {{" + ", ".join(c_lit(c, prec) for c in sc["SIN"]) + "};",
            f"PXI_TABLE {ct} kCos_{s}[] = {{" + ", ".join(c_lit(c, prec) for c in sc["COS"]) + "};",
            f"constexpr int kOctantShift_{s} = {OCTANT_SHIFT[prec]};",
            f"constexpr {ct} kAngleStep_{s} = {c_lit(sc['STEP'], prec)};  // pi/4 rounded, * 2^-shift",
        ]
        py += [
            f"{P}_C = (" + ", ".join(f"{P}_C{i}" for i in range(1, len(regs) + 1)) + ",)",
            f"{P}_P = (" + ", ".join(f"{P}_P{i}" for i in range(1, len(regs) + 1)) + ",)",
            f"{P}_SQRT_REGION = (" + ", ".join("True" if r["kind"] == "s" else "False" for r in regs) + ",)",
            "",
        ]
        hd += [""]
    # host-side Phi (Python only)
    py += [
        "# ---- host-side normal CDF (python/philoxinit/_phi.py only) " + "-" * 20,
        "# Mills ratio M(t) = Phi(-t)/phi(t) on [PHI_A[i], PHI_B[i]): polynomial in t - PHI_C[i]",
        f"PHI_SERIES_MAX = _h('{float(PHI_SERIES_MAX).hex()}')",
        f"PHI_CF_MIN = _h('{float(PHI_CF_MIN).hex()}')",
        f"PHI_CF_TERMS = {PHI_CF_TERMS}",
        "PHI_A = (" + ", ".join(f"_h('{float(p['a']).hex()}')" for p in phi_fit) + ",)",
        "PHI_B = (" + ", ".join(f"_h('{float(p['b']).hex()}')" for p in phi_fit) + ",)",
        "PHI_C = (" + ", ".join(f"_h('{float(p['C']).hex()}')" for p in phi_fit) + ",)",
        "PHI_M = (",
    ]
    for p in phi_fit:
        py.append("    (" + ", ".join(f"_h('{float(c).hex()}')" for c in p["P"]) + ",),")
    py += [")", ""]
    hd += ["}  // namespace coeffs", "}  // namespace philoxinit", ""]
    with open(os.path.join(PKG_DIR, "_quantile_coeffs.py"), "w") as fh:
        fh.write("\n".join(py))
    with open(os.path.join(ROOT, "csrc", "quantile_coeffs.h"), "w") as fh:
        fh.write("\n".join(hd))


# --------------------------------------------------------------------------------------------
# measurement
# --------------------------------------------------------------------------------------------
def load_modules():
    """Load _quantile_coeffs / _quantile_ref / _phi from the source tree without importing the
    philoxinit package (whose __init__ may need the compiled extension)."""
    name = "_philoxinit_src"
    pkg = types.ModuleType(name)
    pkg.__path__ = [PKG_DIR]
    sys.modules[name] = pkg
    mods = {}
    for m in ("_quantile_coeffs", "_quantile_ref", "_normal_ref", "_phi"):
        full = f"{name}.{m}"
        sys.modules.pop(full, None)
        spec = importlib.util.spec_from_file_location(full, os.path.join(PKG_DIR, m + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
        mods[m] = mod
    return mods


def newton_exact(q, z0):
    """Phi^{-1}(q) to ~1e-45 from a start z0 accurate to ~1e-15 (three Newton steps in mp)."""
    q = mp.mpf(float(q))
    if q == mp.mpf(0.5):
        return mp.mpf(0)
    z = mp.mpf(float(z0))
    lq = mp.log(q)
    for _ in range(3):
        c = mp.ncdf(z)
        z -= (mp.log(c) - lq) * c / mp.npdf(z)
    return z


def ulp_err_f64(z, zex):
    out = np.empty(len(z))
    for i in range(len(z)):
        ze = zex[i]
        if ze == 0:
            out[i] = 0.0 if z[i] == 0 else np.inf
            continue
        _, e = mp.frexp(ze)  # |ze| = m * 2^e, m in [0.5, 1)
        ulp = mp.ldexp(1, max(int(e) - 1, -1022) - 52)
        out[i] = float(abs(mp.mpf(float(z[i])) - ze) / ulp)
    return out


def ulp_err_f32(z32, zref64):
    zr = np.asarray(zref64, dtype=np.float64)
    _, e = np.frexp(zr)
    ulp = np.ldexp(1.0, np.maximum(e - 1, -126) - 23)
    err = np.abs(z32.astype(np.float64) - zr) / ulp
    return np.where(zr == 0, np.where(z32 == 0, 0.0, np.inf), err)


def kernel_q_f32_all():
    """Every distinct q = float32(k)*2^-32 + 2^-33 (float32 ops) for k in [0, 2^31)."""
    parts = [np.arange(0, 1 << 24, dtype=np.float64)]
    for j in range(24, 31):
        parts.append(np.arange(1 << 23, dtype=np.float64) * 2.0 ** (j - 23) + 2.0**j)
    parts.append(np.array([2.0**31]))
    for p in parts:
        f = p.astype(np.float32)
        yield f * np.float32(2.0**-32) + np.float32(2.0**-33)


def kernel_q_f64_sample(rng, n):
    ks = [int(k) for k in rng.integers(0, 1 << 63, size=n // 2, dtype=np.uint64)]
    ks += [int(rng.integers(0, 1 << 62)) >> int(s) for s in rng.integers(0, 63, size=n // 2)]
    ks += [0, 1, 2, 3, (1 << 63) - 1, (1 << 62), (1 << 62) - 1]
    return np.array([float(k) for k in ks]) * 2.0**-64 + 2.0**-65


def measure(mods, quick=False):
    ref = mods["_quantile_ref"]
    rows = []
    rng = np.random.default_rng(12345)

    # ---------------- float64 against mpmath ----------------
    def f64_row(label, q):
        q = np.asarray(q, dtype=np.float64)
        z = ref.quantile_lower_f64(q)
        zex = [newton_exact(qi, zi) for qi, zi in zip(q, z)]
        e = ulp_err_f64(z, zex)
        i = int(np.argmax(e))
        rows.append(("f64", label, len(q), float(e.max()), float(q[i]), float(z[i])))
        return e

    n64 = 3000 if quick else 20000
    u = rng.uniform(1.0, 65.0, n64)
    f64_row("log-spaced q in [2^-65, 0.5]", np.exp2(-u))
    f64_row("uniform q in [0.25, 0.5]", rng.uniform(0.25, 0.5, n64 // 2))
    f64_row("q in [0.5-2^-20, 0.5]", 0.5 - rng.uniform(0, 2.0**-20, n64 // 10))
    f64_row("kernel q = f64(k)*2^-64 + 2^-65", kernel_q_f64_sample(rng, n64))
    u = rng.uniform(65.0, 1000.0, n64 // 2)
    f64_row("deep tail q in [2^-1000, 2^-65]", np.exp2(-u))

    # ---------------- float32 against the float64 reference ----------------
    def f32_eval(q32):
        z = ref.quantile_lower_f32(q32)
        zr = ref.quantile_lower_f64(q32.astype(np.float64))
        e = ulp_err_f32(z, zr)
        i = int(np.argmax(e))
        return len(q32), float(e.max()), float(q32[i]), float(z[i])

    def f32_row(label, q32):
        rows.append(("f32", label, *f32_eval(q32)))

    n32 = 200000 if quick else 4000000
    u = rng.uniform(1.0, 33.0, n32)
    f32_row("log-spaced q in [2^-33, 0.5]", np.exp2(-u).astype(np.float32))
    f32_row("uniform q in [0.25, 0.5]", rng.uniform(0.25, 0.5, n32).astype(np.float32))
    top = np.float32(0.5) - np.arange(0, 1 << 18, dtype=np.float32) * np.float32(2.0**-25)
    f32_row("every float q in [0.5-2^-7, 0.5]", top)
    if not quick:
        best = (0, -1.0, 0.0, 0.0)
        total = 0
        for q in kernel_q_f32_all():
            for s in range(0, len(q), 1 << 22):
                r = f32_eval(q[s : s + (1 << 22)])
                total += r[0]
                if r[1] > best[1]:
                    best = r
        rows.append(("f32", "kernel q, exhaustive (every k in [0, 2^31))", total, *best[1:]))
    else:
        k = rng.integers(0, 1 << 31, n32).astype(np.float32)
        f32_row("kernel q = f32(k)*2^-32 + 2^-33", k * np.float32(2.0**-32) + np.float32(2.0**-33))
    u = rng.uniform(33.0, 126.0, n32 // 4)
    f32_row("deep tail q in [2^-126, 2^-33]", np.exp2(-u).astype(np.float32))
    return rows


def bm_exact_f64(u1, b, shift):
    """float64 (numpy) r cos / r sin of the exact angle, for measuring the float32 transform:
    the octant split is exact in integers and phi = k' (pi/4) 2^-shift is good to ~1e-16."""
    r = np.sqrt(-2.0 * np.log(u1.astype(np.float64)))
    o = b >> shift
    k = b & ((1 << shift) - 1)
    kk = np.where(o & 1 == 1, (1 << shift) - k, k)
    phi = kk.astype(np.float64) * (np.pi / 4 * 2.0**-shift)
    s, c = np.sin(phi), np.cos(phi)
    swap = np.isin(o, (1, 2, 5, 6))
    z0 = r * np.where(swap, s, c)
    z1 = r * np.where(swap, c, s)
    return np.where(np.isin(o, (2, 3, 4, 5)), -z0, z0), np.where(o >= 4, -z1, z1)


def bm_words_f32(rng, n):
    """Random word pairs plus the edges: u1 near 0 and 1, angles at and next to octant bounds."""
    a = rng.integers(0, 1 << 32, n, dtype=np.int64)
    b = rng.integers(0, 1 << 32, n, dtype=np.int64)
    edge_a = np.array([0, 1, 2, 3, 255, (1 << 32) - 1, (1 << 32) - 2, (1 << 32) - 300, 1 << 31, 12345])
    oct_b = np.array([j << 29 for j in range(8)])
    edge_b = np.concatenate([oct_b, oct_b + 1, (oct_b - 1) % (1 << 32), oct_b + (1 << 28), oct_b + 7])
    ea, eb = np.meshgrid(edge_a, edge_b)
    return np.concatenate([a, ea.ravel()]), np.concatenate([b, eb.ravel()])


def measure_box_muller(mods, quick=False):
    """Max error (ulp of the output dtype) of normal_pair against the exact r cos / r sin of the
    same u1 and angle word."""
    nref = mods["_normal_ref"]
    rng = np.random.default_rng(777)
    rows = []
    a, b = bm_words_f32(rng, 200000 if quick else 4000000)
    z0, z1 = nref.normal_pair_f32(a.astype(np.uint32), b.astype(np.uint32))
    u1 = (a >> 1).astype(np.float32) * np.float32(2.0**-31) + np.float32(2.0**-32)
    e0, e1 = bm_exact_f64(u1, b, 29)
    e = np.maximum(ulp_err_f32(z0, e0), ulp_err_f32(z1, e1))
    i = int(np.argmax(e))
    rows.append(("f32", "random words + octant / u1 edges", len(a), float(e.max()), int(a[i]), int(b[i])))

    n = 300 if quick else 3000
    A = [int(x) for x in rng.integers(0, 1 << 63, n, dtype=np.int64)] + [0, 1, (1 << 64) - 1, 1 << 63]
    B = [int(x) * 2 + 1 for x in rng.integers(0, 1 << 62, n, dtype=np.int64)]
    B += [j << 61 for j in range(4)] + [(j << 61) + 1 for j in range(4)] + [(1 << 64) - 1]
    A, B = A[: len(B)], B[: len(A)]
    z0, z1 = nref.normal_pair_f64(np.array(A, dtype=np.uint64), np.array(B, dtype=np.uint64))
    worst = (-1.0, 0, 0)
    for i, (x, y) in enumerate(zip(A, B)):
        u1 = float(np.float64(x >> 1) * 2.0**-63 + 2.0**-64)
        r = mp.sqrt(-2 * mp.log(mp.mpf(u1)))
        o, k = y >> 61, y & ((1 << 61) - 1)
        phi = ((1 << 61) - k if o & 1 else k) * mp.pi / 4 * mp.mpf(2) ** -61
        s, c = mp.sin(phi), mp.cos(phi)
        X, Y = (s, c) if o in (1, 2, 5, 6) else (c, s)
        ex0 = -r * X if o in (2, 3, 4, 5) else r * X
        ex1 = -r * Y if o >= 4 else r * Y
        err = max(ulp_err_f64(np.array([z0[i]]), [ex0])[0], ulp_err_f64(np.array([z1[i]]), [ex1])[0])
        if err > worst[0]:
            worst = (err, x, y)
    rows.append(("f64", "random words + octant / u1 edges (mpmath)", len(A), *worst))
    return rows


def measure_phi(mods):
    phi = mods["_phi"]
    mp.mp.dps = 40
    xs = list(np.linspace(-40.0, 8.3, 4001)) + list(np.linspace(-1.0, 1.0, 501))
    xs += [-t for t in np.geomspace(1e-12, 0.75, 200)] + list(np.geomspace(1e-12, 0.75, 200))
    mx = 0.0
    where = None
    for x in xs:
        x = float(x)
        for val, ex in ((phi.normal_cdf(x), mp.ncdf(x)), (phi.normal_cdf_upper(x), mp.ncdf(-x))):
            if ex < mp.mpf(2.0**-1022):
                continue  # subnormal results: absolute error only
            r = float(abs(mp.mpf(val) / ex - 1))
            if r > mx:
                mx, where = r, x
    mp.mp.dps = 50
    return mx, where, len(xs)


def main():
    quick = "--quick" in sys.argv
    t0 = time.time()
    log_fit = {p: fit_log(p) for p in ("f32", "f64")}
    reg_fit = {p: fit_regions(p) for p in ("f32", "f64")}
    sc_fit = {p: fit_sincos(p) for p in ("f32", "f64")}
    phi_fit = fit_phi()
    emit(log_fit, reg_fit, sc_fit, phi_fit)
    print(f"fits done in {time.time() - t0:.1f}s; wrote _quantile_coeffs.py and quantile_coeffs.h")
    for p in ("f32", "f64"):
        print(f"{p}: log R abs err {log_fit[p]['R_abs_err']:.2e}")
        for i, r in enumerate(reg_fit[p], 1):
            print(
                f"{p}: region {i} ({r['kind']}) w in [{r['wa']}, {r['wb']}] C={float(r['C'])}"
                f" degree {len(r['P']) - 1}: rel err of rounded poly {r['err']:.2e}"
                f" (= {r['err'] / 2.0 ** -(BITS[p] - 1):.3f} ulp(1))"
            )
        print(
            f"{p}: sin rel err {sc_fit[p]['sin_err']:.2e}, cos abs err {sc_fit[p]['cos_err']:.2e}"
            f" on [0, pi/4] (exact arithmetic)"
        )
    for r in phi_fit:
        print(f"phi: M on [{r['a']}, {r['b']}] degree {len(r['P']) - 1}: rel err {r['err']:.2e}")
    mods = load_modules()
    rows = measure(mods, quick)
    print()
    print("| dtype | q set | points | max err (ulp) | at q | z there |")
    print("|---|---|---|---|---|---|")
    for d, label, n, e, q, z in rows:
        print(f"| {d} | {label} | {n} | {e:.3f} | {q:.6e} | {z:.9g} |")
    print()
    print("Box-Muller (normal_pair) against the exact r cos / r sin of the same inputs:")
    print("| dtype | words | pairs | max err (ulp) | at a | at b |")
    print("|---|---|---|---|---|---|")
    for d, label, n, e, x, y in measure_box_muller(mods, quick):
        print(f"| {d} | {label} | {n} | {e:.3f} | {x:#x} | {y:#x} |")
    mx, where, n = measure_phi(mods)
    print()
    print(
        f"normal_cdf / normal_cdf_upper: max relative error {mx:.3e} at x = {where} "
        f"({n} points in [-40, 8.3], normal results)"
    )
    print(f"total {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
