"""Cost per element of the CPU kernels on one core, data in cache: the table in docs/performance.md.

    python benchmarks/kernel_cost.py [--elements 65536] [--runs 400]

For each ISA the CPU has, each distribution and dtype: the best of --runs fills of an already
touched --elements tensor, minus the best of the same call on 4 elements (Python and dispatch
overhead), divided by the element count. One thread; best-of, because the question is what the
kernel costs, not what a busy machine lets it do.
"""

from __future__ import annotations

import argparse
import time

import torch

import philoxinit as P
from philoxinit import _C

CASES = [  # label, dtype, fill
    ("raw bits (Philox alone)", torch.int32, lambda t: P.random_bits_(t, seed=1)),
    ("uniform", torch.float32, lambda t: P.uniform_(t, -1.0, 1.0, seed=1)),
    ("normal", torch.float32, lambda t: P.normal_(t, 0.0, 1.0, seed=1)),
    ("truncated normal", torch.float32, lambda t: P.trunc_normal_(t, seed=1)),
    ("uniform", torch.bfloat16, lambda t: P.uniform_(t, -1.0, 1.0, seed=1)),
    ("normal", torch.bfloat16, lambda t: P.normal_(t, 0.0, 1.0, seed=1)),
    ("uniform", torch.float64, lambda t: P.uniform_(t, -1.0, 1.0, seed=1)),
    ("normal", torch.float64, lambda t: P.normal_(t, 0.0, 1.0, seed=1)),
    ("truncated normal", torch.float64, lambda t: P.trunc_normal_(t, seed=1)),
]


def best(fn, t, runs):
    fn(t)
    out = float("inf")
    for _ in range(runs):
        a = time.perf_counter()
        fn(t)
        out = min(out, time.perf_counter() - a)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, default=65536)
    ap.add_argument("--runs", type=int, default=400)
    args = ap.parse_args()
    torch.set_num_threads(1)
    isas = _C.cpu_isas()
    print(f"ns per element, one thread, {args.elements} elements in cache, best of {args.runs}")
    print("| case | dtype | " + " | ".join(isas) + " |")
    print("|---|---|" + "---:|" * len(isas))
    for label, dtype, fn in CASES:
        cells = []
        for isa in isas:
            _C.set_isa(isa)
            big = torch.empty(args.elements, dtype=dtype)
            small = torch.empty(4, dtype=dtype)
            cost = best(fn, big, args.runs) - best(fn, small, args.runs)
            cells.append(f"{cost / args.elements * 1e9:.2f}")
        print(f"| {label} | {str(dtype).replace('torch.', '')} | " + " | ".join(cells) + " |")
    _C.set_isa("")


if __name__ == "__main__":
    main()
