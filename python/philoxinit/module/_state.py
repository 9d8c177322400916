"""The mutable state the package's files share: one object, so every piece of it is named in one place."""

from __future__ import annotations

import threading
import weakref
from contextvars import ContextVar


class _State:
    """Everything that outlives one call (a slotted object: no dict for a module scan to rewrite)."""

    __slots__ = ("patch_stack", "recorder", "timm_wrappers", "deferred", "watched", "watch_version",
                 "scan_cache", "swap_lock")  # fmt: skip

    def __init__(self) -> None:
        self.patch_stack: list = []  # the active patch() objects, innermost last
        # the _Recorder of the init code running in this context (None: not recording)
        self.recorder: ContextVar = ContextVar("philoxinit_recorder", default=None)
        self.timm_wrappers: dict = {}  # id(timm function) -> (timm function, recording stand-in)
        # module built by deferred_init -> the events its constructor recorded
        self.deferred: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.watched: set = set()  # ids of every function a module scan looks for (originals and stand-ins)
        self.watch_version = 0  # bumped when ``watched`` grows: cached module scans are stale
        self.scan_cache: dict = {}  # id(module) -> (module, dict size, watch version, [(container, key)])
        self.swap_lock = threading.Lock()  # one rewrite of holders (or of the scan cache) at a time


STATE = _State()
