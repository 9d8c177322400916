"""The Triton path (python/philoxinit/_triton.py): the same bits as the compiled CPU kernels.

Without a GPU the kernel runs under Triton's interpreter (``TRITON_INTERPRET=1``, set here while
philoxinit imports its Triton module), which executes it on CPU tensors through numpy: every
distribution and dtype, sharded boxes, non-contiguous views, complex tensors and batches of mixed
requests are compared bit for bit with ``_C.fill_cpu``, the whole storage around each view too
(nothing outside it may be written). With a CUDA or ROCm GPU (and TRITON_INTERPRET unset) the same
tests run the compiled kernel on the GPU: what the interpreter cannot prove (code generation:
div_rn / sqrt_rn lowering, no FMA contraction, integer ops) is proven there. Here, the kernel is
also compiled to PTX for sm_90 (no GPU needed) and its instructions are checked.

Routing tests (which path a device gets, and why) need no Triton. The Triton tests skip, saying
so, where triton does not import (the CPU build of torch ships none): ``make timm-triton`` runs
them in an environment with the CUDA build of torch.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import subprocess
import sys
import warnings
import zlib
from contextlib import contextmanager

import pytest
import torch

import philoxinit as P
from philoxinit import _backend

_C = _backend._C

ON_GPU = torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET", "0") in ("", "0")
DEVICE = torch.device("cuda") if ON_GPU else torch.device("cpu")


@contextmanager
def env(**values):
    """Environment variables set (None: removed) inside the block only."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


try:
    import triton  # noqa: F401
except Exception as e:  # noqa: BLE001 -- any failure to import means no Triton path here
    TRITON_MISSING = f"triton does not import here ({type(e).__name__}: {e}); `make timm-triton` runs these tests"
else:
    TRITON_MISSING = ""
needs_triton = pytest.mark.skipif(bool(TRITON_MISSING), reason=TRITON_MISSING or "-")


@pytest.fixture(scope="module")
def tri():
    """philoxinit._triton, imported under the interpreter unless a GPU runs it."""
    if TRITON_MISSING:
        pytest.skip(TRITON_MISSING)
    if _C is None:
        pytest.skip("compiled extension not built: no CPU kernels to compare with")
    loaded = sys.modules.get("philoxinit._triton")
    if loaded is not None and loaded.INTERPRETED == ON_GPU:
        pytest.skip("philoxinit._triton was imported in the other mode earlier in this process")
    with env(TRITON_INTERPRET=None if ON_GPU else "1"):
        module = importlib.import_module("philoxinit._triton")
    assert module.INTERPRETED != ON_GPU
    return module


# Items per program: small ones under the interpreter, so that small tensors span several programs
# (on a GPU the default, as users run it: each value of it is one more kernel to compile).
ITEMS = None if ON_GPU else 64


# ---- the requests the public functions make --------------------------------------------------


def capture(fn, tensor):
    """The (target tensor, Request) pairs that ``fn(tensor)`` hands to the backend."""
    with _backend.collect_fills() as seen, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trunc_normal_: "mean is more than 2 std from [a, b]"
        fn(tensor)
    return seen


DISTS = {
    "uniform": lambda t, **k: P.uniform_(t, -0.75, 1.25, **k),
    "normal": lambda t, **k: P.normal_(t, 0.5, 2.0, **k),
    "trunc": lambda t, **k: P.trunc_normal_(t, 0.1, 1.5, -1.0, 2.5, **k),  # the quantile's central region
    "trunc_tail": lambda t, **k: P.trunc_normal_(t, 0.0, 1.0, 3.0, 4.5, **k),  # its tail regions, reflected
    "trunc_deep": lambda t, **k: P.trunc_normal_(t, 0.0, 1.0, -12.0, -9.0, **k),  # float32 region 3, float64 4
    "trunc_series": lambda t, **k: P.trunc_normal_(t, 0.0, 1.0, 1.0, 1.001, **k),  # narrow: the series mode
}
FLOATS = [torch.float32, torch.float16, torch.bfloat16, torch.float64]
BITS = [torch.int32] + ([torch.uint32] if hasattr(torch, "uint32") else [])


def storage_bytes(t: torch.Tensor) -> torch.Tensor:
    return t.cpu().view(torch.uint8)


def with_sentinel(numel: int, dtype, device) -> torch.Tensor:
    b = torch.empty(numel, dtype=dtype, device=device)
    b.view(torch.uint8).fill_(0x5A)
    return b


def run_both(tri, cases):
    """cases: (base, view, request) on the CPU. Fills copies of the bases by ``_C.fill_cpu`` and by
    the Triton kernel (one batched call) on DEVICE; returns the two lists of bases."""
    cpu, ours, tuples, targets, requests = [], [], [], [], []
    for base, view, req in cases:
        c = base.clone()
        tuples.append(req.as_tuple(c.as_strided(view.shape, view.stride(), view.storage_offset())))
        cpu.append(c)
        o = base.to(DEVICE, copy=True)
        targets.append(o.as_strided(view.shape, view.stride(), view.storage_offset()))
        requests.append(req)
        ours.append(o)
    _C.fill_cpu(tuples, 1)
    tri.fill(targets, requests, **({} if ITEMS is None else {"items_per_program": ITEMS}))
    return cpu, ours


def assert_same(cpu, ours):
    for i, (c, o) in enumerate(zip(cpu, ours)):
        a, b = storage_bytes(c), storage_bytes(o)
        if not torch.equal(a, b):
            diff = (a != b).nonzero().flatten()
            raise AssertionError(f"request {i}: {diff.numel()} bytes differ, first at byte {int(diff[0])}")


def case_for(fn, shape, dtype, seed, **kw):
    """(base, view, request) for a contiguous tensor of ``shape`` written by ``fn``."""
    numel = 1
    for s in shape:
        numel *= s
    base = with_sentinel(numel, dtype, "cpu")
    ((target, req),) = capture(lambda t: fn(t, seed=seed, **kw), base.view(shape))
    return base, target, req


# ---- bits: every distribution and dtype ------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("dist", sorted(DISTS))
def test_triton_matches_cpu_kernels(tri, dist, dtype):
    rng = random.Random(zlib.crc32(repr((dist, str(dtype))).encode()))
    cases = [
        case_for(
            DISTS[dist],
            (5, 67),
            dtype,
            rng.getrandbits(64),
            stream=rng.getrandbits(64),
            offset=rng.choice([0, 1, 2**32 - 1, 2**64 - 3]),
        )  # fmt: skip
        for _ in range(2)
    ]
    assert_same(*run_both(tri, cases))


@pytest.mark.parametrize("dtype", BITS, ids=str)
def test_triton_bits_match_cpu_kernels(tri, dtype):
    cases = [case_for(lambda t, **k: P.random_bits_(t, **k), (3, 45), dtype, 0xDEADBEEF, stream=3, offset=2**64 - 5)]
    assert_same(*run_both(tri, cases))


@pytest.mark.parametrize("std", [3.0e4, 1.0e-6], ids=["overflow", "subnormal"])
def test_float16_overflow_and_subnormals_round_as_the_cpu_kernels(tri, std):
    """float16 rounding done in integer operations: values beyond 65520 become inf, tiny ones
    subnormal halves, exactly as the CPU kernels write them."""
    cases = [case_for(lambda t, **k: P.normal_(t, 0.0, std, **k), (200,), torch.float16, 77)]
    cpu, ours = run_both(tri, cases)
    assert_same(cpu, ours)
    v = cpu[0].float()
    assert v.isinf().any() if std > 1 else ((v != 0) & (v.abs() < 2.0**-14)).any()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_programs_with_central_and_tail_lanes(tri, dtype):
    """A wide interval: most lanes in the quantile's central region, a few in a tail region, so
    programs take the tail branch for some lanes only."""
    cases = [case_for(lambda t, **k: P.trunc_normal_(t, 0.0, 1.0, -7.0, 7.0, **k), (2000,), dtype, 12)]
    cpu, ours = run_both(tri, cases)
    assert_same(cpu, ours)
    z = cpu[0].abs()
    assert (z > 2.95).any() and (z < 2.9).any()  # both regions were drawn


def test_wide_float64_tails(tri):
    """The float64 quantile's deepest region (w >= 169, |z| > 18)."""
    cases = [case_for(lambda t, **k: P.trunc_normal_(t, 1.0, 2.0, -59.0, -35.0, **k), (300,), torch.float64, 5)]
    assert_same(*run_both(tri, cases))


# ---- layouts, boxes, batches -----------------------------------------------------------------


def layouts(shape, dtype):
    """(base, view) pairs of ``shape``: offset by one element (misaligned), transposed, every other
    column, channels-last, each inside a sentinel-filled base."""
    n = 1
    for s in shape:
        n *= s
    b = with_sentinel(n + 1, dtype, "cpu")
    out = {"offset1": (b, b[1 : n + 1].view(shape))}
    b = with_sentinel(n, dtype, "cpu")
    out["transposed"] = (b, b.view(tuple(reversed(shape))).permute(*reversed(range(len(shape)))))
    b = with_sentinel(2 * n, dtype, "cpu")
    out["step2"] = (b, b.view(shape[:-1] + (2 * shape[-1],))[..., ::2])
    b = with_sentinel(n, dtype, "cpu")
    out["channels_last"] = (b, b.view(shape[0], shape[2], shape[3], shape[1]).permute(0, 3, 1, 2))
    return out


@pytest.mark.parametrize(
    "dist,dtype",
    [("uniform", torch.float32), ("normal", torch.bfloat16), ("trunc_tail", torch.float64), ("trunc", torch.float16)],
    ids=str,
)
def test_non_contiguous_views(tri, dist, dtype):
    cases = []
    for _, (base, view) in layouts((2, 3, 5, 7), dtype).items():
        ((target, req),) = capture(lambda t: DISTS[dist](t, seed=91, stream=4), torch.empty(view.shape, dtype=dtype))
        cases.append((base, view, req))
    assert_same(*run_both(tri, cases))


def test_sharded_boxes(tri):
    """Boxes of a global tensor: rows whose blocks start at every phase, a column box (one element
    per row: items of single elements), and a 3-d box of a transposed local view."""
    cases = []
    for dtype, shape, gshape, start in [
        (torch.float32, (5, 6), (40, 9), (3, 1)),
        (torch.float64, (5, 1), (7, 10), (1, 4)),
        (torch.bfloat16, (3, 4, 5), (6, 9, 11), (2, 3, 5)),
    ]:
        base = with_sentinel(torch.Size(shape).numel(), dtype, "cpu")
        view = base.view(shape)
        if len(shape) == 3:  # a transposed local view
            view = base.view(tuple(reversed(shape))).permute(*reversed(range(len(shape))))
        fn = lambda t: P.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0, seed=8, global_shape=gshape, global_offset=start)  # noqa: E731
        ((target, req),) = capture(fn, torch.empty(shape, dtype=dtype))
        cases.append((base, view, req))
    assert_same(*run_both(tri, cases))


def test_one_batch_of_mixed_requests(tri):
    """Every distribution and dtype, layouts and sizes in one call: grouped into one launch per
    (distribution, dtype), each value the same as alone on the CPU."""
    rng = random.Random(5)
    cases = []
    for i in range(24):
        dist = rng.choice(sorted(DISTS) + ["bits"])
        dtype = rng.choice(BITS if dist == "bits" else FLOATS)
        shape = rng.choice([(1,), (3,), (13,), (4, 9), (2, 3, 5, 7)])
        fn = (lambda t, **k: P.random_bits_(t, **k)) if dist == "bits" else DISTS[dist]
        if len(shape) == 4 and i % 2:
            base, view = layouts(shape, dtype)[rng.choice(["offset1", "transposed", "step2", "channels_last"])]
            ((target, req),) = capture(lambda t: fn(t, seed=i, stream=i), torch.empty(shape, dtype=dtype))
            cases.append((base, view, req))
        else:
            cases.append(case_for(fn, shape, dtype, i, stream=rng.getrandbits(64)))
    assert_same(*run_both(tri, cases))


def test_empty_requests_in_a_batch_write_nothing(tri):
    """Requests with no element (a dim of size 0; the public functions never send them, a caller of
    the batch may) have no program; the others around them are unaffected."""
    full = [case_for(DISTS["normal"], (9,), torch.float32, 2), case_for(DISTS["uniform"], (7,), torch.float32, 4)]
    cpu, _ = run_both(tri, full)
    empty = full[0][2]._replace(sizes=(0, 5), global_strides=(5, 1))
    targets = [b.to(DEVICE, copy=True) for b, _, _ in full]
    none = torch.empty(0, 5, device=DEVICE)
    tri.fill([none, targets[0], none, targets[1], none], [empty, full[0][2], empty, full[1][2], empty],
             **({} if ITEMS is None else {"items_per_program": ITEMS}))  # fmt: skip
    tri.fill([none], [empty])  # a launch with nothing to do
    assert_same(cpu, targets)


# ---- through the public API (PHILOXINIT_BACKEND=triton) ---------------------------------------


@pytest.fixture
def forced_triton(tri, monkeypatch):
    monkeypatch.setenv("PHILOXINIT_BACKEND", "triton")
    assert _backend.route(DEVICE)[0] == "triton", _backend.route(DEVICE)


def test_public_functions_through_the_triton_path(forced_triton, monkeypatch):
    calls = [  # (call, dtypes)
        (lambda t: P.kaiming_uniform_(t, a=5**0.5, seed=3), (torch.float32, torch.complex64)),
        (lambda t: P.xavier_normal_(t, seed=4, stream=9), (torch.bfloat16, torch.complex128)),
        (lambda t: P.trunc_normal_(t, std=0.02, seed=5), (torch.float32, torch.float16)),
        (lambda t: P.variance_scaling_(t, 2.0, "fan_avg", "truncated_normal", seed=6), (torch.float64,)),
    ]
    for i, (fn, dtypes) in enumerate(calls):
        for dtype in dtypes:
            ours = fn(torch.empty(6, 10, dtype=dtype, device=DEVICE)).cpu()
            with env(PHILOXINIT_BACKEND="compiled"):
                ref = fn(torch.empty(6, 10, dtype=dtype))
            assert torch.equal(
                torch.view_as_real(ours) if ours.is_complex() else ours,
                torch.view_as_real(ref) if ref.is_complex() else ref,
            ), (i, dtype)


def test_whole_module_init_in_one_batch(forced_triton):
    model = torch.nn.Sequential(torch.nn.Linear(12, 9), torch.nn.LayerNorm(9), torch.nn.Conv2d(3, 4, 3))
    ours = P.init_module(model.to(DEVICE), seed=21)
    with env(PHILOXINIT_BACKEND="compiled"):
        ref = P.init_module(torch.nn.Sequential(torch.nn.Linear(12, 9), torch.nn.LayerNorm(9),
                                                torch.nn.Conv2d(3, 4, 3)), seed=21)  # fmt: skip
    for (name, a), (_, b) in zip(ours.state_dict().items(), ref.state_dict().items()):
        assert torch.equal(a.cpu(), b), name


# ---- what the interpreter does not run: code generation ----------------------------------------

_PTX_SCRIPT = r"""
import json, re, sys
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from philoxinit import _triton as T
out = {}
for dist, dtype in json.loads(sys.argv[1]):
    pb = 2 if dtype == 1 else 4
    src = ASTSource(T._fill_kernel, signature={"table": "*i64", "n_requests": "i32", "DIST": "constexpr",
        "DTYPE": "constexpr", "PB": "constexpr", "OUTER": "constexpr", "BLOCK": "constexpr"},
        constexprs={"DIST": dist, "DTYPE": dtype, "PB": pb, "OUTER": 1, "BLOCK": T.ITEMS_PER_PROGRAM})
    k = triton.compile(src, target=GPUTarget("cuda", 90, 32),
                       options={"num_warps": T.NUM_WARPS, "enable_fp_fusion": False})
    out[f"{dist},{dtype}"] = sorted(set(re.findall(r"^\s*(?:@!?%p\d+\s+)?([a-z][\w.]*)", k.asm["ptx"], re.M)))
print(json.dumps(out))
"""


@needs_triton
def test_ptx_has_only_correctly_rounded_float_operations():
    """The kernels compiled for sm_90 (no GPU needed): float32 division and square root are
    div.rn / sqrt.rn, float64 ones div.rn.f64 / sqrt.rn.f64, every float add and multiply is
    .rn (which ptxas never contracts), and no FMA, approximate or fast-math instruction appears."""
    kinds = [[3, 2], [2, 1]]  # truncated normal float16 (float32 lanes), normal float64
    env_ = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    run = subprocess.run([sys.executable, "-c", _PTX_SCRIPT, json.dumps(kinds)], capture_output=True, text=True,
                         env=env_, timeout=300)  # fmt: skip
    if run.returncode != 0 and "GPUTarget" in run.stderr and "ImportError" in run.stderr:
        pytest.skip("this triton has no offline compiler API")
    assert run.returncode == 0, run.stderr[-3000:]
    ops = json.loads(run.stdout.strip().splitlines()[-1])
    f32, f64 = set(ops["3,2"]), set(ops["2,1"])
    assert {"div.rn.f32", "sqrt.rn.f32", "mul.rn.f32", "add.rn.f32", "mul.hi.u32"} <= f32, sorted(f32)
    assert {"div.rn.f64", "sqrt.rn.f64", "mul.rn.f64", "add.rn.f64", "mul.hi.u32"} <= f64, sorted(f64)
    for op in f32 | f64:
        assert not op.startswith(("fma", "mad.f", "mad.rn", "rcp", "rsqrt", "ex2", "lg2", "sin", "cos")), op
        assert not any(x in op for x in (".approx", ".full", ".ftz")), op
        if op.startswith(("add.", "sub.", "mul.", "div.", "sqrt.")) and op.endswith((".f32", ".f64")):
            assert ".rn." in op, op


# ---- routing ---------------------------------------------------------------------------------


class _FakeTriton:
    INTERPRETED = False


@pytest.fixture
def no_compiled_cuda(monkeypatch):
    """A visible GPU that the compiled CUDA kernels cannot serve, and a Triton that imports."""
    monkeypatch.delenv("PHILOXINIT_BACKEND", raising=False)
    monkeypatch.setattr(_backend, "_compiled_cuda", lambda d: (False, "extension built without CUDA"))
    monkeypatch.setattr(_backend, "_triton_state", (_FakeTriton, ""))


def test_gpus_without_compiled_kernels_go_to_triton(no_compiled_cuda):
    path, why = _backend.route(torch.device("cuda", 0))
    assert path == "triton" and "built without CUDA" in why


def test_rocm_builds_go_to_triton(monkeypatch):
    monkeypatch.delenv("PHILOXINIT_BACKEND", raising=False)
    monkeypatch.setattr(torch.version, "hip", "6.4.0", raising=False)
    monkeypatch.setattr(_backend, "_triton_state", (_FakeTriton, ""))
    assert _backend.route(torch.device("cuda", 0)) == ("triton", "Triton kernels (ROCm build of torch)")
    assert _backend.route(torch.device("cpu"))[0] == ("compiled" if _C is not None else "torch")


def test_without_triton_gpus_use_the_fallback_and_say_why(no_compiled_cuda, monkeypatch):
    monkeypatch.setattr(_backend, "_triton_state", (None, "triton not importable (ImportError: x)"))
    path, why = _backend.route(torch.device("cuda", 0))
    assert path == "torch" and "built without CUDA" in why and "triton not importable" in why


def test_forced_paths(no_compiled_cuda, monkeypatch):
    gpu, cpu, mps = torch.device("cuda", 0), torch.device("cpu"), torch.device("mps")
    monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
    assert _backend.route(gpu)[0] == _backend.route(cpu)[0] == "torch"
    monkeypatch.setenv("PHILOXINIT_BACKEND", "triton")
    assert _backend.route(gpu)[0] == "triton"
    assert _backend.route(cpu)[0] == "error" and "TRITON_INTERPRET" in _backend.route(cpu)[1]
    assert _backend.route(mps) == ("error", "no triton kernels for mps tensors")
    monkeypatch.setenv("PHILOXINIT_BACKEND", "compiled")
    assert _backend.route(gpu) == ("error", "extension built without CUDA")
    monkeypatch.setenv("PHILOXINIT_BACKEND", "Auto")
    assert _backend.route(gpu)[0] == "triton"
    monkeypatch.setenv("PHILOXINIT_BACKEND", "cuda")
    assert _backend.route(cpu) == ("error", "not one of compiled, triton, torch or auto")


def test_a_forced_path_that_cannot_serve_raises_before_drawing_a_key(monkeypatch):
    monkeypatch.setenv("PHILOXINIT_BACKEND", "triton")
    monkeypatch.setattr(_backend, "_triton_state", (_FakeTriton, ""))  # compiled for GPUs: not for CPU tensors
    t = torch.zeros(4)
    state = torch.get_rng_state()
    with pytest.raises(RuntimeError, match="PHILOXINIT_BACKEND=triton: Triton runs on CPU tensors only"):
        P.normal_(t)
    assert torch.equal(torch.get_rng_state(), state) and not t.any()
    info = P.backend()
    assert info.name == "triton" and "fills of cpu tensors raise" in info.reason


def test_backend_names_each_devices_path(no_compiled_cuda, monkeypatch):
    monkeypatch.setattr(_backend, "_visible_devices", lambda: [torch.device("cpu"), torch.device("cuda", 0)])
    info = P.backend()
    assert info.devices[1] == ("cuda:0", "triton", "Triton kernels (extension built without CUDA)")
    assert info.cuda is False and "cuda:0 tensors use triton" in info.reason
    if _C is not None:
        assert info.name == "compiled" and info.cpu and info.devices[0][:2] == ("cpu", "compiled")


def test_importing_philoxinit_does_not_import_triton():
    code = "import sys, philoxinit; philoxinit.backend(); print('triton' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    expect = ON_GPU and not (_C is not None and _backend._cuda_usable())  # backend() asks where a GPU needs it
    assert run.stdout.strip() == str(expect)


def test_info_lists_each_devices_path(no_compiled_cuda, monkeypatch):
    from philoxinit import info

    monkeypatch.setattr(_backend, "_visible_devices", lambda: [torch.device("cpu"), torch.device("cuda", 0)])
    d = info.collect()
    assert d["backend"]["devices"][1] == {"device": "cuda:0", "path": "triton",
                                          "reason": "Triton kernels (extension built without CUDA)"}  # fmt: skip
    assert "  cuda:0     triton (Triton kernels (extension built without CUDA))" in info.format_info(d).splitlines()


@pytest.mark.skipif(not ON_GPU, reason="needs a CUDA or ROCm GPU")
def test_graph_capture_is_refused(tri):
    ((_, req),) = capture(lambda t: P.normal_(t, seed=1), torch.empty(64))
    t = torch.zeros(64, device=DEVICE)
    graph = torch.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="cannot be captured into a CUDA graph"):
        with torch.cuda.graph(graph):
            tri.fill([t], [req])
    assert not t.any()
