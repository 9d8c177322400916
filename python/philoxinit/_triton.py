"""The Triton path: one fused kernel per (distribution, dtype) of a batch of requests on one GPU.

For GPU tensors that the compiled CUDA kernels cannot serve (no CUDA build of the extension, a
driver or an architecture they cannot run on, ROCm builds of torch); _backend.py routes to it and
imports this module only then. The design is the CUDA launcher's (csrc/cuda/table.h,
thread_fill.h): the requests' work is cut into ITEMS, one item being the part of one row (the
innermost dimension of a coalesced request) that reads one Philox block, so up to 4 elements (2
for float64). Each program does BLOCK consecutive items of one request: it finds its request in
the table's prefix sums of programs, computes one Philox block per item, turns the words into
stored bit patterns with the transforms of _triton_math.py, and stores each element that exists at
its strided address. Every value depends only on its item, never on the grid.

The table crosses to the device as one small int64 tensor, copied without synchronizing: pinned
host memory and a non-blocking copy on the current stream.

Under Triton's interpreter (``TRITON_INTERPRET=1`` when this module is first imported) the same
kernel runs on CPU tensors, through numpy. The kernels call Triton builtins only, no
``triton.language.standard`` functions (``zeros_like``, ...): those are decorated when triton is
imported, so they would not be interpreted where triton was imported before the variable was set.
"""

from __future__ import annotations

import struct
from contextlib import nullcontext
from typing import Sequence

import torch
import triton
import triton.language as tl

from . import _triton_math as M
from ._request import DTYPE_CODES, Request

# The int64 table of a launch: the prefix sums of the requests' programs (n_requests + 1), then one
# row per request: the fields below, (size, memory stride, global stride) for each dimension above
# the innermost one, outermost first (the launch's OUTER of them, padded at the outer end with
# size-1 dims), and the request's float64 parameters Params a, b, t0, dt, flip, lo, hi (bits).
F_ADDR = tl.constexpr(0)  # address of the element at local index 0
F_KEY = tl.constexpr(1)  # key, stream, offset: uint64 stored as int64
F_STREAM = tl.constexpr(2)
F_OFFSET = tl.constexpr(3)
F_GOFF = tl.constexpr(4)  # global index of local index 0
F_ITEMS = tl.constexpr(5)  # items of the request: rows * items per row
F_ROW_ITEMS = tl.constexpr(6)  # items per row
F_MODE = tl.constexpr(7)  # 0: items are blocks of a row (global step 1), 1: single elements
F_INNER = tl.constexpr(8)  # innermost dim: size, memory stride, global step
F_INNER_STRIDE = tl.constexpr(9)
F_INNER_GSTEP = tl.constexpr(10)
F_SERIES = tl.constexpr(11)  # truncated normal: the series mode
F_DIMS = tl.constexpr(12)
N_PARAMS = tl.constexpr(7)

MODE_BLOCKS = tl.constexpr(0)
MODE_ELEMENTS = tl.constexpr(1)

ITEMS_PER_PROGRAM = 512
NUM_WARPS = 4


@triton.jit
def _param(row, k):
    """Float64 parameter k of a table row (stored as its bit pattern)."""
    return tl.load(row + k).to(tl.float64, bitcast=True)


@triton.jit(do_not_specialize=["n_requests"])  # one compiled kernel whatever the batch's size
def _fill_kernel(
    table,
    n_requests,
    DIST: tl.constexpr,
    DTYPE: tl.constexpr,
    PB: tl.constexpr,
    OUTER: tl.constexpr,
    BLOCK: tl.constexpr,
):
    pid = tl.program_id(0).to(tl.int64)
    # The request of this program: the last r with table[r] <= pid (every request has one).
    lo = pid * 0
    hi = lo + n_requests - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        right = tl.load(table + mid) <= pid
        lo = tl.where(right, mid, lo)
        hi = tl.where(right, hi, mid - 1)
    row = table + (n_requests + 1) + lo * (F_DIMS + 3 * OUTER + N_PARAMS)
    item = (pid - tl.load(table + lo)) * BLOCK + tl.arange(0, BLOCK)
    valid = item < tl.load(row + F_ITEMS)

    # The row of each item and its global index / memory offset (table.h place_item).
    g0 = tl.load(row + F_GOFF)
    if OUTER > 0:
        row_items = tl.load(row + F_ROW_ITEMS)
        rest = item // row_items
        j = item - rest * row_items
        g = g0 + rest * 0
        m = rest * 0
        for e in tl.static_range(OUTER):
            d = OUTER - 1 - e  # innermost outer dim first
            size = tl.load(row + F_DIMS + 3 * d)
            if d > 0:
                idx = rest % size
                rest = rest // size
            else:
                idx = rest
            g += idx * tl.load(row + F_DIMS + 3 * d + 2)
            m += idx * tl.load(row + F_DIMS + 3 * d + 1)
    else:
        j = item
        g = g0 + item * 0
        m = item * 0
    inner = tl.load(row + F_INNER)
    blocks = tl.load(row + F_MODE) == MODE_BLOCKS
    ge = g + j * tl.load(row + F_INNER_GSTEP)
    word = ge % PB  # MODE_ELEMENTS: the item's one element reads this word
    block = tl.where(blocks, g // PB + j, ge // PB)
    c0 = tl.where(blocks, j * PB - g % PB, j - word)  # the row column of the block's word 0
    w_lo = tl.where(blocks, tl.maximum(-c0, 0), word)  # the words [w_lo, w_hi) this item stores
    w_hi = tl.where(blocks, tl.minimum(inner - c0, PB), word + 1)

    # Philox block B = offset + block of stream S under key K (philox.h philox_block).
    key = tl.load(row + F_KEY).to(tl.uint64, bitcast=True)
    stream = tl.load(row + F_STREAM).to(tl.uint64, bitcast=True)
    b = tl.load(row + F_OFFSET).to(tl.uint64, bitcast=True) + block.to(tl.uint64, bitcast=True)
    x0 = b.to(tl.uint32)
    x1 = (b >> 32).to(tl.uint32)
    x2 = x0 * 0 + stream.to(tl.uint32)
    x3 = x0 * 0 + (stream >> 32).to(tl.uint32)
    x0, x1, x2, x3 = M.philox4x32_10(x0, x1, x2, x3, key.to(tl.uint32), (key >> 32).to(tl.uint32))

    # The parameters in the lane precision (fill.h prepare32 / prepare64).
    fl = row + F_DIMS + 3 * OUTER
    pa = _param(fl, 0)
    pb = _param(fl, 1)
    series = tl.load(row + F_SERIES) != 0
    w = tl.arange(0, PB)[None, :]
    if PB == 4:
        a = pa.to(tl.float32)
        sd = pb.to(tl.float32)
        if DIST == M.UNIFORM:
            low = M.round_to(a, DTYPE)
            high = M.round_to(sd, DTYPE)
        else:
            low = M.round_to(_param(fl, 5).to(tl.float32), DTYPE)
            high = M.round_to(_param(fl, 6).to(tl.float32), DTYPE)
        v0, v1, v2, v3 = M.block_bits32(
            x0,
            x1,
            x2,
            x3,
            a,
            sd,
            sd - a,
            _param(fl, 2).to(tl.float32),
            _param(fl, 3).to(tl.float32),
            sd * _param(fl, 4).to(tl.float32),
            series,
            low,
            high,
            DIST,
            DTYPE,
        )
        vals = tl.reshape(tl.join(tl.join(v0, v2), tl.join(v1, v3)), (BLOCK, 4))  # words 0, 1, 2, 3
        if DTYPE == M.FLOAT16 or DTYPE == M.BFLOAT16:
            out = vals.to(tl.int16)  # the low half
            ptr = tl.load(row + F_ADDR).to(tl.pointer_type(tl.int16))
        else:
            out = vals.to(tl.int32, bitcast=True)
            ptr = tl.load(row + F_ADDR).to(tl.pointer_type(tl.int32))
    else:
        v0, v1 = M.block_bits64(
            x0,
            x1,
            x2,
            x3,
            pa,
            pb,
            pb - pa,
            _param(fl, 2),
            _param(fl, 3),
            pb * _param(fl, 4),
            series,
            _param(fl, 5),
            _param(fl, 6),
            DIST,
        )
        out = tl.join(v0, v1).to(tl.int64, bitcast=True)
        ptr = tl.load(row + F_ADDR).to(tl.pointer_type(tl.int64))
    offsets = m[:, None] + (c0[:, None] + w) * tl.load(row + F_INNER_STRIDE)
    mask = valid[:, None] & (w >= w_lo[:, None]) & (w < w_hi[:, None])
    tl.store(ptr + offsets, out, mask=mask)


# Whether the kernel runs under Triton's interpreter (TRITON_INTERPRET=1 when this module was
# imported): on CPU tensors, through numpy.
INTERPRETED = not isinstance(_fill_kernel, triton.runtime.jit.JITFunction)


# ---- host side: coalesced requests and their table rows ----------------------------------------


def _coalesce(sizes, strides, gstrides):
    """Drops size-1 dims and merges neighbours contiguous in both memory and global index
    (fill.h coalesce): a contiguous tensor becomes one run."""
    out = []
    for s, st, gs in zip(sizes, strides, gstrides):
        if s == 1:
            continue
        if out and out[-1][1] == st * s and out[-1][2] == gs * s:
            out[-1] = [out[-1][0] * s, st, gs]
        else:
            out.append([s, st, gs])
    return out or [[1, 1, 1]]


def _row_items(dims, global_offset: int, pb: int):
    """Items per row and the row mode (table.h row_items)."""
    inner = dims[-1][0]
    if dims[-1][2] != 1:
        return inner, MODE_ELEMENTS.value
    if all(gs % pb == 0 for _, _, gs in dims[:-1]):  # every row starts at the same phase
        return (global_offset % pb + inner + pb - 1) // pb, MODE_BLOCKS.value
    return (inner + 2 * pb - 2) // pb, MODE_BLOCKS.value  # the worst phase; others leave an item empty


def _i64(u: int) -> int:
    """A uint64 as the int64 with its bits."""
    return u - (1 << 64) if u >= 1 << 63 else u


def _plan(tensor: torch.Tensor, req: Request, pb: int):
    """(outer dims, int64 fields, float64 params, items) of one request."""
    dims = _coalesce(req.sizes, tensor.stride(), req.global_strides)
    row_items, mode = _row_items(dims, req.global_offset, pb)
    rows = 1
    for s, _, _ in dims[:-1]:
        rows *= s
    inner, inner_stride, inner_gstep = dims[-1]
    fields = [
        tensor.data_ptr(), _i64(req.key), _i64(req.stream), _i64(req.offset), req.global_offset,
        rows * row_items, row_items, mode, inner, inner_stride, inner_gstep, int(req.params.series != 0),
    ]  # fmt: skip
    p = req.params
    params = struct.unpack("<7q", struct.pack("<7d", p.a, p.b, p.t0, p.dt, p.flip, p.lo, p.hi))
    return dims[:-1], fields, list(params), rows * row_items


def _to_device(values: list, device: torch.device) -> torch.Tensor:
    host = torch.tensor(values, dtype=torch.int64)
    if device.type == "cpu":  # the interpreter
        return host
    # Pinned memory and a non-blocking copy: no synchronization. The caching host allocator keeps
    # the pinned block until the copy on the current stream has finished.
    return host.pin_memory().to(device, non_blocking=True)


def _launch(pairs, dist: int, dtype_code: int, items_per_program: int) -> None:
    pb = 2 if dtype_code == 1 else 4
    plans = [_plan(t, r, pb) for t, r in pairs]
    outer = max(len(o) for o, _, _, _ in plans)
    rows: list = []
    programs = [0]
    for dims, fields, params, items in plans:
        pad = [[1, 0, 0]] * (outer - len(dims))
        rows += fields + [v for d in pad + dims for v in d] + params
        programs.append(programs[-1] + -(-items // items_per_program))
    grid = programs[-1]  # (an empty request has no program: the search never lands on it)
    if grid == 0:
        return
    if grid >= 1 << 31:
        raise ValueError(f"philoxinit: {grid} Triton programs exceed the grid limit (2^31 - 1)")
    _fill_kernel[(grid,)](
        _to_device(programs + rows, pairs[0][0].device), len(plans),
        DIST=dist, DTYPE=dtype_code, PB=pb, OUTER=outer, BLOCK=items_per_program,
        num_warps=NUM_WARPS, enable_fp_fusion=False,
    )  # fmt: skip


def fill(
    tensors: Sequence[torch.Tensor], requests: Sequence[Request], items_per_program: int = ITEMS_PER_PROGRAM
) -> None:
    """Write each request into its tensor (validated, non-empty, all on one device): one kernel
    launch per (distribution, dtype), in the order the requests come. ``items_per_program`` (a
    power of two) only changes how work is split, never the values."""
    if tensors[0].is_cuda and torch.cuda.is_current_stream_capturing():
        # A captured copy would read the pinned table again at every replay, after it was reused.
        raise RuntimeError("philoxinit: the Triton path cannot be captured into a CUDA graph; fill before capturing")
    groups: dict = {}
    for t, r in zip(tensors, requests):
        groups.setdefault((int(r.dist), DTYPE_CODES[t.dtype]), []).append((t, r))
    with torch.cuda.device(tensors[0].device) if tensors[0].is_cuda else nullcontext():
        for (dist, dtype_code), pairs in groups.items():
            _launch(pairs, dist, dtype_code, items_per_program)
