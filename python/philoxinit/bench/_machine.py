"""The machine a ``bench`` run measured: CPU, cores, torch and philoxinit build, last-level cache."""

from __future__ import annotations

import datetime
import os
import platform
from typing import Optional

import torch

# ---- the machine --------------------------------------------------------------------------------


def cpu_name(cpuinfo: str) -> str:
    """The first processor's model name from /proc/cpuinfo text, with its x86 family and model
    numbers: virtual machines often report only a generic name ("AMD EPYC"), which hides the
    generation (family 25 is Zen 3/4, 26 is Zen 5), and with it how AVX-512 runs."""
    fields: dict = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # end of the first processor's block
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    name = fields.get("model name", "")
    if name and "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def cpu_model() -> str:
    """This machine's CPU as cpu_name names it, else what the platform module says."""
    try:
        with open("/proc/cpuinfo") as f:
            name = cpu_name(f.read())
    except OSError:
        name = ""
    return name or platform.processor() or platform.machine() or "unknown CPU"


def cache_size(text: str) -> Optional[int]:
    """Bytes from a sysfs cache size ("2048K", "105M", "1G"); None where it does not parse."""
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in "KMG" else text
    return int(digits) * scale if digits.isdigit() else None


def llc_bytes(cpu_dir: str = "/sys/devices/system/cpu/cpu0/cache") -> Optional[int]:
    """The first CPU's last-level cache (the highest level that holds data), from sysfs; None where
    the system does not describe it (not Linux, some containers and virtual machines)."""
    best = None  # (level, bytes)
    try:
        entries = sorted(os.listdir(cpu_dir))
    except OSError:
        return None
    for entry in entries:
        if not entry.startswith("index"):
            continue
        try:
            with open(os.path.join(cpu_dir, entry, "level")) as f:
                level = int(f.read())
            with open(os.path.join(cpu_dir, entry, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(cpu_dir, entry, "size")) as f:
                size = cache_size(f.read())
        except (OSError, ValueError):
            continue
        if kind != "Instruction" and size and (best is None or level > best[0]):
            best = (level, size)
    return best[1] if best else None


def machine_info(device: str = "cpu") -> dict:
    """CPU, cores, torch and philoxinit build: what a reader needs to place the numbers."""
    import philoxinit
    from philoxinit import _backend

    C = _backend._C
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "philoxinit": philoxinit.__version__,
        "backend": philoxinit.backend().name,
        "backend_reason": philoxinit.backend().reason,
        "cpu_isa": None,
        "cpu_isas": None,
        "device": device,
        "llc_bytes": llc_bytes(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if C is not None:
        if callable(getattr(C, "cpu_isa", None)):
            try:
                info["cpu_isa"] = C.cpu_isa()
            except RuntimeError as e:
                info["cpu_isa"] = f"error: {e}"
        if callable(getattr(C, "cpu_isas", None)):
            info["cpu_isas"] = list(C.cpu_isas())
    if device.startswith("cuda"):
        dev = torch.device(device)
        info["cuda_device"] = torch.cuda.get_device_name(dev)
        info["cuda_kernels"] = bool(philoxinit.backend().cuda)
    return info


def machine_line(m: dict) -> str:
    isa = m["cpu_isa"] or "n/a"
    if m["cpu_isas"]:
        isa += f" (available: {', '.join(m['cpu_isas'])})"
    line = (
        f"{m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), {m['platform']} | "
        f"torch {m['torch']}, {m['torch_threads']} threads | philoxinit {m['philoxinit']}, "
        f"{m['backend']} backend, CPU ISA {isa} | {m['date']}"
    )
    load = m.get("load_average_1min")
    if load is not None and load > 0.5 * (m["cores_usable"] or 1):
        line += (
            f"\nwarning: load average {load:.1f} on {m['cores_usable']} cores: other processes are "
            "running, so absolute GB/s are low and noisy (the ratios, measured interleaved, less so)"
        )
    if "cuda_device" in m:
        kernels = "philoxinit CUDA kernels" if m["cuda_kernels"] else "philoxinit torch fallback on CUDA"
        line += f"\ndevice {m['device']}: {m['cuda_device']} ({kernels})"
    return line
