"""``bench``'s outputs: the table (:func:`format_table`), the JSON (:func:`write_json`) and the
picture (:func:`plot`; matplotlib is imported only here, only when plotting)."""

from __future__ import annotations

import json
import math
import textwrap
from typing import Optional, Sequence

from ._measure import MIN_RUN_S, PARALLEL_GRAIN, RAMP_S, REPEATS, SETTLE_S, SLOW_CALL_S, SLOW_RUNS, Result

# ---- output -----------------------------------------------------------------------------------


def _num(x: float, fmt: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, fmt)


def format_table(results: Sequence[Result], *, repeats: int = REPEATS, cold: bool = False) -> str:
    """The table, then what its columns mean."""
    head = ("function", "dtype", "size", "philoxinit GB/s", "torch GB/s", "speed-up", "fill_ GB/s", "of fill_")
    rows = []
    for r in results:
        torch_gbps = _num(r.torch.gbps(r.nbytes), ".3g") + ("*" if r.torch.capped else "")
        rows.append(
            (
                r.case.name,
                r.dtype,
                "x".join(map(str, r.size)),
                _num(r.philoxinit.gbps(r.nbytes), ".3g") + ("*" if r.philoxinit.capped else ""),
                torch_gbps,
                _num(r.speedup, ".3g") + "x",
                _num(r.fill.gbps(r.nbytes), ".3g"),
                _num(r.of_fill, ".2f"),
            )
        )
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
    ramp = (
        ""
        if cold
        else f", then {RAMP_S * 1e3:g} ms of untimed calls of the same function (the cores back at speed; calls over {SLOW_CALL_S:g} s go straight on)"
    )
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
    errors = [
        (r, side, t.error)
        for r in results
        for side, t in (("philoxinit", r.philoxinit), ("torch", r.torch), ("fill_", r.fill))
        if t.error
    ]
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
            "--plot needs matplotlib, which is not installed: pip install matplotlib (or philoxinit[bench])"
        ) from None
    return plt


def _plot_title(m: dict) -> str:
    return (
        f"{m['cpu']}, {m['cores_usable']} cores, torch {m['torch']} ({m['torch_threads']} threads), "
        f"philoxinit {m['philoxinit']} ({m['backend']}, {m['cpu_isa'] or 'n/a'}), {m['device']}"
    )


# Where the machine does not say how large its last-level cache is: a tensor this large is taken to
# be out of cache (larger than most CPUs' last-level caches).
OUT_OF_CACHE_BYTES = 64 << 20
IMPLS = (
    ("philoxinit", "philoxinit", "tab:blue"),
    ("torch", "torch.nn.init", "tab:orange"),
    ("fill", "fill_", "tab:gray"),
)


def _mib(nbytes: int) -> str:
    return f"{nbytes / (1 << 20):.3g} MiB"


def _case_label(name: str) -> str:
    """A case name in lines narrow enough for its group of bars: the function, then its arguments."""
    function, _, args = name.partition("(")
    return "\n".join([function, *textwrap.wrap(args.rstrip(")").replace(",", " "), 16)])


def bar_label(r: Result, out_of_cache_from: int) -> str:
    """The label over philoxinit's bar: its speed-up over torch.nn.init, and its fraction of fill_
    where the tensor is larger than ``out_of_cache_from`` bytes (in cache the two are bounded by
    different things, and the ratio says nothing about memory)."""
    speedup = r.speedup
    lines = ["-" if not math.isfinite(speedup) else f"{speedup:.2g}x" if speedup < 10 else f"{speedup:.0f}x"]
    if r.nbytes > out_of_cache_from and math.isfinite(r.of_fill):
        lines.append(f"{r.of_fill:.0%} of fill_")
    return "\n".join(lines)


def plot(results: Sequence[Result], path: str, title: str = "", llc_bytes: Optional[int] = None) -> None:
    """One panel per size; in each, per function × dtype, the GB/s of philoxinit, torch.nn.init and
    fill_ side by side on a log axis, philoxinit's bar labelled with its speed-up over torch.nn.init.

    philoxinit's fraction of fill_ is written under the speed-up only where the tensor is larger
    than the last-level cache (``llc_bytes``, else OUT_OF_CACHE_BYTES): see :func:`bar_label`."""
    plt = _pyplot()
    bound = llc_bytes or OUT_OF_CACHE_BYTES
    labels = list(dict.fromkeys((r.case.name, r.dtype) for r in results))
    sizes = list(dict.fromkeys(r.size for r in results))
    value = {(r.case.name, r.dtype, r.size): r for r in results}
    fig, axes = plt.subplots(
        len(sizes), 1, figsize=(max(8, 1.0 * len(labels) + 2), 2.9 * len(sizes) + 1.2), squeeze=False
    )
    width = 0.8 / len(IMPLS)
    for ax, size in zip(axes[:, 0], sizes):
        rs = [value.get((name, dtype, size)) for name, dtype in labels]
        for k, (side, legend, color) in enumerate(IMPLS):
            xs = [i + (k - (len(IMPLS) - 1) / 2) * width for i in range(len(labels))]
            gbps = [getattr(r, side).gbps(r.nbytes) if r else math.nan for r in rs]
            ax.bar(xs, gbps, width, label=legend, color=color)
            if side != "philoxinit":
                continue
            for x, y, r in zip(xs, gbps, rs):
                if r is None or not math.isfinite(y):
                    continue
                ax.annotate(
                    bar_label(r, bound),
                    (x, y),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        ax.set_yscale("log")
        ax.margins(y=0.25)
        ax.set_ylabel("GB/s (log)")
        ax.set_title(f"{'x'.join(map(str, size))}", fontsize=10, loc="left")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels([f"{_case_label(name)}\n{dtype}" for name, dtype in labels], fontsize=7)
        ax.grid(axis="y", which="major", alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=len(IMPLS))
    where = f"the last-level cache ({_mib(llc_bytes)})" if llc_bytes else f"{_mib(bound)} (cache size unknown)"
    note = (
        "GB/s: bytes written / median time per call, higher is better. Above philoxinit's bar: its speed-up "
        f"over torch.nn.init, and its fraction of fill_ where the tensor exceeds {where}."
    )
    fig.suptitle((title + "\n" if title else "") + note, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
