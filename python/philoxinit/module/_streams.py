"""Streams from names: the Philox stream of a tensor is a hash of its fully qualified name."""

from __future__ import annotations

import hashlib

from .._keys import mix64


def stream_of(name: str, n: int = 0) -> int:
    """The Philox stream S of the tensor named ``name`` (its fully qualified name in the module).

    ``S = int.from_bytes(BLAKE2b(data, digest_size=8), "little")`` with ``data`` the UTF-8 bytes of
    ``name``; for the ``n``-th (n >= 1) surviving random fill of the same tensor, ``data`` is
    ``name`` + ``b"\\x00"`` + the ASCII decimal digits of ``n`` (docs/contract.md).
    """
    if not isinstance(name, str):
        raise TypeError(f"stream_of takes a str name, got {type(name).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"stream_of: n must be an int >= 0, got {n!r}")
    data = name.encode("utf-8")
    if n:
        data += b"\x00" + str(n).encode("ascii")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _torch_rng_seed(key: int, stream: int, index: int) -> int:
    """Seed of torch's generator while an op torch replays runs (keyed like the fills)."""
    return mix64(key ^ mix64(stream ^ mix64(index + 1)))
