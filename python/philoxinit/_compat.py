"""What differs between the torch releases philoxinit supports (torch >= 2.4), in one place.

* ``torch.distributed.tensor`` is DTensor's public home from torch 2.5; torch 2.4 has the same
  classes under ``torch.distributed._tensor``.
* ``_StridedShard`` (FSDP2 + tensor parallel) exists from torch 2.5.
* ``torch.nn.init.__all__`` is missing in torch 2.4.

(One more difference is avoided rather than handled: torch 2.4's ``torch.library.custom_op``
cannot read string annotations, so _ops.py does not use ``from __future__ import annotations``.)
"""

from __future__ import annotations

import re
from typing import Tuple

import torch

TORCH_VERSION: Tuple[int, int] = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", torch.__version__).groups())


def dtensor_class():
    """``DTensor``, or None where torch is built without distributed support."""
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:
        try:
            from torch.distributed._tensor import DTensor  # torch 2.4
        except ImportError:
            return None
    return DTensor


def placement_types():
    """``(Partial, Replicate, Shard, _StridedShard)``; ``_StridedShard`` is ``()`` (matches nothing)
    where torch has none."""
    try:
        from torch.distributed.tensor import placement_types as p
    except ImportError:
        from torch.distributed._tensor import placement_types as p  # torch 2.4
    return p.Partial, p.Replicate, p.Shard, getattr(p, "_StridedShard", ())


def nn_init_names() -> Tuple[str, ...]:
    """The public functions of ``torch.nn.init`` (its ``__all__``, which torch 2.4 lacks)."""
    import inspect

    init = torch.nn.init
    names = getattr(init, "__all__", None)
    if names is None:
        names = [
            n
            for n, f in vars(init).items()
            if not n.startswith("_") and inspect.isfunction(f) and f.__module__ == init.__name__
        ]
    return tuple(names)
