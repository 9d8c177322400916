"""Whole-model initialization: record a module tree's own init code, then replay it as batched fills.

* :func:`init_module` re-initializes a module in place by its own scheme: ``reset_parameters()`` (or
  ``_reset_parameters()``) of every submodule in post-order, as ``Module.apply`` visits them, then
  ``fn(submodule)`` for every submodule (a Hugging Face style ``_init_weights``), then ``root_fn``
  once on the root (torchtitan's ``init_weights``).
* :func:`materialize` turns a meta-device module into a real one on a device (one copy of the
  parameters, never uninitialized memory).
* :func:`deferred_init` builds a module on the meta device while recording its constructor, so that
  :func:`materialize` replays exactly its init.
* :func:`patch` / :func:`unpatch` make ``torch.nn.init`` (and every reference code holds to its
  functions) call philoxinit.

How it works. The init code runs once against meta stand-ins of the parameters and buffers under a
``TorchFunctionMode``; nothing touches real memory. Each write to a parameter or buffer becomes an
event: a *fill* (uniform, normal, truncated normal and the scaled families, recognized from
``torch.nn.init``, ``Tensor.uniform_``/``normal_``, philoxinit and timm), a *constant* (``zero_``,
``fill_``, ``constant_``, ``ones_``, ``zeros_``), any other in-place *op*, or an *assignment* of a new
tensor to its slot. Ops that compute temporaries (allocations, ``torch.cat``, arithmetic, writes to
the temporaries) form a tape. A write that covers the whole tensor and does not read it replaces
every earlier event on that tensor. Replay runs the surviving first writes that read nothing
together, every random fill in one compiled call per device, then the remaining events in recorded
order, each preceded by the part of the tape it reads, recomputed on the target device.

Values are keyed by name (docs/contract.md, "Whole-model init: streams from names"): the Philox key K
is ``seed`` (or drawn once from ``generator`` / torch's default generator), and the stream of a
tensor is :func:`stream_of` its fully qualified name, so values do not depend on construction order,
on which other parameters exist, or on the device.
"""

from __future__ import annotations

from ._api import TiedWeightsWarning, deferred_init, init_module, materialize
from ._patch import PatchWarning, patch, unpatch
from ._record import NotReplayableError
from ._streams import stream_of

__all__ = [
    "init_module", "materialize", "deferred_init", "patch", "unpatch", "stream_of", "PatchWarning",
    "NotReplayableError", "TiedWeightsWarning",
]  # fmt: skip
