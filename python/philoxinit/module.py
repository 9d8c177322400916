"""Whole-model initialization: record a module tree's own init code, then replay it as batched fills.

* :func:`init_module` re-initializes a module in place by its own scheme: ``reset_parameters()`` (or
  ``_reset_parameters()``) of every submodule in post-order, as ``Module.apply`` visits them, then
  ``fn(submodule)`` for every submodule (a Hugging Face style ``_init_weights``), then ``root_fn``
  once on the root (torchtitan's ``init_weights``).
* :func:`materialize` turns a meta-device module into a real one on a device (one copy of the
  parameters, never uninitialized memory).
* :func:`deferred_init` builds a module on the meta device while recording its constructor, so that
  :func:`materialize` replays exactly its init.
* :func:`patch` / :func:`unpatch` make ``torch.nn.init`` (and every reference code holds to its
  functions) call philoxinit.

How it works. The init code runs once against meta stand-ins of the parameters and buffers under a
``TorchFunctionMode``; nothing touches real memory. Each write to a parameter or buffer becomes an
event: a *fill* (uniform, normal, truncated normal and the scaled families, recognized from
``torch.nn.init``, ``Tensor.uniform_``/``normal_``, philoxinit and timm), a *constant* (``zero_``,
``fill_``, ``constant_``, ``ones_``, ``zeros_``), any other in-place *op*, or an *assignment* of a new
tensor to its slot. Ops that compute temporaries (allocations, ``torch.cat``, arithmetic, writes to
the temporaries) form a tape. A write that covers the whole tensor and does not read it replaces
every earlier event on that tensor. Replay runs the surviving first writes that read nothing
together, every random fill in one compiled call per device, then the remaining events in recorded
order, each preceded by the part of the tape it reads, recomputed on the target device.

Values are keyed by name (docs/contract.md, "Whole-model init: streams from names"): the Philox key K
is ``seed`` (or drawn once from ``generator`` / torch's default generator), and the stream of a
tensor is :func:`stream_of` its fully qualified name, so values do not depend on construction order,
on which other parameters exist, or on the device.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import warnings
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
from ._references import Swaps
from ._validate import non_overlapping

__all__ = [
    "init_module", "materialize", "deferred_init", "patch", "unpatch", "stream_of", "PatchWarning",
    "NotReplayableError", "TiedWeightsWarning",
]  # fmt: skip

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


_watch = Swaps.watch
_watch(*_TORCH_INIT.values())
_watch(*(getattr(_pinit, n) for n in _PATCHED_NAMES))


# ---- patch() / unpatch() --------------------------------------------------------------------------

_PATCH_STACK: list = []
# torch.nn.init's private helpers that its public functions call (and that some code calls directly):
# replaced too, so an original held where it cannot be rewritten still reaches philoxinit's kernels
_HELPERS = {
    getattr(_TI, name): getattr(_pinit, public)
    for name, public in (
        ("_no_grad_uniform_", "uniform_"), ("_no_grad_normal_", "normal_"),
        ("_no_grad_trunc_normal_", "trunc_normal_"),
    )
    if callable(getattr(_TI, name, None))
}  # fmt: skip


class PatchWarning(UserWarning):
    """patch() found a reference to a torch.nn.init function that it could not replace."""


class _Patch(contextlib.AbstractContextManager):
    def __init__(self) -> None:
        self._swaps: Optional[Swaps] = None

    def _enter(self) -> "_Patch":
        mapping = {_TORCH_INIT[n]: getattr(_pinit, n) for n in _PATCHED_NAMES if n in _TORCH_INIT}
        mapping.update(_HELPERS)
        # the helpers are a safety net: one held elsewhere (torch.jit's table of builtins) is no caller
        swaps = Swaps(private=(_TORCH_INIT,)).replace_everywhere(mapping, quiet=tuple(_HELPERS))
        self._swaps = swaps
        _PATCH_STACK.append(self)
        if swaps.not_replaced:
            warnings.warn(
                "philoxinit.patch: these references to torch.nn.init functions could not be replaced "
                "and still call torch's own code (its private helpers are patched, so the random draws "
                "still come from philoxinit):\n  " + "\n  ".join(swaps.not_replaced),
                PatchWarning,
                stacklevel=3,
            )
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
    deprecated aliases), and the private helpers they call (``_no_grad_uniform_``,
    ``_no_grad_normal_``, ``_no_grad_trunc_normal_``), wherever code holds them: ``torch.nn.init``
    itself, copies in any module (``from torch.nn.init import normal_``, also in ``__main__``), values
    of any dict (tables of init functions, instance and class attributes), list items,
    ``functools.partial`` objects (``partial(nn.init.trunc_normal_, std=0.02)``), closure cells and
    default arguments. A reference it cannot rewrite (inside a tuple) gets a :class:`PatchWarning`
    naming it. Use it as a context manager, or call it and later :func:`unpatch`. Re-entrant:
    leaving restores exactly what was there on entry, also when an exception leaves the block.
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


def _kind(tg) -> str:
    return "parameter" if tg.is_param else "buffer"


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
    swaps = Swaps()
    token = _active.set(rec)
    try:
        if _ORIG_NO_GRAD_TRUNC is not None and _TI.__dict__.get("_no_grad_trunc_normal_") is _ORIG_NO_GRAD_TRUNC:
            swaps.set_attr(_TI, "_no_grad_trunc_normal_", _recorded_trunc)
        swaps.replace_in_modules({**_FUNCTION_LEVEL, **_timm_recorded()}, skip_prefix="philoxinit")
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
                seq=copy.seq, sub=i + 1, kind=e.kind, writes=[dest], fn=e.fn, args=args, kwargs=kwargs,
                independent=e.independent, explicit_key=e.explicit_key, context=copy.context, error=e.error,
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
        for tg, ref in writes:
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


# ---- replay -------------------------------------------------------------------------------------------


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


# ---- public API ------------------------------------------------------------------------------------

_DEFERRED: "weakref.WeakKeyDictionary[nn.Module, list[_Event]]" = weakref.WeakKeyDictionary()


def _key_of(seed, generator) -> int:
    if seed is not None:
        check_u64("seed", seed)
    return resolve_key(seed, generator)


def _check_module(module, what: str) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"philoxinit.{what} takes an nn.Module, got {type(module).__name__}")


def _record_all(module: nn.Module, targets: list, recorded: Optional[list], fn, root_fn, reset_parameters: bool):
    """Events of the init code, in the order it runs: the constructor (deferred_init) or every
    submodule's reset_parameters(), then fn on every submodule, then root_fn on the root."""
    bodies = []
    if recorded is not None:
        keys = {_storage_key(tg.tensor): (tg, tg.tensor) for tg in targets if tg.tensor.is_meta}
        keys.pop(None, None)
        events = list(recorded)
    else:
        events, keys = [], {}
        if reset_parameters:
            bodies.append(_run_resets(module))
    if fn is not None:
        bodies.append(_run_fn(module, fn))
    if root_fn is not None:
        bodies.append(_run_fn(module, root_fn, root_only=True))
    for body in bodies:
        more, more_keys = _record_swapped(targets, body)
        events = _merge(events, more)
        keys.update(more_keys)
    return events, keys


def init_module(
    module: nn.Module,
    fn: Optional[Callable[[nn.Module], None]] = None,
    *,
    root_fn: Optional[Callable[[nn.Module], None]] = None,
    reset_parameters: bool = True,
    seed: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> nn.Module:
    """Re-initialize every parameter and buffer of ``module`` in place by its own scheme.

    Records ``reset_parameters()`` (or ``_reset_parameters()``) of every submodule in post-order
    (unless ``reset_parameters=False``), then ``fn(submodule)`` for every submodule as
    ``Module.apply(fn)`` does, then ``root_fn(module)`` once (a model-level init routine such as
    ``lambda m: m.init_weights()``), without touching memory; then writes the result with batched
    fills. A later whole-tensor write replaces an earlier one. The key is ``seed`` (or drawn once from
    ``generator``, else torch's default generator); each tensor's stream is :func:`stream_of` its
    name. A parameter no recorded code writes is an error that names it; buffers no recorded code
    writes keep their values. Returns ``module``.
    """
    _check_module(module, "init_module")
    targets = _targets(module)
    events, keys = _record_all(module, targets, None, fn, root_fn, reset_parameters)
    lists = _plan(_resolve(events, keys), targets, lambda tg: not tg.is_param and not tg.tensor.is_meta, "init_module")
    device = targets[0].tensor.device if targets else torch.device("cpu")
    _replay(lists, targets, _key_of(seed, generator), device)
    return module


def _merge(first: list[_Event], second: list[_Event]) -> list[_Event]:
    n = max((ev.seq for ev in first), default=-1) + 1
    for ev in second:
        ev.seq += n
    return first + second


def materialize(
    module: nn.Module,
    device: Union[str, torch.device, int] = "cpu",
    fn: Optional[Callable[[nn.Module], None]] = None,
    *,
    root_fn: Optional[Callable[[nn.Module], None]] = None,
    reset_parameters: bool = True,
    seed: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> nn.Module:
    """Turn a meta-device ``module`` into a real one on ``device``, initialized by its own scheme.

    For a module built by :func:`deferred_init`, the init its constructor ran is replayed; otherwise
    ``reset_parameters()`` / ``_reset_parameters()`` of every submodule (skipped with
    ``reset_parameters=False``, for models whose own init routine supersedes it). Then ``fn`` on
    every submodule and ``root_fn`` once on ``module``, as in :func:`init_module`. Init code may
    compute tensors and assign them (``self.cache = precompute(...)``) or write them through
    temporaries (``torch.cat``, ``copy_``, slice assignment): what it computes is replayed on
    ``device``. Each meta tensor is allocated once on ``device`` and written in place; tensors already
    real are moved and keep their values; parameters shared on the meta model stay shared, and a
    :class:`TiedWeightsWarning` says when a model's config declares ties it does not have. Every meta
    tensor must be written by recorded code, or this raises (naming them) before allocating anything:
    it never returns uninitialized memory. Returns ``module``.
    """
    _check_module(module, "materialize")
    device = torch.device(device)
    if device.type == "meta":
        raise ValueError("philoxinit.materialize: device must be a real device, not meta")
    _warn_untied(module)
    targets = _targets(module)
    events, keys = _record_all(module, targets, _DEFERRED.get(module), fn, root_fn, reset_parameters)
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
        _replay(lists, targets, key, device)
    except BaseException:
        for tg, t in old:
            tg.set(t)
        raise
    _DEFERRED.pop(module, None)
    return module


class TiedWeightsWarning(UserWarning):
    """A model's config says two parameters are one, but the module holds two."""


def _warn_untied(module: nn.Module) -> None:
    """Warn where a transformers-style model declares tied weights that are separate tensors (e.g.
    after accelerate's init_empty_weights()): materialize would write them independently."""
    config = getattr(module, "config", None)
    if getattr(config, "tie_word_embeddings", False) is not True:
        return  # the model classes list the ties they support; the config says whether they apply
    pairs = []
    tied = getattr(module, "_tied_weights_keys", None)
    if isinstance(tied, dict):  # {"lm_head.weight": "model.embed_tokens.weight"}
        pairs += [(a, b) for a, b in tied.items() if isinstance(a, str) and isinstance(b, str)]
    try:
        out, inp = module.get_output_embeddings(), module.get_input_embeddings()
    except Exception:
        out = inp = None
    if isinstance(out, nn.Module) and isinstance(inp, nn.Module):
        names = {id(m): n for n, m in module.named_modules(remove_duplicate=False)}
        if id(out) in names and id(inp) in names:
            pairs.append((_join(names[id(out)], "weight"), _join(names[id(inp)], "weight")))
    for a, b in dict.fromkeys(pairs):
        try:
            pa, pb = module.get_parameter(a), module.get_parameter(b)
        except AttributeError:
            continue
        if pa is not pb:
            warnings.warn(
                f"philoxinit.materialize: {type(module).__name__}'s config ties '{a}' to '{b}', but they "
                "are two separate parameters here (accelerate's init_empty_weights() unties them), so "
                "they get independent values; call model.tie_weights() before materialize to share one",
                TiedWeightsWarning,
                stacklevel=3,
            )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def deferred_init(fn: Callable[..., nn.Module], *args, **kwargs) -> nn.Module:
    """Build ``fn(*args, **kwargs)`` on the meta device, recording the init its constructor performs.

    ``materialize`` then replays it (the last whole-tensor write of each tensor, then partial writes
    and other in-place ops in order): recognized fills on philoxinit's kernels (timm's
    ``trunc_normal_``, ``trunc_normal_tf_``, ``variance_scaling_`` and ``lecun_normal_`` included),
    tensors the constructor computes (``nn.Parameter(1e-5 * torch.ones(n))``, rotary frequency
    buffers, ``torch.randn(...) * 0.02``) recomputed on the target device, any other op with torch.
    """
    rec = _Recorder()
    rec.context = f"the constructor {getattr(fn, '__qualname__', fn)}(...)"
    with torch.device("meta"), _recording(rec):
        module = fn(*args, **kwargs)
    _check_module(module, "deferred_init")
    _DEFERRED[module] = rec.events
    return module
