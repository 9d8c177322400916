"""philoxinit vs torch.nn.init vs fill_, side by side: one benchmark group per case, dtype and size,
holding the three implementations 'philoxinit', 'torch' and 'fill_'.

Each benchmark is quick: a calibration call sets the iterations per round (rounds of about 1 ms for
small tensors), then 5 rounds; a call slower than 0.25 s (torch's resampling trunc_normal_) gets 3.
"""

import math
import os
import time

import pytest

pytest.importorskip("pytest_benchmark")

import torch  # noqa: E402

import philoxinit  # noqa: E402
from philoxinit import bench  # noqa: E402
from philoxinit.bench import CASES  # noqa: E402


def _env_list(name, default):
    value = os.environ.get(name, "").strip()
    return [v.strip() for v in value.split(",") if v.strip()] if value else list(default)


SIZES = [
    tuple(int(n) for n in s.lower().split("x"))
    for s in _env_list("PHILOXINIT_BENCH_SIZES", ["x".join(map(str, s)) for s in bench.SIZES])
]
DTYPES = _env_list("PHILOXINIT_BENCH_DTYPES", bench.DTYPES)

IMPLS = ("philoxinit", "torch", "fill_")
ROUND_S = 1e-3
SLOW_CALL_S = 0.25


def _size_id(size):
    return "x".join(map(str, size))


def _call(case, impl):
    if impl == "philoxinit":
        return lambda t: case.call(philoxinit, t)
    if impl == "torch":
        return lambda t: case.call(torch.nn.init, t)
    return lambda t: t.fill_(0.5)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES, ids=_size_id)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_init(benchmark, preallocated, case, size, dtype, impl):
    t = preallocated(size, dtype)
    fn = _call(case, impl)
    benchmark.group = f"{case.name} {dtype} {_size_id(size)}"
    benchmark.extra_info.update(bytes=t.numel() * t.element_size(), impl=impl)

    fn(t)  # warm-up
    start = time.perf_counter()
    fn(t)  # calibration
    once = time.perf_counter() - start
    slow = once > SLOW_CALL_S
    iterations = 1 if slow else max(1, min(1000, math.ceil(ROUND_S / max(once, 1e-9))))
    benchmark.pedantic(fn, args=(t,), rounds=3 if slow else 5, iterations=iterations, warmup_rounds=0 if slow else 1)
