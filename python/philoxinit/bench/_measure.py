"""What ``bench`` measures and how: the case table (:data:`CASES`), one timing helper
(:func:`time_calls`), and the run loop (:func:`run`) that yields one :class:`Result` per
case × dtype × size."""

from __future__ import annotations

import math
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

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

# Runs are at least this long: small tensors are timed over several back-to-back calls per run.
MIN_RUN_S = 0.005
# torch's trunc_normal_ resamples the whole tensor until every value fits, far slower than the rest:
# a call slower than SLOW_CALL_S (in practice only that one) is timed over SLOW_RUNS runs only, and
# the table marks it.
SLOW_CALL_S = 0.25
# Pause before each timed run (not timed): after a torch parallel op its OpenMP workers spin for a
# while and take cores from the next call, whoever's it is, and slow it.
# Only tensors torch splits across threads need it (at least its grain size, 32768 elements):
# below that a pause only leaves caches and predictors cold for the first calls of the run, which
# then cost many times a warm call.
SETTLE_S = 0.02
PARALLEL_GRAIN = 32768
# After the pause, untimed back-to-back calls of the run's own fn for this long, then the timed run:
# an idle pause can leave a (virtual) machine's cores slow for tens of milliseconds, which costs the
# fastest call of a case the most. Each fn is timed in its own steady state, as a model's
# initialization, call after call, runs.
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
