"""philoxinit: fast, reproducible weight initialization for PyTorch.

``import philoxinit as init`` replaces ``torch.nn.init``: the same functions, filled by fused
Philox4x32-10 kernels whose values depend only on (key, stream, offset, global index), never on
device, thread count, memory layout or sharding. See docs/contract.md.
"""

from ._backend import backend
from ._philox import philox4x32_10
from .init import *  # noqa: F401,F403
from .init import __all__ as _init_all
from .module import (
    NotReplayableError,
    PatchWarning,
    TiedWeightsWarning,
    deferred_init,
    init_module,
    materialize,
    patch,
    stream_of,
    unpatch,
)

__version__ = "0.2.0"

__all__ = [
    *_init_all,
    "backend",
    "philox4x32_10",
    "__version__",
    "init_module",
    "materialize",
    "deferred_init",
    "patch",
    "unpatch",
    "stream_of",
    "PatchWarning",
    "NotReplayableError",
    "TiedWeightsWarning",
]
