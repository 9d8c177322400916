"""``python -m philoxinit bench``'s command line: parse, check, measure, print, write."""

from __future__ import annotations

import argparse
import os
import time
from typing import List, Optional, Sequence, Tuple

import torch

from ._machine import machine_info, machine_line
from ._measure import ALL_DTYPES, CASES, DTYPES, MIN_RUN_S, QUICK_SIZES, REPEATS, SIZES, SLOW_CALL_S, SLOW_RUNS, run
from ._report import _plot_title, _pyplot, format_table, plot, write_json

BACKENDS = ("compiled", "torch", "triton")

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
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {', '.join('x'.join(map(str, s)) for s in QUICK_SIZES)} only (under a minute)",
    )
    p.add_argument("--all", action="store_true", help="also float16 and float64")
    p.add_argument(
        "--cold", action="store_true", help="time fills of freshly allocated tensors (first-touch page faults included)"
    )
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--threads", type=int, metavar="N", help="torch.set_num_threads(N) first (philoxinit follows it)")
    p.add_argument(
        "--isa", metavar="NAME", help="force philoxinit's CPU instruction set (scalar, vec128, avx2, avx512)"
    )
    p.add_argument(
        "--backend", choices=BACKENDS,
        help="the path philoxinit's side takes: compiled (the C++/CUDA kernels), torch (the pure-PyTorch "
        "fallback, PHILOXINIT_BACKEND=torch) or triton (GPU tensors, PHILOXINIT_BACKEND=triton); "
        "default: what philoxinit picks",
    )  # fmt: skip
    p.add_argument("--json", metavar="FILE", help="write the machine description and every measurement here")
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="bar chart of GB/s of philoxinit, torch.nn.init and fill_ per case and size (needs matplotlib)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--model", nargs="?", const="gpt2,llama,vit", metavar="NAMES",
        help="whole-model init instead of the table: gpt2, llama, vit (default: all), see bench_models.py",
    )  # fmt: skip
    # Narrowing the run (tests and experiments).
    p.add_argument("--sizes", type=_sizes, metavar="AxB,...", help="sizes instead of the defaults, e.g. 64x64,128x128")
    p.add_argument("--dtypes", metavar="D,...", help="dtypes instead of the defaults, e.g. float32,float16")
    p.add_argument("--cases", metavar="NAME,...", help="only these cases (names as in the table's first column)")
    p.add_argument(
        "--repeats", type=int, default=None, metavar="N", help=f"timed runs per measurement (default {REPEATS})"
    )
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
        from .. import bench_models

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
    results = run(
        cases, dtypes, sizes, repeats=repeats, device=args.device, cold=args.cold, progress=not args.no_progress
    )
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
        plot(results, args.plot, title=_plot_title(machine), llc_bytes=machine.get("llc_bytes"))
        print(f"wrote {args.plot}")
    return 1 if any(t.error for r in results for t in (r.philoxinit, r.torch, r.fill)) else 0
