"""The cost of one small call against torch.nn.init's, in one process.

    python benchmarks/small_call.py [--shape 64x64] [--fn kaiming_uniform_] [--runs 5] [--pairs 20000]

Each run calls philoxinit's function and torch.nn.init's on the same tensor alternately (A, B, A,
B, ...), times every call on its own with time.perf_counter_ns, and takes the median of each; the
figure is philoxinit's median over torch's. Alternating calls share whatever the machine is doing,
and the median drops the calls a busy machine preempts. The key is drawn from torch's default
generator, as in a plain ``fn(torch.empty(...))`` call.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import philoxinit
from philoxinit.bench import cpu_model


def one_run(ours, theirs, tensor, pairs: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    a, b = [], []
    for _ in range(pairs):
        t0 = clock()
        ours(tensor)
        t1 = clock()
        theirs(tensor)
        t2 = clock()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return statistics.median(a) / 1e3, statistics.median(b) / 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", default="64x64", help="tensor shape, e.g. 64x64")
    p.add_argument("--fn", default="kaiming_uniform_", help="a function both libraries have")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--pairs", type=int, default=20000, help="calls of each function per run")
    args = p.parse_args()
    shape = tuple(int(s) for s in args.shape.split("x"))
    tensor = torch.empty(shape)
    ours, theirs = getattr(philoxinit, args.fn), getattr(torch.nn.init, args.fn)
    one_run(ours, theirs, tensor, 2000)  # warm-up
    print(
        f"{args.fn}(torch.empty({', '.join(map(str, shape))})), {cpu_model()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {philoxinit.backend().name}"
    )
    ratios = []
    for run in range(args.runs):
        mine, torchs = one_run(ours, theirs, tensor, args.pairs)
        ratios.append(mine / torchs)
        print(f"run {run}: philoxinit {mine:.2f} us, torch.nn.init {torchs:.2f} us, ratio {ratios[-1]:.3f}")
    print(f"median ratio: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
