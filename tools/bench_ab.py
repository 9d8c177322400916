"""Compares the kernels of two builds of philoxinit side by side on this machine.

    python tools/bench_ab.py PYTHON_A PYTHON_B [--rounds N] [-- BENCH-ARGS...]

Each PYTHON is an interpreter whose environment has one build installed (e.g. two virtual
environments). The script runs `python -m philoxinit bench --quick --json` (or the given bench
arguments) with A, then B, alternately for N rounds (default 3), so that both see the same load,
and prints per case the median over rounds of philoxinit's time per call under each build and
B / A (above 1: B is slower).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile


def run(python: str, bench_args: list[str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [python, "-m", "philoxinit", "bench", *bench_args, "--no-progress", "--json", out.name],
            check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
        )
        results = json.load(open(out.name))["results"]
    return {(r["case"], r["dtype"], "x".join(map(str, r["size"]))): r["philoxinit"]["median_s"] for r in results}


def main(argv: list[str]) -> None:
    bench_args = ["--quick"]
    if "--" in argv:
        i = argv.index("--")
        argv, bench_args = argv[:i], argv[i + 1 :]
    rounds = 3
    if "--rounds" in argv:
        i = argv.index("--rounds")
        rounds = int(argv[i + 1])
        del argv[i : i + 2]
    a, b = argv
    times: dict = {}
    for _ in range(rounds):
        for side, python in (("A", a), ("B", b)):
            for key, t in run(python, bench_args).items():
                times.setdefault(key, {"A": [], "B": []})[side].append(t)
    print(f"A = {a}\nB = {b}\n{rounds} rounds, median time per philoxinit call (us)")
    print(f"{'case':40s} {'dtype':9s} {'size':10s} {'A':>9s} {'B':>9s} {'B/A':>6s}")
    ratios = []
    for (case, dtype, size), t in times.items():
        ta, tb = statistics.median(t["A"]) * 1e6, statistics.median(t["B"]) * 1e6
        ratios.append(tb / ta)
        print(f"{case[:40]:40s} {dtype:9s} {size:10s} {ta:9.2f} {tb:9.2f} {tb / ta:6.3f}")
    print(f"geometric mean B/A: {statistics.geometric_mean(ratios):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
