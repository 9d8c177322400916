"""Replay of a plan on real tensors: random fills batched per device, then the rest in recorded order."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils import _pytree as pytree

from .. import _backend
from .. import init as _pinit
from ._plan import _leaves_of, _Node, _Ref, _Step, _TempRef
from ._record import NotReplayableError, _Event, _storage_key
from ._streams import _torch_rng_seed, stream_of
from ._targets import _Target


def _on_device(args, kwargs, fn, device: torch.device):
    """Arguments of an op replayed on ``device``: the meta device becomes ``device``, and factories
    (which take their device from the ``torch.device`` context while recording) are given it."""

    def conv(x):
        if isinstance(x, torch.device) and x.type == "meta":
            return device
        if isinstance(x, Tensor) and not x.is_meta and x.device != device and x.dim() > 0:
            return x.to(device)
        return x

    args, kwargs = pytree.tree_map(conv, (args, kwargs))
    if fn in _CONSTRUCTORS or kwargs.get("device") in ("meta", torch.device("meta")):
        kwargs = dict(kwargs, device=device)
    return args, kwargs


def _constructors() -> set:
    try:
        from torch.utils._device import _device_constructors

        return set(_device_constructors())
    except Exception:  # older torch: the common factories
        return {torch.empty, torch.zeros, torch.ones, torch.full, torch.arange, torch.linspace, torch.tensor}


_CONSTRUCTORS = _constructors()


class _Runner:
    """Runs steps and tape nodes on real tensors: targets in place, temporaries kept until last read."""

    def __init__(self, key: int, device: torch.device) -> None:
        self.key = key
        self.device = device
        self.temps: dict[int, tuple[Tensor, int, tuple]] = {}  # key -> (real, meta offset, meta stride)

    def resolve(self, x):
        if isinstance(x, _Ref):
            return x.resolve()
        if isinstance(x, _TempRef):
            return self._temp(x)
        return x

    def _temp(self, r: _TempRef) -> Tensor:
        real, meta_offset, meta_stride = self.temps[r.key]
        if (r.offset, r.stride, r.dtype) == (meta_offset, meta_stride, real.dtype) and r.size == tuple(real.size()):
            return real
        if tuple(real.stride()) != meta_stride:
            raise NotReplayableError(
                f"philoxinit: a temporary computed on {self.device} has strides {list(real.stride())}, "
                f"not the {list(meta_stride)} it had on meta; cannot replay a view of it"
            )
        base = real
        if r.dtype != real.dtype:
            base = torch.view_as_real(real) if real.is_complex() and r.dtype == real.real.dtype else real.view(r.dtype)
        byte_rel = r.offset * base.element_size() - meta_offset * real.element_size()
        start = (real.storage_offset() * real.element_size() + byte_rel) // base.element_size()
        return base.as_strided(r.size, r.stride, start)

    def args(self, args, kwargs, fn):
        args, kwargs = pytree.tree_map(self.resolve, (args, kwargs), is_leaf=lambda x: isinstance(x, (_Ref, _TempRef)))
        return _on_device(args, kwargs, fn, self.device)

    def store(self, outputs: list, result) -> None:
        leaves = pytree.tree_leaves(result)
        for i, r in outputs:
            self.temps[r.key] = (leaves[i], r.offset, r.stride)

    def torch_op(self, fn, args, kwargs, seed: int):
        """Run an op with torch, under torch's generators seeded with ``seed`` (restored after)."""
        devices = []
        if self.device.type == "cuda":
            devices = [self.device.index if self.device.index is not None else torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices):
            torch.default_generator.manual_seed(seed)
            if devices:
                torch.cuda.default_generators[devices[0]].manual_seed(seed)
            return fn(*args, **kwargs)


def _fill_streams(lists: dict, targets: list[_Target]) -> dict:
    """event order -> (target, n): the n-th random fill that flows into the target, in recorded order
    (its own surviving fills and the fills of the temporaries its writes read)."""
    claimed: dict = {}
    per_target: dict[int, list] = {}
    steps = sorted((st for sl in lists.values() for st in sl), key=lambda st: st.event.order)
    for st in steps:
        orders = per_target.setdefault(id(st.target), [])
        if st.event.kind == "fill" and st.event.order not in claimed:
            claimed[st.event.order] = st.target
            orders.append(st.event.order)
        for node in st.temps:
            if node.event.kind == "fill" and node.order not in claimed:
                claimed[node.order] = st.target
                orders.append(node.order)
    out = {}
    for tg in targets:
        for n, order in enumerate(sorted(per_target.get(id(tg), []))):
            out[order] = (tg, n)
    return out


def _replay(lists: dict, targets: list[_Target], key: int, device: torch.device) -> None:
    streams = _fill_streams(lists, targets)
    run = _Runner(key, device)

    def run_fill(ev: _Event, tensor: Tensor) -> None:
        kw = dict(ev.kwargs)
        if not ev.explicit_key:
            tg, n = streams[ev.order]
            kw["seed"] = key
            kw["stream"] = stream_of(tg.name, n)
        getattr(_pinit, ev.fn)(tensor, **kw)

    def rng_seed(tg: _Target, index: int) -> int:
        return _torch_rng_seed(key, stream_of(tg.name), index)

    def run_step(st: _Step, index: int) -> None:
        ev = st.event
        if ev.kind == "fill":
            run_fill(ev, st.ref.resolve())
        elif ev.kind == "const":
            st.ref.resolve().fill_(ev.fn)
        elif ev.kind == "produce":
            args, kwargs = run.args(st.args, st.kwargs, ev.fn)
            result = run.torch_op(ev.fn, args, kwargs, rng_seed(st.target, index))
            leaves = pytree.tree_leaves(result)
            mine = [i for i, x in ev.outputs if _storage_key(x) == st.ref.key]
            assert len(mine) == 1, "a recorded op writes each target through exactly one output"
            st.ref.resolve().copy_(leaves[mine[0]])
        else:
            args, kwargs = run.args(st.args, st.kwargs, ev.fn)
            run.torch_op(ev.fn, args, kwargs, rng_seed(st.target, index))

    def run_node(node: _Node, owner: _Target, index: int) -> None:
        ev = node.event
        if ev.kind == "alloc":
            for _, r in node.outputs:
                t = torch.empty_strided(r.size, r.stride, dtype=r.dtype, device=device)
                run.temps[r.key] = (t, r.offset, r.stride)
        elif ev.kind == "fill":
            run_fill(ev, run.resolve(node.writes[0]))
        elif ev.kind == "const":
            run.resolve(node.writes[0]).fill_(ev.fn)
        else:
            args, kwargs = run.args(node.args, node.kwargs, ev.fn)
            result = run.torch_op(ev.fn, args, kwargs, rng_seed(owner, index))
            if ev.kind == "produce":
                run.store(node.outputs, result)

    with torch.no_grad():
        # 1. the first whole-tensor write of every tensor that reads nothing: random fills batched
        firsts = [sl[0] for sl in lists.values() if sl and sl[0].event.independent and not sl[0].reads_state]
        with _backend.collect_fills() as batch:
            for st in firsts:
                if st.event.kind == "fill":
                    run_step(st, 0)
        by_device: dict = {}
        for t, req in batch:
            by_device.setdefault(t.device, ([], []))
            by_device[t.device][0].append(t)
            by_device[t.device][1].append(req)
        for ts, reqs in by_device.values():
            _backend.fill(ts, reqs)
        done = set()
        for st in firsts:
            if st.event.kind != "fill":
                run_step(st, 0)
            done.add(id(st))
        # 2. everything else, and the temporaries it reads, in recorded order
        items: dict = {}
        last_read: dict[int, tuple] = {}
        pending = sorted(
            ((st, i) for sl in lists.values() for i, st in enumerate(sl) if id(st) not in done),
            key=lambda x: x[0].event.order,
        )
        for st, i in pending:  # a temporary belongs to the first tensor that reads it (as in _fill_streams)
            items.setdefault(st.event.order, ("step", st, i))  # an op writing several tensors runs once
            for node in st.temps:
                items.setdefault(node.order, ("node", node, st.target))
            for r in _leaves_of(st.args, st.kwargs, _TempRef):
                last_read[r.key] = max(last_read.get(r.key, st.event.order), st.event.order)
        for order, item in items.items():
            if item[0] == "node":
                for k in item[1].reads | {w.key for w in item[1].writes}:
                    last_read[k] = max(last_read.get(k, order), order)
        release: dict = {}
        for k, order in last_read.items():
            release.setdefault(order, []).append(k)
        # torch's ops on temporaries are seeded after the tensor's own surviving writes
        claims: dict[int, int] = {id(tg): len(lists[id(tg)]) for tg in targets}
        for order in sorted(items):
            kind, obj, extra = items[order]
            if kind == "step":
                run_step(obj, extra)
            else:
                index = claims[id(extra)]
                claims[id(extra)] = index + 1
                run_node(obj, extra, index)
            for k in release.pop(order, ()):
                run.temps.pop(k, None)
    for tg in targets:
        if tg.is_param or tg.tensor.requires_grad:
            torch.autograd.graph.increment_version(tg.tensor)
