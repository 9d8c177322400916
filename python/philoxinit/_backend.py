"""Which path fills a tensor on each device, and why.

Three paths write the same bits (docs/contract.md):

* ``compiled``: philoxinit._C, the CPU kernels and, where built and usable, the CUDA kernels;
* ``triton``: Triton kernels (_triton.py) for GPU tensors the compiled CUDA kernels cannot serve
  (no CUDA build, a driver or GPU architecture they cannot run on, ROCm builds of torch), where
  Triton imports; imported on first use only;
* ``torch``: the pure-PyTorch fallback (_fallback.py), on any device.

``PHILOXINIT_BACKEND=compiled|triton|torch`` forces one (unset or ``auto``: the first that serves
the device, in that order). A forced path that cannot serve a device makes fills there raise a
RuntimeError that says why (before a key is drawn); ``backend()`` says so too. Triton runs on CPU
tensors only under its interpreter (``TRITON_INTERPRET=1``), so only a forced ``triton`` sends CPU
tensors there.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple, Optional, Sequence, Tuple

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

PATHS = ("compiled", "triton", "torch")


class BackendInfo(NamedTuple):
    name: str  # the forced path, else "compiled" (philoxinit._C imports) or "torch"
    reason: str
    cpu: bool  # compiled CPU kernels in use
    cuda: bool  # compiled CUDA kernels in use
    devices: tuple = ()  # (device, path, reason) for the CPU and each visible GPU; path "error": none serves it

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


# os.environ.get raises and catches KeyErrors when a variable is unset, which costs more than the
# rest of a small fill's backend choice: os.environ's own dict (encoded keys) is asked first.
_ENVIRON, _BACKEND_KEY = os.environ._data, os.environ.encodekey("PHILOXINIT_BACKEND")


def _forced() -> str:
    """The path PHILOXINIT_BACKEND names ("" when unset or auto; checked by route)."""
    if _BACKEND_KEY not in _ENVIRON:
        return ""
    value = os.environ.get("PHILOXINIT_BACKEND", "").strip().lower()
    return "" if value == "auto" else value


def _cuda_usable() -> bool:
    """Compiled CUDA kernels, a driver and a device (ROCm builds of torch also say "cuda": no)."""
    if _C is None or getattr(torch.version, "hip", None):
        return False
    return _C.cuda_available()


def _cuda_device_supported(device: torch.device) -> bool:
    """Whether the kernels load on this GPU (its architecture, or a PTX it can JIT, is compiled in)."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    return _C.cuda_device_supported(index)


def _cuda_reason() -> str:
    """Why the compiled CUDA kernels are not in use, in a few words."""
    if getattr(torch.version, "hip", None):
        return "ROCm build of torch"
    if _C is None:
        return f"compiled extension not importable ({_IMPORT_ERROR})"
    info = _C.cuda_info()
    if not info["compiled"]:
        return "extension built without CUDA"
    return f"CUDA kernels compiled ({', '.join(info['architectures'])}) but unusable: {info['error']}"


def _compiled_cuda(device: torch.device) -> Tuple[bool, str]:
    """Whether the compiled CUDA kernels serve this GPU, and if not, why."""
    if not _cuda_usable():
        return False, _cuda_reason()
    if not _cuda_device_supported(device):
        return False, f"the CUDA kernels have no code for {device}'s architecture"
    return True, "philoxinit._C CUDA kernels"


_triton_state: Optional[tuple] = None


def _triton():
    """(the _triton module, "") once Triton imports, else (None, why); imported on first use."""
    global _triton_state
    if _triton_state is None:
        try:
            from . import _triton as module
        except Exception as e:  # ImportError, or a triton without a usable backend
            _triton_state = (None, f"triton not importable ({type(e).__name__}: {e})")
        else:
            _triton_state = (module, "")
    return _triton_state


_CPU = torch.device("cpu")


def _is_cpu(device: torch.device) -> bool:
    # device.type formats a new string through a C++ stream on every call; == compares in C++
    return device == _CPU or device.type == "cpu"


def route(device: torch.device) -> Tuple[str, str]:
    """(path, why) for tensors on ``device``: "compiled", "triton" or "torch", or "error" when the
    forced path cannot serve it."""
    forced = _forced()
    if forced and forced not in PATHS:
        return "error", f"not one of {', '.join(PATHS)} or auto"
    if forced == "torch":
        return "torch", "PHILOXINIT_BACKEND=torch is set"
    if _is_cpu(device):
        if forced == "triton":
            module, why = _triton()
            if module is not None and module.INTERPRETED:
                return "triton", "PHILOXINIT_BACKEND=triton under Triton's interpreter (TRITON_INTERPRET=1)"
            return "error", ("Triton runs on CPU tensors only under its interpreter (TRITON_INTERPRET=1 "
                             f"before philoxinit first uses Triton){'; ' + why if why else ''}")  # fmt: skip
        if _C is None:
            why = f"compiled extension not importable ({_IMPORT_ERROR})"
            return ("error" if forced else "torch"), why
        return "compiled", "philoxinit._C CPU kernels"
    if device.type != "cuda":  # MPS, XPU, ...: no kernels of ours
        if forced:
            return "error", f"no {forced} kernels for {device.type} tensors"
        return "torch", f"no compiled or Triton kernels for {device.type} tensors"
    cuda_ok, cuda_why = _compiled_cuda(device)
    if forced == "compiled":
        return ("compiled" if cuda_ok else "error"), cuda_why
    if cuda_ok and not forced:
        return "compiled", cuda_why
    module, why = _triton()
    if module is not None and module.INTERPRETED:
        why = "TRITON_INTERPRET=1 is set: Triton's interpreter runs on CPU tensors only"
    elif module is not None:
        return "triton", "PHILOXINIT_BACKEND=triton is set" if forced else f"Triton kernels ({cuda_why})"
    if forced:
        return "error", why
    return "torch", f"{cuda_why}; {why}"


def _visible_devices() -> list:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices += [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    return devices


def backend() -> BackendInfo:
    """Which path fills tensors, and why: ``name`` and ``reason`` in short, ``devices`` the path of
    the CPU and of each visible GPU."""
    devices = tuple((str(d), *route(d)) for d in _visible_devices())
    forced = _forced()
    cpu = devices[0][1] == "compiled"
    cuda = forced in ("", "compiled") and _cuda_usable()
    gpus = devices[1:]
    if forced:
        name, reason = forced, f"PHILOXINIT_BACKEND={forced} is set"
        for d, path, why in devices:
            if path == "error":
                reason += f"; fills of {d} tensors raise: {why}"
    elif _C is None:
        name, reason = "torch", devices[0][2]
    else:
        name, reason = "compiled", "philoxinit._C kernels for CPU"
        if gpus and all(path == "compiled" for _, path, _ in gpus):
            reason += " and CUDA"
    if not forced and gpus and any(path != "compiled" for _, path, _ in gpus):
        reason += "; " + "; ".join(f"{d} tensors use {path} ({why})" for d, path, why in gpus if path != "compiled")
    elif not forced and not gpus:
        reason += f"; no GPU visible ({_cuda_reason()})"
    return BackendInfo(name, reason, cpu, cuda, devices)


def compiled_for(device: torch.device) -> bool:
    return route(device)[0] == "compiled"


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


def ready(device: torch.device) -> str:
    """The path that fills tensors on ``device``; raises now, before a key is drawn, for what would
    make the fill itself fail (a forced path that cannot serve the device, a bad PHILOXINIT_ISA)."""
    path, why = route(device)
    if path == "error":
        raise RuntimeError(f"philoxinit: PHILOXINIT_BACKEND={_forced()}: {why}")
    if path == "compiled" and _is_cpu(device):
        _C.cpu_isa()
    return path


def fill(tensors: Sequence[torch.Tensor], requests: Sequence[Request], path: Optional[str] = None) -> None:
    """Write each request into its tensor (already validated; same device for all). ``path``: what
    ``ready`` said for the device, if the caller asked (saves looking again)."""
    sink = _collecting.get()
    if sink is not None:  # inside collect_fills(): record, the caller writes in one batch
        sink.extend(zip(tensors, requests))
        return

    first = tensors[0]
    if path is None:
        path = ready(first.device)
    if path == "torch":
        with torch.no_grad():  # copy_ into leaves that require grad
            for t, r in zip(tensors, requests):
                _fallback.fill(t, r)
    elif path == "triton":
        _triton()[0].fill(tensors, requests)
    elif first.is_cpu:  # (tensor.is_cpu is several times cheaper than tensor.device.type)
        _C.fill_cpu([r.as_tuple(t) for t, r in zip(tensors, requests)], torch.get_num_threads())
    else:
        device = first.device
        tuples = [r.as_tuple(t) for t, r in zip(tensors, requests)]
        _C.fill_cuda(tuples, device.index, torch.cuda.current_stream(device).cuda_stream)
