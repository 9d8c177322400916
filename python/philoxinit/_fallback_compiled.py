"""The fallback's chunk function compiled by torch.compile (inductor's C++ code), for CPU tensors.

Eagerly, each of the ~100 elementwise steps of Philox and a transform is its own pass over a chunk;
compiled, a chunk is one vectorized loop and runs near torch.nn.init's own speed. Each distribution
is compiled once per dtype for a fixed chunk size, with the counter, key and parameters as tensor
inputs, so one compilation serves every call (inductor also caches on disk: later processes load it
in seconds instead of compiling).

``PHILOXINIT_COMPILE``: ``0`` never compiles; ``1`` compiles for every CPU fill; unset, fills of at
least ``MIN_ELEMENTS`` elements (where compiling once pays). A compiled function is checked once
per dtype against the eager chunk, bit for bit; one that fails to compile or differs is dropped
with a warning and the fill runs eagerly. Floating-point contraction stays off (no FMA), as the
contract requires.
"""

from __future__ import annotations

import os
import warnings
from typing import Callable

import torch

from ._request import Dist, Request

MIN_ELEMENTS = 1 << 22
_OPTIONS = {"cpp.enable_floating_point_contract_flag": "off", "cpp.enable_unsafe_math_opt_flag": False}


def _chunk_functions(_chunk_values: Callable) -> dict:
    # One function (one code object) per distribution: torch.compile's recompile limit counts per
    # function, and each one then holds only its few dtypes.
    return {
        (Dist.BITS, False): lambda s, c, p, dt: _chunk_values(s, c, p, dt, Dist.BITS, False),
        (Dist.UNIFORM, False): lambda s, c, p, dt: _chunk_values(s, c, p, dt, Dist.UNIFORM, False),
        (Dist.NORMAL, False): lambda s, c, p, dt: _chunk_values(s, c, p, dt, Dist.NORMAL, False),
        (Dist.TRUNC_NORMAL, False): lambda s, c, p, dt: _chunk_values(s, c, p, dt, Dist.TRUNC_NORMAL, False),
        (Dist.TRUNC_NORMAL, True): lambda s, c, p, dt: _chunk_values(s, c, p, dt, Dist.TRUNC_NORMAL, True),
    }


class Chunk:
    """A compiled chunk function for one distribution (and truncated-normal method)."""

    def __init__(self, dist: Dist, series: bool, chunk_values: Callable):
        self.eager = _chunk_functions(chunk_values)[(dist, series)]
        self.compiled = None  # torch.compile itself raises where Dynamo does not run
        self.usable: dict = {}  # dtype -> whether it compiled and matched the eager chunk

    def run(self, steps: torch.Tensor, counter: tuple, params, dtype: torch.dtype) -> torch.Tensor:
        c = torch.tensor(counter, dtype=torch.int64)
        p = torch.tensor(tuple(params), dtype=torch.float64)
        return self.compiled(steps, c, p, dtype)

    def check(self, steps: torch.Tensor, params, dtype: torch.dtype) -> bool:
        """Compile for dtype (once) and compare a chunk with the eager one, bit for bit."""
        if dtype not in self.usable:
            counter = (0x9ABCDEF0, 0x89ABCDEF, 0x01234567, 0xFEDCBA98, 0x9E3779B9, 0x7F4A7C15)
            try:
                if self.compiled is None:
                    self.compiled = torch.compile(self.eager, dynamic=False, fullgraph=True, options=_OPTIONS)
                got = self.run(steps, counter, params, dtype)
            except Exception as e:  # no C++ compiler, an unsupported platform, an inductor bug
                warnings.warn(
                    f"philoxinit: torch.compile of the fallback failed, running it eagerly ({type(e).__name__}: {e})",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self.usable[dtype] = False
            else:
                want = self.eager(steps, counter, params, dtype)
                same = got.shape == want.shape and torch.equal(_bits(got), _bits(want))
                if not same:
                    warnings.warn(
                        "philoxinit: the compiled fallback's bits differ from the eager fallback's; running it eagerly",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                self.usable[dtype] = same
        return self.usable[dtype]


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.view({1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


_chunks: dict = {}
_steps: dict = {}


def chunk_for(req: Request, dtype: torch.dtype, device: torch.device, n: int, blocks: int, chunk_values: Callable):
    """The compiled chunk to fill n elements of ``req`` with, or None (eager). ``chunk_values``: the
    fallback's eager chunk function (_fallback._chunk_values), the one that gets compiled."""
    mode = os.environ.get("PHILOXINIT_COMPILE", "")
    if device.type != "cpu" or mode == "0" or (mode != "1" and n < MIN_ELEMENTS):
        return None
    key = (req.dist, bool(req.params.series))
    chunk = _chunks.get(key)
    if chunk is None:
        chunk = _chunks[key] = Chunk(*key, chunk_values)
    if blocks not in _steps:
        _steps[blocks] = torch.arange(blocks, dtype=torch.int64)
    return chunk if chunk.check(_steps[blocks], req.params, dtype) else None
