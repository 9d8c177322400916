"""Recording init code on meta stand-ins under a TorchFunctionMode: every write becomes an event."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
import torch.nn as nn
from torch import Tensor
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree as pytree

from .. import init as _pinit
from ._originals import _TI, _TORCH_INIT, _timm_functions, _watch
from ._references import Swaps
from ._state import STATE
from ._targets import _kind, _owner, _post_order, _Target


def _storage_key(t) -> Optional[int]:
    if not isinstance(t, Tensor) or not t.is_meta:
        return None
    try:
        return t.untyped_storage()._cdata
    except Exception:  # tensor subclasses without a storage
        return None


@dataclass
class _Event:
    seq: int
    kind: str  # "fill" | "const" | "op" | "produce" (out-of-place op) | "alloc" (uninitialized)
    writes: list  # the meta tensors written (views of parameters / buffers)
    fn: Any  # fill: philoxinit function name; const: value; op: callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    independent: bool = False  # does not read what it overwrites
    explicit_key: bool = False  # a philoxinit call that passed its own seed=
    context: str = ""
    error: Optional[str] = None  # why it cannot be replayed
    sub: int = 0  # position among the events a copy from a temporary expands into
    outputs: list = field(default_factory=list)  # produce / alloc: (leaf index, meta tensor) on new storage

    @property
    def order(self) -> tuple:
        return (self.seq, self.sub)


_INPLACE_DUNDERS = {
    "__iadd__", "__isub__", "__imul__", "__itruediv__", "__idiv__", "__ifloordiv__", "__imod__",
    "__ipow__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imatmul__",
    "__setitem__",
}  # fmt: skip
# in-place methods that change no values (metadata, autograd flags)
_NOT_DATA_WRITES = {
    "requires_grad_", "share_memory_", "retain_grad", "detach_", "set_", "resize_", "resize_as_",
    "as_strided_", "squeeze_", "unsqueeze_", "t_", "transpose_", "swapdims_", "swapaxes_", "rename_",
    "refine_names", "align_to", "pin_memory", "record_stream", "_coalesced_",
}  # fmt: skip


def _written(func, args, kwargs) -> list:
    name = getattr(func, "__name__", "")
    out = []
    if args and (name in _INPLACE_DUNDERS or (name.endswith("_") and not name.endswith("__"))):
        if name not in _NOT_DATA_WRITES:
            first = args[0]
            out.extend(first if isinstance(first, (list, tuple)) else [first])
    o = kwargs.get("out")
    if o is not None:
        out.extend(o if isinstance(o, (list, tuple)) else [o])
    return [t for t in out if isinstance(t, Tensor)]


def _bind_fill(name: str, args: tuple, kwargs: dict, sig_names: tuple) -> tuple[tuple, dict, bool]:
    """Positional/keyword arguments of a recognized fill, without the tensor and the generator.
    Returns (args, kwargs, explicit_key)."""
    kw = dict(kwargs)
    pos = list(args[1:])
    # positional parameters after the tensor, in the function's order; generator is dropped
    bound = {}
    for pname, v in zip(sig_names, pos):
        bound[pname] = v
    if len(pos) > len(sig_names):
        raise TypeError(f"{name}() takes at most {len(sig_names) + 1} positional arguments")
    bound.update(kw)
    bound.pop("generator", None)
    explicit = bound.get("seed") is not None
    return (), bound, explicit


# recognized fills: the function seen by the mode -> (philoxinit function name, positional names after
# the tensor, argument renames)
_FILL_RULES: dict = {}


def _rule(fn, pname: str, sig: tuple, renames: Optional[dict] = None) -> None:
    _FILL_RULES[fn] = (pname, sig, renames or {})


_rule(Tensor.uniform_, "uniform_", ("from", "to"), {"from": "a", "to": "b"})
_rule(Tensor.normal_, "normal_", ("mean", "std"))
_rule(_TORCH_INIT["uniform_"], "uniform_", ("a", "b", "generator"))
_rule(_TORCH_INIT["normal_"], "normal_", ("mean", "std", "generator"))
_rule(_TORCH_INIT["kaiming_uniform_"], "kaiming_uniform_", ("a", "mode", "nonlinearity", "generator"))
_rule(_pinit.uniform_, "uniform_", ("a", "b", "generator"))
_rule(_pinit.normal_, "normal_", ("mean", "std", "generator"))
_rule(_pinit.trunc_normal_, "trunc_normal_", ("mean", "std", "a", "b", "generator"))
_rule(_pinit.kaiming_uniform_, "kaiming_uniform_", ("a", "mode", "nonlinearity", "generator"))

_CONST_FUNCS = {Tensor.zero_: "zero", Tensor.fill_: "fill", _TORCH_INIT["constant_"]: "constant"}
# factories whose values are uninitialized, or random (recorded as a philoxinit fill of the result)
_EMPTY_FACTORIES = {
    torch.empty, torch.empty_like, torch.empty_strided, Tensor.new_empty, Tensor.new_empty_strided,
}  # fmt: skip
_RANDOM_FACTORIES = {
    torch.randn: ("normal_", {}), torch.randn_like: ("normal_", {}), torch.rand: ("uniform_", {}),
    torch.rand_like: ("uniform_", {}),
}  # fmt: skip
# reading values on the host: impossible on meta, so not replayable
_HOST_READS = {
    Tensor.item, Tensor.tolist, Tensor.__bool__, Tensor.__int__, Tensor.__float__, Tensor.__index__,
    Tensor.__complex__, Tensor.numpy, Tensor.__array__,
}  # fmt: skip


def _func_name(fn) -> str:
    return getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))


def _meta_like(x):
    if isinstance(x, Tensor) and not x.is_meta:
        return torch.empty_strided(x.size(), x.stride(), dtype=x.dtype, device="meta")
    return x


class _Recorder(TorchFunctionMode):
    """Records what init code does to meta tensors: writes, and the ops that compute new ones."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[_Event] = []
        self.context = "recording"
        self.storages: dict = {}  # storage key -> a meta tensor on it, for every storage seen
        self.names: dict = {}  # storage key -> name, for the parameters and buffers recorded
        self.slots: dict = {}  # id(module) -> [(module, attribute, target, its stand-in)]
        self.current: dict = {}  # (id(module), attribute) -> the tensor the slot holds now

    def note_assignments(self, modules: Optional[list]) -> None:
        """Record slots of ``modules`` (None: all) that init code pointed at a new tensor."""
        groups = self.slots.values() if modules is None else [self.slots.get(id(m), ()) for m in modules]
        for group in groups:
            for mod, attr, tg, stand_in in group:
                now = (mod._parameters if tg.is_param else mod._buffers).get(attr)
                if now is self.current[(id(mod), attr)]:
                    continue
                self.current[(id(mod), attr)] = now
                if not isinstance(now, Tensor):
                    raise NotReplayableError(
                        f"philoxinit: {self.context} set '{tg.name}' ({_kind(tg)} of {tg.owner}) to "
                        f"{type(now).__name__}; philoxinit initializes the tensors a module has"
                    )
                if now.shape != stand_in.shape or now.dtype != stand_in.dtype:
                    raise NotReplayableError(
                        f"philoxinit: {self.context} replaced '{tg.name}' ({_kind(tg)} of {tg.owner}, "
                        f"{tuple(stand_in.shape)} {stand_in.dtype}) with a {tuple(now.shape)} {now.dtype} "
                        "tensor; build the module with the shape and dtype its init code gives it"
                    )
                if now is stand_in or _storage_key(now) == _storage_key(stand_in):
                    continue  # the same storage put back (a new Parameter around it)
                self._add(kind="op", writes=[stand_in], fn=_assign, args=(stand_in, now), independent=True)

    def key(self, t) -> Optional[int]:
        return _storage_key(t)

    def _add(self, **kw) -> _Event:
        ev = _Event(seq=len(self.events), context=self.context, **kw)
        self.events.append(ev)
        return ev

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not args and "tensor" in kwargs and (func in _FILL_RULES or func in _CONST_FUNCS):
            kwargs = dict(kwargs)
            args = (kwargs.pop("tensor"),)
        if args and self.key(args[0]) is not None:
            rule = _FILL_RULES.get(func)
            if rule is not None:
                return self._fill(rule, args, kwargs)
            const = _CONST_FUNCS.get(func)
            if const is not None:
                return self._const(const, func, args, kwargs)
            if func in _HOST_READS:
                raise NotReplayableError(
                    f"philoxinit: {self.context} calls {_func_name(func)}() on {self.describe(args[0])}, "
                    "which reads its values on the host; philoxinit records init code on the meta "
                    "device and cannot replay code that depends on tensor values"
                )
        hits = [w for w in _written(func, args, kwargs) if self.key(w) is not None]
        if not hits:
            result = func(*args, **kwargs)
            self._produced(func, args, kwargs, result)
            return result
        try:
            result = func(*args, **kwargs)  # on meta tensors: shapes are checked, no memory is touched
        except Exception:
            # a real operand beside a meta one (e.g. meta.mul_(cpu_tensor)): check shapes on meta
            margs, mkwargs = pytree.tree_map(_meta_like, (args, kwargs))
            result = func(*margs, **mkwargs)
        name = getattr(func, "__name__", "")
        # copy_ reads only its source: it overwrites the destination (refined in _plan when the
        # source is computed from the destination)
        independent = (
            name == "copy_" and len(hits) == 1 and hits[0] is args[0]
            and _storage_key(args[1]) != _storage_key(args[0])
        )  # fmt: skip
        self._add(kind="op", writes=hits, fn=func, args=tuple(args), kwargs=dict(kwargs), independent=independent)
        return result

    def _produced(self, func, args, kwargs, result) -> None:
        """An out-of-place op whose result has meta tensors on new storage: record how to compute them."""
        leaves = pytree.tree_leaves(result)
        outs = []
        for i, x in enumerate(leaves):
            k = _storage_key(x)
            if k is not None and k not in self.storages:
                self.storages[k] = x  # kept alive: storage keys stay unique while recording
                outs.append((i, x))
        for a in pytree.tree_leaves((args, kwargs)):
            k = _storage_key(a)
            if k is not None and k not in self.storages:
                self.storages[k] = a
        if not outs:
            return
        random = _RANDOM_FACTORIES.get(func)
        if func in _EMPTY_FACTORIES or random is not None:
            self._add(kind="alloc", writes=[x for _, x in outs], fn=func, outputs=outs, independent=True)
            if random is not None:
                self._add(kind="fill", writes=[outs[0][1]], fn=random[0], kwargs=dict(random[1]), independent=True)
            return
        self._add(kind="produce", writes=[x for _, x in outs], fn=func, args=tuple(args), kwargs=dict(kwargs),
                  outputs=outs, independent=True)  # fmt: skip

    def describe(self, t: Tensor) -> str:
        name = self.names.get(_storage_key(t))
        if name is not None:
            return f"'{name}'"
        for ev in reversed(self.events):
            if ev.kind in ("produce", "alloc") and any(_storage_key(x) == _storage_key(t) for _, x in ev.outputs):
                return f"a tensor computed by {_func_name(ev.fn)}()"
        return "a meta tensor"

    def _fill(self, rule, args, kwargs):
        pname, sig, renames = rule
        t = args[0]
        _, bound, explicit = _bind_fill(pname, args, kwargs, sig)
        bound = {renames.get(k, k): v for k, v in bound.items()}
        fn = getattr(_pinit, pname)
        fn(t, **bound)  # validation (and warnings) as the real call would give; meta: nothing written
        self._add(kind="fill", writes=[t], fn=pname, kwargs=bound, independent=True, explicit_key=explicit)
        return t

    def _const(self, kind, func, args, kwargs):
        t = args[0]
        if kind == "zero":
            value = 0
        else:
            value = args[1] if len(args) > 1 else kwargs.get("value", kwargs.get("val"))
        if isinstance(value, Tensor):
            if value.is_meta:
                func(*args, **kwargs)
                self._add(kind="op", writes=[t], fn=func, args=tuple(args), kwargs=dict(kwargs))
                return t
            value = value.item()
        if kind == "constant":  # meta: checks only
            with torch.no_grad():  # as torch.nn.init.constant_
                t.fill_(value)
        else:
            func(*args, **kwargs)
        self._add(kind="const", writes=[t], fn=value, independent=True)
        return t

    def record_call(self, func, args, kwargs) -> None:
        """A whole-tensor init function replayed with torch (orthogonal_, sparse_, eye_, dirac_)."""
        self._add(kind="op", writes=[args[0]], fn=func, args=tuple(args), kwargs=dict(kwargs), independent=True)


def _function_level(original: Callable) -> Callable:
    """A stand-in for a torch.nn.init function that builds its result from temporaries (orthogonal_,
    sparse_) or indexing (eye_, dirac_): recorded as one call, replayed with torch."""

    def recorded(tensor, *args, **kwargs):
        rec = STATE.recorder.get()
        if rec is not None and rec.key(tensor) is not None:
            twin = torch.empty_strided(tensor.size(), tensor.stride(), dtype=tensor.dtype, device="meta")
            with torch.overrides._pop_mode_temporarily():  # torch's own checks, unrecorded
                original(twin, *args, **kwargs)
            rec.record_call(original, (tensor,) + args, kwargs)
            return tensor
        return original(tensor, *args, **kwargs)

    recorded.__name__ = original.__name__
    recorded.__doc__ = original.__doc__
    recorded.__wrapped__ = original
    return recorded


def _recorded_trunc(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    rec = STATE.recorder.get()
    if rec is not None and rec.key(tensor) is not None:
        return _pinit.trunc_normal_(tensor, mean, std, a, b)  # seen (and recorded) by the mode
    return _ORIG_NO_GRAD_TRUNC(tensor, mean, std, a, b, generator=generator)


_ORIG_NO_GRAD_TRUNC = getattr(_TI, "_no_grad_trunc_normal_", None)
_FUNCTION_LEVEL = {
    _TORCH_INIT[n]: _function_level(_TORCH_INIT[n])
    for n in ("orthogonal_", "sparse_", "eye_", "dirac_")
    if n in _TORCH_INIT
}
_watch(*_FUNCTION_LEVEL.values())


def _timm_recorded() -> dict:
    """timm's init functions -> philoxinit's when the tensor is recorded, timm's own otherwise."""
    out = {}
    for orig, ours in _timm_functions().items():
        hit = STATE.timm_wrappers.get(id(orig))
        if hit is not None and hit[0] is orig:
            out[orig] = hit[1]
            continue

        def make(orig=orig, ours=ours):
            def f(tensor, *args, **kwargs):
                rec = STATE.recorder.get()
                if rec is not None and rec.key(tensor) is not None:
                    return ours(tensor, *args, **kwargs)
                return orig(tensor, *args, **kwargs)

            f.__name__, f.__wrapped__ = orig.__name__, orig
            return f

        out[orig] = make()
        STATE.timm_wrappers[id(orig)] = (orig, out[orig])
        _watch(orig, out[orig])
    return out


@contextlib.contextmanager
def _recording(rec: _Recorder):
    swaps = Swaps()
    token = STATE.recorder.set(rec)
    try:
        if _ORIG_NO_GRAD_TRUNC is not None and _TI.__dict__.get("_no_grad_trunc_normal_") is _ORIG_NO_GRAD_TRUNC:
            swaps.set_attr(_TI, "_no_grad_trunc_normal_", _recorded_trunc)
        swaps.replace_in_modules({**_FUNCTION_LEVEL, **_timm_recorded()}, skip_prefix="philoxinit")
        with rec:
            yield rec
    finally:
        swaps.restore()
        STATE.recorder.reset(token)


# ---- running init code on meta stand-ins ----------------------------------------------------------


def _record_swapped(targets: list[_Target], body: Callable[[_Recorder], None]) -> tuple[list, dict]:
    """Run ``body`` with meta stand-ins in place of ``targets``; returns (events, storage key -> target).

    Init code that assigns a new tensor to a parameter or buffer slot (``self.cache = f(...)``) is
    recorded as a copy of that tensor's value into the target, when ``body`` checks the slot."""
    originals = [(tg, tg.tensor) for tg in targets]
    keys: dict[int, tuple[_Target, Tensor]] = {}
    rec = _Recorder()  # every meta tensor: temporaries are replayed when a target reads them
    for tg, t in originals:
        m = torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device="meta")
        if tg.is_param:
            m = nn.Parameter(m, requires_grad=t.requires_grad)
        k = _storage_key(m)
        keys[k] = (tg, m)
        rec.storages[k], rec.names[k] = m, tg.name
        tg.set(m)
        for mod, attr in tg.slots:
            rec.slots.setdefault(id(mod), []).append((mod, attr, tg, m))
    rec.current = {(id(mod), attr): m for tg, _ in originals for mod, attr in tg.slots for m in [tg.tensor]}
    try:
        # tensors the init code creates without a device are meta: recorded, then made on the target device
        with torch.device("meta"), _recording(rec):
            body(rec)
            rec.context = "the recorded init code"
            rec.note_assignments(None)
    finally:
        for tg, t in originals:
            tg.set(t)
    return rec.events, keys


def _assign(target: Tensor, value: Tensor) -> Tensor:
    """What ``module.name = value`` does to a parameter or buffer, replayed as a write of its values."""
    return target.copy_(value)


_assign.__qualname__ = "assignment"


def _run_resets(module: nn.Module) -> Callable[[_Recorder], None]:
    def body(rec: _Recorder) -> None:
        for name, m in _post_order(module):
            for meth in ("reset_parameters", "_reset_parameters"):
                f = getattr(m, meth, None)
                if callable(f):
                    rec.context = f"{meth}() of {_owner(name, m)}"
                    _call(rec, f)
                    rec.note_assignments([m])
                    break

    return body


def _run_fn(module: nn.Module, fn: Callable, root_only: bool = False) -> Callable[[_Recorder], None]:
    def body(rec: _Recorder) -> None:
        if root_only:
            rec.context = f"root_fn({_owner('', module)})"
            _call(rec, fn, module)
            return
        for name, m in _post_order(module):
            rec.context = f"fn({_owner(name, m)})"
            _call(rec, fn, m)
            rec.note_assignments([m])

    return body


class NotReplayableError(RuntimeError):
    """Recorded init code did something philoxinit cannot replay on a real device."""


def _call(rec: _Recorder, f, *args) -> None:
    """Run recorded init code; an error names the module whose code raised (same exception type)."""
    try:
        f(*args)
    except NotReplayableError:
        raise
    except Exception as e:
        msg = f"philoxinit: {rec.context} raised while being recorded: {e}"
        try:
            new = type(e)(msg)
        except Exception:
            new = RuntimeError(msg)
        raise new from e
