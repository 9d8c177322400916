"""Shard-local init of DTensors: every rank fills only its shard, with the single-device values.

Each element's value is a pure function of (key, stream, offset, its global row-major index), so a
rank that knows which global indices its local shard holds can write exactly the slice of the
unsharded tensor, with no communication and without ever holding the full tensor.

Which global indices a rank holds follows from the DTensor's mesh and placements, applied left to
right over the mesh dims exactly as torch does:

* ``Replicate()``: the dim is whole.
* ``Shard(d)``: the current index list of tensor dim ``d`` is split as by ``torch.chunk`` into
  ``mesh.size(mesh_dim)`` pieces (chunk size ``ceil(n / k)``; trailing ranks may get fewer rows or
  none); the rank keeps the piece at its mesh coordinate.
* ``_StridedShard(d, split_factor=f)`` (FSDP2 over tensor parallelism): the current list is first
  chunked into ``f`` pieces, each piece is chunked into ``k``, and the rank keeps the concatenation of
  its chunk of every piece, so its rows are several runs of global rows.
* ``Partial()``: refused; a partial tensor is a sum of per-rank terms, and no single
  "value of the full tensor" exists to write before the reduction.

Each tensor dim's index list is kept as runs of consecutive global indices (never a per-element list),
and the local shard is the Cartesian product of its dims' runs: one box per combination, one fill
request per box, all in one backend call, each box writing into a view of the local tensor.

The key is drawn once per call, on every rank, from the same generator (torch's default CPU generator
when none is given): seed every rank alike (``torch.manual_seed(s)`` on all ranks) or pass ``seed=``,
as torch's own DTensor random init requires too.
"""

from __future__ import annotations

import itertools
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from . import _backend, _compat
from ._keys import resolve_key
from ._request import Dist, Params, Request, row_major_strides, through_real_view
from ._validate import check_layout

Run = Tuple[int, int]  # (first global index, length): consecutive global indices along one dim
Box = Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]  # (local start, global start, sizes)

__all__ = ["is_dtensor", "local_runs", "local_boxes", "fill_dtensor", "fill_boxes"]


def is_dtensor(tensor) -> bool:
    """True for a ``torch.distributed.tensor.DTensor`` (without importing torch.distributed eagerly)."""
    if type(tensor) in (torch.Tensor, torch.nn.Parameter):  # the common case, without an import
        return False
    DTensor = _compat.dtensor_class()
    return DTensor is not None and isinstance(tensor, DTensor)


# ---- which global indices a rank holds -----------------------------------------------------------


def _take(runs: List[Run], start: int, stop: int) -> List[Run]:
    """Positions ``start:stop`` of the index list the runs spell out, again as runs."""
    out: List[Run] = []
    pos = 0
    for first, length in runs:
        lo, hi = max(start, pos), min(stop, pos + length)
        if lo < hi:
            out.append((first + lo - pos, hi - lo))
        pos += length
        if pos >= stop:
            break
    return out


def _chunk(runs: List[Run], num_chunks: int, index: int) -> List[Run]:
    """``torch.chunk(list, num_chunks)[index]`` (empty when that chunk does not exist)."""
    n = sum(length for _, length in runs)
    size = -(-n // num_chunks)  # ceil
    return _take(runs, index * size, min((index + 1) * size, n))


def _merge(runs: List[Run]) -> List[Run]:
    out: List[Run] = []
    for first, length in runs:
        if out and out[-1][0] + out[-1][1] == first:
            out[-1] = (out[-1][0], out[-1][1] + length)
        elif length:
            out.append((first, length))
    return out


def local_runs(
    global_shape: Sequence[int], mesh_shape: Sequence[int], coordinate: Sequence[int], placements
) -> List[List[Run]]:
    """For each tensor dim, the runs of global indices this mesh coordinate holds, in local order."""
    Partial, Replicate, Shard, _StridedShard = _compat.placement_types()
    ndim = len(global_shape)
    runs: List[List[Run]] = [[(0, int(n))] if n else [] for n in global_shape]
    for mesh_dim, p in enumerate(placements):
        k, r = int(mesh_shape[mesh_dim]), int(coordinate[mesh_dim])
        if _StridedShard and isinstance(p, _StridedShard):
            d = p.dim % ndim if ndim else 0
            pieces = [_chunk(runs[d], int(p.split_factor), j) for j in range(int(p.split_factor))]
            runs[d] = _merge([run for piece in pieces for run in _chunk(piece, k, r)])
        elif isinstance(p, Shard):
            d = p.dim % ndim if ndim else 0
            runs[d] = _chunk(runs[d], k, r)
        elif isinstance(p, Replicate):
            continue
        elif isinstance(p, Partial):
            raise ValueError(
                f"philoxinit: cannot initialize a DTensor with a Partial placement ({p} on mesh dim "
                f"{mesh_dim}): its value is a pending sum over ranks, not a tensor to fill. Fill a "
                "Replicate or Shard DTensor instead (e.g. redistribute first)"
            )
        else:
            raise TypeError(f"philoxinit: unsupported DTensor placement {p!r} on mesh dim {mesh_dim}")
    return runs


def local_boxes(runs: Sequence[Sequence[Run]]) -> List[Box]:
    """Boxes (local start, global start, sizes): the Cartesian product of the dims' runs."""
    per_dim = []
    for dim_runs in runs:
        pos, entries = 0, []
        for first, length in dim_runs:
            entries.append((pos, first, length))
            pos += length
        per_dim.append(entries)
    boxes = []
    for combo in itertools.product(*per_dim):
        boxes.append((tuple(c[0] for c in combo), tuple(c[1] for c in combo), tuple(c[2] for c in combo)))
    return boxes


# ---- writing the boxes ---------------------------------------------------------------------------


def fill_boxes(
    local: Tensor,
    global_shape: Sequence[int],
    boxes: Sequence[Box],
    dist: Dist,
    params: Params,
    key: int,
    stream: int,
    offset: int,
) -> None:
    """Write each box of the global tensor into its view of ``local``, in one backend call."""
    gstrides = row_major_strides(tuple(global_shape))
    targets, requests = [], []
    for lstart, gstart, sizes in boxes:
        if 0 in sizes:
            continue
        view = local
        for d, (s, n) in enumerate(zip(lstart, sizes)):
            if s != 0 or n != view.shape[d]:
                view = view.narrow(d, s, n)
        goff = sum(o * st for o, st in zip(gstart, gstrides))
        view, bsizes, bstrides, goff = through_real_view(view, tuple(sizes), gstrides, goff)
        targets.append(view)
        requests.append(Request(dist, params, key, stream, offset, bsizes, bstrides, goff))
    if targets:
        _backend.fill(targets, requests)  # (it handles no_grad for the fallback's copy_)


def fill_dtensor(
    tensor: Tensor,
    dist: Dist,
    params: Params,
    *,
    seed,
    generator,
    stream: int,
    offset: int,
    global_shape=None,
    global_offset=None,
) -> Tensor:
    """Fill this rank's shard of the DTensor ``tensor`` with its slice of the single-device values.

    ``params``, ``stream`` and ``offset`` are already validated; the key is drawn here, once, after
    every check (a call that raises leaves the generator as it was) and before the local-shard
    emptiness test (so every rank's generator advances alike, whether its shard is empty or not).
    """
    if global_shape is not None or global_offset is not None:
        raise ValueError(
            "global_shape/global_offset describe a plain local tensor; a DTensor already knows "
            "its global shape and placements"
        )
    local = tensor.to_local()
    check_layout(local)
    gshape = tuple(int(s) for s in tensor.shape)
    mesh = tensor.device_mesh
    coordinate = mesh.get_coordinate()
    if coordinate is None:  # this rank is not in the mesh: it holds nothing
        runs = None
    else:
        runs = local_runs(gshape, tuple(mesh.shape), coordinate, tensor.placements)
        expected = tuple(sum(n for _, n in dim_runs) for dim_runs in runs)
        if expected != tuple(local.shape):
            raise RuntimeError(
                f"philoxinit: the local shard has shape {list(local.shape)}, but placements "
                f"{tuple(tensor.placements)} of global shape {list(gshape)} on mesh "
                f"{tuple(mesh.shape)} at coordinate {list(coordinate)} give {list(expected)}"
            )
    if tensor.is_meta or local.is_meta or tensor.numel() == 0:
        return tensor
    key = resolve_key(seed, generator)
    if runs is not None and local.numel():
        fill_boxes(local, gshape, local_boxes(runs), dist, params, key, stream, offset)
    torch.autograd.graph.increment_version(local)
    torch.autograd.graph.increment_version(tensor)  # the DTensor's own counter, as an in-place op bumps it
    return tensor
