"""Accuracy of the reference normal transforms (Box-Muller in _normal_ref for normal_, the quantile in
_quantile_ref for truncated normal), agreement of the generated constants
(_quantile_coeffs.py vs csrc/quantile_coeffs.h), and accuracy of the host-side normal CDF (_phi).

The bounds are the ones documented in docs/normal_transform.md (measured by tools/fit_quantile.py).
"""

import importlib
import importlib.util
import os
import re
import sys
import types

import numpy as np
import pytest

mp = pytest.importorskip("mpmath")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG_DIR = os.path.join(ROOT, "python", "philoxinit")

F32_MAX_ULP = 3.0  # measured max 2.81 ulp over q >= 2^-33 (2.61 below)
F64_MAX_ULP = 3.0  # measured max 2.61 ulp over q >= 2^-65 (1.90 below)
PHI_MAX_REL = 4e-16  # measured max 3.0e-16
BM_F32_MAX_ULP = 4.5  # measured max 3.90 ulp (4M random pairs + edges)
BM_F64_MAX_ULP = 3.5  # measured max 2.86 ulp (3000 pairs against mpmath)


def _load(name):
    try:
        return importlib.import_module("philoxinit." + name)
    except ImportError:
        pkg = "_philoxinit_src_test"
        if pkg not in sys.modules:
            m = types.ModuleType(pkg)
            m.__path__ = [PKG_DIR]
            sys.modules[pkg] = m
        full = f"{pkg}.{name}"
        if full not in sys.modules:
            spec = importlib.util.spec_from_file_location(full, os.path.join(PKG_DIR, name + ".py"))
            mod = importlib.util.module_from_spec(spec)
            sys.modules[full] = mod
            spec.loader.exec_module(mod)
        return sys.modules[full]


ref = _load("_quantile_ref")
nref = _load("_normal_ref")
coeffs = _load("_quantile_coeffs")
phi = _load("_phi")


def _ulp_err_f32(z32, zref):
    zr = np.asarray(zref, dtype=np.float64)
    _, e = np.frexp(zr)
    ulp = np.ldexp(1.0, np.maximum(e - 1, -126) - 23)
    err = np.abs(z32.astype(np.float64) - zr) / ulp
    return np.where(zr == 0, np.where(z32 == 0, 0.0, np.inf), err)


def _q32_sample():
    rng = np.random.default_rng(2024)
    parts = [
        np.exp2(-rng.uniform(1.0, 33.0, 40000)),
        rng.uniform(0.25, 0.5, 20000),
        0.5 - rng.uniform(0.0, 2.0**-12, 10000),
    ]
    k = rng.integers(0, 1 << 31, 20000).astype(np.float32)
    kernel = k * np.float32(2.0**-32) + np.float32(2.0**-33)
    small_k = np.arange(0, 5000, dtype=np.float32) * np.float32(2.0**-32) + np.float32(2.0**-33)
    extremes = np.array(
        [
            2.0**-33,
            0.5,
            np.nextafter(np.float32(0.5), np.float32(0)),
            0.25,
            np.nextafter(np.float32(0.25), np.float32(0)),
            2.0**-32,
            0.1,
            1e-3,
        ],
        dtype=np.float32,
    )
    q = np.concatenate([p.astype(np.float32) for p in parts] + [kernel, small_k, extremes])
    return q


def test_quantile_f32_accuracy():
    q = _q32_sample()
    assert len(q) > 90000
    z = ref.quantile_lower_f32(q)
    assert z.dtype == np.float32
    zr = ref.quantile_lower_f64(q.astype(np.float64))
    err = _ulp_err_f32(z, zr)
    assert err.max() <= F32_MAX_ULP, (err.max(), q[np.argmax(err)])
    # deep tails, [2^-126, 2^-33]
    rng = np.random.default_rng(7)
    qt = np.exp2(-rng.uniform(33.0, 126.0, 20000)).astype(np.float32)
    qt = np.concatenate([qt, np.array([2.0**-126, 2.0**-100], dtype=np.float32)])
    err = _ulp_err_f32(ref.quantile_lower_f32(qt), ref.quantile_lower_f64(qt.astype(np.float64)))
    assert err.max() <= F32_MAX_ULP, (err.max(), qt[np.argmax(err)])


def _exact_from(q, z0):
    """Phi^{-1}(q) to ~1e-30 by Newton steps (in log space) from the float64 value z0."""
    q = mp.mpf(float(q))
    if q == mp.mpf(0.5):
        return mp.mpf(0)
    z = mp.mpf(float(z0))
    lq = mp.log(q)
    for _ in range(3):
        c = mp.ncdf(z)
        z -= (mp.log(c) - lq) * c / mp.npdf(z)
    return z


def _ulp_err_f64(q):
    q = np.asarray(q, dtype=np.float64)
    z = ref.quantile_lower_f64(q)
    assert z.dtype == np.float64
    out = []
    with mp.workdps(34):
        for qi, zi in zip(q, z):
            ze = _exact_from(qi, zi)
            if ze == 0:
                out.append(0.0 if zi == 0 else np.inf)
                continue
            _, e = mp.frexp(ze)
            ulp = mp.ldexp(1, max(int(e) - 1, -1022) - 52)
            out.append(float(abs(mp.mpf(float(zi)) - ze) / ulp))
    return np.array(out)


def test_quantile_f64_accuracy():
    rng = np.random.default_rng(99)
    k = [int(x) for x in rng.integers(0, 1 << 63, 1000, dtype=np.uint64)]
    k += [int(rng.integers(0, 1 << 62)) >> int(s) for s in rng.integers(0, 63, 500)]
    kernel = np.array([float(x) for x in k + [0, 1, (1 << 63) - 1]]) * 2.0**-64 + 2.0**-65
    q = np.concatenate(
        [
            np.exp2(-rng.uniform(1.0, 65.0, 2000)),
            rng.uniform(0.25, 0.5, 800),
            0.5 - rng.uniform(0.0, 2.0**-20, 200),
            kernel,
            [2.0**-65, 0.5, np.nextafter(0.5, 0.0), 0.25, 1e-3],
        ]
    )
    err = _ulp_err_f64(q)
    assert err.max() <= F64_MAX_ULP, (err.max(), q[np.argmax(err)])
    qt = np.concatenate([np.exp2(-rng.uniform(65.0, 1000.0, 500)), [2.0**-1000]])
    err = _ulp_err_f64(qt)
    assert err.max() <= F64_MAX_ULP, (err.max(), qt[np.argmax(err)])


# ------------------------------------------------------------------------ Box-Muller
def _bm_exact(o, kk, shift):
    """(cos theta, sin theta) of the exact angle with octant o and in-octant position kk."""
    phi = kk * (mp.pi / 4) * mp.mpf(2) ** -shift
    s, c = mp.sin(phi), mp.cos(phi)
    x, y = (s, c) if o in (1, 2, 5, 6) else (c, s)
    return (-x if o in (2, 3, 4, 5) else x), (-y if o >= 4 else y)


def test_box_muller_f32_accuracy():
    """float32 pairs against float64 r cos / r sin of the same u1 and the exact angle (the octant
    split is exact in integers, so float64 sin / cos of phi are good to ~1e-16)."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 1 << 32, 1_000_000, dtype=np.int64)
    b = rng.integers(0, 1 << 32, 1_000_000, dtype=np.int64)
    octs = np.array([j << 29 for j in range(8)])
    eb = np.concatenate([octs, octs + 1, (octs - 1) % (1 << 32), octs + (1 << 28)])
    ea = np.array([0, 1, 255, (1 << 32) - 1, (1 << 32) - 300, 1 << 31])
    ea, eb = (v.ravel() for v in np.meshgrid(ea, eb))
    a, b = np.concatenate([a, ea]), np.concatenate([b, eb])
    z0, z1 = nref.normal_pair_f32(a.astype(np.uint32), b.astype(np.uint32))
    assert z0.dtype == np.float32 and z1.dtype == np.float32
    u1 = (a >> 1).astype(np.float32) * np.float32(2.0**-31) + np.float32(2.0**-32)
    r = np.sqrt(-2.0 * np.log(u1.astype(np.float64)))
    o, k = b >> 29, b & ((1 << 29) - 1)
    phi = np.where(o & 1 == 1, (1 << 29) - k, k) * (np.pi / 4 * 2.0**-29)
    swap = np.isin(o, (1, 2, 5, 6))
    x = np.where(swap, np.sin(phi), np.cos(phi)) * np.where(np.isin(o, (2, 3, 4, 5)), -r, r)
    y = np.where(swap, np.cos(phi), np.sin(phi)) * np.where(o >= 4, -r, r)
    err = np.maximum(_ulp_err_f32(z0, x), _ulp_err_f32(z1, y))
    assert err.max() <= BM_F32_MAX_ULP, (err.max(), hex(a[np.argmax(err)]), hex(b[np.argmax(err)]))
    assert np.abs(z0).max() <= 6.67 and np.abs(z1).max() <= 6.67  # u1 >= 2^-32


def test_box_muller_f64_accuracy():
    rng = np.random.default_rng(4)
    A = [int(v) for v in rng.integers(0, 1 << 63, 400, dtype=np.int64)] + [0, 1, 1 << 63, (1 << 64) - 1]
    B = [int(v) * 2 + 1 for v in rng.integers(0, 1 << 62, 396, dtype=np.int64)]
    B += [j << 61 for j in range(8)]
    z0, z1 = nref.normal_pair_f64(np.array(A, dtype=np.uint64), np.array(B, dtype=np.uint64))
    worst = 0.0
    with mp.workdps(34):
        for x, y, v0, v1 in zip(A, B, z0, z1):
            u1 = float(np.float64(x >> 1) * 2.0**-63 + 2.0**-64)
            r = mp.sqrt(-2 * mp.log(mp.mpf(u1)))
            o, k = y >> 61, y & ((1 << 61) - 1)
            c, s = _bm_exact(o, (1 << 61) - k if o & 1 else k, 61)
            for v, e in ((v0, r * c), (v1, r * s)):
                if e == 0:
                    assert v == 0
                    continue
                _, ex = mp.frexp(e)
                worst = max(worst, float(abs(mp.mpf(float(v)) - e) / mp.ldexp(1, max(int(ex) - 1, -1022) - 52)))
    assert worst <= BM_F64_MAX_ULP, worst


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_quantile_monotone_and_signs(dt):
    f = ref.quantile_lower_f32 if dt == np.float32 else ref.quantile_lower_f64
    # dense increasing q: near 0.5, across every region boundary, and log-spaced down to the tail
    top = (dt(0.5) - np.arange(1 << 16, dtype=dt)[::-1] * dt(2.0**-30)).astype(dt)
    logs = np.sort(np.exp2(-np.linspace(1.0, 33.0 if dt == np.float32 else 65.0, 200001))).astype(dt)
    for q in (top, logs):
        q = np.unique(q)
        z = f(q)
        assert np.all(z <= 0)
        assert np.all(np.isfinite(z))
        d = np.diff(z.astype(np.float64))
        # monotone up to one rounding step (polynomial + rounding cannot promise more)
        tol = np.abs(z[1:].astype(np.float64)) * (2.0 * np.finfo(dt).eps)
        assert np.all(d >= -tol), np.min(d / np.maximum(tol, 1e-300))
    assert f(np.array([0.5], dtype=dt))[0] == 0


@pytest.mark.parametrize("dt,it,pre", [(np.float32, np.int32, "F32"), (np.float64, np.int64, "F64")])
def test_log_integer_split_is_the_sqrt2_fold(dt, it, pre):
    """log's y = 2^e m from integer operations (t = bits - FOLD, e = t >> NB, m = bits - (t & ~MASK))
    equals the textbook split: m in [1, 2) from the mantissa, halved (and e + 1) above sqrt(2).
    (float32: also checked over all 2^31 - 2^24 positive normal floats, no difference.)"""
    nb = getattr(coeffs, pre + "_MANT_BITS")
    mask = getattr(coeffs, pre + "_MANT_MASK")
    threshold = getattr(coeffs, pre + "_SQRT2_BITS") & mask
    rng = np.random.default_rng(11)
    top = (1 << (31 if dt == np.float32 else 63)) - (1 << nb)  # below +inf's bit pattern
    bits = rng.integers(1 << nb, top, 1_000_000, dtype=it)
    exps = np.arange(1, top >> nb, dtype=it) << nb  # every exponent, mantissas at the threshold
    edges = np.concatenate([exps + threshold + d for d in (-1, 0, 1, 2)] + [exps, exps + mask])
    bits = np.concatenate([bits, edges[(edges >= 1 << nb) & (edges < top)]]).astype(it)
    e0 = (bits >> nb) - getattr(coeffs, pre + "_EXP_BIAS")
    m0 = ((bits & mask) | getattr(coeffs, pre + "_ONE_BITS")).view(dt)
    big = m0 > dt(getattr(coeffs, pre + "_SQRT2"))
    m0, e0 = np.where(big, m0 * dt(0.5), m0), np.where(big, e0 + 1, e0)
    t = bits - it(getattr(coeffs, pre + "_SQRT2_BITS") - (1 << nb) + 1)
    e1, m1 = t >> nb, (bits - (t & it(~mask))).view(dt)
    assert np.array_equal(e0, e1) and np.array_equal(m0.view(it), m1.view(it))


def test_log_reference():
    rng = np.random.default_rng(5)
    y = np.concatenate([np.exp2(-rng.uniform(0.0, 120.0, 20000)), rng.uniform(0.5, 1.0, 20000), [1.0]])
    l32 = ref.log_f32(y.astype(np.float32)).astype(np.float64)
    ex = np.log(y.astype(np.float32).astype(np.float64))
    assert np.all(np.abs(l32 - ex) <= 1.5 * np.spacing(np.abs(ex).astype(np.float32)).astype(np.float64) + 1e-45)
    y64 = np.concatenate([y, np.exp2(-rng.uniform(0.0, 1000.0, 2000))])
    l64 = ref.log_f64(y64)
    with mp.workdps(30):
        for yi, li in zip(y64[::10], l64[::10]):
            e = mp.log(mp.mpf(float(yi)))
            assert abs(mp.mpf(float(li)) - e) <= 1.5 * mp.mpf(float(np.spacing(abs(float(e))))) + mp.mpf(1e-300)


# ------------------------------------------------------------------------ constants agreement
def _parse_header():
    with open(os.path.join(ROOT, "csrc", "quantile_coeffs.h")) as fh:
        text = fh.read()
    text = re.sub(r"//[^\n]*", "", text)
    out = {}
    text = re.sub(r"#[^\n]*", "", text)
    for m in re.finditer(r"(?:constexpr|PXI_TABLE)\s+(\w+)\s+(\w+)\s*(\[\])?\s*=\s*([^;]+);", text):
        ctype, name, arr, val = m.groups()

        def conv(tok):
            tok = tok.strip()
            if ctype in ("float", "double"):
                assert re.fullmatch(r"-?0x[0-9a-f]+(\.[0-9a-f]*)?p[+-]\d+" + ("f" if ctype == "float" else ""), tok), (
                    tok
                )
                return float.fromhex(tok.rstrip("f"))
            return int(tok, 0)

        if arr:
            out[name] = tuple(conv(t) for t in val.strip().strip("{}").split(",") if t.strip())
        else:
            out[name] = conv(val)
    return out


def test_header_matches_python_constants():
    h = _parse_header()
    seen = set()
    for s, P in (("f32", "F32"), ("f64", "F64")):
        pairs = {
            f"kMantBits_{s}": "MANT_BITS",
            f"kMantMask_{s}": "MANT_MASK",
            f"kSqrt2Bits_{s}": "SQRT2_BITS",
            f"kLn2Hi_{s}": "LN2_HI",
            f"kLn2Lo_{s}": "LN2_LO",
            f"kLogR_{s}": "LOG_R",
            f"kNRegions_{s}": "NREGIONS",
            f"kW_{s}": "W",
            f"kSin_{s}": "SIN",
            f"kCos_{s}": "COS",
            f"kOctantShift_{s}": "OCTANT_SHIFT",
            f"kAngleStep_{s}": "ANGLE_STEP",
        }
        n = getattr(coeffs, P + "_NREGIONS")
        assert len(getattr(coeffs, P + "_W")) == n - 1
        for i in range(1, n + 1):
            pairs[f"kC{i}_{s}"] = f"C{i}"
            pairs[f"kP{i}_{s}"] = f"P{i}"
            assert h[f"kP{i}_{s}_len"] == len(getattr(coeffs, f"{P}_P{i}"))
            seen.add(f"kP{i}_{s}_len")
        assert h[f"kLogR_{s}_len"] == len(getattr(coeffs, P + "_LOG_R"))
        seen.add(f"kLogR_{s}_len")
        for hname, pname in pairs.items():
            pv = getattr(coeffs, f"{P}_{pname}")
            assert h[hname] == (tuple(pv) if isinstance(pv, tuple) else pv), hname
            seen.add(hname)
            if s == "f32":  # float32 constants must be exactly representable
                vals = pv if isinstance(pv, tuple) else (pv,)
                for v in vals:
                    if isinstance(v, float):
                        assert float(np.float32(v)) == v, (hname, v)
        # the bit threshold is the bit pattern of SQRT2
        it = np.int32 if s == "f32" else np.int64
        dt = np.float32 if s == "f32" else np.float64
        assert int(np.array([getattr(coeffs, P + "_SQRT2")], dtype=dt).view(it)[0]) == h[f"kSqrt2Bits_{s}"]
    assert seen == set(h), set(h) ^ seen


# ------------------------------------------------------------------------ host-side Phi
def test_normal_cdf_accuracy():
    xs = np.concatenate(
        [
            np.linspace(-37.5, 8.3, 1500),
            np.linspace(-3.0, 3.0, 301),
            -np.geomspace(1e-10, 0.6, 100),
            np.geomspace(1e-10, 0.6, 100),
        ]
    )
    worst = 0.0
    with mp.workdps(30):
        for x in xs:
            x = float(x)
            for val, ex in ((phi.normal_cdf(x), mp.ncdf(x)), (phi.normal_cdf_upper(x), mp.ncdf(-x))):
                assert isinstance(val, float)
                if ex < mp.mpf(2.0**-1022):
                    assert abs(mp.mpf(val) - ex) <= mp.mpf(2.0**-1074)
                    continue
                worst = max(worst, float(abs(mp.mpf(val) / ex - 1)))
    assert worst <= PHI_MAX_REL, worst


def test_normal_cdf_special_values():
    assert phi.normal_cdf(0.0) == 0.5
    assert phi.normal_cdf(float("-inf")) == 0.0
    assert phi.normal_cdf(float("inf")) == 1.0
    assert phi.normal_cdf(-50.0) == 0.0
    assert phi.normal_cdf(9.0) == 1.0
    assert phi.normal_cdf_upper(50.0) == 0.0
    assert phi.normal_cdf(float("nan")) != phi.normal_cdf(float("nan"))
    xs = np.linspace(-38.0, 8.0, 2001)
    v = [phi.normal_cdf(float(x)) for x in xs]
    assert all(a <= b for a, b in zip(v, v[1:]))
