"""torch.nn.init, drop-in: same names, positional parameters, defaults, errors and warnings.

The random functions draw from the Philox4x32-10 stream of docs/contract.md on philoxinit's kernels,
with the scale computed in torch's floating-point order (so ``kaiming_uniform_(t)`` writes exactly
what ``uniform_(t, -bound, bound)`` writes). Every random function takes the same keyword-only
extras after torch's parameters:

* ``seed``: the Philox key K (int in 0..2**64-1). Without it K is drawn from ``generator``
  (torch's default CPU generator when None), so ``torch.manual_seed`` reproduces results.
* ``stream``, ``offset``: the Philox stream S and block offset O (default 0).
* ``global_shape``, ``global_offset``: the tensor is the box ``global_offset + tensor.shape`` of
  a larger tensor of shape ``global_shape``; it gets exactly that box's values, and fans come from
  the global shape (for frameworks that shard by hand).
"""

from __future__ import annotations

import warnings
from typing import Callable

import torch

from ._distributions import normal_, random_bits_, trunc_normal_, uniform_
from ._fans import calculate_gain
from ._scaled import (
    kaiming_normal_,
    kaiming_uniform_,
    lecun_normal_,
    lecun_uniform_,
    variance_scaling_,
    xavier_normal_,
    xavier_uniform_,
)

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
    "uniform",
    "normal",
    "constant",
    "eye",
    "dirac",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
    "variance_scaling_",
    "lecun_uniform_",
    "lecun_normal_",
    "random_bits_",
]


# ---- no kernel of their own: torch's code, under philoxinit's names -----------------------------

constant_ = torch.nn.init.constant_
ones_ = torch.nn.init.ones_
zeros_ = torch.nn.init.zeros_
eye_ = torch.nn.init.eye_
dirac_ = torch.nn.init.dirac_
orthogonal_ = torch.nn.init.orthogonal_
sparse_ = torch.nn.init.sparse_


def _make_deprecate(meth: Callable) -> Callable:
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"""
    {old_name}(...)

    .. warning::
        This method is now deprecated in favor of :func:`philoxinit.{new_name}`."""
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
