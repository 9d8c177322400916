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

The pieces, one module each, imported one way (``_cli`` → ``_report`` → ``_measure``; ``_cli`` →
``_machine``): the case table, the timing helper and the run loop (``_measure``), the machine
description (``_machine``), the table, JSON and plot writers (``_report``), and :func:`main`
(``_cli``). ``--model`` runs the whole-model benchmarks of :mod:`philoxinit.bench_models` instead.
"""

from __future__ import annotations

from ._cli import BACKENDS, main
from ._machine import cpu_model, cpu_name, machine_info, machine_line
from ._measure import (
    ALL_DTYPES,
    CASES,
    DTYPES,
    QUICK_SIZES,
    REPEATS,
    SIZES,
    Case,
    Result,
    Timing,
    run,
    time_calls,
)
from ._report import format_table, plot, write_json

__all__ = [
    "Case",
    "CASES",
    "DTYPES",
    "ALL_DTYPES",
    "SIZES",
    "QUICK_SIZES",
    "REPEATS",
    "BACKENDS",
    "Timing",
    "Result",
    "time_calls",
    "cpu_name",
    "cpu_model",
    "machine_info",
    "machine_line",
    "run",
    "format_table",
    "write_json",
    "plot",
    "main",
]
