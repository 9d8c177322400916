"""Fresh CPU memory for materialize: ask Linux for transparent huge pages before the first write.

A fill of freshly allocated memory spends most of its time in page faults (one per 4 KiB page on
first touch). Memory that materialize allocates itself is advised MADV_HUGEPAGE first, so first
touch faults once per 2 MiB instead. Never applied to a user's tensors; a no-op where unsupported.
"""

from __future__ import annotations

import ctypes
import sys

import torch

_MADV_HUGEPAGE = 14
_HUGE = 2 << 20


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


def advise_huge_pages(t: torch.Tensor) -> None:
    """MADV_HUGEPAGE over the 2 MiB-aligned interior of a fresh, untouched CPU tensor's memory."""
    if _LIBC is None or t.device.type != "cpu":
        return
    start = t.data_ptr()
    end = start + t.untyped_storage().nbytes()
    first = (start + _HUGE - 1) // _HUGE * _HUGE
    last = end // _HUGE * _HUGE
    if last > first:
        _LIBC.madvise(first, last - first, _MADV_HUGEPAGE)  # failure only costs speed
