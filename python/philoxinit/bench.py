"""``python -m philoxinit bench``: philoxinit against torch.nn.init, and both against ``fill_``.

For every case (a function and its arguments) × dtype × size, the same call is timed three ways on
one preallocated tensor, in one process:

* ``philoxinit``: ``philoxinit.<function>(t, **kwargs)``
* ``torch``: ``torch.nn.init.<function>(t, **kwargs)``
* ``fill_``: ``t.fill_(0.5)``, the memory-write ceiling for that tensor

Throughput is bytes written / median time per call (GB = 10**9 bytes). Speed claims are ratios of
numbers measured in the same process: ``speed-up`` = torch time / philoxinit time, and
``of fill_`` = philoxinit GB/s / fill_ GB/s. Each tensor is allocated and written once before it is
timed, so page faults on first touch are not measured; ``--cold`` times fills of freshly allocated
tensors instead (and counts the minor page faults).

The pieces, top to bottom: the case table (:data:`CASES`), one timing helper (:func:`time_calls`),
the run loop (:func:`run`), one printer (:func:`format_table`), the JSON and plot writers, and
:func:`main`. ``--model`` runs the whole-model benchmarks of :mod:`philoxinit.bench_models` instead.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

__all__ = [
    "Case",
    "CASES",
    "DTYPES",
    "ALL_DTYPES",
    "SIZES",
    "QUICK_SIZES",
    "Timing",
    "time_calls",
    "machine_info",
    "machine_line",
    "run",
    "format_table",
    "write_json",
    "plot",
    "main",
]

# ---- what is measured -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One call: ``<module>.<function>(tensor, **kwargs)`` for module philoxinit and torch.nn.init."""

    name: str
    function: str
    kwargs: Tuple[Tuple[str, float], ...] = ()

    def call(self, module, tensor: torch.Tensor) -> torch.Tensor:
        return getattr(module, self.function)(tensor, **dict(self.kwargs))


CASES: Tuple[Case, ...] = (
    Case("kaiming_uniform_", "kaiming_uniform_"),
    Case("kaiming_normal_", "kaiming_normal_"),
    Case("xavier_uniform_", "xavier_uniform_"),
    Case("xavier_normal_", "xavier_normal_"),
    Case("trunc_normal_", "trunc_normal_"),
    Case("trunc_normal_(std=0.02,a=-0.04,b=0.04)", "trunc_normal_", (("std", 0.02), ("a", -0.04), ("b", 0.04))),
)

DTYPES = ("float32", "bfloat16")
ALL_DTYPES = ("float32", "bfloat16", "float16", "float64")
SIZES = ((64, 64), (1024, 1024), (4096, 4096))
QUICK_SIZES = ((64, 64), (1024, 1024))
REPEATS = 5
BACKENDS = ("compiled", "torch", "triton")

# Runs are at least this long: small tensors are timed over several back-to-back calls per run.
MIN_RUN_S = 0.005
# torch's trunc_normal_ resamples the whole tensor until every value fits (~0.1 GB/s): a call slower
# than SLOW_CALL_S (in practice only that one) is timed over SLOW_RUNS runs only, and the table marks it.
SLOW_CALL_S = 0.25
# Pause before each timed run (not timed): after a torch parallel op its OpenMP workers spin for a
# while and take cores from the next call, whoever's it is (measured: philoxinit's 4096x4096 uniform
# right after fill_ took 7.8 ms median against 5.2 ms back to back, 5.9 ms after a 20 ms pause).
# Only tensors torch splits across threads need it (at least its grain size, 32768 elements):
# below that a pause only leaves caches and predictors cold for the first calls of the run
# (measured: a 64x64 kaiming_uniform_ right after a 20 ms pause took 430 us, against 35 after).
SETTLE_S = 0.02
PARALLEL_GRAIN = 32768
# After the pause, untimed back-to-back calls of the run's own fn for this long, then the timed run:
# an idle pause leaves this machine's cores slow for about 20 ms (measured, 4096x4096 float32, two
# threads: uniform 17.3 GB/s back to back, 9.8 after a 20 ms pause, 14.4 / 16.8 after 5 / 20 ms of
# calls; fill_ 35 / 17 / 21 / 33), which cost the fastest call of a case the most. Each fn is timed
# in its own steady state, as a model's initialization, call after call, runs.
RAMP_S = 0.02
SLOW_RUNS = 3

# ---- timing -----------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Seconds per call, one entry per run (each run averages ``number`` back-to-back calls)."""

    times: List[float]
    number: int = 1
    capped: bool = False  # fewer runs than asked for, because one call was slow
    page_faults: Optional[List[int]] = None  # --cold: minor page faults per run
    error: Optional[str] = None

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan

    def gbps(self, nbytes: int) -> float:
        return nbytes / self.median / 1e9 if self.times else math.nan

    def as_dict(self, nbytes: int) -> dict:
        d = {
            "gbps": self.gbps(nbytes),
            "median_s": self.median,
            "runs": len(self.times),
            "calls_per_run": self.number,
            "capped": self.capped,
            "times_s": self.times,
        }
        if self.page_faults is not None:
            d["minor_page_faults"] = self.page_faults
        if self.error:
            d["error"] = self.error
        return d


def _minor_faults() -> int:
    try:
        import resource
    except ImportError:  # not on this platform
        return -1
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_calls(
    fns: Dict[str, Callable[[torch.Tensor], object]],
    make_tensor: Callable[[], torch.Tensor],
    repeats: int,
    *,
    sync: Callable[[], None] = lambda: None,
    cold: bool = False,
    settle: float = SETTLE_S,
) -> Dict[str, Timing]:
    """Time each ``fn(tensor)`` of ``fns``: warm-up calls (one, then more for MIN_RUN_S), then
    ``repeats`` runs each.

    The runs are interleaved (a run of every fn, then the next round), so a machine whose speed
    drifts during the measurement shifts all of them alike and their ratios stay fair.

    Warm (default): ``make_tensor`` returns the same preallocated tensor every time, and a run times
    ``number`` back-to-back calls, with ``number`` chosen from the warm-up so a run lasts at least
    MIN_RUN_S. Cold: every run fills a tensor of its own from ``make_tensor()``, allocated just
    before it and kept until the end (so none reuses another's memory), one call per run; the
    minor page faults of each run are counted. ``sync`` waits for the device; ``settle`` is the
    pause before each run, followed (warm, calls up to SLOW_CALL_S) by RAMP_S of untimed calls. A fn whose warm-up
    takes longer than SLOW_CALL_S gets SLOW_RUNS runs only (``capped``).
    """
    timings: Dict[str, Timing] = {}
    numbers: Dict[str, int] = {}
    ramped = set()  # fns whose runs start with RAMP_S of untimed calls
    runs: Dict[str, int] = {}
    t = None
    for name, fn in fns.items():
        try:
            t = make_tensor()
            fn(t)  # the first call pays one-time costs (lazy imports, kernel loading): not timed
            sync()
            warmed = 0.0  # then warm calls for MIN_RUN_S (at least one): caches, predictors, clocks
            while True:
                start = time.perf_counter()
                fn(t)
                sync()
                warm = time.perf_counter() - start
                warmed += warm
                if cold or warmed >= MIN_RUN_S or warm > SLOW_CALL_S:
                    break
        except Exception as e:  # a broken case is reported in the table, the others still run
            timings[name] = Timing([], error=f"{type(e).__name__}: {e}")
            continue
        capped = warm > SLOW_CALL_S and repeats > SLOW_RUNS
        runs[name] = SLOW_RUNS if capped else repeats
        numbers[name] = 1 if cold else max(1, min(10_000, math.ceil(MIN_RUN_S / max(warm, 1e-9))))
        if warm <= SLOW_CALL_S:  # in a slower call the ramp is a few percent: not worth a call more
            ramped.add(name)
        timings[name] = Timing([], numbers[name], capped, [] if cold else None)
    del t

    keep = []  # --cold: every tensor stays allocated until the measurement ends
    tensor = None if cold else make_tensor()
    for r in range(repeats):
        for name, fn in fns.items():
            if name not in runs or r >= runs[name]:
                continue
            timing, number = timings[name], numbers[name]
            if cold:
                tensor = make_tensor()
                keep.append(tensor)
            try:
                sync()
                if settle:
                    time.sleep(settle)
                    if not cold and name in ramped:
                        ramp_end = time.perf_counter() + RAMP_S
                        while time.perf_counter() < ramp_end:
                            fn(tensor)
                        sync()
                faults, start = _minor_faults(), time.perf_counter()
                for _ in range(number):
                    fn(tensor)
                sync()
                timing.times.append((time.perf_counter() - start) / number)
                if cold:
                    timing.page_faults.append(_minor_faults() - faults)
            except Exception as e:
                timing.error = f"{type(e).__name__}: {e}"
                del runs[name]
    return timings


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


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            name = cpu_name(f.read())
    except OSError:
        name = ""
    return name or platform.processor() or platform.machine() or "unknown CPU"


def machine_info(device: str = "cpu") -> dict:
    """CPU, cores, torch and philoxinit build: what a reader needs to place the numbers."""
    import philoxinit
    from philoxinit import _backend

    C = _backend._C
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
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


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Result:
    case: Case
    dtype: str
    size: Tuple[int, ...]
    nbytes: int
    philoxinit: Timing
    torch: Timing
    fill: Timing

    @property
    def speedup(self) -> float:
        return self.torch.median / self.philoxinit.median

    @property
    def of_fill(self) -> float:
        return self.fill.median / self.philoxinit.median

    def as_dict(self) -> dict:
        return {
            "case": self.case.name,
            "function": self.case.function,
            "kwargs": dict(self.case.kwargs),
            "dtype": self.dtype,
            "size": list(self.size),
            "numel": math.prod(self.size),
            "bytes": self.nbytes,
            "philoxinit": self.philoxinit.as_dict(self.nbytes),
            "torch": self.torch.as_dict(self.nbytes),
            "fill_": self.fill.as_dict(self.nbytes),
            "speedup": self.speedup,
            "fraction_of_fill": self.of_fill,
        }


class _Progress:
    """tqdm when it is installed, else a counter on stderr; silent when disabled."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled, self.bar = total, 0, enabled, None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="case", file=sys.stderr, leave=False, dynamic_ncols=True)

    def show(self, label: str) -> None:
        """Say what is being measured now."""
        if self.bar is not None:
            self.bar.set_postfix_str(label)
        elif self.enabled:
            print(f"\r[{self.done + 1}/{self.total}] {label:<60}", end="", file=sys.stderr, flush=True)

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print("\r" + " " * 80 + "\r", end="", file=sys.stderr, flush=True)


def run(
    cases: Sequence[Case] = CASES,
    dtypes: Sequence[str] = DTYPES,
    sizes: Sequence[Tuple[int, ...]] = SIZES,
    *,
    repeats: int = REPEATS,
    device: str = "cpu",
    cold: bool = False,
    progress: bool = True,
) -> List[Result]:
    """Measure every case × dtype × size: philoxinit, torch.nn.init and fill_ on one tensor per
    dtype × size (shared by its cases), or on fresh tensors with ``cold``."""
    import philoxinit

    sync = (lambda: torch.cuda.synchronize(device)) if device.startswith("cuda") else (lambda: None)
    sizes = [tuple(s) for s in sizes]
    results = []
    bar = _Progress(len(cases) * len(dtypes) * len(sizes), progress)
    try:
        for size in sizes:
            for dtype_name in dtypes:
                dtype = getattr(torch, dtype_name)
                fresh = lambda: torch.empty(size, dtype=dtype, device=device)  # noqa: E731
                if cold:
                    make = fresh
                else:
                    tensor = fresh().fill_(0)  # first touch, before any timing
                    make = lambda: tensor  # noqa: E731
                nbytes = math.prod(size) * torch.empty((), dtype=dtype).element_size()
                for case in cases:
                    bar.show(f"{case.name} {dtype_name} {'x'.join(map(str, size))}")
                    fns = {
                        "fill_": lambda t: t.fill_(0.5),
                        "philoxinit": lambda t: case.call(philoxinit, t),
                        "torch": lambda t: case.call(torch.nn.init, t),
                    }
                    settle = SETTLE_S if math.prod(size) >= PARALLEL_GRAIN else 0.0
                    ts = time_calls(fns, make, repeats, sync=sync, cold=cold, settle=settle)
                    results.append(Result(case, dtype_name, size, nbytes, ts["philoxinit"], ts["torch"], ts["fill_"]))
                    bar.step()
                tensor = make = None  # free it before the next size
    finally:
        bar.close()
    order = {c.name: i for i, c in enumerate(cases)}
    results.sort(key=lambda r: (order[r.case.name], list(dtypes).index(r.dtype), sizes.index(r.size)))
    return results


# ---- output -----------------------------------------------------------------------------------


def _num(x: float, fmt: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, fmt)


def format_table(results: Sequence[Result], *, repeats: int = REPEATS, cold: bool = False) -> str:
    """The table, then what its columns mean."""
    head = ("function", "dtype", "size", "philoxinit GB/s", "torch GB/s", "speed-up", "fill_ GB/s", "of fill_")
    rows = []
    for r in results:
        torch_gbps = _num(r.torch.gbps(r.nbytes), ".3g") + ("*" if r.torch.capped else "")
        rows.append((
            r.case.name,
            r.dtype,
            "x".join(map(str, r.size)),
            _num(r.philoxinit.gbps(r.nbytes), ".3g") + ("*" if r.philoxinit.capped else ""),
            torch_gbps,
            _num(r.speedup, ".3g") + "x",
            _num(r.fill.gbps(r.nbytes), ".3g"),
            _num(r.of_fill, ".2f"),
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(head), line(["-" * w for w in widths])]
    prev = None
    for r, row in zip(results, rows):
        if prev is not None and r.case.name != prev:
            out.append("")
        prev = r.case.name
        out.append(line(row))
    how = (
        "each run fills a freshly allocated tensor (first-touch page faults included)"
        if cold
        else "one tensor per dtype x size, allocated and written once before timing "
        "(page faults on first touch are not measured)"
    )
    ramp = "" if cold else f", then {RAMP_S * 1e3:g} ms of untimed calls of the same function (the cores back at speed; calls over {SLOW_CALL_S:g} s go straight on)"
    out += [
        "",
        f"GB/s: bytes written / median time per call (1 GB = 1e9 bytes), median of {repeats} runs after "
        f"{MIN_RUN_S * 1e3:g} ms of warm-up calls, each run of a tensor with at least {PARALLEL_GRAIN} elements {SETTLE_S * 1e3:g} ms after the last (torch's OpenMP workers idle){ramp}; {how}. Runs shorter than {MIN_RUN_S * 1e3:g} ms average several back-to-back calls.",
        "speed-up: torch.nn.init time / philoxinit time for the same call; of fill_: philoxinit GB/s / "
        "t.fill_(0.5) GB/s on the same tensor. All measured in this process.",
    ]
    if any(r.torch.capped or r.philoxinit.capped for r in results):
        out.append(
            f"*: a call took over {SLOW_CALL_S:g} s, so that side was timed over {SLOW_RUNS} runs (median) "
            "after two warm-up calls (torch's trunc_normal_ resamples until every value fits)."
        )
    errors = [(r, side, t.error) for r in results for side, t in
              (("philoxinit", r.philoxinit), ("torch", r.torch), ("fill_", r.fill)) if t.error]
    for r, side, err in errors:
        out.append(f"error: {side} {r.case.name} {r.dtype} {'x'.join(map(str, r.size))}: {err}")
    return "\n".join(out)


def write_json(path: str, machine: dict, settings: dict, results: Sequence[Result]) -> None:
    def clean(x):  # NaN is not JSON
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    doc = {"machine": machine, "settings": settings, "results": [r.as_dict() for r in results]}
    with open(path, "w") as f:
        json.dump(clean(doc), f, indent=2)
        f.write("\n")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError(
            "--plot needs matplotlib, which is not installed: pip install matplotlib "
            "(or philoxinit[bench])"
        ) from None
    return plt


def _plot_title(m: dict) -> str:
    return (
        f"{m['cpu']}, {m['cores_usable']} cores, torch {m['torch']} ({m['torch_threads']} threads), "
        f"philoxinit {m['philoxinit']} ({m['backend']}, {m['cpu_isa'] or 'n/a'}), {m['device']}"
    )


def plot(results: Sequence[Result], path: str, title: str = "") -> None:
    """Two bar charts per case × dtype, one bar per size: speed-up over torch.nn.init (log scale),
    and philoxinit's throughput as a fraction of fill_."""
    plt = _pyplot()
    labels = list(dict.fromkeys(f"{r.case.name}\n{r.dtype}" for r in results))
    sizes = list(dict.fromkeys(r.size for r in results))
    value = {(f"{r.case.name}\n{r.dtype}", r.size): r for r in results}
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.1 * len(labels) + 2), 9), sharex=True)
    width = 0.8 / max(1, len(sizes))
    for k, size in enumerate(sizes):
        xs = [i + (k - (len(sizes) - 1) / 2) * width for i in range(len(labels))]
        rs = [value.get((label, size)) for label in labels]
        name = "x".join(map(str, size))
        axes[0].bar(xs, [r.speedup if r else math.nan for r in rs], width, label=name)
        axes[1].bar(xs, [r.of_fill if r else math.nan for r in rs], width, label=name)
    axes[0].set_yscale("log")
    axes[0].axhline(1.0, color="black", linewidth=0.8)
    axes[0].set_ylabel("speed-up over torch.nn.init (x)")
    axes[1].axhline(1.0, color="black", linewidth=0.8)
    axes[1].set_ylabel("philoxinit throughput / fill_")
    axes[1].set_xticks(range(len(labels)))
    axes[1].set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    axes[0].legend(title="size")
    if title:
        axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---- the command line ---------------------------------------------------------------------------


def _sizes(text: str) -> List[Tuple[int, ...]]:
    try:
        sizes = [tuple(int(n) for n in s.lower().split("x")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes look like 64x64,1024x1024, got {text!r}") from None
    if not sizes or any(len(s) < 2 or min(s) < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"each size needs at least two positive dims, got {text!r}")
    return sizes


def _split_top_level(text: str) -> List[str]:
    """Comma-separated names, where a comma inside parentheses belongs to the name
    (``trunc_normal_(std=0.02,a=-0.04,b=0.04),kaiming_uniform_`` is two cases)."""
    names, depth, start = [], 0, 0
    for i, ch in enumerate(text + ","):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth <= 0:
            names.append(text[start:i].strip())
            start = i + 1
    return [n for n in names if n]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m philoxinit bench",
        description="philoxinit vs torch.nn.init (and fill_) for the same calls: GB/s, speed-up, "
        "fraction of fill_ throughput. All ratios are measured in this one process.",
    )
    p.add_argument("--quick", action="store_true", help=f"sizes {', '.join('x'.join(map(str, s)) for s in QUICK_SIZES)} only (under a minute)")
    p.add_argument("--all", action="store_true", help="also float16 and float64")
    p.add_argument("--cold", action="store_true", help="time fills of freshly allocated tensors (first-touch page faults included)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--threads", type=int, metavar="N", help="torch.set_num_threads(N) first (philoxinit follows it)")
    p.add_argument("--isa", metavar="NAME", help="force philoxinit's CPU instruction set (scalar, vec128, avx2, avx512)")
    p.add_argument(
        "--backend", choices=BACKENDS,
        help="the path philoxinit's side takes: compiled (the C++/CUDA kernels), torch (the pure-PyTorch "
        "fallback, PHILOXINIT_BACKEND=torch) or triton (GPU tensors, PHILOXINIT_BACKEND=triton); "
        "default: what philoxinit picks",
    )  # fmt: skip
    p.add_argument("--json", metavar="FILE", help="write the machine description and every measurement here")
    p.add_argument("--plot", metavar="FILE.png", help="bar chart of speed-up and fraction of fill_ (needs matplotlib)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--model", nargs="?", const="gpt2,llama,vit", metavar="NAMES",
        help="whole-model init instead of the table: gpt2, llama, vit (default: all), see bench_models.py",
    )  # fmt: skip
    # Narrowing the run (tests and experiments).
    p.add_argument("--sizes", type=_sizes, metavar="AxB,...", help="sizes instead of the defaults, e.g. 64x64,128x128")
    p.add_argument("--dtypes", metavar="D,...", help="dtypes instead of the defaults, e.g. float32,float16")
    p.add_argument("--cases", metavar="NAME,...", help="only these cases (names as in the table's first column)")
    p.add_argument("--repeats", type=int, default=None, metavar="N", help=f"timed runs per measurement (default {REPEATS})")
    return p


def _select_backend(name: str, device: str) -> Optional[str]:
    """Point philoxinit at one path through PHILOXINIT_BACKEND (for this process); an error message
    where that path cannot serve ``device``."""
    import philoxinit
    from philoxinit import _backend

    if name == "compiled":
        os.environ.pop("PHILOXINIT_BACKEND", None)
        if not _backend.compiled_for(torch.device(device)):
            return f"--backend compiled: no compiled kernels for {device} here ({philoxinit.backend()})"
        return None
    if name == "triton" and not device.startswith("cuda"):
        return "--backend triton: the Triton path serves GPU tensors only; add --device cuda"
    os.environ["PHILOXINIT_BACKEND"] = name
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)

    if args.model is not None:
        from . import bench_models

        unknown = [m for m in args.model.split(",") if m not in bench_models.MODELS]
        if unknown:
            parser.error(f"unknown model {unknown[0]!r} (available: {', '.join(bench_models.MODELS)})")
        return bench_models.run_model_bench(["--models", args.model] + (["--json", args.json] if args.json else []))

    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            parser.error("--device cuda: torch sees no CUDA device here")
        if args.cold:
            parser.error("--cold is CPU only (the CUDA caching allocator reuses memory)")
    elif args.device != "cpu":
        parser.error(f"--device is cpu or cuda[:N], got {args.device!r}")
    if args.backend is not None:
        error = _select_backend(args.backend, args.device)
        if error:
            parser.error(error)
    if args.isa:
        from philoxinit import _backend

        if _backend._C is None or not hasattr(_backend._C, "set_isa"):
            parser.error("--isa needs the compiled extension")
        try:
            _backend._C.set_isa(args.isa)
        except RuntimeError as e:
            parser.error(f"--isa {args.isa}: {e}")

    repeats = args.repeats if args.repeats is not None else REPEATS
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    sizes = args.sizes or (list(QUICK_SIZES) if args.quick else list(SIZES))
    dtypes = list(ALL_DTYPES if args.all else DTYPES)
    if args.dtypes:
        dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
        bad = [d for d in dtypes if d not in ALL_DTYPES]
        if bad:
            parser.error(f"unknown dtype(s) {', '.join(bad)}; choose from {', '.join(ALL_DTYPES)}")
    cases = list(CASES)
    if args.cases:
        names = _split_top_level(args.cases)
        by_name = {c.name: c for c in CASES}
        bad = [n for n in names if n not in by_name]
        if bad:
            parser.error(f"unknown case(s) {', '.join(bad)}; choose from {', '.join(by_name)}")
        cases = [by_name[n] for n in names]
    if args.plot:
        try:
            _pyplot()  # fail before the work, not after it
        except RuntimeError as e:
            parser.error(str(e))

    machine = machine_info(args.device)
    print(machine_line(machine), flush=True)
    start = time.perf_counter()
    results = run(cases, dtypes, sizes, repeats=repeats, device=args.device, cold=args.cold,
                  progress=not args.no_progress)
    elapsed = time.perf_counter() - start
    print()
    print(format_table(results, repeats=repeats, cold=args.cold))
    print(f"({len(results)} cases in {elapsed:.1f} s)")

    settings = {
        "repeats": repeats,
        "sizes": [list(s) for s in sizes],
        "dtypes": dtypes,
        "cases": [c.name for c in cases],
        "device": args.device,
        "cold": args.cold,
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "isa_forced": args.isa,
        "backend_forced": args.backend,
        "min_run_s": MIN_RUN_S,
        "torch_slow_call_s": SLOW_CALL_S,
        "torch_slow_runs": SLOW_RUNS,
        "elapsed_s": elapsed,
    }
    if args.json:
        write_json(args.json, machine, settings, results)
        print(f"wrote {args.json}")
    if args.plot:
        plot(results, args.plot, title=_plot_title(machine))
        print(f"wrote {args.plot}")
    return 1 if any(t.error for r in results for t in (r.philoxinit, r.torch, r.fill)) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
