"""One rank of the multi-process sharding checks (run by tests/test_distributed.py, not by pytest).

Usage: ``python tests/distributed_worker.py OUT_JSON`` with RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT set. Every rank builds DTensors (and FSDP2 / tensor-parallel models on meta), fills them
with philoxinit, gathers the full tensors and compares them bitwise with the single-process result
it computes itself. Rank 0 writes every case's outcome to OUT_JSON:
``[{"case", "placement", "mesh", "ok", "detail"}, ...]``.

Collected by pytest only by name; it defines no tests.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import traceback

import torch
import torch.distributed as dist
import torch.nn as nn

import philoxinit

RESULTS: list = []


def _record(case: str, placement: str, mesh: str, ok: bool, detail: str = "") -> None:
    RESULTS.append({"case": case, "placement": placement, "mesh": mesh, "ok": bool(ok), "detail": detail})


def _bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_complex():
        a, b = torch.view_as_real(a), torch.view_as_real(b)
    if a.dtype.is_floating_point:
        width = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
        a, b = a.contiguous().view(width), b.contiguous().view(width)
    return torch.equal(a, b)


def _gen_check() -> int:
    """A draw that shows the default generator's state (compared across ranks and with one device)."""
    return int(torch.randint(0, 1 << 62, (1,)).item())


# ---- DTensors with explicit placements --------------------------------------------------------

INITS = {
    "uniform": lambda t, **kw: philoxinit.uniform_(t, -0.5, 2.0, **kw),
    "normal": lambda t, **kw: philoxinit.normal_(t, 0.1, 0.7, **kw),
    "trunc_normal": lambda t, **kw: philoxinit.trunc_normal_(t, 0.0, 1.0, -1.5, 2.0, **kw),
    "kaiming_uniform": lambda t, **kw: philoxinit.kaiming_uniform_(t, a=math.sqrt(5), **kw),
    "xavier_normal": lambda t, **kw: philoxinit.xavier_normal_(t, **kw),
    "lecun_normal": lambda t, **kw: philoxinit.lecun_normal_(t, **kw),
}


GENERATOR_CHECKS = ("uniform", "kaiming_uniform")


def _check_dtensor(label: str, mesh, placements, shape, dtype=torch.float32, inits=None, local_transposed=False):
    """Each init on a DTensor vs the same call on one device: gathered values, local shard, generator."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    mesh_label = "x".join(str(s) for s in mesh.shape)
    for name in inits or INITS:
        fn = INITS[name]
        # the key drawn from torch's default generator is the same on every rank and as on one device
        for keyed in ("seed", "generator") if name in GENERATOR_CHECKS else ("seed",):
            case = f"{name}/{keyed}/{dtype}".replace("torch.", "")
            try:
                base = distribute_tensor(torch.zeros(shape, dtype=dtype), mesh, placements, src_data_rank=None)
                if local_transposed:  # the same shard, in a transposed (non-contiguous) local layout
                    loc = base.to_local()
                    t_local = torch.zeros(tuple(reversed(loc.shape)), dtype=dtype).t()
                    base = DTensor.from_local(t_local, mesh, placements, shape=base.shape, stride=base.stride())
                kw = {"seed": 20240611} if keyed == "seed" else {}
                torch.manual_seed(99)
                fn(base, **kw)
                after_sharded = _gen_check()
                full = base.full_tensor()
                torch.manual_seed(99)
                ref = fn(torch.zeros(shape, dtype=dtype), **kw)
                after_ref = _gen_check()
                expect_local = distribute_tensor(ref, mesh, placements, src_data_rank=None).to_local()
                ok = (
                    _bitwise_equal(full, ref)
                    and _bitwise_equal(base.to_local(), expect_local)
                    and after_sharded == after_ref
                )
                detail = "" if ok else f"local {list(base.to_local().shape)}"
            except Exception:
                ok, detail = False, traceback.format_exc(limit=4)
            _record(case, label, mesh_label, ok, detail)


def _placements_1d(ws):
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.placement_types import _StridedShard

    return [
        ("Shard(0) 8x12", [Shard(0)], (8, 12), {}),
        ("Shard(1) 8x12", [Shard(1)], (8, 12), {}),
        ("Shard(0) uneven 10x7", [Shard(0)], (10, 7), {}),
        ("Shard(1) uneven 10x7", [Shard(1)], (10, 7), {}),
        ("Shard(0) empty shards 2x5", [Shard(0)], (2, 5), {}),
        ("Replicate 10x7", [Replicate()], (10, 7), {}),
        ("Shard(2) 3-D 3x4x10", [Shard(2)], (3, 4, 10), {}),
        ("Shard(0) transposed local 10x7", [Shard(0)], (10, 7), {"local_transposed": True}),
        ("_StridedShard(0, sf=2) 12x5", [_StridedShard(0, split_factor=2)], (12, 5), {}),
        ("_StridedShard(1, sf=3) uneven 4x11", [_StridedShard(1, split_factor=3)], (4, 11), {}),
    ]


def _placements_2d():
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.placement_types import _StridedShard

    return [
        ("Shard(0), Shard(1) 10x7", [Shard(0), Shard(1)], (10, 7)),
        ("Shard(0), Shard(0) 10x7", [Shard(0), Shard(0)], (10, 7)),
        ("Shard(1), Shard(1) 5x13", [Shard(1), Shard(1)], (5, 13)),
        ("Replicate, Shard(1) 10x7", [Replicate(), Shard(1)], (10, 7)),
        ("_StridedShard(0, sf=2), Shard(0) 12x5", [_StridedShard(0, split_factor=2), Shard(0)], (12, 5)),
        ("_StridedShard(0, sf=2), Shard(0) uneven 11x3", [_StridedShard(0, split_factor=2), Shard(0)], (11, 3)),
        ("Shard(1), _StridedShard(0, sf=2) 3-D 9x6x4", [Shard(1), _StridedShard(0, split_factor=2)], (9, 6, 4)),
    ]


def check_placements(ws: int, mesh, mesh2) -> None:
    from torch.distributed.tensor import Partial, Shard, distribute_tensor

    for label, placements, shape, extra in _placements_1d(ws):
        _check_dtensor(label, mesh, placements, shape, **extra)
    # other dtypes, on one uneven layout
    for dtype in (torch.float64, torch.bfloat16, torch.float16):
        _check_dtensor("Shard(0) uneven 10x7", mesh, [Shard(0)], (10, 7), dtype=dtype, inits=["uniform", "normal"])
    _check_dtensor(
        "Shard(0) uneven 10x7", mesh, [Shard(0)], (10, 7), dtype=torch.complex64, inits=["uniform", "normal"]
    )
    # raw words
    try:
        d = distribute_tensor(torch.zeros(10, 7, dtype=torch.int32), mesh, [Shard(1)], src_data_rank=None)
        philoxinit.random_bits_(d, seed=7, stream=3, offset=11)
        ok = torch.equal(
            d.full_tensor(), philoxinit.random_bits_(torch.zeros(10, 7, dtype=torch.int32), seed=7, stream=3, offset=11)
        )
        detail = ""
    except Exception:
        ok, detail = False, traceback.format_exc(limit=4)
    _record("random_bits/seed/int32", "Shard(1) uneven 10x7", str(ws), ok, detail)
    # Partial: a clear error, the tensor and the generator untouched
    try:
        d = distribute_tensor(torch.zeros(4, 4), mesh, [Shard(0)], src_data_rank=None)
        from torch.distributed.tensor import DTensor

        p = DTensor.from_local(torch.zeros(4, 4), mesh, [Partial()])
        torch.manual_seed(5)
        try:
            philoxinit.uniform_(p)
            ok = False
        except ValueError as e:
            ok = "Partial" in str(e)
        after = _gen_check()
        torch.manual_seed(5)
        ok = ok and after == _gen_check() and bool((p.to_local() == 0).all())
        detail = ""
    except Exception:
        ok, detail = False, traceback.format_exc(limit=4)
    _record("Partial raises ValueError", "Partial", str(ws), ok, detail)
    # an in-place write: the DTensor's version counter and its local tensor's both advance
    try:
        d = nn.Parameter(distribute_tensor(torch.zeros(10, 7), mesh, [Shard(0)], src_data_rank=None))
        v, lv = d._version, d.to_local()._version
        philoxinit.normal_(d, seed=2)
        ok, detail = d._version > v and (d.to_local()._version > lv or d.to_local().numel() == 0), ""
    except Exception:
        ok, detail = False, traceback.format_exc(limit=4)
    _record("version counter advances", "Shard(0) uneven 10x7", str(ws), ok, detail)
    # global_shape= / global_offset= are for plain tensors: a DTensor knows its layout
    try:
        d = distribute_tensor(torch.zeros(4, 4), mesh, [Shard(0)], src_data_rank=None)
        try:
            philoxinit.uniform_(d, seed=1, global_shape=(4, 4))
            ok = False
        except ValueError as e:
            ok = "DTensor" in str(e)
        detail = ""
    except Exception:
        ok, detail = False, traceback.format_exc(limit=4)
    _record("global_shape= on a DTensor raises ValueError", "Shard(0)", str(ws), ok, detail)

    if mesh2 is not None:
        for label, placements, shape in _placements_2d():
            _check_dtensor(label, mesh2, placements, shape)


# ---- models: tensor parallel, FSDP2, FSDP2 x TP ------------------------------------------------


class Block(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1) @ v
        x = x + self.proj(a)
        return x + self.fc2(torch.relu(self.fc1(self.norm2(x))))


class TinyTransformer(nn.Module):
    """Odd sizes on purpose: FSDP2 splits 50 vocab rows, 40 hidden rows, 24 qkv rows unevenly."""

    def __init__(self, vocab: int = 50, dim: int = 8, hidden: int = 40, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim, hidden) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x))


def init_weights(model: nn.Module) -> None:
    """A torch-style init through philoxinit's functions; the key of every call comes from torch's
    default generator, so this also checks that every rank advances it alike."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Linear):
                philoxinit.kaiming_uniform_(mod.weight, a=math.sqrt(5))
                if mod.bias is not None:
                    fan_in = mod.weight.shape[1]  # the global shape, also for a DTensor
                    bound = 1 / math.sqrt(fan_in)
                    philoxinit.uniform_(mod.bias, -bound, bound)
            elif isinstance(mod, nn.Embedding):
                philoxinit.trunc_normal_(mod.weight, std=0.02)
            elif isinstance(mod, nn.LayerNorm):
                philoxinit.ones_(mod.weight)
                philoxinit.zeros_(mod.bias)


def _full_state(model: nn.Module) -> dict:
    from torch.distributed.tensor import DTensor

    out = {}
    for k, v in model.state_dict().items():
        out[k] = v.full_tensor() if isinstance(v, DTensor) else v
    return out


def _reference_state(init, **ctor) -> dict:
    torch.manual_seed(0)
    model = TinyTransformer(**ctor)  # the default torch init draws here; the philoxinit init below replaces it
    torch.manual_seed(1234)
    init(model)
    return {k: v.clone() for k, v in model.state_dict().items()}


def _compare_states(case: str, label: str, mesh: str, build, init, **ctor) -> None:
    try:
        ref = _reference_state(init, **ctor)
        model, placements = build()
        torch.manual_seed(1234)
        init(model)
        got = _full_state(model)
        bad = [k for k in ref if k not in got or not _bitwise_equal(got[k], ref[k])]
        ok, detail = not bad, (f"differ: {bad}" if bad else placements)
    except Exception:
        ok, detail = False, traceback.format_exc(limit=6)
    _record(case, label, mesh, ok, detail)


def _placements_of(model: nn.Module) -> str:
    from torch.distributed.tensor import DTensor

    seen = sorted({str(tuple(p.placements)) for p in model.parameters() if isinstance(p, DTensor)})
    return "; ".join(seen)


def check_models(ws: int, mesh, mesh2) -> None:
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    def build_fsdp():
        with torch.device("meta"):
            model = TinyTransformer()
        for b in model.blocks:
            fully_shard(b, mesh=mesh)
        fully_shard(model, mesh=mesh)
        model.to_empty(device="cpu")
        return model, _placements_of(model)

    def build_tp():
        with torch.device("meta"):
            model = TinyTransformer(hidden=48)
        plan = {"qkv": ColwiseParallel(), "proj": RowwiseParallel(), "fc1": ColwiseParallel(), "fc2": RowwiseParallel()}
        for b in model.blocks:
            parallelize_module(b, mesh, plan)
        model.to_empty(device="cpu")
        return model, _placements_of(model)

    _compare_states("state_dict, torch-style init", "FSDP2 fully_shard (meta)", str(ws), build_fsdp, init_weights)
    if ws in (1, 2, 3, 4) and 48 % ws == 0 and 24 % ws == 0:
        _compare_states(
            "state_dict, torch-style init", "TP colwise/rowwise (meta)", str(ws), build_tp,
            init_weights, hidden=48,
        )  # fmt: skip
        _check_tp_bound(ws, mesh)
    if mesh2 is not None:

        def build_fsdp_tp():
            with torch.device("meta"):
                model = TinyTransformer(hidden=48)
            plan = {
                "qkv": ColwiseParallel(),
                "proj": RowwiseParallel(),
                "fc1": ColwiseParallel(),
                "fc2": RowwiseParallel(),
            }
            for b in model.blocks:
                parallelize_module(b, mesh2["tp"], plan)
                fully_shard(b, mesh=mesh2["dp"])
            fully_shard(model, mesh=mesh2["dp"])
            model.to_empty(device="cpu")
            return model, _placements_of(model)

        _compare_states(
            "state_dict, torch-style init", "FSDP2 x TP 2x2 (meta)", "2x2", build_fsdp_tp, init_weights, hidden=48
        )

    # whole-model API, when the package has it: sharded == unsharded through the same call
    for api in ("materialize", "init_module"):
        if not hasattr(philoxinit, api):
            _record(f"philoxinit.{api}", "FSDP2 fully_shard (meta)", str(ws), True, "skipped: not in this build")
            continue
        fn = getattr(philoxinit, api)

        def build_plain_or_meta(shard: bool):
            with torch.device("meta"):
                model = TinyTransformer()
            if shard:
                for b in model.blocks:
                    fully_shard(b, mesh=mesh)
                fully_shard(model, mesh=mesh)
            if api == "init_module":
                model.to_empty(device="cpu")
            return model

        try:
            torch.manual_seed(1234)
            ref = build_plain_or_meta(False)
            ref = fn(ref) or ref
            ref_state = {k: v.clone() for k, v in ref.state_dict().items()}
            torch.manual_seed(1234)
            model = build_plain_or_meta(True)
            model = fn(model) or model
            got = _full_state(model)
            bad = [k for k in ref_state if not _bitwise_equal(got[k], ref_state[k])]
            random = [k for k, v in ref_state.items() if v.numel() > 1 and float(v.float().std()) > 0]
            ok = not bad and len(random) >= 8  # the weights really were drawn, not left constant
            detail = f"differ: {bad}" if bad else ("" if ok else f"only {random} random")
        except Exception:
            ok, detail = False, traceback.format_exc(limit=6)
        _record(f"philoxinit.{api}", "FSDP2 fully_shard (meta)", str(ws), ok, detail)


def _check_tp_bound(ws: int, mesh) -> None:
    """A column-parallel Linear's kaiming bound is the unsharded layer's: fans from the global shape."""
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    for style, label in (
        (ColwiseParallel(), "TP ColwiseParallel Linear(24, 48)"),
        (RowwiseParallel(), "TP RowwiseParallel Linear(48, 24)"),
    ):
        try:
            lin = nn.Linear(24, 48) if isinstance(style, ColwiseParallel) else nn.Linear(48, 24)
            parallelize_module(lin, mesh, style)
            philoxinit.kaiming_uniform_(lin.weight, a=math.sqrt(5), seed=3)
            bound = 1 / math.sqrt(lin.in_features)  # gain sqrt(2 / (1 + 5)) * sqrt(3 / fan_in)
            full = lin.weight.detach().full_tensor()
            ref = philoxinit.kaiming_uniform_(torch.empty(lin.out_features, lin.in_features), a=math.sqrt(5), seed=3)
            ok = (
                _bitwise_equal(full, ref) and float(full.abs().max()) <= bound and float(full.abs().max()) > 0.9 * bound
            )
            detail = ""
        except Exception:
            ok, detail = False, traceback.format_exc(limit=4)
        _record("kaiming bound from global shape", label, str(ws), ok, detail)


def main() -> None:
    out = sys.argv[1]
    torch.set_num_threads(1)
    logging.getLogger("torch.distributed.tensor._redistribute").setLevel(logging.ERROR)
    dist.init_process_group("gloo")
    from torch.distributed.device_mesh import DeviceMesh

    world, rank = dist.get_world_size(), dist.get_rank()
    sizes = [int(k) for k in sys.argv[2].split(",")] if len(sys.argv) > 2 else [world]
    results = {}
    try:
        for k in sizes:
            # a mesh over ranks 0..k-1 (every rank takes part in creating its process groups;
            # only its members fill and gather)
            mesh = DeviceMesh("cpu", list(range(k)))
            mesh2 = None
            if k == 4:
                mesh2 = DeviceMesh("cpu", torch.arange(4).view(2, 2), mesh_dim_names=("dp", "tp"))
            if rank < k:
                RESULTS.clear()
                check_placements(k, mesh, mesh2)
                check_models(k, mesh, mesh2)
                for r in RESULTS:
                    r["world_size"], r["processes"] = k, world
                    results[(k, r["case"], r["placement"], r["mesh"])] = r
            dist.barrier()
    finally:
        gathered = [None] * world
        dist.all_gather_object(gathered, results)
        if rank == 0:
            merged = {}
            for per_rank in gathered:  # a case passes when it passes on every rank that ran it
                for key, r in per_rank.items():
                    m = merged.setdefault(key, dict(r, detail=""))
                    m["ok"] = m["ok"] and r["ok"]
                    if r["detail"] and not r["ok"]:
                        m["detail"] += r["detail"] + "\n"
                    elif r["detail"] and not m["detail"]:
                        m["detail"] = r["detail"]
            with open(out, "w") as f:
                json.dump(list(merged.values()), f, indent=1)
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
