"""philoxinit's fills as torch.library custom ops, so ``torch.compile(fullgraph=True)`` keeps them.

Under ``torch.compile`` the random functions of philoxinit.init (uniform_, normal_, trunc_normal_,
random_bits_, and through them the xavier / kaiming / variance-scaling families) call
:func:`traced_fill` instead of running: it emits one ``philoxinit::fill_`` op that mutates the tensor.
The op's real implementation is the eager core fill (_fill.py) that the public functions call, so
compiled code writes the same bits as eager code; its fake (meta) implementation writes nothing.
64-bit seed, stream and offset cross the op boundary as two's-complement int64.

A ``torch.Generator`` cannot enter a graph: under compile pass ``seed=`` (or neither, and the key is
drawn from torch's default generator when the compiled code runs, as in eager).
"""

# No `from __future__ import annotations` here: torch 2.4's custom_op cannot read string annotations.
from typing import Optional, Sequence

import torch
from torch import Tensor

from ._fill import DISTRIBUTIONS


def _i64(u: int) -> int:
    return u - (1 << 64) if u >= 1 << 63 else u


def _u64(i: Optional[int]) -> Optional[int]:
    return i + (1 << 64) if i is not None and i < 0 else i


@torch.library.custom_op("philoxinit::fill_", mutates_args=("tensor",))
def fill_op(
    tensor: Tensor,
    fn: str,
    called: str,
    params: Sequence[float],
    seed: Optional[int],
    stream: int,
    offset: int,
    global_shape: Optional[Sequence[int]],
    global_offset: Optional[Sequence[int]],
) -> None:
    """``fn``: the distribution's public function (a key of DISTRIBUTIONS); ``called``: the function
    the user called, for error messages."""
    if fn not in DISTRIBUTIONS:
        raise ValueError(f"philoxinit::fill_: unknown function {fn!r}")
    DISTRIBUTIONS[fn](
        called,
        tensor,
        tuple(params),
        None,
        _u64(seed),
        _u64(stream),
        _u64(offset),
        global_shape,
        global_offset,
    )


@fill_op.register_fake
def _(tensor, fn, called, params, seed, stream, offset, global_shape, global_offset) -> None:
    return None


def traced_fill(
    fn: str, called: str, tensor: Tensor, params, generator, seed, stream, offset, global_shape, global_offset
) -> Tensor:
    """What a random philoxinit function does while torch.compile traces it."""
    if generator is not None:
        raise TypeError(
            f"philoxinit.{called}: a torch.Generator cannot be used under torch.compile; pass seed= instead"
        )
    torch.ops.philoxinit.fill_(
        tensor,
        fn,
        called,
        [float(p) for p in params],
        None if seed is None else _i64(int(seed)),
        _i64(int(stream)),
        _i64(int(offset)),
        None if global_shape is None else [int(s) for s in global_shape],
        None if global_offset is None else [int(o) for o in global_offset],
    )
    return tensor
