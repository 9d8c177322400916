"""CUDA kernels on a real GPU: the same bits as the CPU fill, for every distribution, dtype, layout
and batch, on the caller's stream, under CUDA graph capture. Skipped (with the reason) without a
GPU; tests/test_cuda_host.py runs the kernels' per-thread code on the CPU everywhere."""

from __future__ import annotations

import random
import warnings

import pytest
import torch

import philoxinit as P
from philoxinit import _backend

_C = _backend._C


def _skip_reason():
    if not torch.cuda.is_available():
        return "no CUDA GPU visible to torch"
    if _C is None or not getattr(_C, "cuda_compiled", False):
        return "philoxinit was built without CUDA kernels (PHILOXINIT_CUDA=ON to require them)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
DISTS = {
    "uniform": lambda t, **k: P.uniform_(t, -0.5, 2.0, **k),
    "normal": lambda t, **k: P.normal_(t, 0.25, 1.5, **k),
    "trunc": lambda t, **k: P.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0, **k),
    "trunc_shifted": lambda t, **k: P.trunc_normal_(t, 0.3, 0.02, 0.29, 0.4, **k),
    "kaiming_uniform": lambda t, **k: P.kaiming_uniform_(t, **k),
    "xavier_normal": lambda t, **k: P.xavier_normal_(t, **k),
}


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    a, b = a.detach().cpu().contiguous(), b.detach().cpu().contiguous()
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(a.view(torch.uint8), b.view(torch.uint8))


def views(shape, dtype, device):
    """(name, view) pairs: contiguous, misaligned start, transposed, strided, channels-last."""
    n = 1
    for s in shape:
        n *= s
    out = [("contiguous", torch.empty(shape, dtype=dtype, device=device))]
    out.append(("offset1", torch.empty(n + 1, dtype=dtype, device=device)[1:].view(shape)))
    if len(shape) >= 2:
        rev = torch.empty(tuple(reversed(shape)), dtype=dtype, device=device)
        out.append(("transposed", rev.permute(*reversed(range(len(shape))))))
        wide = shape[:-1] + (shape[-1] * 2,)
        out.append(("step2", torch.empty(wide, dtype=dtype, device=device)[..., ::2]))
    if len(shape) == 4:
        out.append(
            ("channels_last", torch.empty(shape, dtype=dtype, device=device).to(memory_format=torch.channels_last))
        )
    return out


def test_backend_reports_cuda():
    assert _C.cuda_available()
    assert P.backend().cuda, P.backend()
    info = _C.cuda_info()
    assert info["device_count"] == torch.cuda.device_count()
    assert all(d["supported"] for d in info["devices"]), info


@pytest.mark.parametrize("shape", [(1,), (7,), (1000,), (33, 65), (3, 1, 17), (4, 3, 5, 7), (128, 257)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("dist", sorted(DISTS))
def test_cuda_matches_cpu(dist, dtype, shape):
    if dist in ("kaiming_uniform", "xavier_normal") and len(shape) < 2:
        pytest.skip("needs 2 dims")
    fn = DISTS[dist]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, v in views(shape, dtype, "cuda"):
            kw = dict(seed=0x1234_5678_9ABC + len(shape), stream=5, offset=3)
            fn(v, **kw)
            ref = torch.empty(shape, dtype=dtype)
            fn(ref, **kw)
            torch.cuda.synchronize()
            assert same_bits(v, ref), (name, v.stride())


@pytest.mark.parametrize("dtype", [torch.int32] + ([torch.uint32] if hasattr(torch, "uint32") else []), ids=str)
def test_cuda_bits_match_cpu(dtype):
    for shape in [(5,), (1001,), (17, 9)]:
        for name, v in views(shape, dtype, "cuda"):
            P.random_bits_(v, seed=(1 << 64) - 1, stream=(1 << 64) - 1, offset=(1 << 64) - 2)
            ref = torch.empty(shape, dtype=dtype)
            P.random_bits_(ref, seed=(1 << 64) - 1, stream=(1 << 64) - 1, offset=(1 << 64) - 2)
            assert same_bits(v, ref), name


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=str)
def test_cuda_complex_matches_cpu(dtype):
    g = torch.empty(31, 9, dtype=dtype, device="cuda")
    c = torch.empty(31, 9, dtype=dtype)
    for fn in (lambda t: P.normal_(t, seed=9), lambda t: P.uniform_(t, -1, 1, seed=9)):
        fn(g)
        fn(c)
        assert same_bits(g, c)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_cuda_shards_match_cpu(dtype):
    gshape = (37, 29)
    full = torch.empty(gshape, dtype=dtype)
    P.normal_(full, seed=3, stream=1)
    for off, size in [((0, 0), (37, 29)), ((5, 3), (10, 1)), ((1, 7), (9, 13)), ((36, 28), (1, 1))]:
        shard = torch.empty(size, dtype=dtype, device="cuda")
        P.normal_(shard, seed=3, stream=1, global_shape=gshape, global_offset=off)
        want = full[off[0] : off[0] + size[0], off[1] : off[1] + size[1]]
        assert same_bits(shard, want), off


def _captured_requests(tensors, rng):
    """Each tensor's (target, Request) from a public call with its own distribution and key."""
    pairs = []
    real = _backend.fill
    _backend.fill = lambda ts, rs: pairs.extend(zip(ts, rs))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for t in tensors:
                fn = DISTS[rng.choice(["uniform", "normal", "trunc", "trunc_shifted"])]
                fn(t, seed=rng.getrandbits(64), stream=rng.getrandbits(16), offset=rng.getrandbits(8))
    finally:
        _backend.fill = real
    return pairs


def _mixed_shapes(rng, n):
    shapes = []
    for _ in range(n):
        shapes.append(
            rng.choice(
                [
                    (rng.randint(1, 4096),),
                    (rng.randint(1, 300), rng.randint(1, 300)),
                    (rng.randint(1, 64), rng.randint(1, 16), 3, 3),
                ]
            )
        )
    return shapes


def test_batch_of_1000_mixed_tensors_matches_cpu():
    """One _backend.fill call with 1000 tensors of mixed dtypes (grouped into few launches)."""
    rng = random.Random(5)
    shapes = _mixed_shapes(rng, 1000)
    dtypes = [rng.choice(DTYPES) for _ in shapes]
    gpu = [torch.empty(s, dtype=d, device="cuda") for s, d in zip(shapes, dtypes)]
    cpu = [torch.empty(s, dtype=d) for s, d in zip(shapes, dtypes)]
    pairs = _captured_requests(gpu, random.Random(6))
    _backend.fill([t for t, _ in pairs], [r for _, r in pairs])
    cpu_pairs = _captured_requests(cpu, random.Random(6))
    _backend.fill([t for t, _ in cpu_pairs], [r for _, r in cpu_pairs])
    torch.cuda.synchronize()
    for i, (g, c) in enumerate(zip(gpu, cpu)):
        assert same_bits(g, c), (i, g.shape, g.dtype)


def test_fill_runs_on_the_current_stream_without_sync():
    s = torch.cuda.Stream()
    t = torch.empty(1 << 20, device="cuda")
    with torch.cuda.stream(s):
        P.uniform_(t, seed=17)
        ev = torch.cuda.Event()
        ev.record(s)
    ev.synchronize()
    ref = torch.empty(1 << 20)
    P.uniform_(ref, seed=17)
    assert same_bits(t, ref)


def test_cuda_graph_capture_and_replay():
    t = torch.empty(4097, device="cuda")
    h = torch.empty(300, 17, dtype=torch.bfloat16, device="cuda")
    P.uniform_(t, seed=1)  # warm-up outside capture (loads the kernels)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        P.normal_(t, seed=2, stream=4)
        P.trunc_normal_(h, std=0.02, a=-0.04, b=0.04, seed=3)
    t.zero_()
    h.zero_()
    g.replay()
    torch.cuda.synchronize()
    rt = torch.empty(4097)
    P.normal_(rt, seed=2, stream=4)
    rh = torch.empty(300, 17, dtype=torch.bfloat16)
    P.trunc_normal_(rh, std=0.02, a=-0.04, b=0.04, seed=3)
    assert same_bits(t, rt) and same_bits(h, rh)


def test_other_device_and_current_device_restored():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs 2 GPUs")
    torch.cuda.set_device(0)
    t = torch.empty(1000, device="cuda:1")
    P.normal_(t, seed=8)
    assert torch.cuda.current_device() == 0
    ref = torch.empty(1000)
    P.normal_(ref, seed=8)
    assert same_bits(t, ref)


def test_64bit_indexing_beyond_2_pow_31_elements():
    """A float16 tensor of 2**31 + 6 elements: its last elements equal a CPU fill of that shard."""
    n = (1 << 31) + 6
    free, _total = torch.cuda.mem_get_info()
    if free < n * 2 + (1 << 30):
        pytest.skip("not enough GPU memory")
    t = torch.empty(n, dtype=torch.float16, device="cuda")
    P.uniform_(t, seed=21, offset=7)
    tail = torch.empty(1003, dtype=torch.float16)
    P.uniform_(tail, seed=21, offset=7, global_shape=(n,), global_offset=(n - 1003,))
    head = torch.empty(1000, dtype=torch.float16)
    P.uniform_(head, seed=21, offset=7, global_shape=(n,), global_offset=(0,))
    assert same_bits(t[-1003:], tail) and same_bits(t[:1000], head)
    del t
    torch.cuda.empty_cache()
