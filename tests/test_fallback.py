"""The pure-PyTorch fallback, chunk by chunk: the same bits as the compiled kernels where its chunks
begin and end, where the block counter's low word carries into the high word (2^32 blocks) and
where it wraps (2^64), on gathered (non-contiguous, sharded) index maps, and through torch.compile.

Chunks are made a few blocks long here so that small tensors cross many chunk boundaries."""

import warnings

import pytest
import torch

import philoxinit as P
from philoxinit import _fallback, _fallback_compiled
from philoxinit._request import Dist, Params, Request

pytestmark = pytest.mark.filterwarnings("ignore:mean is more than 2 std")

FILLS = {
    "bits": lambda t, **kw: P.random_bits_(t, **kw),
    "uniform": lambda t, **kw: P.uniform_(t, -0.3, 0.7, **kw),
    "normal": lambda t, **kw: P.normal_(t, 0.1, 1.7, **kw),
    "trunc": lambda t, **kw: P.trunc_normal_(t, 0.0, 1.0, -1.0, 3.0, **kw),
    "trunc_series": lambda t, **kw: P.trunc_normal_(t, 0.0, 1.0, 5.0, 5.5, **kw),
}
DTYPES = {
    "bits": [torch.int32],
    "uniform": [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64],
    "normal": [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64],
    "trunc": [torch.float32, torch.float64, torch.bfloat16],
    "trunc_series": [torch.float32, torch.float64],
}
CASES = [(name, dtype) for name in FILLS for dtype in DTYPES[name]]
U64 = (1 << 64) - 1
# Block offsets: the low counter word crosses 2^32 a few blocks in; the block number wraps past 2^64.
OFFSETS = [0, (1 << 32) - 5, U64 - 3]


def bits(t: torch.Tensor) -> torch.Tensor:
    t = torch.view_as_real(t) if t.is_complex() else t
    return t.contiguous().view({1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


def both(monkeypatch, fill, make, **kw):
    """(compiled kernels, fallback) results of fill(make(), **kw)."""
    assert P.backend().name == "compiled"
    compiled = fill(make(), **kw)
    with monkeypatch.context() as m:
        m.setenv("PHILOXINIT_BACKEND", "torch")
        fallback = fill(make(), **kw)
    return compiled, fallback


@pytest.fixture
def small_chunks(monkeypatch):
    """7-block eager chunks (odd: chunks start at every block phase), and no torch.compile."""
    monkeypatch.setattr(_fallback, "CHUNK_BLOCKS", 7)
    monkeypatch.setenv("PHILOXINIT_COMPILE", "0")


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("name,dtype", CASES)
def test_chunks_of_a_contiguous_range(monkeypatch, small_chunks, name, dtype, offset):
    """Whole tensors and boxes of whole rows (one contiguous range of global indices), with sizes
    and starts that straddle chunk and block boundaries, offsets that carry and wrap."""
    kw = dict(seed=0x0123456789ABCDEF, stream=5, offset=offset)
    for n in (1, 27, 28, 29, 57):
        c, f = both(monkeypatch, FILLS[name], lambda: torch.empty(n, dtype=dtype), **kw)
        assert torch.equal(bits(c), bits(f)), (n, "whole")
    for start in (3, 30):  # a box of whole rows starting mid-block
        box = dict(global_shape=(40, 3), global_offset=(start // 3, 0))
        c, f = both(monkeypatch, FILLS[name], lambda: torch.empty(5, 3, dtype=dtype), **kw, **box)
        assert torch.equal(bits(c), bits(f)), (start, "rows")


@pytest.mark.parametrize("name,dtype", CASES)
def test_chunks_of_views_and_boxes(monkeypatch, small_chunks, name, dtype):
    """A transposed view (written through a temporary), a box of partial rows (gathered: each chunk
    computes its unique blocks once) and a box starting past 2^32 global elements."""
    kw = dict(seed=77, stream=(1 << 64) - 2, offset=(1 << 32) - 2)
    c, f = both(monkeypatch, FILLS[name], lambda: torch.empty(9, 13, dtype=dtype).t(), **kw)
    assert torch.equal(bits(c), bits(f)), "transposed"
    box = dict(global_shape=(11, 17), global_offset=(2, 5))
    c, f = both(monkeypatch, FILLS[name], lambda: torch.empty(6, 9, dtype=dtype)[:, ::2], **kw, **box)
    assert torch.equal(bits(c), bits(f)), "strided view of a box"
    box = dict(global_shape=(1 << 20, 1 << 14), global_offset=((1 << 18) - 1, (1 << 14) - 10))
    c, f = both(monkeypatch, FILLS[name], lambda: torch.empty(3, 10, dtype=dtype), **kw, **box)
    assert torch.equal(bits(c), bits(f)), "box past 2^32 elements"


def test_words_are_per_element_blocks():
    """words(): each element reads its own block's four words (the per-element form other code uses)."""
    req = Request(Dist.BITS, Params(), 1234, 5, (1 << 32) - 1, (10,), (1,), 0)
    g = _fallback.global_indices(req, "cpu")
    ws = _fallback.words(req, g, 4)
    x = torch.stack(ws, -1)[torch.arange(10), g % 4]
    assert torch.equal(x.to(torch.int32), _fallback.values(req, torch.int32, "cpu"))
    lo = P.philox4x32_10((0xFFFFFFFF, 0, 5, 0), (1234, 0))
    assert [int(w) for w in x[:4]] == list(lo)


# ---- torch.compile of the chunk ------------------------------------------------------------------

# Compiling costs seconds per distribution and dtype on a cold cache: a few representative ones.
COMPILED_CASES = [("normal", torch.float32), ("trunc", torch.float32), ("uniform", torch.float64)]


@pytest.mark.parametrize("name,dtype", COMPILED_CASES)
def test_compiled_chunks_equal_the_kernels(monkeypatch, name, dtype):
    """PHILOXINIT_COMPILE=1: fills run through the inductor-compiled chunk (64 blocks here), which
    gives the kernels' bits, the tail chunk's dropped blocks and a carry of the low word included."""
    monkeypatch.setattr(_fallback, "COMPILED_CHUNK_BLOCKS", 64)
    monkeypatch.setenv("PHILOXINIT_COMPILE", "1")
    req_dist = {"normal": Dist.NORMAL, "trunc": Dist.TRUNC_NORMAL, "uniform": Dist.UNIFORM}[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c, f = both(monkeypatch, FILLS[name], lambda: torch.empty(3, 301, dtype=dtype), seed=9, offset=(1 << 32) - 100)
    failed = [str(w.message) for w in caught if "compile of the fallback failed" in str(w.message)]
    if failed:
        pytest.skip(failed[0])
    assert not [w for w in caught if "philoxinit" in str(w.message)], [str(w.message) for w in caught]
    chunk = _fallback_compiled._chunks[(req_dist, False)]
    assert chunk.usable[dtype]  # the fill above did go through the compiled chunk
    assert torch.equal(bits(c), bits(f))


def test_a_chunk_that_does_not_compile_runs_eagerly(monkeypatch):
    """torch.compile failing (no C++ compiler, say): a warning, then the eager chunk, same bits."""

    def broken(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(_fallback_compiled, "_chunks", {})
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: broken)
    monkeypatch.setenv("PHILOXINIT_COMPILE", "1")
    with pytest.warns(RuntimeWarning, match="compile of the fallback failed.*no compiler here"):
        c, f = both(monkeypatch, FILLS["uniform"], lambda: torch.empty(1000), seed=3)
    assert torch.equal(bits(c), bits(f))


def test_small_fills_and_other_devices_stay_eager(monkeypatch):
    """Unless PHILOXINIT_COMPILE=1, fills under MIN_ELEMENTS never compile; nor do other devices,
    nor anything under PHILOXINIT_COMPILE=0."""
    req = Request(Dist.UNIFORM, Params(a=0.0, b=1.0), 1, 0, 0, (1000,), (1,), 0)

    def chunk_for(*args):
        return _fallback_compiled.chunk_for(*args, _fallback._chunk_values)

    monkeypatch.delenv("PHILOXINIT_COMPILE", raising=False)
    assert chunk_for(req, torch.float32, torch.device("cpu"), _fallback_compiled.MIN_ELEMENTS - 1, 64) is None
    assert chunk_for(req, torch.float32, torch.device("meta"), _fallback_compiled.MIN_ELEMENTS, 64) is None
    monkeypatch.setenv("PHILOXINIT_COMPILE", "0")
    assert chunk_for(req, torch.float32, torch.device("cpu"), 1 << 30, 64) is None
