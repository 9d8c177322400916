"""``python -m philoxinit demo``: why Xavier and Kaiming initialization work, measured.

A deep plain network (no normalization, no residual connections, zero biases) is
initialized with several schemes, then one forward and one backward pass are run
and the standard deviation of every layer's activations and of the gradients with
respect to them is recorded. The Glorot/He argument says that with the right
scale both stay roughly constant from layer to layer; with the wrong one they
shrink or grow geometrically with depth. ``--train`` adds a short training run per
scheme on a synthetic classification task. ``docs/initialization.md`` walks
through the derivation next to the numbers this module prints.

Everything here is importable for tests and notebooks:

* :func:`measure` runs the forward/backward measurement for one scheme,
* :func:`train` runs the training comparison for one scheme,
* :func:`plot_propagation` / :func:`plot_training` draw the figures (matplotlib
  is imported only there),
* :func:`main` is the command line.

Randomness comes from philoxinit only, with an explicit ``seed=`` per tensor
(:func:`layer_seed`), so a run is a pure function of its arguments (up to the
floating-point summation order of the machine's matmul/conv kernels).
"""

from .cli import main
from .experiment import (
    ACTIVATIONS,
    DEFAULT_SCHEMES,
    SCHEMES,
    TRUNC_STD_2SIGMA,
    gain_for,
    init_weight,
    layer_seed,
    measure,
    pass_ratios,
    train,
)
from .report import format_table, format_train_table, plot_propagation, plot_training

__all__ = [
    "ACTIVATIONS",
    "SCHEMES",
    "DEFAULT_SCHEMES",
    "TRUNC_STD_2SIGMA",
    "layer_seed",
    "gain_for",
    "init_weight",
    "measure",
    "pass_ratios",
    "train",
    "format_table",
    "format_train_table",
    "plot_propagation",
    "plot_training",
    "main",
]
