"""philoxinit: fast, reproducible weight initialization for PyTorch.

``import philoxinit as init`` replaces ``torch.nn.init``: the same functions, filled by fused
Philox4x32-10 kernels whose values depend only on (key, stream, offset, global index), never on
device, thread count, memory layout or sharding. See docs/contract.md.
"""

from ._backend import backend
from .init import *  # noqa: F401,F403
from .init import __all__ as _init_all

__version__ = "0.2.0"


def philox4x32_10(counter, key):
    """Philox4x32-10 of one counter (4 ints) under one key (2 ints), each 0..2**32-1: a 4-tuple."""
    counter, key = tuple(counter), tuple(key)
    if len(counter) != 4 or len(key) != 2:
        raise ValueError("philox4x32_10 takes a counter of 4 words and a key of 2 words")
    for w in counter + key:
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 0xFFFFFFFF:
            raise ValueError(f"Philox words are ints in 0..2**32-1, got {w!r}")
    from . import _backend, _fallback

    if _backend._C is not None:
        return _backend._C.philox4x32_10(counter, key)
    import torch

    ws = [torch.tensor([w], dtype=torch.int64) for w in counter]
    return tuple(int(w) for w in _fallback.philox(*ws, key[0] | (key[1] << 32)))


__all__ = list(_init_all) + ["backend", "philox4x32_10", "__version__"]

from .module import (  # noqa: E402
    NotReplayableError, PatchWarning, TiedWeightsWarning, deferred_init, init_module, materialize, patch,
    stream_of, unpatch,
)

__all__ += [
    "init_module", "materialize", "deferred_init", "patch", "unpatch", "stream_of", "PatchWarning",
    "NotReplayableError", "TiedWeightsWarning",
]
