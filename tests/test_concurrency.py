"""Concurrency: many Python threads filling at once give the bits one thread gives; fills release
the GIL; an interrupted (SIGINT) run of long fills leaves the process usable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

import philoxinit as P

TESTS = Path(__file__).parent


def jobs():
    """(name, make tensor, fill it): sizes below and above the kernels' parallel threshold
    (2^17 elements), every distribution, several dtypes and a strided view."""
    out = []
    specs = [
        ("bits", torch.int32, 1 << 18, lambda t, k: P.random_bits_(t, seed=k, stream=3)),
        ("uniform", torch.float32, 300_001, lambda t, k: P.uniform_(t, -1.0, 2.0, seed=k)),
        ("normal", torch.float64, 200_003, lambda t, k: P.normal_(t, 1.0, 3.0, seed=k, offset=9)),
        ("trunc", torch.bfloat16, 150_000, lambda t, k: P.trunc_normal_(t, 0.0, 1.0, -1.5, 2.0, seed=k)),
        ("kaiming", torch.float16, 1000, lambda t, k: P.kaiming_uniform_(t.view(10, 100), seed=k)),
        ("uniform-small", torch.float32, 777, lambda t, k: P.uniform_(t, seed=k, stream=k)),
    ]
    for i in range(24):
        name, dtype, n, fill = specs[i % len(specs)]
        out.append((f"{name}-{i}", dtype, n, fill, 1000 + i))
    return out


def run_jobs(threads: int, reps: int = 1):
    """Run every job (each `reps` times) on `threads` Python threads at once; {name: tensor}."""
    results = {}
    work = jobs() * reps
    barrier = threading.Barrier(threads)
    errors = []

    def worker(chunk):
        try:
            barrier.wait()
            for name, dtype, n, fill, key in chunk:
                base = torch.empty(2 * n, dtype=dtype)
                t = base[::2] if name.startswith("uniform") else base[:n]
                fill(t, key)
                got = t.contiguous().view(torch.uint8)
                prev = results.setdefault(name, got)
                assert torch.equal(prev, got), name
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(work[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_many_threads_fill_the_same_bits_as_one(backend_name):
    one = run_jobs(1)
    many = run_jobs(8, reps=2)  # every job twice: repeats on other threads agree too
    assert one.keys() == many.keys()
    for name in one:
        assert torch.equal(one[name], many[name]), name


def test_threads_with_different_torch_thread_counts():
    """The kernels' own thread pool is shared: callers asking for different thread counts at
    the same time still get the single-threaded bits."""
    if P.backend().name != "compiled":
        pytest.skip("compiled kernels only")
    n = 1 << 19
    want = torch.empty(n)
    P.normal_(want, seed=77)
    outs, errors = [], []

    def worker(threads):
        try:
            for _ in range(3):
                t = torch.empty(n)
                P.normal_(t, seed=77)
                outs.append(t)
        except BaseException as e:
            errors.append(e)

    old = torch.get_num_threads()
    try:
        ts = []
        for k in (1, 2, 3, 8):
            torch.set_num_threads(k)  # global: each thread starts under a different setting
            th = threading.Thread(target=worker, args=(k,))
            th.start()
            ts.append(th)
        for th in ts:
            th.join()
    finally:
        torch.set_num_threads(old)
    assert not errors, errors
    assert len(outs) == 12 and all(torch.equal(o, want) for o in outs)


def test_fills_release_the_gil():
    """While one thread runs a long fill, another thread keeps running Python code."""
    if P.backend().name != "compiled":
        pytest.skip("the fallback runs torch ops, which release the GIL on their own terms")
    t = torch.empty(1 << 25)  # 128 MiB
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # leave a core for the counting thread
    try:
        start = time.perf_counter()
        P.normal_(t, seed=1)
        one_fill = time.perf_counter() - start
        reps = max(2, int(1.0 / max(one_fill, 1e-3)))  # about a second of filling

        in_fill = threading.Event()

        def filler():
            in_fill.set()
            for _ in range(reps):
                P.normal_(t, seed=1)

        # the counting loop's own speed, with nothing else running
        count, end = 0, time.perf_counter() + 0.1
        while time.perf_counter() < end:
            count += 1
        rate = count / 0.1

        th = threading.Thread(target=filler)
        th.start()
        in_fill.wait()
        begin, count = time.perf_counter(), 0
        while th.is_alive():
            count += 1
        elapsed = time.perf_counter() - begin
        th.join()
    finally:
        torch.set_num_threads(old)
    # Holding the GIL through the fills would leave this loop a few switch intervals at most.
    assert count > 0.1 * rate * elapsed, (count, rate, elapsed)


INTERRUPT_SCRIPT = textwrap.dedent(
    r"""
    import json, signal, sys, time
    import numpy as np, torch
    import philoxinit as P
    import reference as ref

    # Python leaves SIGINT ignored when it starts with it ignored (a test run launched in the
    # background): raise KeyboardInterrupt on SIGINT whatever the suite was started from.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    big = torch.empty(1 << 28)  # 1 GiB of float32
    P.normal_(big, seed=5)
    checksum = big[:: 1 << 10].double().sum().item()
    print("ready", flush=True)
    fills = 0
    try:
        while True:
            P.normal_(big, seed=5 + fills % 2)
            P.uniform_(big, seed=7)
            fills += 1
    except KeyboardInterrupt:
        interrupted = True
    # usable afterwards: small and big fills are correct
    small = torch.empty(1001, dtype=torch.int32)
    P.random_bits_(small, seed=3, stream=4, offset=5)
    small_ok = bool((small.numpy().view(np.uint32) == ref.words(3, 4, 5, 1001)).all())
    P.normal_(big, seed=5)
    big_ok = big[:: 1 << 10].double().sum().item() == checksum
    print(json.dumps(dict(interrupted=interrupted, fills=fills, small_ok=small_ok, big_ok=big_ok)), flush=True)
    """
)


def test_sigint_during_long_fills_leaves_the_process_usable(tmp_path):
    if P.backend().name != "compiled":
        pytest.skip("compiled kernels only (the fallback needs ~20 GiB for a 1 GiB fill)")
    script = tmp_path / "interrupt.py"
    script.write_text(INTERRUPT_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
        time.sleep(1.0)  # inside the loop of fills, most likely inside one
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result == dict(interrupted=True, fills=result["fills"], small_ok=True, big_ok=True), result
