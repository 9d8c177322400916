"""patch() / unpatch(): make torch.nn.init's random functions call philoxinit, wherever code holds them."""

from __future__ import annotations

import contextlib
import warnings
from typing import Optional

from .. import init as _pinit
from ._originals import _PATCHED_NAMES, _TI, _TORCH_INIT
from ._references import Swaps
from ._state import STATE

# torch.nn.init's private helpers that its public functions call (and that some code calls directly):
# replaced too, so an original held where it cannot be rewritten still reaches philoxinit's kernels
_HELPERS = {
    getattr(_TI, name): getattr(_pinit, public)
    for name, public in (
        ("_no_grad_uniform_", "uniform_"), ("_no_grad_normal_", "normal_"),
        ("_no_grad_trunc_normal_", "trunc_normal_"),
    )
    if callable(getattr(_TI, name, None))
}  # fmt: skip


class PatchWarning(UserWarning):
    """patch() found a reference to a torch.nn.init function that it could not replace."""


class _Patch(contextlib.AbstractContextManager):
    def __init__(self) -> None:
        self._swaps: Optional[Swaps] = None

    def _enter(self) -> _Patch:
        mapping = {_TORCH_INIT[n]: getattr(_pinit, n) for n in _PATCHED_NAMES if n in _TORCH_INIT}
        mapping.update(_HELPERS)
        # the helpers are a safety net: one held elsewhere (torch.jit's table of builtins) is no caller
        swaps = Swaps(private=(_TORCH_INIT,)).replace_everywhere(mapping, quiet=tuple(_HELPERS))
        self._swaps = swaps
        STATE.patch_stack.append(self)
        if swaps.not_replaced:
            warnings.warn(
                "philoxinit.patch: these references to torch.nn.init functions could not be replaced "
                "and still call torch's own code (its private helpers are patched, so the random draws "
                "still come from philoxinit):\n  " + "\n  ".join(swaps.not_replaced),
                PatchWarning,
                stacklevel=3,
            )
        return self

    def __enter__(self) -> _Patch:
        if self._swaps is None:
            self._enter()
        return self

    def __exit__(self, *exc) -> None:
        self.undo()

    def undo(self) -> None:
        if self._swaps is None:
            return
        if STATE.patch_stack and STATE.patch_stack[-1] is self:
            STATE.patch_stack.pop()
        elif self in STATE.patch_stack:
            raise RuntimeError("philoxinit.unpatch: undo patches in reverse order (an inner patch is still active)")
        self._swaps.restore()
        self._swaps = None


def patch() -> _Patch:
    """Make ``torch.nn.init``'s random functions call philoxinit.

    Replaces ``uniform_``, ``normal_``, ``trunc_normal_``, ``xavier_*``, ``kaiming_*`` (and their
    deprecated aliases), and the private helpers they call (``_no_grad_uniform_``,
    ``_no_grad_normal_``, ``_no_grad_trunc_normal_``), wherever code holds them: ``torch.nn.init``
    itself, copies in any module (``from torch.nn.init import normal_``, also in ``__main__``), values
    of any dict (tables of init functions, instance and class attributes), list items,
    ``functools.partial`` objects (``partial(nn.init.trunc_normal_, std=0.02)``), closure cells and
    default arguments. A reference it cannot rewrite (inside a tuple) gets a :class:`PatchWarning`
    naming it. Use it as a context manager, or call it and later :func:`unpatch`. Re-entrant:
    leaving restores exactly what was there on entry, also when an exception leaves the block.
    """
    return _Patch()._enter()


def unpatch() -> None:
    """Undo the most recent :func:`patch` still active."""
    if not STATE.patch_stack:
        raise RuntimeError("philoxinit.unpatch: no patch() is active")
    STATE.patch_stack[-1].undo()
