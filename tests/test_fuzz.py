"""Property tests (hypothesis, derandomized): random layouts, dtypes, keys and parameters.

For every drawn case:
* the compiled kernels (on a drawn CPU instruction set) and the pure-PyTorch fallback write the
  same bits, for every distribution and dtype (docs/contract.md section 7);
* a view (transposed, permuted, sliced with steps, at a storage offset, size-1 dims with odd
  strides) gets at each logical index the value a contiguous fill has there, and no byte of the
  storage outside the view changes;
* a box of a larger tensor (global_shape / global_offset) gets exactly that box's values;
* values lie in range: uniform in [round(a), round(b)), truncated normal in [round(a), round(b)];
* random_bits_ and float32 / float64 uniform equal tests/reference.py's independent model.

Keys, streams and offsets are drawn near 0, near 2^32 and near 2^64 (offsets wrap mod 2^64).
The number of cases each test runs is fixed by ``max_examples`` (docs/hardening.md).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings

import numpy as np
import pytest
import reference as ref
import torch
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import philoxinit as P
from philoxinit import _backend

U64 = (1 << 64) - 1
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
COMPLEX = [torch.complex64]
INT_VIEW = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:mean is more than 2 std"),
    pytest.mark.filterwarnings("ignore:ComplexHalf support"),
]


def isas():
    if _backend._C is None:
        return ["scalar"]
    return list(_backend._C.cpu_isas())


@contextlib.contextmanager
def env(**values):
    """Set (or, for None, unset) environment variables for the duration of the block."""

    def put(settings):
        for k, v in settings.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    old = {k: os.environ.get(k) for k in values}
    try:
        put(values)
        yield
    finally:
        put(old)


def run(backend: str, isa: str, fn, *args, **kw):
    """fn(*args, **kw) on one backend (``compiled`` with a forced ISA, or ``torch``): its tensor, or
    the exception it raised."""
    with env(PHILOXINIT_BACKEND="torch" if backend == "torch" else None,
             PHILOXINIT_ISA=isa if backend == "compiled" else None):  # fmt: skip
        if backend == "compiled":
            assert _backend.compiled_for(torch.device("cpu"))
        try:
            return fn(*args, **kw)
        except (ValueError, TypeError, RuntimeError, NotImplementedError) as e:
            return e


def bits(t: torch.Tensor) -> torch.Tensor:
    """The tensor's bit patterns, as integers of the same width (complex: through the real view)."""
    if t.is_complex():
        t = torch.view_as_real(t)
    t = t.contiguous()
    return t.view(INT_VIEW[t.element_size()]) if t.dtype.is_floating_point else t


def same_bits(x: torch.Tensor, y: torch.Tensor) -> bool:
    return x.shape == y.shape and torch.equal(bits(x), bits(y))


def round_to(value: float, dtype: torch.dtype) -> float:
    """The contract's rounding of a requested bound: float64 as is, float32 rounding for float32,
    float16 and bfloat16 from the float32 rounding (docs/contract.md section 2)."""
    if dtype == torch.float64:
        return value
    v = torch.tensor(value, dtype=torch.float64).to(torch.float32)
    return float(v.to(dtype))


def round_direct(value: float, dtype: torch.dtype) -> float:
    """A truncated-normal bound rounded to the tensor's dtype."""
    return float(torch.tensor(value, dtype=torch.float64).to(dtype))


# ---- strategies -------------------------------------------------------------------------------

u64 = st.one_of(
    st.integers(0, 8),
    st.integers(U64 - 8, U64),
    st.integers((1 << 32) - 4, (1 << 32) + 4),
    st.integers(0, U64),
)


@st.composite
def layouts(draw, max_numel: int = 600):
    """(logical shape, build(dtype) -> (storage, view, mask)). The view is a non-overlapping view
    of ``storage``; ``mask`` is a bool tensor of the storage's shape, True exactly under the view."""
    ndim = draw(st.integers(0, 4))
    shape = draw(st.lists(st.one_of(st.integers(0, 1), st.integers(2, 9)), min_size=ndim, max_size=ndim))
    assume(math.prod(shape) <= max_numel)
    steps = draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim))
    starts = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim))
    extra = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim))
    perm = draw(st.permutations(list(range(ndim))))
    lead = draw(st.integers(0, 5))  # storage offset
    odd_size1_strides = draw(st.lists(st.sampled_from([0, 1, 7, 1000]), min_size=ndim, max_size=ndim))
    use_odd = draw(st.booleans())

    q = [0] * ndim  # the sliced, not yet permuted, shape
    for j, p in enumerate(perm):
        q[p] = shape[j]
    base_shape = [st_ + (n - 1) * k + 1 + e if n > 0 else st_ + e for n, k, st_, e in zip(q, steps, starts, extra)]
    base_numel = math.prod(base_shape)

    def view_of(flat: torch.Tensor) -> torch.Tensor:
        base = flat[lead:].view(base_shape)
        v = base[tuple(slice(s, s + n * k, k) for s, n, k in zip(starts, q, steps))]
        v = v.permute(*perm) if ndim else v
        if use_odd and any(n == 1 for n in v.shape):
            strides = [o if n == 1 else s for n, s, o in zip(v.shape, v.stride(), odd_size1_strides)]
            v = v.as_strided(v.shape, strides, v.storage_offset())
        return v

    def build(dtype: torch.dtype):
        flat = torch.empty(lead + base_numel, dtype=dtype)
        if dtype.is_floating_point or dtype.is_complex:
            flat.fill_(-7.25)  # a sentinel no fill here writes
        else:
            flat.fill_(0x5A5A5A5A)
        mask_flat = torch.zeros(lead + base_numel, dtype=torch.bool)
        view_of(mask_flat).fill_(True)
        view = view_of(flat)
        assert list(view.shape) == list(shape)
        return flat, view, mask_flat

    return tuple(shape), build


@st.composite
def boxes(draw, shape):
    """None (the tensor is the whole tensor) or (global_shape, global_offset) holding it."""
    if not shape or not draw(st.booleans()):
        return None
    extra = draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape)))
    gshape = tuple(n + e for n, e in zip(shape, extra))
    assume(math.prod(gshape) <= 4000)
    goff = tuple(draw(st.integers(0, e)) for e in extra)
    return gshape, goff


def finite_range(limit: float):
    return st.floats(-limit, limit, allow_nan=False, allow_infinity=False)


@st.composite
def uniform_params(draw, dtype):
    limit = torch.finfo(dtype).max
    kind = draw(st.sampled_from(["unit", "sym", "any", "equal", "tiny", "huge", "int"]))
    if kind == "unit":
        return 0.0, 1.0
    if kind == "sym":
        b = draw(st.floats(1e-30, 1e4))
        return -b, b
    if kind == "equal":
        a = draw(finite_range(1e4))
        return a, a
    if kind == "tiny":
        a = draw(finite_range(100.0))
        return a, a + draw(st.floats(1e-12, 1e-3))
    if kind == "huge":
        return -limit / 2, limit / 2
    if kind == "int":
        a, b = sorted((draw(st.integers(-1000, 1000)), draw(st.integers(-1000, 1000))))
        return a, b  # Python ints, as torch accepts
    a, b = sorted((draw(finite_range(limit / 2)), draw(finite_range(limit / 2))))
    return a, b


stds = st.one_of(
    st.sampled_from([0.0, 1e-30, 1e-8, 0.02, 1.0, 3.0, 1e3, 1e20]),
    st.floats(1e-6, 1e6),
)
means = st.one_of(st.sampled_from([0.0, -1.0, 1.5, 1e6]), st.floats(-1e3, 1e3))


@st.composite
def trunc_params(draw):
    """(mean, std, a, b): narrow, deep, wide, one-sided and arbitrary intervals (in units of std)."""
    mean = draw(means)
    std = draw(st.one_of(st.sampled_from([1e-20, 1e-3, 0.02, 1.0, 7.5, 1e4]), st.floats(1e-4, 1e3)))
    kind = draw(st.sampled_from(["default", "narrow", "deep", "wide", "lower", "upper", "any", "std0"]))
    if kind == "default":
        lo, hi = -2.0, 2.0
    elif kind == "narrow":
        lo = draw(st.floats(-3, 3))
        hi = lo + draw(st.floats(1e-3, 0.1))
    elif kind == "deep":
        lo = draw(st.floats(3, 12))
        hi = lo + draw(st.floats(0.01, 2))
        if draw(st.booleans()):
            lo, hi = -hi, -lo
    elif kind == "wide":
        w = draw(st.floats(6, 100))
        lo, hi = -w, w
    elif kind == "lower":
        lo, hi = -math.inf, draw(st.floats(-5, 5))
    elif kind == "upper":
        lo, hi = draw(st.floats(-5, 5)), math.inf
    elif kind == "std0":
        a, b = sorted((draw(finite_range(10)), draw(finite_range(10))))
        return mean, 0.0, a, b
    else:
        lo, hi = sorted((draw(st.floats(-14, 14)), draw(st.floats(-14, 14))))
    a = mean + lo * std if math.isfinite(lo) else lo
    b = mean + hi * std if math.isfinite(hi) else hi
    return mean, std, a, b


DISTS = ["bits", "uniform", "normal", "trunc"]


@st.composite
def cases(draw, max_numel: int = 600):
    dist = draw(st.sampled_from(DISTS))
    if dist == "bits":
        dtype = torch.int32
    elif dist == "trunc":
        dtype = draw(st.sampled_from(FLOATS))
    else:
        dtype = draw(st.sampled_from(FLOATS + COMPLEX))
    shape, build = draw(layouts(max_numel))
    box = draw(boxes(shape))
    if dist == "uniform":
        params = draw(uniform_params(torch.float32 if dtype.is_complex else dtype))
    elif dist == "normal":
        params = (draw(means), draw(stds))
    elif dist == "trunc":
        params = draw(trunc_params())
    else:
        params = ()
    keys = dict(seed=draw(u64), stream=draw(u64), offset=draw(u64))
    isa = draw(st.sampled_from(isas()))
    return dist, dtype, shape, build, box, params, keys, isa


FNS = {"bits": P.random_bits_, "uniform": P.uniform_, "normal": P.normal_, "trunc": P.trunc_normal_}


def call(dist, tensor, params, keys, box):
    kw = dict(keys)
    if box is not None:
        kw.update(global_shape=box[0], global_offset=box[1])
    return FNS[dist](tensor, *params, **kw)


def check_range(dist, dtype, params, t: torch.Tensor):
    if t.numel() == 0:
        return
    x = (torch.view_as_real(t) if t.is_complex() else t).double()
    assert not torch.isnan(x).any(), "NaN written"
    real = torch.float32 if dtype == torch.complex64 else dtype
    if dist == "uniform":
        lo, hi = round_to(params[0], real), round_to(params[1], real)
        assert bool((x >= lo).all()), (x.min().item(), lo)
        assert bool(((x < hi) | (x == lo)).all()), (x.max().item(), hi)
    elif dist == "trunc":
        mean, std, a, b = params
        assert bool((x >= round_direct(a, real)).all()), (x.min().item(), a)
        assert bool((x <= round_direct(b, real)).all()), (x.max().item(), b)
    elif dist == "normal":
        mean, std = params
        if abs(mean) + 10 * std < torch.finfo(real).max / 2:
            assert bool(torch.isfinite(x).all())


def expected_global_indices(shape, box) -> np.ndarray:
    """Global row-major index of each element of the (local) tensor, in its logical order."""
    if box is None:
        return np.arange(math.prod(shape), dtype=np.uint64).reshape(shape)
    gshape, goff = box
    idx = np.arange(math.prod(gshape), dtype=np.uint64).reshape(gshape)
    return idx[tuple(slice(o, o + n) for o, n in zip(goff, shape))]


def check_against_reference(dist, dtype, shape, box, params, keys, view: torch.Tensor):
    """random_bits_ and float32 / float64 uniform from tests/reference.py."""
    if view.numel() == 0:
        return
    gi = expected_global_indices(shape, box).ravel()
    n = int(gi.max()) + 1
    k, s, o = keys["seed"], keys["stream"], keys["offset"]
    got = view.contiguous()
    if dist == "bits":
        want = ref.words(k, s, o, n)[gi.astype(np.int64)]
        np.testing.assert_array_equal(got.numpy().ravel().view(np.uint32), want)
    elif dist == "uniform" and dtype == torch.float32:
        want = ref.uniform_f32(ref.words(k, s, o, n), *params)[gi.astype(np.int64)]
        np.testing.assert_array_equal(got.numpy().ravel().view(np.uint32), want.view(np.uint32))
    elif dist == "uniform" and dtype == torch.float64:
        want = ref.uniform_f64(ref.words64(k, s, o, n), float(params[0]), float(params[1]))
        want = want[gi.astype(np.int64)]
        np.testing.assert_array_equal(got.numpy().ravel().view(np.uint64), want.view(np.uint64))


# ---- the properties -----------------------------------------------------------------------------

CASES_MAIN = 700


@settings(FUZZ, max_examples=CASES_MAIN)
@given(cases())
def test_fuzz_compiled_fallback_views_boxes_ranges(case):
    dist, dtype, shape, build, box, params, keys, isa = case
    results = {}
    for backend in ("compiled", "torch"):
        flat, view, mask = build(dtype)
        before = bits(flat).clone()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = run(backend, isa, call, dist, view, params, keys, box)
        if isinstance(out, Exception):
            # A rejected input: the same error on both backends, and the storage untouched.
            assert torch.equal(bits(flat), before), "a call that raised wrote memory"
            results[backend] = out
            continue
        assert out is view
        after = bits(flat)
        assert torch.equal(after[~mask], before[~mask]), "wrote outside the view"
        results[backend] = view
    c, t = results["compiled"], results["torch"]
    event(f"{dist}: {'rejected' if isinstance(c, Exception) else 'filled'}")
    if isinstance(c, Exception) or isinstance(t, Exception):
        assert type(c) is type(t) and str(c) == str(t), (c, t)
        return
    assert same_bits(c, t), "compiled and fallback differ"
    check_range(dist, dtype, params, c)

    # The same logical indices of a contiguous fill (of the global tensor, for a box).
    full_shape = box[0] if box is not None else shape
    whole = torch.empty(full_shape, dtype=dtype)
    run("compiled", isa, call, dist, whole, params, keys, None)
    if box is not None:
        whole = whole[tuple(slice(o, o + n) for o, n in zip(box[1], shape))]
    assert same_bits(c, whole), "a view differs from the contiguous fill at the same indices"
    check_against_reference(dist, dtype, shape, box, params, keys, c)


CASES_ISA = 150


@settings(FUZZ, max_examples=CASES_ISA)
@given(cases(max_numel=3000))
def test_fuzz_every_isa_same_bits(case):
    """Every CPU instruction set writes the same bits as the scalar kernel (odd sizes exercise the
    SIMD loops' heads and tails)."""
    dist, dtype, shape, build, box, params, keys, _ = case
    outs = []
    for isa in isas():
        flat, view, _mask = build(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs.append(run("compiled", isa, call, dist, view, params, keys, box))
    for isa, o in zip(isas()[1:], outs[1:]):
        if isinstance(outs[0], Exception):
            assert type(o) is type(outs[0]), (isa, o, outs[0])
        else:
            assert same_bits(o, outs[0]), f"{isa} differs from scalar"


CASES_THREADS = 12


@settings(FUZZ, max_examples=CASES_THREADS)
@given(
    dist=st.sampled_from(DISTS),
    dtype=st.sampled_from(FLOATS),
    n=st.integers((1 << 17) - 3, (1 << 18) + 5),
    keys=st.fixed_dictionaries(dict(seed=u64, stream=u64, offset=u64)),
    step=st.integers(1, 2),
)
def test_fuzz_thread_count_does_not_matter(dist, dtype, n, keys, step):
    """Past the parallel threshold, 1 thread and several give the same bits (also strided)."""
    if dist == "bits":
        dtype = torch.int32
    params = {"bits": (), "uniform": (-2.0, 3.0), "normal": (0.5, 2.0), "trunc": (0.0, 1.0, -1.0, 2.5)}[dist]
    old = torch.get_num_threads()
    outs = []
    try:
        for threads in (1, max(2, old), 7):
            torch.set_num_threads(threads)
            base = torch.empty(n * step, dtype=dtype)
            call(dist, base[::step], params, keys, None)
            outs.append(base[::step])
    finally:
        torch.set_num_threads(old)
    assert same_bits(outs[0], outs[1]) and same_bits(outs[0], outs[2])
