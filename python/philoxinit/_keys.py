"""Where the Philox key K comes from, and checks of the (key, stream, offset) integers.

An explicit ``seed=`` is K itself. Otherwise K is drawn from a ``torch.Generator`` (the default CPU
generator when none is given, whatever the tensor's device), exactly as docs/contract.md states:

    lo, hi = torch.randint(0, 2**32, (2,), generator=g, dtype=torch.int64).tolist()
    K = lo | (hi << 32)

A CUDA generator is never asked for random numbers (that would synchronize the device): K is a
hash of its (initial_seed, offset) and its offset advances by 4, as a CUDA random op would do.
"""

from __future__ import annotations

import threading
from typing import Optional

import torch

from ._validate import where

_U64 = (1 << 64) - 1
_tls = threading.local()  # a per-thread buffer for key draws


def check_u64(name: str, value, called: str = "") -> int:
    """An int in 0..2^64-1 (bools and floats are refused, as a seed that silently rounds is a bug).
    ``called``: the public function the user called, named in the message."""
    if type(value) is int and 0 <= value <= _U64:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except (ImportError, TypeError):
            raise TypeError(
                f"{where(called)}: {name} must be an int in 0..2**64-1, got {type(value).__name__}"
            ) from None
    if not 0 <= value <= _U64:
        raise ValueError(f"{where(called)}: {name} must be in 0..2**64-1, got {value}")
    return value


def mix64(x: int) -> int:
    """splitmix64's finalizer: a bijection of 64-bit ints with good avalanche."""
    x &= _U64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _U64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _U64
    return x ^ (x >> 31)


def draw_key(generator: Optional[torch.Generator]) -> int:
    """A fresh 64-bit key from ``generator`` (advancing it), or from torch's default CPU generator."""
    if generator is None or generator.device.type == "cpu":
        try:
            buf = _tls.buf
        except AttributeError:
            buf = _tls.buf = torch.empty(2, dtype=torch.int64)
        # = torch.randint(0, 2**32, (2,), generator=generator, dtype=torch.int64): the same kernel
        # on the same generator (None is torch's default CPU generator, torch.default_generator)
        lo, hi = buf.random_(0, 1 << 32, generator=generator).tolist()
        return lo | (hi << 32)
    offset = generator.get_offset()
    generator.set_offset(offset + 4)
    return mix64(mix64(generator.initial_seed()) ^ offset)


def resolve_key(seed, generator: Optional[torch.Generator], called: str = "") -> int:
    if seed is not None:
        if generator is not None:
            raise ValueError(f"{where(called)}: pass either seed= or generator=, not both")
        return check_u64("seed", seed, called)
    return draw_key(generator)
