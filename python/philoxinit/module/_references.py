"""Replacing a function everywhere code holds it, and putting back exactly what was there.

Two ways to find the holders:

* :meth:`Swaps.replace_in_modules` looks at the namespaces of loaded modules and the small dicts they
  hold (``from torch.nn.init import normal_``, tables of init functions). Fast (cached per module),
  used while recording init code.
* :meth:`Swaps.replace_everywhere` asks the garbage collector for every object that refers to the
  functions (one pass over all objects) and rewrites each kind of holder in place: dict values
  (module namespaces, instance ``__dict__``s, class attributes through ``setattr``), list items,
  ``functools.partial`` objects (``partial(nn.init.trunc_normal_, std=...)``, through the state
  ``partial.__setstate__`` takes), closure cells and functions' default arguments. Holders that
  cannot be rewritten in place (a tuple stored elsewhere, a frozen object) are reported by
  description, never silently skipped.

A module reachable under several names (``__main__`` is also ``__mp_main__`` once torch's
multiprocessing has been imported) has one namespace, and each holder is rewritten once.
"""

from __future__ import annotations

import functools
import gc
import sys
import types
from typing import Any, Iterator

from ._state import STATE

# dict keys never rewritten: a wrapper's ``__wrapped__`` names what it wraps, not what it calls
_SKIP_KEYS = frozenset({"__wrapped__"})


def _owner_names() -> dict:
    """id(namespace dict) -> module name (the first name a module is loaded under)."""
    out = {}
    for name, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if isinstance(d, dict):
            out.setdefault(id(d), name)
    return out


class Swaps:
    """A set of replacements, undone in reverse order by :meth:`restore`."""

    _MAX_DICT = 256

    def __init__(self, private: tuple = ()) -> None:
        self._undo: list[_Undo] = []
        self._private = {id(c) for c in private}  # containers never rewritten (the caller's own tables)
        self.not_replaced: list[str] = []  # holders that could not be rewritten, described

    @classmethod
    def watch(cls, *fns) -> None:
        new = {id(f) for f in fns} - STATE.watched
        if new:
            STATE.watched.update(new)
            STATE.watch_version += 1

    # -- module namespaces (cached) -----------------------------------------------------------------

    def _module_locations(self, skip_prefix: str) -> Iterator[tuple[dict, Any]]:
        modules, seen = [], set()
        for name, mod in list(sys.modules.items()):
            if mod is None or name.startswith(skip_prefix):
                continue
            d = getattr(mod, "__dict__", None)
            if isinstance(d, dict) and id(d) not in seen:  # one namespace under several names: once
                seen.add(id(d))
                modules.append((mod, d))
        for mod, d in modules:
            hit = STATE.scan_cache.get(id(mod))
            if hit is None or hit[0] is not mod or hit[1] != len(d) or hit[2] != STATE.watch_version:
                hit = (mod, len(d), STATE.watch_version, self._scan(d, seen))
                STATE.scan_cache[id(mod)] = hit
            yield from hit[3]

    @classmethod
    def _scan(cls, d: dict, namespaces: set) -> list:
        """(container, key) of every watched function in a module's dict or its small dicts (other
        than module namespaces, such as every module's ``__builtins__``)."""
        watched = STATE.watched
        found = []
        values = list(d.values())
        if not watched.isdisjoint(map(id, values)):
            found += [(d, k) for k, v in list(d.items()) if id(v) in watched]
        for v in [v for v in values if type(v) is dict]:
            if 0 < len(v) <= cls._MAX_DICT and id(v) not in namespaces and not watched.isdisjoint(map(id, v.values())):
                found += [(v, k) for k, x in list(v.items()) if id(x) in watched]
        return found  # fmt: skip

    def replace_in_modules(self, mapping: dict, skip_prefix: str) -> Swaps:
        """``mapping``: original -> replacement, in the namespaces of modules not named ``skip_prefix*``."""
        by_id = {id(k): v for k, v in mapping.items()}
        with STATE.swap_lock:
            done = set()
            for container, k in list(self._module_locations(skip_prefix)):
                if (id(container), k) in done or id(container) in self._private:
                    continue
                done.add((id(container), k))
                old = container.get(k)
                if id(old) in by_id:
                    self._set_item(container, k, by_id[id(old)])
        return self

    # -- every holder (garbage collector) -----------------------------------------------------------

    def replace_everywhere(self, mapping: dict, quiet: tuple = ()) -> Swaps:
        """``mapping``: original -> replacement, in every object that refers to an original. Holders
        that cannot be rewritten are listed in ``not_replaced``, except those of ``quiet`` functions."""
        quiet = {id(f) for f in quiet}
        by_id = {id(k): v for k, v in mapping.items()}
        with STATE.swap_lock:
            holders = gc.get_referrers(*mapping)
            names = _owner_names()
            classes = _class_dicts([
                h for h in holders
                if type(h) is dict and id(h) not in names and not by_id.keys().isdisjoint(map(id, h.values()))
            ])  # fmt: skip
            tuples: list = []
            for h in holders:
                if id(h) in self._private or h is by_id or h is mapping or type(h) is _Undo:
                    continue
                if type(h) is tuple:
                    tuples.append(h)
                    continue
                try:
                    self._rewrite(h, by_id, names, classes, quiet, mapping)
                except Exception as e:  # a holder that refuses the write: named, never fatal
                    fn = next((f for f in mapping if any(x is f for x in gc.get_referents(h))), None)
                    self.not_replaced.append(f"{_name_of(fn)} held by a {type(h).__qualname__} object ({e})")
            self._tuples(tuples, by_id, quiet)
        return self

    def _rewrite(self, h, by_id: dict, names: dict, classes: dict, quiet: set, mapping: dict) -> None:
        if type(h) is dict:
            if names.get(id(h), "").startswith("philoxinit"):
                return  # philoxinit's own references to the originals
            hits = [(k, v) for k, v in list(h.items()) if id(v) in by_id and k not in _SKIP_KEYS]
            cls = classes.get(id(h))
            for k, v in hits:
                if cls is not None:  # a class attribute: setattr keeps the type's caches right
                    self._set_class_attr(cls, k, by_id[id(v)])
                else:
                    self._set_item(h, k, by_id[id(v)])
        elif type(h) is list:
            for i, v in enumerate(list(h)):
                if id(v) in by_id:
                    self._set_item(h, i, by_id[id(v)])
        elif type(h) is functools.partial:
            if id(h.func) in by_id:
                self._set_partial(h, by_id[id(h.func)])
        elif type(h) is types.CellType:
            if id(h.cell_contents) in by_id:
                self._set_cell(h, by_id[id(h.cell_contents)])
        elif isinstance(h, (types.FrameType, set, frozenset)) or h is sys.modules:
            return  # a running function's locals, or a set (membership, never a caller)
        else:
            fn = next((f for f in mapping if any(x is f for x in gc.get_referents(h))), None)
            if fn is not None and id(fn) not in quiet:
                self.not_replaced.append(f"{_name_of(fn)} held by a {type(h).__qualname__} object")

    def _tuples(self, tuples: list, by_id: dict, quiet: set) -> None:
        """Functions' default arguments are rewritten (a new tuple); any other tuple is reported."""
        tuples = [t for t in tuples if any(id(v) in by_id and id(v) not in quiet for v in t)]
        if not tuples:
            return
        users: dict[int, list] = {}
        undone = set()  # tuples an active patch keeps to restore: not holders
        for r in gc.get_referrers(*tuples):
            if isinstance(r, types.FunctionType):
                users.setdefault(id(r.__defaults__), []).append(r)
            elif type(r) is _Undo:
                undone.add(id(r.old))
        for t in tuples:
            if id(t) in undone:
                continue
            new = tuple(by_id.get(id(v), v) for v in t)
            for f in users.get(id(t), ()):
                self._do(_Undo("defaults", f, None, t), new)
            what = ", ".join(_name_of(v) for v in t if id(v) in by_id and id(v) not in quiet)
            if id(t) not in users and what:
                self.not_replaced.append(f"{what} held in a tuple (immutable; rebuild it after patching)")

    def _do(self, undo: _Undo, value) -> None:
        self._undo.append(undo)
        undo.put(value)

    def _set_item(self, container, k, value) -> None:
        self._do(_Undo("item", container, k, container[k]), value)

    def _set_class_attr(self, cls, k, value) -> None:
        self._do(_Undo("class", cls, k, cls.__dict__[k]), value)

    def _set_partial(self, p: functools.partial, func) -> None:
        self._do(_Undo("partial", p, None, p.func), func)

    def _set_cell(self, cell, value) -> None:
        self._do(_Undo("cell", cell, None, cell.cell_contents), value)

    def set_attr(self, obj, name: str, value) -> Swaps:
        self._set_item(obj.__dict__, name, value)
        return self

    def restore(self) -> None:
        while self._undo:
            u = self._undo.pop()
            u.put(u.old)


class _Undo:
    """One rewritten place and what it held (a slotted object, so never mistaken for a holder)."""

    __slots__ = ("kind", "holder", "key", "old")

    def __init__(self, kind: str, holder, key, old) -> None:
        self.kind, self.holder, self.key, self.old = kind, holder, key, old

    def put(self, value) -> None:
        h = self.holder
        if self.kind == "item":
            h[self.key] = value
        elif self.kind == "class":
            setattr(h, self.key, value)
        elif self.kind == "partial":
            h.__setstate__((value, h.args, h.keywords, h.__dict__ or None))
        elif self.kind == "cell":
            h.cell_contents = value
        else:  # "defaults"
            h.__defaults__ = value


def _class_dicts(dicts: list) -> dict:
    """id(dict) -> class, for those of ``dicts`` that are classes' attribute dicts: found from the
    dict's ``__module__`` and ``__qualname__``, else by one pass of the garbage collector."""
    out, unknown = {}, []
    for d in dicts:
        cls = _class_named(d)
        if cls is not None:
            out[id(d)] = cls
        elif "__module__" in d:
            unknown.append(d)
    if unknown:
        for r in gc.get_referrers(*unknown):
            if isinstance(r, type):
                for d in unknown:
                    if _type_dict_is(r, d):
                        out[id(d)] = r
    return out


def _class_named(d: dict):
    obj = sys.modules.get(d.get("__module__")) if isinstance(d.get("__module__"), str) else None
    qualname = d.get("__qualname__")
    if obj is None or not isinstance(qualname, str) or "<locals>" in qualname:
        return None
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) and _type_dict_is(obj, d) else None


def _type_dict_is(cls: type, d: dict) -> bool:
    proxy = cls.__dict__
    return len(proxy) == len(d) and all(proxy.get(k, d) is v for k, v in d.items())


def _name_of(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
