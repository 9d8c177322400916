"""From recorded events to a replay plan: per target, the writes that survive, and the tape they read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import torch
from torch import Tensor
from torch.utils import _pytree as pytree

from .._validate import non_overlapping
from ._record import NotReplayableError, _assign, _Event, _func_name, _storage_key
from ._targets import _kind, _Target


@dataclass
class _Ref:
    """A tensor argument of a recorded op: a view of a target (its geometry relative to the target)."""

    target: _Target
    size: tuple
    stride: tuple
    rel_offset: int
    full: bool  # the target itself (same geometry)
    base_stride: tuple
    key: Optional[int] = None  # the recorded meta storage

    def resolve(self) -> Tensor:
        t = self.target.tensor
        if self.full:
            return t
        if tuple(t.stride()) != self.base_stride:
            raise RuntimeError(
                f"philoxinit: cannot replay a write to a view of '{self.target.name}' whose strides "
                f"changed from {list(self.base_stride)} to {list(t.stride())}"
            )
        return t.as_strided(self.size, self.stride, t.storage_offset() + self.rel_offset)


def _span(size, stride) -> tuple[int, int]:
    lo = hi = 0
    for s, st in zip(size, stride):
        if s == 0:
            return 0, -1
        if st > 0:
            hi += (s - 1) * st
        else:
            lo += (s - 1) * st
    return lo, hi


def _make_ref(v: Tensor, tg: _Target, base: Tensor) -> Union[_Ref, str]:
    if v.dtype != base.dtype:
        return f"a {v.dtype} view of the {base.dtype} tensor '{tg.name}'"
    rel = v.storage_offset() - base.storage_offset()
    size, stride = tuple(v.size()), tuple(v.stride())
    full = size == tuple(base.size()) and stride == tuple(base.stride()) and rel == 0
    return _Ref(tg, size, stride, rel, full, tuple(base.stride()), _storage_key(v))


def _covers(ref: _Ref, base: Tensor) -> bool:
    """Does a write through this view reach every element of the target?"""
    if ref.full:
        return True
    if ref.target.tensor.numel() == 0:
        return True
    n = 1
    for s in ref.size:
        n *= s
    if n != base.numel() or not non_overlapping(ref.size, ref.stride):
        return False
    lo, hi = _span(ref.size, ref.stride)
    blo, bhi = _span(tuple(base.size()), tuple(base.stride()))
    return (lo + ref.rel_offset, hi + ref.rel_offset) == (blo, bhi)


def _whole_storage(t: Tensor) -> bool:
    """Does the (meta) tensor cover its whole storage, each element once?"""
    try:
        nbytes = t.untyped_storage().nbytes()
    except Exception:
        return False
    return t.storage_offset() == 0 and t.numel() * t.element_size() == nbytes and non_overlapping(t.size(), t.stride())


def _retarget(events: list[_Event], keys: dict) -> tuple[list[_Event], list[_Event]]:
    """Split events into those that write targets and the tape (those that only compute temporaries).

    Writes to temporaries that are then copied whole into a parameter count as writes to the
    parameter: ``tmp = torch.empty_like(w, memory_format=...); init.kaiming_uniform_(tmp);
    w.copy_(tmp)`` (what Conv does for channels_last weights) becomes ``kaiming_uniform_(w)``: since
    values depend on the logical index only, the bits are the same. Only whole-tensor events of a
    temporary of the same shape and dtype are moved; any other read of a temporary replays the tape.
    """
    out: list[_Event] = []
    tape: list[_Event] = []
    temps: dict[int, list[_Event]] = {}
    for ev in events:
        ks = [_storage_key(w) for w in ev.writes]
        if ks and all(k is not None and k not in keys for k in ks):  # writes temporaries only
            tape.append(ev)
            if ev.kind == "alloc":
                continue
            for w, k in zip(ev.writes, ks):
                if ev.independent and len(ev.writes) == 1 and _whole_storage(w):
                    temps[k] = [ev]
                else:
                    temps.setdefault(k, []).append(ev)
            continue
        if ev.kind == "alloc":
            continue  # a parameter built from torch.empty: no values
        src = ev.args[1] if ev.kind == "op" and len(ev.args) == 2 and not ev.kwargs else None
        k = _storage_key(src)
        if ev.fn in (Tensor.copy_, _assign) and len(ev.writes) == 1 and k is not None and k not in keys:
            moved = _moved(ev, src, temps.get(k, []), keys)
            if moved is not None:
                out.extend(moved)
                continue
        out.append(ev)
    return out, tape


def _moved(copy: _Event, src: Tensor, history: list[_Event], keys: dict) -> Optional[list[_Event]]:
    dest = copy.writes[0]
    if src.dtype != dest.dtype or src.shape != dest.shape or not _whole_storage(src):
        return None
    if not history or not history[0].independent:
        return None
    skey = _storage_key(src)
    moved = []
    for i, e in enumerate(history):
        w = e.writes[0]
        if len(e.writes) != 1 or w.shape != src.shape or not _whole_storage(w):
            return None
        ok = True

        def swap(x):
            nonlocal ok
            if isinstance(x, Tensor) and x.is_meta:
                k = _storage_key(x)
                if k == skey and x.shape == src.shape and _whole_storage(x):
                    return dest
                if k not in keys:
                    ok = False
            return x

        args, kwargs = pytree.tree_map(swap, (e.args, e.kwargs))
        if not ok:
            return None
        moved.append(
            _Event(
                seq=copy.seq,
                sub=i + 1,
                kind=e.kind,
                writes=[dest],
                fn=e.fn,
                args=args,
                kwargs=kwargs,
                independent=e.independent,
                explicit_key=e.explicit_key,
                context=copy.context,
                error=e.error,
                outputs=[(j, dest) for j, x in e.outputs if _storage_key(x) == skey],
            )  # fmt: skip
        )
    return moved


@dataclass
class _TempRef:
    """A tensor argument that is a view of a temporary computed by the recorded code (on the tape)."""

    key: int
    size: tuple
    stride: tuple
    offset: int
    dtype: torch.dtype


def _temp_ref(x: Tensor) -> _TempRef:
    return _TempRef(_storage_key(x), tuple(x.size()), tuple(x.stride()), x.storage_offset(), x.dtype)


def _refs(args, kwargs, keys: dict):
    """Tensor arguments as _Ref (targets) or _TempRef (temporaries); error: why one cannot be read."""
    error = None

    def conv(x):
        nonlocal error
        if isinstance(x, Tensor) and x.is_meta:
            hit = keys.get(_storage_key(x))
            if hit is None:
                return _temp_ref(x)
            r = _make_ref(x, hit[0], hit[1])
            if isinstance(r, str):
                error = error or f"it reads {r}"
                return x
            return r
        return x

    args, kwargs = pytree.tree_map(conv, (args, kwargs))
    return args, kwargs, error


def _leaves_of(args, kwargs, cls) -> list:
    return [x for x in pytree.tree_leaves((args, kwargs)) if isinstance(x, cls)]


@dataclass
class _Node:
    """A tape entry: an event that computes or writes temporaries only."""

    event: _Event
    args: tuple
    kwargs: dict
    writes: list  # _TempRef
    reads: set  # temporary storage keys read
    target_reads: set  # id(_Target) read
    outputs: list  # produce / alloc: (leaf index, _TempRef)

    @property
    def order(self) -> tuple:
        return self.event.order


class _Tape:
    """The temporaries' history, and which of it a target's write needs (its closure)."""

    def __init__(self, events: list[_Event], keys: dict) -> None:
        self.by_key: dict[int, list[_Node]] = {}
        self.producer: dict[int, _Node] = {}
        for ev in events:
            args, kwargs, _ = _refs(ev.args, ev.kwargs, keys)
            writes = [_temp_ref(w) for w in ev.writes]
            outputs = [(i, _temp_ref(x)) for i, x in ev.outputs]
            temp_reads = {r.key for r in _leaves_of(args, kwargs, _TempRef)}
            if ev.kind == "op" and not ev.independent:
                temp_reads |= {w.key for w in writes}  # an in-place op reads what it writes
            node = _Node(ev, args, kwargs, writes, temp_reads,
                         {id(r.target) for r in _leaves_of(args, kwargs, _Ref)}, outputs)  # fmt: skip
            for k in {w.key for w in writes}:
                self.by_key.setdefault(k, []).append(node)
                if ev.kind in ("alloc", "produce"):
                    self.producer.setdefault(k, node)

    def closure(self, roots: list[tuple[int, tuple]]) -> list[_Node]:
        """The nodes that compute the temporaries ``roots`` ((storage key, read at order)) name, in order."""
        need: dict[int, tuple] = {}
        work = list(roots)
        while work:
            k, before = work.pop()
            if k in need and need[k] >= before:
                continue
            need[k] = before
            prod = self.producer.get(k)
            if prod is None or prod.order >= before:
                raise _NoProducer(k)
            for node in self.by_key.get(k, ()):
                if node.order < before:
                    work.extend((r, node.order) for r in node.reads)
        nodes = {id(n): n for k, before in need.items() for n in self.by_key.get(k, ()) if n.order < before}
        return sorted(nodes.values(), key=lambda n: n.order)


class _NoProducer(Exception):
    def __init__(self, key: int) -> None:
        super().__init__(key)
        self.key = key


@dataclass
class _Step:
    event: _Event
    target: _Target
    ref: _Ref  # where it writes
    args: tuple
    kwargs: dict
    error: Optional[str] = None
    temps: list = field(default_factory=list)  # the tape nodes that compute what it reads

    def _read_args(self) -> list:
        # an independent in-place write (copy_, an assignment, orthogonal_) does not read its destination
        args = self.args[1:] if self.event.independent and self.event.kind == "op" else self.args
        return _leaves_of(args, self.kwargs, (_Ref, _TempRef))

    @property
    def reads_state(self) -> bool:
        """Reads a target or a temporary (so it runs in recorded order, after what it reads)."""
        return bool(self.temps) or bool(self._read_args())

    def reads(self, tg: _Target) -> bool:
        refs = [r for r in self._read_args() if isinstance(r, _Ref)]
        return any(r.target is tg for r in refs) or any(id(tg) in n.target_reads for n in self.temps)


def _resolve(events: list[_Event], keys: dict):
    """Events whose writes land on targets, with their tensor arguments turned into _Ref / _TempRef;
    and the tape of events that compute temporaries."""
    on_targets, tape_events = _retarget(events, keys)
    tape = _Tape(tape_events, keys)
    out = []
    for ev in on_targets:
        writes = []
        for w in ev.writes:
            hit = keys.get(_storage_key(w))
            if hit is not None:
                writes.append((hit[0], _make_ref(w, hit[0], hit[1])))
        if not writes:
            continue
        error = ev.error
        for _tg, ref in writes:
            if isinstance(ref, str):
                error = f"it writes through {ref}"
        args, kwargs = (), {}
        if ev.kind in ("op", "produce"):
            args, kwargs, err = _refs(ev.args, ev.kwargs, keys)
            error = error or err
        temps = []
        roots = [(r.key, ev.order) for r in _leaves_of(args, kwargs, _TempRef)]
        if roots and error is None:
            try:
                temps = tape.closure(roots)
            except _NoProducer:
                error = (
                    "it reads a tensor that exists only on the meta device and was not computed by the "
                    "recorded code (created before recording started, or by code philoxinit does not see)"
                )
        out.append((ev, [(tg, r) for tg, r in writes if not isinstance(r, str)] or [], args, kwargs, error, temps))
    return out


def _plan(resolved, targets: list[_Target], allow_unwritten: Callable[[_Target], bool], what: str):
    """Per target, its surviving steps; raises for unwritten tensors and unreplayable events."""
    lists: dict[int, list] = {id(tg): [] for tg in targets}
    for ev, writes, args, kwargs, error, temps in resolved:
        if not writes and error:
            raise NotReplayableError(f"philoxinit: cannot replay {_describe(ev)} in {ev.context}: {error}")
        for tg, ref in writes:
            step = _Step(ev, tg, ref, args, kwargs, error, temps)
            overwrite = (
                ev.independent and len(writes) == 1 and _covers(ref, tg.tensor) and error is None
                and not step.reads(tg)
            )  # fmt: skip
            if overwrite:
                lists[id(tg)] = [step]
            else:
                lists[id(tg)].append(step)
    unwritten, partial = [], []
    for tg in targets:
        steps = lists[id(tg)]
        if tg.tensor.numel() == 0:
            continue
        if not steps:
            if not allow_unwritten(tg):
                unwritten.append(tg)
            continue
        first = steps[0]
        if not (first.event.independent and _covers(first.ref, tg.tensor) and not first.reads(tg)):
            if not allow_unwritten(tg):
                partial.append((tg, first))
        for st in steps:
            if st.error:
                raise NotReplayableError(
                    f"philoxinit: cannot replay {_describe(st.event)} on '{tg.name}' ({_kind(tg)} of "
                    f"{tg.owner}, in {st.event.context}): {st.error}. Initialize '{tg.name}' with a later "
                    "write that philoxinit can replay (a torch.nn.init call or an in-place op on it), e.g. in fn."
                )
    if unwritten or partial:
        lines = [f"  '{tg.name}' ({_kind(tg)} of {tg.owner})" for tg in unwritten]
        lines += [
            f"  '{tg.name}' ({_kind(tg)} of {tg.owner}): only partly written "
            f"before being read or completed (first write: {_describe(st.event)} in {st.event.context})"
            for tg, st in partial
        ]
        raise RuntimeError(
            f"philoxinit.{what}: these tensors are not initialized by any recorded code "
            "(reset_parameters(), _reset_parameters(), the constructor under deferred_init, or fn):\n"
            + "\n".join(lines)
            + "\nPass an fn that initializes them (it is applied to every submodule, as Module.apply), "
            "or build the module with philoxinit.deferred_init so its constructor's init is recorded."
        )
    # an op writing several tensors runs once: it must survive on all of them, or not at all
    written: dict = {}
    surviving: dict = {}
    for ev, writes, *_ in resolved:
        if len(writes) > 1:
            written[ev.order] = {id(tg) for tg, _ in writes}
    for tg in targets:
        for st in lists[id(tg)]:
            if st.event.order in written:
                surviving.setdefault(st.event.order, set()).add(id(tg))
    for seq, tids in surviving.items():
        if tids != written[seq]:
            ev = next(e for e, *_ in resolved if e.order == seq)
            raise NotReplayableError(
                f"philoxinit: {_describe(ev)} in {ev.context} writes several tensors, and a later write "
                "replaces it on only some of them; philoxinit cannot replay it on the others alone"
            )
    return lists


def _describe(ev: _Event) -> str:
    if ev.kind == "fill":
        return f"{ev.fn}()"
    if ev.kind == "const":
        return f"a fill with {ev.fn}"
    return f"{_func_name(ev.fn)}()"
