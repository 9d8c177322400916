"""The CUDA kernels' per-thread code, run on the CPU (no GPU needed).

``_C._cuda_emulate_fill(tuples, grid, block)`` builds the same launch tables as the CUDA launcher
and runs the kernels' host+device thread function (csrc/cuda/thread_fill.h) for every thread of a
``grid`` x ``block`` launch, writing CPU memory. Its output must equal the CPU fill bit for bit for
every distribution, dtype, layout, grid and batch, it must write each element exactly once, use
vector stores only where aligned, and never touch memory between the elements of a strided view.
"""

from __future__ import annotations

import random
import warnings
import zlib

import pytest
import torch

import philoxinit as P
from philoxinit import _backend

_C = _backend._C
pytestmark = pytest.mark.skipif(
    _C is None or not hasattr(_C, "_cuda_emulate_fill"), reason="compiled extension not built"
)

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
GRIDS = [(1, 1), (1, 32), (3, 7), (2, 64), (5, 256)]


def capture(fn, tensor, *args, **kwargs):
    """The (target tensor, Request) pairs that ``fn(tensor, ...)`` hands to the backend."""
    with _backend.collect_fills() as seen:
        fn(tensor, *args, **kwargs)
    return seen


def layouts(shape, dtype):
    """Views of `shape` with different memory layouts, each inside a larger sentinel-filled base
    (so writes outside the view would show): contiguous, offset by one element (misaligned),
    transposed, every other column, and a channels-last style permutation."""
    n = 1
    for s in shape:
        n *= s
    out = {}

    def base(numel):
        b = torch.empty(numel + 8, dtype=dtype)
        b.view(torch.uint8).fill_(0x5A)
        return b

    b = base(n)
    out["contiguous"] = (b, b[:n].view(shape))
    b = base(n + 1)
    out["offset1"] = (b, b[1 : n + 1].view(shape))
    if len(shape) >= 2:
        rs = tuple(reversed(shape))
        b = base(n)
        out["transposed"] = (b, b[:n].view(rs).permute(*reversed(range(len(shape)))))
        wide = shape[:-1] + (shape[-1] * 2,)
        b = base(n * 2)
        out["step2"] = (b, b[: n * 2].view(wide)[..., ::2])
    if len(shape) == 4:
        perm = (shape[0], shape[2], shape[3], shape[1])
        b = base(n)
        out["channels_last"] = (b, b[:n].view(perm).permute(0, 3, 1, 2))
    return out


def bits(t):
    """The raw bytes of a tensor's whole storage region as int tensor for exact comparison."""
    return t.view(torch.uint8).clone()


def run_both(pairs, grid, block):
    """Fill copies of the targets' bases by the CPU fill and by the emulated CUDA grid; returns the
    CPU bases, the emulated bases and the emulation's counts."""
    cpu_bases, emu_bases, cpu_tuples, emu_tuples = [], [], [], []
    for base, view, req in pairs:
        for bases, tuples in ((cpu_bases, cpu_tuples), (emu_bases, emu_tuples)):
            b = base.clone()
            v = b.as_strided(view.shape, view.stride(), view.storage_offset())
            bases.append(b)
            tuples.append(req.as_tuple(v))
    _C.fill_cpu(cpu_tuples, 1)
    stats = _C._cuda_emulate_fill(emu_tuples, grid, block)
    return cpu_bases, emu_bases, stats


def assert_same(cpu_bases, emu_bases):
    for i, (c, e) in enumerate(zip(cpu_bases, emu_bases)):
        if not torch.equal(bits(c), bits(e)):
            diff = (bits(c) != bits(e)).nonzero().flatten()
            raise AssertionError(f"request {i}: {diff.numel()} bytes differ, first at byte {int(diff[0])}")


def request_for(dist, view, *, seed, stream=0, offset=0, **kw):
    """The Request the public function builds for `view` (captured, not re-derived)."""
    fn = {
        "uniform": lambda t: P.uniform_(t, -0.75, 1.25, seed=seed, stream=stream, offset=offset, **kw),
        "normal": lambda t: P.normal_(t, 0.5, 2.0, seed=seed, stream=stream, offset=offset, **kw),
        "trunc": lambda t: P.trunc_normal_(t, 0.1, 1.5, -1.0, 2.5, seed=seed, stream=stream, offset=offset, **kw),
        "trunc_tail": lambda t: P.trunc_normal_(t, 0.0, 1.0, 3.0, 4.0, seed=seed, stream=stream, offset=offset, **kw),
        "bits": lambda t: P.random_bits_(t, seed=seed, stream=stream, offset=offset, **kw),
    }[dist]
    with warnings.catch_warnings():  # trunc_tail: "mean is more than 2 std from [a, b]"
        warnings.simplefilter("ignore")
        ((target, req),) = capture(fn, torch.empty(view.shape, dtype=view.dtype))
    return req


SHAPES = [(1,), (3,), (13,), (64,), (5, 7), (4, 1, 6), (2, 3, 5, 7), (3, 1, 9, 2)]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("dist", ["uniform", "normal", "trunc", "trunc_tail"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_emulated_grid_matches_cpu(dist, dtype, shape):
    rng = random.Random(zlib.crc32(repr((dist, str(dtype), shape)).encode()))
    for name, (base, view) in layouts(shape, dtype).items():
        req = request_for(
            dist,
            view,
            seed=rng.getrandbits(64),
            stream=rng.getrandbits(64),
            offset=rng.choice([0, 1, 2**32 - 1, 2**64 - 3]),
        )
        for grid, block in GRIDS:
            cpu, emu, stats = run_both([(base, view, req)], grid, block)
            assert_same(cpu, emu)
            assert stats["elements_written"] == view.numel(), (name, grid, block, stats)
            assert stats["misaligned"] == 0, (name, stats)


@pytest.mark.parametrize("dtype", [torch.int32] + ([torch.uint32] if hasattr(torch, "uint32") else []), ids=str)
@pytest.mark.parametrize("shape", [(1,), (7,), (33,), (6, 5), (2, 3, 4, 5)], ids=str)
def test_emulated_bits_match_cpu(dtype, shape):
    for base, view in layouts(shape, dtype).values():
        req = request_for("bits", view, seed=0xDEADBEEF, stream=3, offset=5)
        for grid, block in GRIDS:
            cpu, emu, stats = run_both([(base, view, req)], grid, block)
            assert_same(cpu, emu)
            assert stats["elements_written"] == view.numel()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(
    "local,global_shape,global_offset",
    [
        ((3, 5), (7, 11), (2, 3)),  # row phase changes row to row (11 % 4 != 0)
        ((4, 1), (9, 6), (1, 5)),  # a column of width 1: the global step of the run is 6
        ((2, 3, 5), (3, 7, 9), (1, 2, 1)),
        ((5,), (23,), (17,)),  # one run starting at phase 1, 2 and 3 of its first block
        ((6,), (23,), (14,)),
        ((9,), (40,), (31,)),
        ((2, 9), (7, 9), (2, 0)),  # whole rows: coalesces to one run at global offset 18
        ((2, 2), (5, 8), (3, 6)),  # rows in phase (8 % 4 == 0), start mid-block
    ],
)
@pytest.mark.parametrize("dist", ["uniform", "normal", "trunc"])
def test_emulated_shards_match_cpu(dist, dtype, local, global_shape, global_offset):
    for base, view in layouts(local, dtype).values():
        req = request_for(
            dist, view, seed=11, stream=2, offset=9, global_shape=global_shape, global_offset=global_offset
        )
        for grid, block in [(1, 1), (2, 5), (4, 64)]:
            cpu, emu, stats = run_both([(base, view, req)], grid, block)
            assert_same(cpu, emu)
            assert stats["elements_written"] == view.numel()


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=str)
def test_emulated_complex_matches_cpu(dtype):
    t = torch.empty(5, 6, dtype=dtype)
    for fn in (lambda x: P.normal_(x, 0.0, 1.0, seed=4), lambda x: P.uniform_(x, -1.0, 1.0, seed=4)):
        ((target, req),) = capture(fn, t)
        base = torch.empty(target.numel() + 4, dtype=target.dtype)
        view = base[: target.numel()].view(target.shape)
        cpu, emu, stats = run_both([(base, view, req)], 3, 32)
        assert_same(cpu, emu)


def test_emulated_batch_spans_several_tables():
    """More requests than one table holds, mixed distributions, dtypes, layouts and keys: every
    tensor equals its CPU fill, and the batch is split into few launches."""
    rng = random.Random(7)
    cap32, cap64, _dims = _C._cuda_table_capacity
    pairs = []
    n = cap32 + 40
    for i in range(n):
        dtype = rng.choice(DTYPES)
        dist = rng.choice(["uniform", "normal", "trunc"])
        shape = rng.choice(
            [(rng.randint(1, 40),), (rng.randint(1, 6), rng.randint(1, 9)), (2, 3, rng.randint(1, 5), 2)]
        )
        name, (base, view) = rng.choice(sorted(layouts(shape, dtype).items()))
        req = request_for(dist, view, seed=rng.getrandbits(64), stream=i, offset=rng.getrandbits(20))
        pairs.append((base, view, req))
    cpu, emu, stats = run_both(pairs, 4, 64)
    assert_same(cpu, emu)
    assert stats["elements_written"] == sum(v.numel() for _b, v, _r in pairs)
    kinds = {(r.dist, v.dtype) for _b, v, r in pairs}
    assert len(kinds) <= stats["launches"] <= len(kinds) + 2 * (n // min(cap32, cap64) + 1)


def test_one_table_per_kind_for_a_model_sized_batch():
    """A model's worth of float32 parameters (one distribution) takes ceil(n / capacity) launches."""
    cap32 = _C._cuda_table_capacity[0]
    shapes = [(16, 8), (8,)] * 150
    tensors = [torch.empty(s) for s in shapes]
    pairs = []
    for t in tensors:
        req = request_for("uniform", t, seed=1)
        pairs.append((t.view(-1), t, req))
    cpu, emu, stats = run_both(pairs, 2, 128)
    assert_same(cpu, emu)
    assert stats["launches"] == -(-len(shapes) // cap32)


def test_vector_stores_where_aligned_and_contiguous():
    """Contiguous aligned float32 rows use 16-byte stores (all but edge blocks); a transposed view
    only element stores; a view starting one element in uses none misaligned."""
    t = torch.empty(1024)
    req = request_for("uniform", t, seed=3)
    _, _, stats = run_both([(t, t, req)], 2, 32)
    assert stats["vector_stores"] == 256 and stats["element_stores"] == 0
    base = torch.empty(1025)
    v = base[1:]
    _, _, stats = run_both([(base, v, req)], 2, 32)
    assert stats["misaligned"] == 0 and stats["elements_written"] == 1024
    m = torch.empty(32, 32).t()
    req2 = request_for("normal", m, seed=3)
    _, _, stats = run_both([(m, m, req2)], 2, 32)
    assert stats["vector_stores"] == 0 and stats["element_stores"] == 1024
    h = torch.empty(64, dtype=torch.bfloat16)
    req3 = request_for("trunc", h, seed=3)
    _, _, stats = run_both([(h, h, req3)], 1, 8)
    assert stats["vector_stores"] == 16


def test_results_do_not_depend_on_the_grid():
    t = torch.empty(3, 37, dtype=torch.float16)
    req = request_for("normal", t, seed=99, offset=3)
    outs = []
    for grid, block in [(1, 1), (1, 3), (7, 13), (100, 256)]:
        b = torch.full((t.numel(),), float("nan"), dtype=t.dtype)
        _C._cuda_emulate_fill([req.as_tuple(b.view(t.shape))], grid, block)
        outs.append(b.view(torch.int16))
    for o in outs[1:]:
        assert torch.equal(o, outs[0])


def test_bad_kind_is_rejected():
    t = torch.empty(8)
    req = request_for("bits", torch.empty(8, dtype=torch.int32), seed=1)
    with pytest.raises(ValueError, match="random bits"):
        _C._cuda_emulate_fill([req.as_tuple(t)], 1, 1)
    with pytest.raises(ValueError):
        _C._cuda_emulate_fill([req.as_tuple(torch.empty(8, dtype=torch.int32))], 0, 1)


def test_import_without_gpu_reports_cuda_state():
    """The module imports everywhere; cuda_available() is a bool that never raises, and
    cuda_info() says why CUDA is not in use."""
    info = _C.cuda_info()
    assert isinstance(_C.cuda_available(), bool)
    assert set(info) >= {"compiled", "architectures", "runtime_version", "device_count", "error"}
    assert info["compiled"] == bool(_C.cuda_compiled)
    if not torch.cuda.is_available():
        assert _C.cuda_available() is False
        assert info["device_count"] == 0 and info["error"]
        assert P.backend().cuda is False
    if info["compiled"]:
        assert info["architectures"] and info["runtime_version"] > 0


def test_fill_cuda_without_device_raises_cleanly():
    if not getattr(_C, "cuda_compiled", False):
        pytest.skip("built without CUDA")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: tests/test_cuda_device.py covers fill_cuda")
    t = torch.empty(4)
    req = request_for("uniform", t, seed=1)
    with pytest.raises(RuntimeError, match="cuda:0"):
        _C.fill_cuda([req.as_tuple(t)], 0, 0)
