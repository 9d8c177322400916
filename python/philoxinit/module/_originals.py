"""torch.nn.init's functions as imported (before anyone patches them), and timm's init functions:
what patch() replaces and what recording recognizes. Every one is watched by module scans."""

from __future__ import annotations

import sys

import torch

from .. import init as _pinit
from ._references import Swaps

_TI = torch.nn.init
# torch.nn.init as imported (before anyone patches it): the functions philoxinit replaces.
_TORCH_INIT = {
    name: getattr(_TI, name)
    for name in (
        "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
        "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
        "sparse_", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
        "kaiming_normal", "orthogonal", "sparse", "constant", "eye", "dirac",
    )
    if hasattr(_TI, name)
}  # fmt: skip
# what patch() installs: the functions with a philoxinit kernel (and their deprecated aliases)
_PATCHED_NAMES = (
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
    "kaiming_normal",
)  # fmt: skip


def _timm_functions() -> dict:
    """timm's init functions (when timm is loaded) -> philoxinit equivalents with timm's signatures."""
    mod = sys.modules.get("timm.layers.weight_init")
    if mod is None:
        return {}

    def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        return _pinit.trunc_normal_(tensor, mean, std, a, b)

    def trunc_normal_tf_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        # timm: N(0, 1) truncated to [a, b], then scaled by std and shifted by mean
        return _pinit.trunc_normal_(tensor, mean, std, mean + a * std, mean + b * std)

    def variance_scaling_(tensor, scale=1.0, mode="fan_in", distribution="normal"):
        return _pinit.variance_scaling_(tensor, scale, mode, distribution)

    def lecun_normal_(tensor):
        return _pinit.lecun_normal_(tensor)

    ours = {
        "trunc_normal_": trunc_normal_,
        "trunc_normal_tf_": trunc_normal_tf_,
        "variance_scaling_": variance_scaling_,
        "lecun_normal_": lecun_normal_,
    }
    return {getattr(mod, n): f for n, f in ours.items() if callable(getattr(mod, n, None))}


_watch = Swaps.watch
_watch(*_TORCH_INIT.values())
_watch(*(getattr(_pinit, n) for n in _PATCHED_NAMES))
