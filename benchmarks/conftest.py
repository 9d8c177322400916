"""pytest-benchmark suites: ``pytest benchmarks/ --benchmark-only``.

test_bench_init.py covers the cases of ``python -m philoxinit bench`` (philoxinit.bench.CASES). Narrow a run with
``-k`` (e.g. ``-k "4096x4096 and float32"``) or with the environment variables
PHILOXINIT_BENCH_SIZES (e.g. ``64x64,1024x1024``) and PHILOXINIT_BENCH_DTYPES (e.g. ``float32``).
"""

import pytest
import torch


def pytest_report_header(config):
    from philoxinit.bench import machine_info, machine_line

    return "philoxinit bench: " + machine_line(machine_info())


@pytest.fixture(scope="session")
def preallocated():
    """tensor(size, dtype): one tensor per size and dtype, written once before any timing so first-touch
    page faults are not measured; kept for the whole session and shared by every case."""
    cache = {}

    def get(size, dtype):
        key = (tuple(size), dtype)
        if key not in cache:
            cache[key] = torch.empty(size, dtype=getattr(torch, dtype)).fill_(0)
        return cache[key]

    return get
