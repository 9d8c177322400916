"""Whole-model initialization: record a module tree's own init code, then replay it as batched fills.

* :func:`init_module` re-initializes a module in place by its own scheme: ``reset_parameters()`` (or
  ``_reset_parameters()``) of every submodule in post-order, as ``Module.apply`` visits them, then
  ``fn(submodule)`` for every submodule (a Hugging Face style ``_init_weights``).
* :func:`materialize` turns a meta-device module into a real one on a device (one copy of the
  parameters, never uninitialized memory).
* :func:`deferred_init` builds a module on the meta device while recording the init calls its
  constructor makes, so that :func:`materialize` replays exactly them.
* :func:`patch` / :func:`unpatch` make ``torch.nn.init`` (and copies of its functions held by imported
  modules) call philoxinit.

How it works. The init code runs once against meta stand-ins of the parameters and buffers under a
``TorchFunctionMode``; nothing touches real memory. Each write to a parameter or buffer becomes an
event: a *fill* (uniform, normal, truncated normal and the scaled families, recognized from
``torch.nn.init``, ``Tensor.uniform_``/``normal_``, philoxinit and timm), a *constant* (``zero_``,
``fill_``, ``constant_``, ``ones_``, ``zeros_``) or any other in-place *op* (kept with its arguments and
replayed with torch, in order). A write that covers the whole tensor and does not read it replaces
every earlier event on that tensor. Replay runs the surviving first writes of all tensors together,
every random fill in one compiled call per device, then the remaining events in recorded order.

Values are keyed by name (docs/contract.md, "Whole-model init: streams from names"): the Philox key K
is ``seed`` (or drawn once from ``generator`` / torch's default generator), and the stream of a
tensor is :func:`stream_of` its fully qualified name, so values do not depend on construction order,
on which other parameters exist, or on the device.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Union

import torch
import torch.nn as nn
from torch import Tensor
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree as pytree

from . import _backend
from . import init as _pinit
from ._keys import check_u64, mix64, resolve_key
from ._validate import non_overlapping

__all__ = ["init_module", "materialize", "deferred_init", "patch", "unpatch", "stream_of"]

_U64 = (1 << 64) - 1

# ---- streams from names --------------------------------------------------------------------------


def stream_of(name: str, n: int = 0) -> int:
    """The Philox stream S of the tensor named ``name`` (its fully qualified name in the module).

    ``S = int.from_bytes(BLAKE2b(data, digest_size=8), "little")`` with ``data`` the UTF-8 bytes of
    ``name``; for the ``n``-th (n >= 1) surviving random fill of the same tensor, ``data`` is
    ``name`` + ``b"\\x00"`` + the ASCII decimal digits of ``n`` (docs/contract.md).
    """
    if not isinstance(name, str):
        raise TypeError(f"stream_of takes a str name, got {type(name).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"stream_of: n must be an int >= 0, got {n!r}")
    data = name.encode("utf-8")
    if n:
        data += b"\x00" + str(n).encode("ascii")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _torch_rng_seed(key: int, stream: int, index: int) -> int:
    """Seed of torch's generator while an op torch replays runs (keyed like the fills)."""
    return mix64(key ^ mix64(stream ^ mix64(index + 1)))


# ---- the originals ---------------------------------------------------------------------------------

_TI = torch.nn.init
# torch.nn.init as imported (before anyone patches it): the functions philoxinit replaces.
_TORCH_INIT = {
    name: getattr(_TI, name)
    for name in (
        "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
        "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
        "sparse_", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
        "kaiming_normal", "orthogonal", "sparse", "constant", "eye", "dirac",
    )
    if hasattr(_TI, name)
}  # fmt: skip
# what patch() installs: the functions with a philoxinit kernel (and their deprecated aliases)
_PATCHED_NAMES = (
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
    "kaiming_normal",
)  # fmt: skip


# ---- replacing a function everywhere it is referenced ---------------------------------------------


class _Swaps:
    """Replace functions by identity: as attributes of loaded modules (``from torch.nn.init import
    uniform_`` copies included) and as values of small module-level dicts (tables of init functions).
    ``restore()`` puts back exactly what was replaced, in reverse order."""

    _cache: dict = {}  # id(module) -> (module, dict size, [(container, key)]) of references to originals
    _lock = threading.Lock()
    _MAX_DICT = 256

    def __init__(self) -> None:
        self._undo: list = []

    def _locations(self, wanted: set) -> Iterator[tuple[Any, Any]]:
        modules = []
        for name, mod in list(sys.modules.items()):
            if mod is None or name == __name__ or name.startswith("philoxinit."):
                continue
            d = getattr(mod, "__dict__", None)
            if isinstance(d, dict):
                modules.append((mod, d))
        namespaces = {id(d) for _, d in modules}  # scanned as modules, not again as small dicts
        for mod, d in modules:
            hit = self._cache.get(id(mod))
            if hit is None or hit[0] is not mod or hit[1] != len(d) or hit[3] != _WATCH_VERSION[0]:
                hit = (mod, len(d), self._scan(d, namespaces), _WATCH_VERSION[0])
                self._cache[id(mod)] = hit
            for container, k in hit[2]:
                if id(container.get(k)) in wanted:
                    yield container, k

    @classmethod
    def _scan(cls, d: dict, namespaces: set) -> list:
        """(container, key) of every watched function in a module's dict or its small dicts (other
        than module namespaces, such as every module's ``__builtins__``: half the first scan's time)."""
        watched = _ALL_WATCHED
        found = []
        values = list(d.values())
        if not watched.isdisjoint(map(id, values)):
            found += [(d, k) for k, v in list(d.items()) if id(v) in watched]
        for v in [v for v in values if type(v) is dict]:
            if (0 < len(v) <= cls._MAX_DICT and id(v) not in namespaces
                    and not watched.isdisjoint(map(id, v.values()))):
                found += [(v, k) for k, x in list(v.items()) if id(x) in watched]
        return found

    def replace(self, mapping: dict) -> "_Swaps":
        """``mapping``: original function -> replacement."""
        by_id = {id(k): v for k, v in mapping.items()}
        with self._lock:
            for container, k in list(self._locations(set(by_id))):
                old = container[k]
                container[k] = by_id[id(old)]
                self._undo.append((container, k, old))
        return self

    def set_attr(self, obj, name: str, value) -> "_Swaps":
        self._undo.append((obj.__dict__, name, obj.__dict__[name]))
        setattr(obj, name, value)
        return self

    def restore(self) -> None:
        while self._undo:
            container, k, old = self._undo.pop()
            container[k] = old


def _timm_functions() -> dict:
    """timm's init functions (when timm is loaded) -> philoxinit equivalents with timm's signatures."""
    mod = sys.modules.get("timm.layers.weight_init")
    if mod is None:
        return {}

    def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        return _pinit.trunc_normal_(tensor, mean, std, a, b)

    def trunc_normal_tf_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        # timm: N(0, 1) truncated to [a, b], then scaled by std and shifted by mean
        return _pinit.trunc_normal_(tensor, mean, std, mean + a * std, mean + b * std)

    def variance_scaling_(tensor, scale=1.0, mode="fan_in", distribution="normal"):
        return _pinit.variance_scaling_(tensor, scale, mode, distribution)

    def lecun_normal_(tensor):
        return _pinit.lecun_normal_(tensor)

    ours = {
        "trunc_normal_": trunc_normal_,
        "trunc_normal_tf_": trunc_normal_tf_,
        "variance_scaling_": variance_scaling_,
        "lecun_normal_": lecun_normal_,
    }
    return {getattr(mod, n): f for n, f in ours.items() if callable(getattr(mod, n, None))}


# ids of every function _Swaps replaces or installs (so a cached scan finds them in either state)
_ALL_WATCHED: set = set()
_WATCH_VERSION = [0]


def _watch(*fns) -> None:
    new = {id(f) for f in fns} - _ALL_WATCHED
    if new:
        _ALL_WATCHED.update(new)
        _WATCH_VERSION[0] += 1


_watch(*_TORCH_INIT.values())
_watch(*(getattr(_pinit, n) for n in _PATCHED_NAMES))


# ---- patch() / unpatch() --------------------------------------------------------------------------

_PATCH_STACK: list = []


class _Patch(contextlib.AbstractContextManager):
    def __init__(self) -> None:
        self._swaps: Optional[_Swaps] = None

    def _enter(self) -> "_Patch":
        mapping = {_TORCH_INIT[n]: getattr(_pinit, n) for n in _PATCHED_NAMES if n in _TORCH_INIT}
        self._swaps = _Swaps().replace(mapping)
        _PATCH_STACK.append(self)
        return self

    def __enter__(self) -> "_Patch":
        if self._swaps is None:
            self._enter()
        return self

    def __exit__(self, *exc) -> None:
        self.undo()

    def undo(self) -> None:
        if self._swaps is None:
            return
        if _PATCH_STACK and _PATCH_STACK[-1] is self:
            _PATCH_STACK.pop()
        elif self in _PATCH_STACK:
            raise RuntimeError("philoxinit.unpatch: undo patches in reverse order (an inner patch is still active)")
        self._swaps.restore()
        self._swaps = None


def patch() -> _Patch:
    """Make ``torch.nn.init``'s random functions call philoxinit.

    Replaces ``uniform_``, ``normal_``, ``trunc_normal_``, ``xavier_*``, ``kaiming_*`` (and their
    deprecated aliases) in ``torch.nn.init`` and wherever a loaded module holds a copy (``from
    torch.nn.init import normal_``, or a module-level table of init functions). Use it as a context
    manager, or call it and later :func:`unpatch`. Re-entrant: leaving restores exactly what was there
    on entry, also when an exception leaves the block.
    """
    return _Patch()._enter()


def unpatch() -> None:
    """Undo the most recent :func:`patch` still active."""
    if not _PATCH_STACK:
        raise RuntimeError("philoxinit.unpatch: no patch() is active")
    _PATCH_STACK[-1].undo()


# ---- recording -------------------------------------------------------------------------------------


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
    kind: str  # "fill" | "const" | "op"
    writes: list  # the meta tensors written (views of parameters / buffers)
    fn: Any  # fill: philoxinit function name; const: value; op: callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    independent: bool = False  # does not read what it overwrites
    explicit_key: bool = False  # a philoxinit call that passed its own seed=
    context: str = ""
    error: Optional[str] = None  # why it cannot be replayed
    sub: int = 0  # position among the events a copy from a temporary expands into

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
    "refine_names", "align_to", "pin_memory", "record_stream", "_coalesced_", "share_memory_",
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


_active: ContextVar[Optional["_Recorder"]] = ContextVar("philoxinit_recorder", default=None)


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


def _meta_like(x):
    if isinstance(x, Tensor) and not x.is_meta:
        return torch.empty_strided(x.size(), x.stride(), dtype=x.dtype, device="meta")
    return x


class _Recorder(TorchFunctionMode):
    """Records writes to tracked meta tensors (``tracked``: storage keys; None: every meta tensor)."""

    def __init__(self, tracked: Optional[set]) -> None:
        super().__init__()
        self.tracked = tracked
        self.events: list[_Event] = []
        self.context = "recording"

    def key(self, t) -> Optional[int]:
        k = _storage_key(t)
        if k is None or (self.tracked is not None and k not in self.tracked):
            return None
        return k

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
        hits = [w for w in _written(func, args, kwargs) if self.key(w) is not None]
        if not hits:
            return func(*args, **kwargs)
        try:
            result = func(*args, **kwargs)  # on meta tensors: shapes are checked, no memory is touched
        except Exception:
            # a real operand beside a meta one (e.g. meta.mul_(cpu_tensor)): check shapes on meta
            margs, mkwargs = pytree.tree_map(_meta_like, (args, kwargs))
            result = func(*margs, **mkwargs)
        name = getattr(func, "__name__", "")
        independent = (
            name == "copy_" and len(hits) == 1 and hits[0] is args[0]
            and not (isinstance(args[1], Tensor) and args[1].is_meta)
        )  # fmt: skip
        self._add(kind="op", writes=hits, fn=func, args=tuple(args), kwargs=dict(kwargs), independent=independent)
        return result

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
        rec = _active.get()
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
    rec = _active.get()
    if rec is not None and rec.key(tensor) is not None:
        return _pinit.trunc_normal_(tensor, mean, std, a, b)  # seen (and recorded) by the mode
    return _ORIG_NO_GRAD_TRUNC(tensor, mean, std, a, b, generator=generator)


_ORIG_NO_GRAD_TRUNC = getattr(_TI, "_no_grad_trunc_normal_", None)
_FUNCTION_LEVEL = {
    _TORCH_INIT[n]: _function_level(_TORCH_INIT[n]) for n in ("orthogonal_", "sparse_", "eye_", "dirac_") if n in _TORCH_INIT
}
_watch(*_FUNCTION_LEVEL.values())


_TIMM_WRAPPERS: dict = {}  # id(timm function) -> (timm function, recording stand-in)


def _timm_recorded() -> dict:
    """timm's init functions -> philoxinit's when the tensor is recorded, timm's own otherwise."""
    out = {}
    for orig, ours in _timm_functions().items():
        hit = _TIMM_WRAPPERS.get(id(orig))
        if hit is not None and hit[0] is orig:
            out[orig] = hit[1]
            continue

        def make(orig=orig, ours=ours):
            def f(tensor, *args, **kwargs):
                rec = _active.get()
                if rec is not None and rec.key(tensor) is not None:
                    return ours(tensor, *args, **kwargs)
                return orig(tensor, *args, **kwargs)

            f.__name__, f.__wrapped__ = orig.__name__, orig
            return f

        out[orig] = make()
        _TIMM_WRAPPERS[id(orig)] = (orig, out[orig])
        _watch(orig, out[orig])
    return out


@contextlib.contextmanager
def _recording(rec: _Recorder):
    swaps = _Swaps()
    token = _active.set(rec)
    try:
        if _ORIG_NO_GRAD_TRUNC is not None and _TI.__dict__.get("_no_grad_trunc_normal_") is _ORIG_NO_GRAD_TRUNC:
            swaps.set_attr(_TI, "_no_grad_trunc_normal_", _recorded_trunc)
        swaps.replace({**_FUNCTION_LEVEL, **_timm_recorded()})
        with rec:
            yield rec
    finally:
        swaps.restore()
        _active.reset(token)


# ---- the tensors of a module ------------------------------------------------------------------------


@dataclass
class _Target:
    name: str  # fully qualified name (the first one, for tied tensors)
    tensor: Tensor
    is_param: bool
    owner: str  # "Linear 'blocks.0.fc'"
    slots: list = field(default_factory=list)  # (module, attribute name)

    def set(self, value: Tensor) -> None:
        for mod, attr in self.slots:
            (mod._parameters if self.is_param else mod._buffers)[attr] = value
        self.tensor = value


def _owner(mod_name: str, mod: nn.Module) -> str:
    return f"{type(mod).__name__} '{mod_name}'" if mod_name else f"{type(mod).__name__} (the root module)"


def _targets(module: nn.Module) -> list[_Target]:
    by_id: dict[int, _Target] = {}
    seen_slots = set()
    for mod_name, mod in module.named_modules(remove_duplicate=False):
        for is_param, table in ((True, mod._parameters), (False, mod._buffers)):
            for attr, t in table.items():
                if t is None or (id(mod), attr) in seen_slots:
                    continue
                seen_slots.add((id(mod), attr))
                tg = by_id.get(id(t))
                if tg is None:
                    fqn = f"{mod_name}.{attr}" if mod_name else attr
                    if isinstance(t, nn.parameter.UninitializedTensorMixin):
                        raise TypeError(
                            f"philoxinit: {_owner(mod_name, mod)} has an uninitialized lazy tensor "
                            f"'{fqn}'; run a forward pass (or give it a shape) before initializing"
                        )
                    tg = by_id[id(t)] = _Target(fqn, t, is_param, _owner(mod_name, mod))
                tg.slots.append((mod, attr))
    return list(by_id.values())


def _post_order(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    """(name, submodule) as ``Module.apply`` visits them: children first, then the module."""
    for name, child in module._modules.items():
        if child is not None:
            yield from _post_order(child, f"{prefix}.{name}" if prefix else name)
    yield prefix, module


def _record_swapped(targets: list[_Target], body: Callable[[_Recorder], None]) -> tuple[list, dict]:
    """Run ``body`` with meta stand-ins in place of ``targets``; returns (events, storage key -> target)."""
    originals = [(tg, tg.tensor) for tg in targets]
    keys: dict[int, tuple[_Target, Tensor]] = {}
    stand_ins = []
    for tg, t in originals:
        m = torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device="meta")
        if tg.is_param:
            m = nn.Parameter(m, requires_grad=t.requires_grad)
        keys[_storage_key(m)] = (tg, m)
        stand_ins.append(m)
        tg.set(m)
    rec = _Recorder(None)  # every meta tensor: writes to temporaries copied in later count (_retarget)
    try:
        with _recording(rec):
            body(rec)
        for (tg, _), m in zip(originals, stand_ins):
            for mod, attr in tg.slots:
                now = (mod._parameters if tg.is_param else mod._buffers).get(attr)
                if now is not m:
                    raise RuntimeError(
                        f"philoxinit: {rec.context} replaced '{tg.name}' with a new tensor instead of "
                        "writing it in place; philoxinit can only record in-place writes"
                    )
    finally:
        for tg, t in originals:
            tg.set(t)
    return rec.events, keys


def _run_resets(module: nn.Module) -> Callable[[_Recorder], None]:
    def body(rec: _Recorder) -> None:
        for name, m in _post_order(module):
            for meth in ("reset_parameters", "_reset_parameters"):
                f = getattr(m, meth, None)
                if callable(f):
                    rec.context = f"{meth}() of {_owner(name, m)}"
                    _call(rec, f)
                    break

    return body


def _run_fn(module: nn.Module, fn: Callable) -> Callable[[_Recorder], None]:
    def body(rec: _Recorder) -> None:
        for name, m in _post_order(module):
            rec.context = f"fn({_owner(name, m)})"
            _call(rec, fn, m)

    return body


def _call(rec: _Recorder, f, *args) -> None:
    """Run recorded init code; an error names the module whose code raised (same exception type)."""
    try:
        f(*args)
    except Exception as e:
        msg = f"philoxinit: {rec.context} raised while being recorded: {e}"
        try:
            new = type(e)(msg)
        except Exception:
            new = RuntimeError(msg)
        raise new from e


# ---- from events to a replay plan ------------------------------------------------------------------


@dataclass
class _Ref:
    """A tensor argument of a recorded op: a view of a target (its geometry relative to the target)."""

    target: _Target
    size: tuple
    stride: tuple
    rel_offset: int
    full: bool  # the target itself (same geometry)
    base_stride: tuple

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
    return _Ref(tg, size, stride, rel, full, tuple(base.stride()))


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


def _retarget(events: list[_Event], keys: dict) -> list[_Event]:
    """Writes to temporaries that are then copied into a parameter count as writes to the parameter.

    ``tmp = torch.empty_like(w, memory_format=...); init.kaiming_uniform_(tmp); w.copy_(tmp)`` (what
    Conv does for channels_last weights) becomes ``kaiming_uniform_(w)``: since values depend on the
    logical index only, the bits are the same. Only whole-tensor events of a temporary of the same
    shape and dtype are moved; anything else stays a copy from a temporary (an error if it survives).
    """
    out: list[_Event] = []
    temps: dict[int, list[_Event]] = {}
    for ev in events:
        ks = [_storage_key(w) for w in ev.writes]
        if ks and all(k is not None and k not in keys for k in ks):  # writes temporaries only
            for w, k in zip(ev.writes, ks):
                if ev.independent and len(ev.writes) == 1 and _whole_storage(w):
                    temps[k] = [ev]
                else:
                    temps.setdefault(k, []).append(ev)
            continue
        src = ev.args[1] if ev.kind == "op" and len(ev.args) == 2 and not ev.kwargs else None
        k = _storage_key(src)
        if getattr(ev.fn, "__name__", "") == "copy_" and len(ev.writes) == 1 and k is not None and k not in keys:
            moved = _moved(ev, src, temps.get(k, []), keys)
            if moved is not None:
                out.extend(moved)
                continue
        out.append(ev)
    return out


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
                seq=copy.seq, sub=i + 1, kind=e.kind, writes=[dest], fn=e.fn, args=args, kwargs=kwargs,
                independent=e.independent, explicit_key=e.explicit_key, context=copy.context, error=e.error,
            )  # fmt: skip
        )
    return moved


@dataclass
class _Step:
    event: _Event
    target: _Target
    ref: _Ref  # where it writes
    args: tuple
    kwargs: dict
    error: Optional[str] = None


def _resolve(events: list[_Event], keys: dict) -> list[tuple[_Event, list[tuple[_Target, _Ref]], tuple, dict, Optional[str]]]:
    """Events whose writes land on targets, with their tensor arguments turned into _Refs."""
    out = []
    for ev in _retarget(events, keys):
        writes = []
        for w in ev.writes:
            hit = keys.get(_storage_key(w))
            if hit is not None:
                writes.append((hit[0], _make_ref(w, hit[0], hit[1])))
        if not writes:
            continue  # a temporary
        error = ev.error
        for tg, ref in writes:
            if isinstance(ref, str):
                error = f"it writes through {ref}"

        def conv(x):
            nonlocal error
            if isinstance(x, Tensor) and x.is_meta:
                hit = keys.get(_storage_key(x))
                if hit is None:
                    error = error or (
                        "it reads a tensor that exists only on the meta device (computed during init, "
                        "not a parameter or buffer)"
                    )
                    return x
                r = _make_ref(x, hit[0], hit[1])
                if isinstance(r, str):
                    error = error or f"it reads {r}"
                    return x
                return r
            return x

        args, kwargs = (), {}
        if ev.kind == "op":
            args, kwargs = pytree.tree_map(conv, (ev.args, ev.kwargs))
        out.append((ev, [(tg, r) for tg, r in writes if not isinstance(r, str)] or [], args, kwargs, error))
    return out


def _plan(resolved, targets: list[_Target], allow_unwritten: Callable[[_Target], bool], what: str):
    """Per target, its surviving events; raises for unwritten tensors and unreplayable events."""
    lists: dict[int, list] = {id(tg): [] for tg in targets}
    for ev, writes, args, kwargs, error in resolved:
        if not writes and error:
            raise RuntimeError(f"philoxinit: cannot replay {_describe(ev)} in {ev.context}: {error}")
        for tg, ref in writes:
            step = _Step(ev, tg, ref, args, kwargs, error)
            overwrite = ev.independent and len(writes) == 1 and _covers(ref, tg.tensor) and error is None
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
        if not (first.event.independent and _covers(first.ref, tg.tensor)):
            if not allow_unwritten(tg):
                partial.append((tg, first))
        for st in steps:
            if st.error:
                raise RuntimeError(
                    f"philoxinit: cannot replay {_describe(st.event)} on '{tg.name}' (in {st.event.context}): "
                    f"{st.error}. Initialize '{tg.name}' with a later write that philoxinit can replay "
                    "(a torch.nn.init call or an in-place op on it), e.g. in fn."
                )
    if unwritten or partial:
        lines = [f"  '{tg.name}' ({'parameter' if tg.is_param else 'buffer'} of {tg.owner})" for tg in unwritten]
        lines += [
            f"  '{tg.name}' ({'parameter' if tg.is_param else 'buffer'} of {tg.owner}): only partly written "
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
    written: dict[int, set] = {}
    surviving: dict[int, set] = {}
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
            raise RuntimeError(
                f"philoxinit: {_describe(ev)} in {ev.context} writes several tensors, and a later write "
                "replaces it on only some of them; philoxinit cannot replay it on the others alone"
            )
    return lists


def _describe(ev: _Event) -> str:
    if ev.kind == "fill":
        return f"{ev.fn}()"
    if ev.kind == "const":
        return f"a fill with {ev.fn}"
    return f"{getattr(ev.fn, '__qualname__', getattr(ev.fn, '__name__', repr(ev.fn)))}()"


# ---- replay -------------------------------------------------------------------------------------------


def _replay(lists: dict, targets: list[_Target], key: int) -> None:
    streams = {id(tg): stream_of(tg.name) for tg in targets}
    fill_index: dict[int, int] = {}

    def run_fill(st: _Step) -> None:
        kw = dict(st.event.kwargs)
        n = fill_index.get(id(st.target), 0)
        fill_index[id(st.target)] = n + 1
        if not st.event.explicit_key:
            kw["seed"] = key
            kw["stream"] = streams[id(st.target)] if n == 0 else stream_of(st.target.name, n)
        getattr(_pinit, st.event.fn)(st.ref.resolve(), **kw)

    def run_other(st: _Step, index: int) -> None:
        ev = st.event
        if ev.kind == "const":
            st.ref.resolve().fill_(ev.fn)
            return
        args, kwargs = pytree.tree_map(lambda x: x.resolve() if isinstance(x, _Ref) else x, (st.args, st.kwargs))
        dev = st.target.tensor.device
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
        seed = _torch_rng_seed(key, streams[id(st.target)], index)
        with torch.random.fork_rng(devices=devices):
            torch.default_generator.manual_seed(seed)
            if devices:
                torch.cuda.default_generators[devices[0]].manual_seed(seed)
            ev.fn(*args, **kwargs)

    with torch.no_grad():
        # 1. the first (whole-tensor) write of every tensor: random fills batched, one call per device
        firsts = [steps[0] for steps in lists.values() if steps and steps[0].event.independent]
        with _backend.collect_fills() as batch:
            for st in firsts:
                if st.event.kind == "fill":
                    run_fill(st)
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
                run_other(st, 0)
            done.add(id(st))
        # 2. everything else, in recorded order
        rest = sorted(
            ((st.event.order, i, st) for steps in lists.values() for i, st in enumerate(steps) if id(st) not in done),
            key=lambda x: (x[0], x[1]),
        )
        ran = set()
        for seq, i, st in rest:
            if seq in ran:
                continue  # an op writing several tensors runs once
            ran.add(seq)
            if st.event.kind == "fill":
                run_fill(st)
            else:
                run_other(st, i)
    for tg in targets:
        if tg.is_param or tg.tensor.requires_grad:
            torch.autograd.graph.increment_version(tg.tensor)


# ---- public API ------------------------------------------------------------------------------------

_DEFERRED: "weakref.WeakKeyDictionary[nn.Module, list[_Event]]" = weakref.WeakKeyDictionary()


def _key_of(seed, generator) -> int:
    if seed is not None:
        check_u64("seed", seed)
    return resolve_key(seed, generator)


def _check_module(module, what: str) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"philoxinit.{what} takes an nn.Module, got {type(module).__name__}")


def init_module(
    module: nn.Module,
    fn: Optional[Callable[[nn.Module], None]] = None,
    *,
    seed: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> nn.Module:
    """Re-initialize every parameter and buffer of ``module`` in place by its own scheme.

    Records ``reset_parameters()`` (or ``_reset_parameters()``) of every submodule in post-order, then
    ``fn(submodule)`` for every submodule as ``Module.apply`` does, without touching memory; then
    writes the result with batched fills. A later whole-tensor write replaces an earlier one. The key
    is ``seed`` (or drawn once from ``generator``, else torch's default generator); each tensor's
    stream is :func:`stream_of` its name. A parameter no recorded code writes is an error that names
    it; buffers no recorded code writes keep their values. Returns ``module``.
    """
    _check_module(module, "init_module")
    targets = _targets(module)
    events, keys = _record_swapped(targets, _run_resets(module))
    if fn is not None:
        more, keys2 = _record_swapped(targets, _run_fn(module, fn))
        events = _merge(events, more)
        keys.update(keys2)
    lists = _plan(_resolve(events, keys), targets, lambda tg: not tg.is_param and not tg.tensor.is_meta, "init_module")
    _replay(lists, targets, _key_of(seed, generator))
    return module


def _merge(first: list[_Event], second: list[_Event]) -> list[_Event]:
    n = len(first)
    for ev in second:
        ev.seq += n
    return first + second


def materialize(
    module: nn.Module,
    device: Union[str, torch.device, int] = "cpu",
    fn: Optional[Callable[[nn.Module], None]] = None,
    *,
    seed: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> nn.Module:
    """Turn a meta-device ``module`` into a real one on ``device``, initialized by its own scheme.

    For a module built by :func:`deferred_init`, the init calls its constructor made are replayed;
    otherwise ``reset_parameters()`` / ``_reset_parameters()`` of every submodule. Then ``fn`` as in
    :func:`init_module`. Each meta tensor is allocated once on ``device`` and written in place (peak
    memory: one copy of the parameters); tensors already real are moved and keep their values; tied
    parameters stay tied. Every meta tensor must be written by recorded code, or this raises (naming
    them) before allocating anything: it never returns uninitialized memory. Returns ``module``.
    """
    _check_module(module, "materialize")
    device = torch.device(device)
    if device.type == "meta":
        raise ValueError("philoxinit.materialize: device must be a real device, not meta")
    targets = _targets(module)
    recorded = _DEFERRED.get(module)
    if recorded is not None:
        keys = {_storage_key(tg.tensor): (tg, tg.tensor) for tg in targets if tg.tensor.is_meta}
        keys.pop(None, None)
        events = list(recorded)
    else:
        events, keys = _record_swapped(targets, _run_resets(module))
    if fn is not None:
        more, keys2 = _record_swapped(targets, _run_fn(module, fn))
        events = _merge(events, more)
        keys.update(keys2)
    lists = _plan(_resolve(events, keys), targets, lambda tg: not tg.tensor.is_meta, "materialize")
    key = _key_of(seed, generator)
    old = [(tg, tg.tensor) for tg in targets]
    try:
        for tg, t in old:
            if t.is_meta:
                new = torch.empty_like(t, device=device)
            else:
                new = t.detach().to(device)
            if tg.is_param:
                p = nn.Parameter(new, requires_grad=t.requires_grad)
                p.__dict__.update({k: v for k, v in getattr(t, "__dict__", {}).items()})
                new = p
            tg.set(new)
        _replay(lists, targets, key)
    except BaseException:
        for tg, t in old:
            tg.set(t)
        raise
    _DEFERRED.pop(module, None)
    return module


def deferred_init(fn: Callable[..., nn.Module], *args, **kwargs) -> nn.Module:
    """Build ``fn(*args, **kwargs)`` on the meta device, recording the init its constructor performs.

    ``materialize`` then replays exactly those writes (the last whole-tensor write of each tensor, then
    partial writes and other in-place ops in order): recognized fills on philoxinit's kernels (timm's
    ``trunc_normal_``, ``trunc_normal_tf_``, ``variance_scaling_`` and ``lecun_normal_`` included),
    any other in-place op replayed with torch. Tensors the constructor computes rather than writes in
    place (``nn.Parameter(torch.ones(n))``, rotary frequency buffers) are not recorded: give
    ``materialize`` an ``fn`` that initializes them.
    """
    rec = _Recorder(None)
    rec.context = f"the constructor {getattr(fn, '__qualname__', fn)}(...)"
    with torch.device("meta"), _recording(rec):
        module = fn(*args, **kwargs)
    _check_module(module, "deferred_init")
    _DEFERRED[module] = rec.events
    return module
