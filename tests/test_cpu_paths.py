"""The CPU kernels write the same bits on every path: scalar, portable 128-bit vectors (vec128),
AVX2, AVX-512, any thread count, any chunking, any layout. Everything is compared bit for bit against the portable scalar kernel."""

import ctypes
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import reference
import torch

import philoxinit as P
from philoxinit._request import Dist, Params, Request, row_major_strides

_C = pytest.importorskip("philoxinit._C")

ISAS = _C.cpu_isas()
SIMD_ISAS = [i for i in ISAS if i != "scalar"]
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INT_VIEW = {
    torch.float32: torch.int32,
    torch.float64: torch.int64,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.int32: torch.int32,
}
# Sizes around every boundary the kernels have: Philox blocks (4, float64 2), AVX2 iterations
# (32 elements, float64 16), AVX-512 iterations (64, float64 32).
SIZES = [1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 63, 64, 65, 67, 127, 129, 191, 255, 256, 257, 300]


def _uniform(t, **kw):
    return P.uniform_(t, -1.5, 2.25, seed=0x1234_5678_9ABC_DEF0, **kw)


def _normal(t, **kw):
    return P.normal_(t, 0.25, 1.75, seed=77, **kw)


def _trunc(t, **kw):
    return P.trunc_normal_(t, 0.1, 0.9, -1.0, 2.5, seed=5, **kw)


def _trunc_tail(t, **kw):  # mass far in one tail: exercises the reflected interval
    return P.trunc_normal_(t, 0.0, 1.0, 2.0, 6.0, seed=6, **kw)


def _bits(t, **kw):
    return P.random_bits_(t, seed=99, **kw)


FILLS = {"uniform": _uniform, "normal": _normal, "trunc": _trunc, "trunc_tail": _trunc_tail}


@pytest.fixture(autouse=True)
def _restore_isa_and_threads():
    threads = torch.get_num_threads()
    yield
    _C.set_isa("")
    torch.set_num_threads(threads)


def bits_of(t):
    return t.contiguous().view(INT_VIEW[t.dtype])


def fill_with(isa, threads, fn, make, **kw):
    _C.set_isa(isa)
    torch.set_num_threads(threads)
    t = make()
    fn(t, **kw)
    return t


def assert_same_bits(a, b, what):
    ai, bi = bits_of(a), bits_of(b)
    if not torch.equal(ai, bi):
        bad = (ai != bi).flatten().nonzero().flatten()
        pytest.fail(f"{what}: {bad.numel()} elements differ, first at flat index {bad[:5].tolist()}")


# ---- the ISA list and how to force one -------------------------------------------------------------


def test_isa_list_and_current():
    assert ISAS[:2] == ["scalar", "vec128"]  # the portable ones, in every build for every CPU
    assert set(ISAS) <= {"scalar", "vec128", "avx2", "avx512"}
    assert _C.cpu_isa() in ISAS
    if os.environ.get("PHILOXINIT_ISA", "") == "":
        assert _C.cpu_isa() == ISAS[-1]  # the fastest by default


def test_set_isa_rejects_unknown_and_restores():
    with pytest.raises(RuntimeError, match="expected one of"):
        _C.set_isa("sse9")
    for isa in ISAS:
        _C.set_isa(isa)
        assert _C.cpu_isa() == isa
    _C.set_isa("")
    assert _C.cpu_isa() in ISAS


@pytest.mark.parametrize("isa", ["avx2", "avx512"])
def test_forcing_a_missing_isa_is_a_clear_error(isa):
    if isa in ISAS:
        pytest.skip(f"this CPU and build have {isa}")
    with pytest.raises(RuntimeError, match=isa):
        _C.set_isa(isa)


_CHILD = textwrap.dedent(
    """
    import hashlib, sys, torch, philoxinit as P
    from philoxinit import _C
    print(_C.cpu_isa())
    t = torch.empty(1001)
    P.normal_(t, seed=3)
    u = torch.empty(300_000, dtype=torch.bfloat16)
    P.uniform_(u, -1, 1, seed=4)
    print(hashlib.sha256(t.numpy().tobytes() + u.view(torch.int16).numpy().tobytes()).hexdigest())
    """
)


def _run_child(env_isa):
    env = dict(os.environ, PHILOXINIT_ISA=env_isa)
    env.pop("PHILOXINIT_BACKEND", None)
    return subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120)


def test_env_var_forces_the_isa_and_bits_agree():
    digests = set()
    for isa in ISAS:
        out = _run_child(isa)
        assert out.returncode == 0, out.stderr
        name, digest = out.stdout.split()
        assert name == isa
        digests.add(digest)
    assert len(digests) == 1


def test_env_var_with_a_bad_name_raises_runtime_error():
    out = _run_child("avx9000")
    assert out.returncode != 0
    assert "RuntimeError" in out.stderr and "PHILOXINIT_ISA" in out.stderr


# ---- bit identity across ISAs ------------------------------------------------------------------------


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("dist", sorted(FILLS))
def test_simd_equals_scalar_all_sizes(isa, dtype, dist):
    fn = FILLS[dist]
    for n in SIZES:
        ref = fill_with("scalar", 1, fn, lambda: torch.empty(n, dtype=dtype))
        got = fill_with(isa, 1, fn, lambda: torch.empty(n, dtype=dtype))
        assert_same_bits(ref, got, f"{isa} {dtype} {dist} n={n}")


@pytest.mark.parametrize("isa", SIMD_ISAS)
def test_simd_bits_equal_scalar(isa):
    for n in SIZES + [1000, 4099]:
        ref = fill_with("scalar", 1, _bits, lambda: torch.empty(n, dtype=torch.int32))
        got = fill_with(isa, 1, _bits, lambda: torch.empty(n, dtype=torch.int32))
        assert_same_bits(ref, got, f"{isa} bits n={n}")


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_unaligned_starts_and_block_offsets(isa, dtype):
    """Element starts that are not block aligned (global_offset boxes) and block offsets whose low
    32-bit word wraps inside one SIMD iteration (the carry into the counter's high word)."""
    for fn in (_uniform, _normal):
        for start in (1, 2, 3, 5, 13):
            kw = dict(global_shape=(400,), global_offset=(start,))
            ref = fill_with("scalar", 1, fn, lambda: torch.empty(300, dtype=dtype), **kw)
            got = fill_with(isa, 1, fn, lambda: torch.empty(300, dtype=dtype), **kw)
            assert_same_bits(ref, got, f"{isa} start={start}")
            whole = fill_with(isa, 1, fn, lambda: torch.empty(400, dtype=dtype))
            assert_same_bits(whole[start : start + 300], got, f"{isa} box vs whole, start={start}")
        for offset in (2**32 - 1, 2**32 - 7, 2**32 - 20, 2**64 - 9, 12345):
            ref = fill_with("scalar", 1, fn, lambda: torch.empty(257, dtype=dtype), offset=offset)
            got = fill_with(isa, 1, fn, lambda: torch.empty(257, dtype=dtype), offset=offset)
            assert_same_bits(ref, got, f"{isa} offset={offset}")


# Block offsets that put the wrap of the counter's low word (where word 1 changes, and where the
# SIMD kernels stop sharing their first rounds' products) at every position relative to iterations
# (16 blocks on AVX-512, 8 on AVX2, 4 on vec128) and batches (48, 16, 8 blocks).
WRAP_OFFSETS = [2**32 - k for k in (1, 3, 4, 5, 8, 9, 16, 17, 47, 48, 49, 96, 100)] + [2**64 - 50]


@pytest.mark.parametrize("isa", SIMD_ISAS)
def test_words_across_the_counter_wrap_match_the_reference(isa):
    """Raw words of runs long enough for whole SIMD batches on both sides of a multiple of 2^32
    blocks, against the independent numpy Philox (tests/reference.py)."""
    n = 4 * 400
    for offset in WRAP_OFFSETS:
        t = fill_with(isa, 1, _bits, lambda: torch.empty(n, dtype=torch.int32), offset=offset)
        expect = reference.words(99, 0, offset, n).astype(np.uint32).view(np.int32)
        assert np.array_equal(t.numpy(), expect), (isa, offset)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_values_across_the_counter_wrap_match_scalar(isa, dtype):
    for name, fn in FILLS.items():
        for offset in WRAP_OFFSETS[::3]:
            ref = fill_with("scalar", 1, fn, lambda: torch.empty(1000, dtype=dtype), offset=offset)
            got = fill_with(isa, 1, fn, lambda: torch.empty(1000, dtype=dtype), offset=offset)
            assert_same_bits(ref, got, f"{isa} {name} offset={offset}")


def test_carry_into_high_counter_word_matches_philox():
    """Blocks 2^32 - 2 .. 2^32 + 1 straddle the low word's wrap: check the words themselves."""
    t = torch.empty(16, dtype=torch.int32)
    offset = 2**32 - 2
    for isa in ISAS:
        fill_with(isa, 1, _bits, lambda: t, offset=offset)
        words = [w & 0xFFFFFFFF for w in t.tolist()]
        for j in range(4):
            b = offset + j
            expect = P.philox4x32_10((b & 0xFFFFFFFF, b >> 32, 0, 0), (99, 0))
            assert tuple(words[4 * j : 4 * j + 4]) == expect, (isa, j)


# ---- layouts -------------------------------------------------------------------------------------------


def _views(dtype):
    base = lambda: torch.empty(90, 70, dtype=dtype)  # noqa: E731
    return {
        "transposed": lambda: base().t(),
        "inner_stride_3": lambda: torch.empty(40, 213, dtype=dtype)[:, ::3],
        "sliced_rows": lambda: base()[5:85, 3:67],
        "column": lambda: base()[:, 7],
        "3d_permuted": lambda: torch.empty(6, 70, 9, dtype=dtype).permute(2, 0, 1),
    }


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_views_get_the_values_of_a_contiguous_tensor(isa, dtype):
    """A view is filled by its own row-major index: the same bits as a contiguous tensor of its
    shape, whatever the memory strides (inner-stride fast path and the scalar path alike)."""
    for name, make in _views(dtype).items():
        for fn in (_uniform, _trunc):
            shape = make().shape
            ref = fill_with("scalar", 1, fn, lambda: torch.empty(shape, dtype=dtype))
            got = fill_with(isa, 1, fn, make)
            assert_same_bits(ref, got, f"{isa} {name}")


# ---- threads and chunking -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_thread_counts_do_not_change_bits(dtype):
    # Large enough for the pool (and, at 9.6 MB for float32, for non-temporal stores).
    n = 2_400_001 if dtype == torch.float32 else 300_007
    for fn in (_uniform, _normal):
        ref = fill_with("scalar", 1, fn, lambda: torch.empty(n, dtype=dtype))
        for isa in ISAS:
            for threads in (1, 2, 3, 4):
                got = fill_with(isa, threads, fn, lambda: torch.empty(n, dtype=dtype))
                assert_same_bits(ref, got, f"{isa} threads={threads}")


def _resident(t, at_byte):
    """Whether the page holding byte ``at_byte`` of t's storage is mapped (mincore)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    page = os.sysconf("SC_PAGE_SIZE")
    vec = ctypes.c_ubyte(0)
    assert libc.mincore((t.data_ptr() + at_byte) & ~(page - 1), page, ctypes.byref(vec)) == 0
    return bool(vec.value & 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fresh-page population is Linux's")
@pytest.mark.parametrize("threads", [1, 2])
def test_fresh_memory_gets_the_bits_of_written_memory(threads):
    # Memory never written is mapped in stretches just before each is filled; the bits are those of
    # a fill into memory that is already mapped. 48 MB: above glibc's largest mmap threshold, so
    # torch.empty returns a fresh mapping.
    n = 12_000_017
    for isa in ISAS:
        for fn in (_uniform, _normal):
            written = fill_with(isa, threads, fn, lambda: torch.zeros(n))
            fresh = torch.empty(n)
            assert not _resident(fresh, fresh.nbytes - 1), "torch.empty gave memory already mapped"
            fill_with(isa, threads, fn, lambda: fresh)
            assert_same_bits(written, fresh, f"{isa} threads={threads}")


def test_threads_with_strided_and_boxed_requests():
    n = 600
    for isa in ISAS:
        ref = fill_with("scalar", 1, _normal, lambda: torch.empty(n, n).t())
        for threads in (2, 4):
            got = fill_with(isa, threads, _normal, lambda: torch.empty(n, n).t())
            assert_same_bits(ref, got, f"{isa} transposed threads={threads}")
            box = fill_with(
                isa, threads, _normal, lambda: torch.empty(300, 500), global_shape=(n, n), global_offset=(101, 33)
            )
            whole = fill_with("scalar", 1, _normal, lambda: torch.empty(n, n))
            assert_same_bits(whole[101:401, 33:533], box, f"{isa} box threads={threads}")


def _request(t, dist, params, seed):
    shape = tuple(t.shape)
    return Request(dist, params, seed, 0, 0, shape, row_major_strides(shape), 0)


def test_batched_requests_split_across_threads():
    """Many tensors in one call (small ones share a task, big ones are cut in pieces) give the
    bits each gets alone."""
    sizes = [3, 64, 1000, 70_000, 5, 200_003, 17, 4096, 150_000] + [100] * 50
    dtypes = [FLOATS[i % 4] for i in range(len(sizes))]
    for isa in ISAS:
        _C.set_isa(isa)
        for threads in (1, 2, 4):
            tensors = [torch.empty(n, dtype=dt) for n, dt in zip(sizes, dtypes)]
            reqs = [
                _request(t, Dist.UNIFORM if i % 2 else Dist.NORMAL, Params(a=-1.0, b=1.0), seed=i)
                for i, t in enumerate(tensors)
            ]
            _C.fill_cpu([r.as_tuple(t) for r, t in zip(reqs, tensors)], threads)
            _C.set_isa("scalar")
            for i, (t, r) in enumerate(zip(tensors, reqs)):
                alone = torch.empty_like(t)
                _C.fill_cpu([r.as_tuple(alone)], 1)
                assert_same_bits(alone, t, f"{isa} threads={threads} tensor {i}")
            _C.set_isa(isa)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("step", [2, 3, 5])
def test_runs_with_global_step_other_than_one(dtype, step):
    """A local tensor whose consecutive elements are not consecutive globally (a strided shard):
    the scalar kernel's element-by-element path, for every distribution, equals the model."""
    from philoxinit import _fallback, _truncation

    n = 1001
    trunc = _truncation.trunc_params(0.0, 1.0, -2.0, 2.0, 64 if dtype == torch.float64 else 32)
    for dist, params in (
        (Dist.UNIFORM, Params(a=-1.0, b=2.0)),
        (Dist.NORMAL, Params(a=0.5, b=2.0)),
        (Dist.TRUNC_NORMAL, trunc),
    ):
        req = Request(dist, params, 77, 3, (1 << 64) - 2, (n,), (step,), 5)
        for isa in ISAS:
            _C.set_isa(isa)
            got = torch.empty(n, dtype=dtype)
            _C.fill_cpu([req.as_tuple(got)], 2)
            assert_same_bits(_fallback.values(req, dtype, "cpu").to(dtype), got, f"{isa} {dist} step={step}")


def test_pool_survives_fork():
    code = textwrap.dedent(
        """
        import os, torch, philoxinit as P
        torch.set_num_threads(2)
        t = torch.empty(1_000_000)
        P.uniform_(t, seed=1)
        pid = os.fork()
        if pid == 0:
            u = torch.empty(1_000_000)
            P.uniform_(u, seed=1)
            os._exit(0 if torch.equal(u, t) else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


# ---- narrow formats: subnormal and overflowing halves --------------------------------------------------


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("bounds", [(-1e-5, 3e-5), (-1e-39, 1e-39), (6.0e4, 7.0e4), (3.3e38, 3.4e38)])
def test_narrow_dtypes_rounding_edges(isa, dtype, bounds):
    """Hardware float16 conversions and the bfloat16 lane formula round exactly like the scalar
    code, for subnormal results and for results that round past the largest finite value (the
    kernel itself, through _C: the public API refuses such bounds as torch does)."""

    def fill(which):
        _C.set_isa(which)
        t = torch.empty(4099, dtype=dtype)
        req = _request(t, Dist.UNIFORM, Params(a=bounds[0], b=bounds[1]), seed=1)
        _C.fill_cpu([req.as_tuple(t)], 1)
        return t

    ref, got = fill("scalar"), fill(isa)
    assert_same_bits(ref, got, f"{isa} {dtype} {bounds}")
    if (dtype == torch.bfloat16) == (bounds[1] < 1e-30 or bounds[1] > 1e38):  # not all one value
        assert ref.view(INT_VIEW[dtype]).unique().numel() > 3
