"""Past 2^31 elements and past 2^32 words: 64-bit indexing everywhere.

A real float16 tensor of 2^31 + 3 elements (4 GiB) is filled with uniform and normal values; the
elements around index 2^31 and at its end equal small boxes of the same global tensor
(global_shape / global_offset) on both backends, and the reference model's words. Indices past 2^32
words are reached through global_offset (no 16 GiB tensor needed).
"""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
import reference as ref
import torch

import philoxinit as P

N = (1 << 31) + 3
KEY, STREAM, OFFSET = 0x9E3779B97F4A7C15, 11, 5


def available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def huge():
    if P.backend().name != "compiled":
        pytest.skip("the 4 GiB fill needs the compiled kernels (the fallback would need ~60 GiB)")
    need = N * 2 + (1 << 30)
    if available_bytes() < need:
        pytest.skip(f"needs {need / 2**30:.1f} GiB of free memory")
    t = torch.empty(N, dtype=torch.float16)
    yield t
    del t
    gc.collect()


# Local boxes of the global tensor: start index, length.
BOXES = [(0, 9), ((1 << 31) - 5, 8), (N - 8, 8), ((1 << 30) + 1, 3)]


def box_fill(fn, start, n, backend, *args):
    t = torch.empty(n, dtype=torch.float16)
    old = os.environ.get("PHILOXINIT_BACKEND")
    try:
        if backend == "torch":
            os.environ["PHILOXINIT_BACKEND"] = "torch"
        else:
            os.environ.pop("PHILOXINIT_BACKEND", None)
        fn(t, *args, seed=KEY, stream=STREAM, offset=OFFSET, global_shape=(N,), global_offset=(start,))
    finally:
        if old is None:
            os.environ.pop("PHILOXINIT_BACKEND", None)
        else:
            os.environ["PHILOXINIT_BACKEND"] = old
    return t


def f16_bits(t: torch.Tensor) -> np.ndarray:
    return t.view(torch.int16).numpy().copy()


def test_huge_float16_uniform_and_normal(huge):
    # uniform: the whole tensor in one call
    P.uniform_(huge, -1.0, 3.0, seed=KEY, stream=STREAM, offset=OFFSET)
    for start, n in BOXES:
        got = huge[start : start + n]
        for backend in ("compiled", "torch"):
            want = box_fill(P.uniform_, start, n, backend, -1.0, 3.0)
            np.testing.assert_array_equal(f16_bits(got), f16_bits(want), err_msg=f"uniform {backend} @{start}")
        words = ref.words(KEY, STREAM, OFFSET, n, start=start)
        want = ref.uniform_narrow(words, -1.0, 3.0, "float16").astype(np.float16)
        np.testing.assert_array_equal(got.numpy(), want, err_msg=f"uniform reference @{start}")
    # a coarse look at the whole: the mean of U(-1, 3) is 1
    assert abs(huge[:: 1 << 12].float().mean().item() - 1.0) < 0.01

    # normal over the same memory
    P.normal_(huge, 0.5, 2.0, seed=KEY, stream=STREAM, offset=OFFSET)
    for start, n in BOXES:
        got = huge[start : start + n]
        for backend in ("compiled", "torch"):
            want = box_fill(P.normal_, start, n, backend, 0.5, 2.0)
            np.testing.assert_array_equal(f16_bits(got), f16_bits(want), err_msg=f"normal {backend} @{start}")
    sample = huge[:: 1 << 12].float()
    assert abs(sample.mean().item() - 0.5) < 0.05 and abs(sample.std().item() - 2.0) < 0.05


@pytest.mark.parametrize("backend", ["compiled", "torch"])
def test_words_past_2_to_the_32(backend, monkeypatch):
    """random_bits_, float32 uniform and float64 uniform at global indices past 2^32 (and, for
    float64, past 2^33 words), read from the reference model at those indices."""
    if backend == "torch":
        monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
    elif P.backend().name != "compiled":
        pytest.skip("compiled kernels unavailable")
    gshape = ((1 << 34) + 64,)
    for start in ((1 << 32) + 7, (1 << 32) - 3, (1 << 34) + 1):
        n = 21
        bits = torch.empty(n, dtype=torch.int32)
        P.random_bits_(bits, seed=KEY, stream=STREAM, offset=OFFSET, global_shape=gshape, global_offset=(start,))
        np.testing.assert_array_equal(bits.numpy().view(np.uint32), ref.words(KEY, STREAM, OFFSET, n, start=start))

        u32 = torch.empty(n, dtype=torch.float32)
        P.uniform_(u32, -2.0, 5.0, seed=KEY, stream=STREAM, offset=OFFSET, global_shape=gshape, global_offset=(start,))
        want = ref.uniform_f32(ref.words(KEY, STREAM, OFFSET, n, start=start), -2.0, 5.0)
        np.testing.assert_array_equal(u32.numpy(), want)

        u64 = torch.empty(n, dtype=torch.float64)
        P.uniform_(u64, -2.0, 5.0, seed=KEY, stream=STREAM, offset=OFFSET, global_shape=gshape, global_offset=(start,))
        want = ref.uniform_f64(ref.words64(KEY, STREAM, OFFSET, n, start=start), -2.0, 5.0)
        np.testing.assert_array_equal(u64.numpy(), want)


def test_global_index_carries_into_the_high_block_word():
    """A 2-D box whose global index crosses 2^34 (block 2^32: the counter's high word changes
    inside the box), with the block offset near 2^64 so the block number wraps too."""
    rows, cols = 1 << 17, 1 << 17  # 2^34 elements
    offset = (1 << 64) - 3
    t = torch.empty(4, 6, dtype=torch.int32)
    P.random_bits_(
        t, seed=KEY, stream=STREAM, offset=offset, global_shape=(rows + 2, cols), global_offset=(rows - 2, cols - 6)
    )
    gi = (np.arange(rows - 2, rows + 2)[:, None] * cols + np.arange(cols - 6, cols)[None, :]).ravel()
    want = np.concatenate([ref.words(KEY, STREAM, offset, 1, start=int(i)) for i in gi])
    np.testing.assert_array_equal(t.numpy().ravel().view(np.uint32), want)
