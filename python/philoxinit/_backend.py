"""Which backend fills a tensor: the compiled kernels when they can, else the torch fallback.

``PHILOXINIT_BACKEND=torch`` forces the fallback (for comparisons and debugging).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple, Optional, Sequence

import torch

from . import _fallback
from ._request import Request

try:
    from . import _C
except ImportError as e:  # a source checkout without a build, or a broken wheel
    _C = None
    _IMPORT_ERROR: Optional[ImportError] = e
else:
    _IMPORT_ERROR = None


class BackendInfo(NamedTuple):
    name: str  # "compiled" or "torch"
    reason: str
    cpu: bool  # compiled CPU kernels in use
    cuda: bool  # compiled CUDA kernels in use

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


# os.environ.get raises and catches KeyErrors when a variable is unset, which costs more than the
# rest of a small fill's backend choice: os.environ's own dict (encoded keys) is asked first.
_ENVIRON, _BACKEND_KEY = os.environ._data, os.environ.encodekey("PHILOXINIT_BACKEND")


def _forced_torch() -> bool:
    return _BACKEND_KEY in _ENVIRON and os.environ.get("PHILOXINIT_BACKEND", "").lower() == "torch"


def _cuda_usable() -> bool:
    """Compiled CUDA kernels, a driver and a device (ROCm builds of torch also say "cuda": no)."""
    if _C is None or getattr(torch.version, "hip", None):
        return False
    return bool(getattr(_C, "cuda_available", lambda: False)())


def _cuda_device_supported(device: torch.device) -> bool:
    """Whether the kernels load on this GPU (its architecture, or a PTX it can JIT, is compiled in)."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    return bool(getattr(_C, "cuda_device_supported", lambda i: True)(index))


def _cuda_reason() -> str:
    """Why CUDA tensors use the fallback, in a few words."""
    if getattr(torch.version, "hip", None):
        return "ROCm build of torch"
    info = getattr(_C, "cuda_info", lambda: {})()
    if not info.get("compiled", False):
        return "built without CUDA"
    return f"CUDA kernels compiled ({', '.join(info.get('architectures', []))}) but unusable: {info.get('error')}"


def backend() -> BackendInfo:
    """Which backend fills tensors, and why."""
    if _forced_torch():
        return BackendInfo("torch", "PHILOXINIT_BACKEND=torch is set", False, False)
    if _C is None:
        return BackendInfo("torch", f"compiled extension not importable ({_IMPORT_ERROR})", False, False)
    cuda = _cuda_usable()
    where = "CPU and CUDA" if cuda else f"CPU (CUDA tensors use the torch fallback: {_cuda_reason()})"
    return BackendInfo("compiled", f"philoxinit._C kernels for {where}", True, cuda)


_CPU = torch.device("cpu")


def _is_cpu(device: torch.device) -> bool:
    # device.type formats a new string through a C++ stream on every call; == compares in C++
    return device == _CPU or device.type == "cpu"


def compiled_for(device: torch.device) -> bool:
    if _C is None or _forced_torch():
        return False
    if _is_cpu(device):
        return True
    # Other accelerators (MPS, XPU, ...) and GPUs without a compiled kernel use the fallback.
    return device.type == "cuda" and _cuda_usable() and _cuda_device_supported(device)


_collecting: ContextVar[Optional[list]] = ContextVar("philoxinit_collecting", default=None)


@contextmanager
def collect_fills():
    """Within the block, ``fill`` appends its (tensor, request) pairs to the yielded list instead of
    writing; the caller then writes them all with one ``fill`` per device (philoxinit.module)."""
    sink: list = []
    token = _collecting.set(sink)
    try:
        yield sink
    finally:
        _collecting.reset(token)


def ready(device: torch.device) -> bool:
    """Whether the compiled kernels serve ``device``; raises now, before a key is drawn, for what
    would make the fill itself fail (a bad PHILOXINIT_ISA)."""
    compiled = compiled_for(device)
    if compiled and _is_cpu(device):
        _C.cpu_isa()
    return compiled


def fill(tensors: Sequence[torch.Tensor], requests: Sequence[Request], compiled: Optional[bool] = None) -> None:
    """Write each request into its tensor (already validated; same device for all). ``compiled``:
    what ``ready`` said for the device, if the caller asked (saves looking again)."""
    sink = _collecting.get()
    if sink is not None:  # inside collect_fills(): record, the caller writes in one batch
        sink.extend(zip(tensors, requests))
        return

    first = tensors[0]
    if not (compiled_for(first.device) if compiled is None else compiled):
        with torch.no_grad():  # copy_ into leaves that require grad
            for t, r in zip(tensors, requests):
                _fallback.fill(t, r)
        return
    tuples = [r.as_tuple(t) for t, r in zip(tensors, requests)]
    if first.is_cpu:  # (tensor.is_cpu is several times cheaper than tensor.device.type)
        _C.fill_cpu(tuples, torch.get_num_threads())
    else:
        device = first.device
        _C.fill_cuda(tuples, device.index, torch.cuda.current_stream(device).cuda_stream)
