"""Sharded initialization: every shard holds exactly its slice of the single-device tensor.

Single-process tests check the shard geometry against torch's own splitting and the plain-tensor
``global_shape=`` / ``global_offset=`` boxes against slices of the full tensor. One multi-process
test (gloo, 4 processes on the CPU, spawned once) runs tests/distributed_worker.py: DTensors on
meshes of 1, 2, 3 and 4 ranks with every placement, tensor parallelism, FSDP2 and FSDP2 x TP models
built on meta; the gathered tensors must equal the single-process ones bitwise.

``PHILOXINIT_TEST_WORLD_SIZES=1,2,3`` adds runs with exactly that many processes (slower).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import philoxinit
from philoxinit import distributed

WORKER = Path(__file__).with_name("distributed_worker.py")


def _missing_dtensor_api():
    """Why this torch lacks the public DTensor API these tests build on, or None."""
    try:
        from torch.distributed.tensor import Partial, Replicate, Shard, distribute_tensor  # noqa: F401
        from torch.distributed.tensor.placement_types import _StridedShard  # noqa: F401
    except ImportError as e:
        return f"needs torch.distributed.tensor's public placements and _StridedShard (torch >= 2.5): {e}"
    if "src_data_rank" not in inspect.signature(distribute_tensor).parameters:
        return "needs torch.distributed.tensor.distribute_tensor(src_data_rank=)"
    return None


needs_dtensor_api = pytest.mark.skipif(_missing_dtensor_api() is not None, reason=str(_missing_dtensor_api()))


# ---- shard geometry vs torch's own split ----------------------------------------------------------


def _torch_indices(n: int, mesh_shape, coord, placements, dim: int) -> list:
    """Global indices along ``dim`` that torch's placement splitting gives this coordinate."""
    from torch.distributed.tensor import Shard
    from torch.distributed.tensor.placement_types import _StridedShard

    idx = torch.arange(n)
    for mesh_dim, p in enumerate(placements):
        if not isinstance(p, (Shard, _StridedShard)) or p.dim != dim:
            continue
        chunks, _ = p._split_tensor(idx, mesh_shape[mesh_dim], with_padding=False, contiguous=True)
        idx = chunks[coord[mesh_dim]]
    return idx.tolist()


def _expand(runs) -> list:
    return [first + i for first, length in runs for i in range(length)]


def _placement_sets():
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.placement_types import _StridedShard

    one = [[Shard(0)], [Replicate()]] + [[_StridedShard(0, split_factor=f)] for f in (2, 3)]
    two = [
        [Shard(0), Shard(0)],
        [Shard(0), Replicate()],
        [Replicate(), Shard(0)],
        [_StridedShard(0, split_factor=2), Shard(0)],
        [_StridedShard(0, split_factor=3), Shard(0)],
        [Shard(0), _StridedShard(0, split_factor=2)],
    ]
    return one, two


@needs_dtensor_api
@pytest.mark.parametrize("n", list(range(0, 14)))
def test_local_runs_match_torch_split(n):
    import itertools

    one, two = _placement_sets()
    for k in (1, 2, 3, 4):
        for placements in one:
            for r in range(k):
                runs = distributed.local_runs((n,), (k,), (r,), placements)
                assert _expand(runs[0]) == _torch_indices(n, (k,), (r,), placements, 0), (placements, k, r)
    for shape in [(2, 2), (2, 3), (3, 2), (1, 4)]:
        for placements in two:
            for coord in itertools.product(*(range(s) for s in shape)):
                runs = distributed.local_runs((n,), shape, coord, placements)
                assert _expand(runs[0]) == _torch_indices(n, shape, coord, placements, 0), (placements, shape, coord)


@needs_dtensor_api
def test_local_runs_are_runs_not_elements():
    from torch.distributed.tensor.placement_types import Shard, _StridedShard

    # a million rows on 4 ranks: one run per dim, whatever the size
    assert distributed.local_runs((10**6, 8), (4,), (3,), [Shard(0)]) == [[(750000, 250000)], [(0, 8)]]
    # FSDP over TP on a 2x2 mesh: rank (dp=1, tp=0) holds TP shard 0's second half, one run
    runs = distributed.local_runs((16, 4), (2, 2), (1, 0), [_StridedShard(0, split_factor=2), Shard(0)])
    assert runs == [[(4, 4)], [(0, 4)]]
    # a strided shard alone: two runs of rows, so two boxes
    runs = distributed.local_runs((16, 4), (2,), (1,), [_StridedShard(0, split_factor=2)])
    assert runs == [[(4, 4), (12, 4)], [(0, 4)]]
    boxes = distributed.local_boxes(runs)
    assert boxes == [((0, 0), (4, 0), (4, 4)), ((4, 0), (12, 0), (4, 4))]
    # and on two dims at once: the Cartesian product, four boxes
    runs = distributed.local_runs(
        (8, 6), (2, 3), (0, 2), [_StridedShard(0, split_factor=2), _StridedShard(1, split_factor=2)]
    )
    assert runs == [[(0, 2), (4, 2)], [(2, 1), (5, 1)]]
    assert len(distributed.local_boxes(runs)) == 4


@needs_dtensor_api
def test_partial_placement_is_refused():
    from torch.distributed.tensor import Partial, Shard

    with pytest.raises(ValueError, match="Partial"):
        distributed.local_runs((4, 4), (2, 2), (0, 1), [Shard(0), Partial()])


def test_plain_tensors_are_not_dtensors():
    assert not distributed.is_dtensor(torch.empty(2))
    assert not distributed.is_dtensor(torch.nn.Parameter(torch.empty(2)))


# ---- plain tensors as boxes of a global tensor ----------------------------------------------------

FILLS = {
    "uniform": lambda t, **kw: philoxinit.uniform_(t, -1.0, 3.0, **kw),
    "normal": lambda t, **kw: philoxinit.normal_(t, 0.5, 2.0, **kw),
    "trunc_normal": lambda t, **kw: philoxinit.trunc_normal_(t, 0.0, 1.0, -0.5, 2.5, **kw),
    "kaiming_uniform": lambda t, **kw: philoxinit.kaiming_uniform_(t, a=math.sqrt(5), **kw),
    "kaiming_normal": lambda t, **kw: philoxinit.kaiming_normal_(t, mode="fan_out", **kw),
    "xavier_uniform": lambda t, **kw: philoxinit.xavier_uniform_(t, gain=1.5, **kw),
    "lecun_normal": lambda t, **kw: philoxinit.lecun_normal_(t, **kw),
    "variance_scaling": lambda t, **kw: philoxinit.variance_scaling_(t, 2.0, "fan_avg", "uniform", **kw),
}


def _bits(t: torch.Tensor) -> torch.Tensor:
    if t.is_complex():
        t = torch.view_as_real(t)
    width = {2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]
    return t.contiguous().view(width)


def _random_boxes(shape, count, gen):
    boxes = []
    for _ in range(count):
        start, size = [], []
        for n in shape:
            a = int(torch.randint(0, n, (1,), generator=gen))
            b = int(torch.randint(a + 1, n + 1, (1,), generator=gen))
            start.append(a)
            size.append(b - a)
        boxes.append((tuple(start), tuple(size)))
    return boxes


@pytest.mark.parametrize("name", sorted(FILLS))
@pytest.mark.parametrize("shape", [(9, 13), (5, 6, 7), (3, 4, 5, 6)])
def test_boxes_equal_slices_of_the_full_tensor(backend_name, name, shape):
    fill = FILLS[name]
    kw = dict(seed=0xDEADBEEF12345678, stream=5, offset=3)
    full = fill(torch.empty(shape), **kw)
    gen = torch.Generator().manual_seed(len(shape) * 100 + len(name))
    for start, size in _random_boxes(shape, 12, gen):
        box = fill(torch.empty(size), global_shape=shape, global_offset=start, **kw)
        ref = full[tuple(slice(s, s + n) for s, n in zip(start, size))]
        assert torch.equal(_bits(box), _bits(ref)), (start, size)


def test_a_partition_into_boxes_rebuilds_the_full_tensor(backend_name):
    shape = (10, 7, 6)
    full = philoxinit.trunc_normal_(torch.empty(shape), std=0.02, seed=11)
    out = torch.full(shape, float("nan"))
    for r0, n0 in ((0, 4), (4, 4), (8, 2)):
        for r1, n1 in ((0, 3), (3, 3), (6, 1)):
            for r2, n2 in ((0, 6),):
                view = out[r0 : r0 + n0, r1 : r1 + n1, r2 : r2 + n2]  # a non-contiguous view, written in place
                philoxinit.trunc_normal_(view, std=0.02, seed=11, global_shape=shape, global_offset=(r0, r1, r2))
    assert torch.equal(_bits(out), _bits(full))


@pytest.mark.parametrize("name", ["uniform", "normal", "trunc_normal"])
def test_boxes_of_transposed_views(backend_name, name):
    fill = FILLS[name]
    gshape = (8, 11)
    full = fill(torch.empty(gshape), seed=3)
    for start, size in [((0, 0), (8, 11)), ((1, 2), (5, 7)), ((7, 10), (1, 1)), ((2, 0), (6, 11))]:
        t = torch.empty(tuple(reversed(size))).t()  # shape `size`, column-major memory
        assert not t.is_contiguous() or min(size) == 1
        fill(t, seed=3, global_shape=gshape, global_offset=start)
        ref = full[start[0] : start[0] + size[0], start[1] : start[1] + size[1]]
        assert torch.equal(_bits(t), _bits(ref)), (start, size)


def test_boxes_of_other_dtypes(backend_name):
    gshape = (6, 10)
    for dtype in (torch.float64, torch.float16, torch.bfloat16, torch.complex64):
        full = philoxinit.normal_(torch.empty(gshape, dtype=dtype), seed=9)
        box = philoxinit.normal_(torch.empty(3, 4, dtype=dtype), seed=9, global_shape=gshape, global_offset=(2, 5))
        assert torch.equal(_bits(box), _bits(full[2:5, 5:9])), dtype
    full = philoxinit.random_bits_(torch.empty(gshape, dtype=torch.int32), seed=4)
    box = philoxinit.random_bits_(
        torch.empty(2, 3, dtype=torch.int32), seed=4, global_shape=gshape, global_offset=(4, 7)
    )
    assert torch.equal(box, full[4:6, 7:10])


def test_fans_come_from_the_global_shape():
    # a column-parallel shard of Linear(64, 256): 64 of its 256 rows
    shard = philoxinit.kaiming_uniform_(
        torch.empty(64, 64), a=math.sqrt(5), seed=1, global_shape=(256, 64), global_offset=(64, 0)
    )
    bound = 1 / math.sqrt(64)  # torch's Linear bound: gain sqrt(2 / 6) * sqrt(3 / fan_in)
    assert 0.9 * bound < float(shard.abs().max()) <= bound
    # a row-parallel shard of Linear(256, 64): fan_in is 256, not the local 64 columns
    shard = philoxinit.kaiming_uniform_(
        torch.empty(64, 64), a=math.sqrt(5), seed=1, global_shape=(64, 256), global_offset=(0, 128)
    )
    bound = 1 / math.sqrt(256)
    assert 0.9 * bound < float(shard.abs().max()) <= bound


def test_generator_draw_does_not_depend_on_the_box():
    torch.manual_seed(123)
    a = philoxinit.uniform_(torch.empty(3, 4), global_shape=(9, 4), global_offset=(6, 0))
    after_box = torch.randint(0, 1 << 30, (1,)).item()
    torch.manual_seed(123)
    full = philoxinit.uniform_(torch.empty(9, 4))
    after_full = torch.randint(0, 1 << 30, (1,)).item()
    assert torch.equal(a, full[6:9]) and after_box == after_full


@pytest.mark.parametrize(
    "shape, start, match",
    [((4, 4), (3, 0), "does not fit"), ((4,), (0, 0), "one entry per dim"), ((4, 3), (0, -1), "does not fit")],
)
def test_bad_boxes_raise_and_leave_the_tensor(shape, start, match):
    t = torch.zeros(2, 2)
    with pytest.raises(ValueError, match=match):
        philoxinit.uniform_(t, seed=1, global_shape=shape, global_offset=start)
    assert (t == 0).all()


# ---- multi-process: DTensors, TP, FSDP2 (gloo on the CPU) -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_worker(world_size: int, mesh_sizes: str, out: Path, timeout: float = 300) -> list:
    port = _free_port()
    procs = []
    for rank in range(world_size):
        env = dict(
            os.environ,
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE=str(world_size),
            OMP_NUM_THREADS="1",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), str(out), mesh_sizes],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=timeout)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    failed = [i for i, p in enumerate(procs) if p.returncode != 0]
    if failed or not out.exists():
        tail = "\n".join(f"--- rank {i}\n{logs[i][-3000:]}" for i in range(len(logs)))
        pytest.fail(f"worker ranks {failed} failed:\n{tail}")
    return json.loads(out.read_text())


def _runs():
    runs = [pytest.param(4, "1,2,3,4", id="4-processes-meshes-1-2-3-4")]
    extra = os.environ.get("PHILOXINIT_TEST_WORLD_SIZES", "")
    for ws in [int(w) for w in extra.split(",") if w.strip()]:
        runs.append(pytest.param(ws, str(ws), id=f"{ws}-processes"))
    return runs


@needs_dtensor_api
@pytest.mark.parametrize("world_size, mesh_sizes", _runs())
def test_sharded_init_equals_single_device(tmp_path, world_size, mesh_sizes):
    results = run_worker(world_size, mesh_sizes, tmp_path / "results.json")
    bad = [r for r in results if not r["ok"]]
    assert not bad, "\n".join(f"[{r['world_size']}] {r['placement']}: {r['case']}\n{r['detail']}" for r in bad)
    # the run covered what it claims to
    sizes = {int(k) for k in mesh_sizes.split(",")}
    assert {r["world_size"] for r in results} == sizes
    labels = {r["placement"] for r in results}
    for want in ("Shard(0) uneven 10x7", "Shard(1) uneven 10x7", "Replicate 10x7", "_StridedShard(0, sf=2) 12x5",
                 "FSDP2 fully_shard (meta)", "Partial"):  # fmt: skip
        assert want in labels
    if 4 in sizes:
        for want in ("Shard(0), Shard(1) 10x7", "Shard(0), Shard(0) 10x7", "_StridedShard(0, sf=2), Shard(0) 12x5",
                     "FSDP2 x TP 2x2 (meta)"):  # fmt: skip
            assert want in labels
        fsdp_tp = [
            r for r in results if r["placement"] == "FSDP2 x TP 2x2 (meta)" and r["case"].startswith("state_dict")
        ]
        assert fsdp_tp and "_StridedShard" in fsdp_tp[0]["detail"]  # FSDP2 over TP really strided-shards
