"""Compares the kernels of two builds of philoxinit side by side on this machine.

    python tools/bench_ab.py PYTHON_A PYTHON_B [--rounds N] [--kernels] [-- BENCH-ARGS...]

Each PYTHON is an interpreter whose environment has one build installed (e.g. two virtual
environments). The script runs `python -m philoxinit bench --quick --json` (or the given bench
arguments) with A, then B, alternately for N rounds (default 3), so that both see the same load,
and prints per case the median over rounds of philoxinit's time per call under each build and
B / A (above 1: B is slower).

--kernels instead times the kernels alone, one thread, per instruction set, distribution and dtype
(a 1024 x 1024 tensor, the fastest of 30 calls: the least disturbed by other load on the machine).
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
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
        )
        results = json.load(open(out.name))["results"]
    return {(r["case"], r["dtype"], "x".join(map(str, r["size"]))): r["philoxinit"]["median_s"] for r in results}


KERNELS = r"""
import json, sys, time, torch, philoxinit as P
from philoxinit import _backend
torch.set_num_threads(1)
fills = {"uniform": lambda t: P.uniform_(t, -1.0, 1.0, seed=1), "normal": lambda t: P.normal_(t, 0.0, 1.0, seed=2),
         "trunc_normal": lambda t: P.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0, seed=3),
         "trunc_normal(0.02)": lambda t: P.trunc_normal_(t, 0.0, 0.02, -0.04, 0.04, seed=4)}
out = {}
for isa in ("avx512", "avx2", "vec128"):
    _backend._C.set_isa(isa)
    for name, fill in fills.items():
        for dtype in (torch.float32, torch.bfloat16, torch.float64):
            t = torch.empty(1024, 1024, dtype=dtype)
            fill(t)
            best = float("inf")
            for _ in range(30):
                start = time.perf_counter()
                fill(t)
                best = min(best, time.perf_counter() - start)
            out[f"{isa} {name}|{str(dtype)[6:]}|1024x1024"] = best
json.dump(out, sys.stdout)
"""


def run_kernels(python: str) -> dict:
    done = subprocess.run(
        [python, "-c", KERNELS], check=True, capture_output=True, text=True, cwd=tempfile.gettempdir()
    )
    return {tuple(k.split("|")): v for k, v in json.loads(done.stdout).items()}


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
    kernels = "--kernels" in argv
    if kernels:
        argv.remove("--kernels")
    a, b = argv
    times: dict = {}
    for _ in range(rounds):
        for side, python in (("A", a), ("B", b)):
            for key, t in (run_kernels(python) if kernels else run(python, bench_args)).items():
                times.setdefault(key, {"A": [], "B": []})[side].append(t)
    what = "fastest of 30 calls, one thread" if kernels else "time per philoxinit call"
    print(f"A = {a}\nB = {b}\n{rounds} rounds, median over rounds of the {what} (us)")
    print(f"{'case':40s} {'dtype':9s} {'size':10s} {'A':>9s} {'B':>9s} {'B/A':>6s}")
    ratios = []
    for (case, dtype, size), t in times.items():
        ta, tb = statistics.median(t["A"]) * 1e6, statistics.median(t["B"]) * 1e6
        ratios.append(tb / ta)
        print(f"{case[:40]:40s} {dtype:9s} {size:10s} {ta:9.2f} {tb:9.2f} {tb / ta:6.3f}")
    print(f"geometric mean B/A: {statistics.geometric_mean(ratios):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
