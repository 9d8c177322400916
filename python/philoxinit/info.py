"""``python -m philoxinit info``: what this installation is and what it will use."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import Optional, Sequence


def _installed_version(package: str) -> Optional[str]:
    """The installed distribution's version, without importing it."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def collect() -> dict:
    """Version, backend and each device's path, CPU instruction sets, threads, CUDA and triton, as plain data."""
    import torch

    import philoxinit
    from philoxinit import _backend

    C = _backend._C
    b = philoxinit.backend()
    out = {
        "philoxinit": philoxinit.__version__,
        "backend": {
            "name": b.name,
            "reason": b.reason,
            "cpu": b.cpu,
            "cuda": b.cuda,
            "devices": [{"device": d, "path": path, "reason": why} for d, path, why in b.devices],
        },  # fmt: skip
        "cpu_isa": None,
        "cpu_isas": None,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_cuda_available": torch.cuda.is_available(),
        "triton": _installed_version("triton"),
        "cuda": None,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
    }
    if C is not None:
        isa = getattr(C, "cpu_isa", None)
        if callable(isa):
            try:
                out["cpu_isa"] = isa()
            except RuntimeError as e:  # e.g. PHILOXINIT_ISA names one this CPU lacks
                out["cpu_isa"] = f"error: {e}"
        isas = getattr(C, "cpu_isas", None)
        if callable(isas):
            out["cpu_isas"] = list(isas())
        cuda_info = getattr(C, "cuda_info", None)
        if callable(cuda_info):
            out["cuda"] = dict(cuda_info())
    return out


def format_info(d: dict) -> str:
    b = d["backend"]
    lines = [
        f"philoxinit {d['philoxinit']}",
        f"backend:      {b['name']} ({b['reason']})",
        *(f"  {dev['device']:<10} {dev['path']} ({dev['reason']})" for dev in b["devices"]),
        f"CPU ISA:      {d['cpu_isa'] or 'n/a'}"
        + (f" (available: {', '.join(d['cpu_isas'])})" if d["cpu_isas"] else ""),
        f"torch:        {d['torch']}, {d['torch_threads']} threads, CUDA available: {d['torch_cuda_available']}",
        f"triton:       {d['triton'] or 'not installed'}",
    ]
    cuda = d["cuda"]
    if cuda is None:
        lines.append("CUDA kernels: not in this build")
    else:
        compiled = cuda.get("compiled")
        text = "compiled" if compiled else "not compiled"
        if compiled:
            if cuda.get("architectures"):
                text += f" for {', '.join(map(str, cuda['architectures']))}"
            text += f"; {cuda.get('device_count', 0)} device(s) visible"
            if cuda.get("error"):
                text += f"; {cuda['error']}"
        lines.append(f"CUDA kernels: {text}")
    lines.append(f"python:       {d['python']} on {d['platform']}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m philoxinit info", description=__doc__)
    p.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    args = p.parse_args(argv)
    d = collect()
    print(json.dumps(d, indent=2, default=str) if args.json else format_info(d))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
