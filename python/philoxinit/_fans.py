"""Gains and fans: the formulas of torch.nn.init, on shapes (so sharded code can pass global ones).

Messages and the order of checks are torch 2.13's, so errors match ``torch.nn.init`` exactly.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: Optional[Union[int, float]] = None) -> float:
    r"""Return the recommended gain value for the given nonlinearity function.

    ================= ====================================================
    nonlinearity      gain
    ================= ====================================================
    Linear / Identity :math:`1`
    Conv{1,2,3}D      :math:`1`
    Sigmoid           :math:`1`
    Tanh              :math:`\frac{5}{3}`
    ReLU              :math:`\sqrt{2}`
    Leaky Relu        :math:`\sqrt{\frac{2}{1 + \text{negative\_slope}^2}}`
    SELU              :math:`\frac{3}{4}`
    ================= ====================================================

    Args:
        nonlinearity: the non-linear function (`nn.functional` name)
        param: optional parameter for the non-linear function (the negative slope of
            ``'leaky_relu'``, default 0.01)

    Examples:
        >>> philoxinit.calculate_gain("leaky_relu", 0.2)  # sqrt(2 / (1 + 0.2**2))
        1.3867504905630728
        >>> philoxinit.calculate_gain("tanh") == 5.0 / 3
        True
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def fan_in_and_fan_out(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of this shape: dim 1 and dim 0 times the receptive field."""
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    if len(shape) == 2:  # a receptive field of 1: the same ints, without the loop
        return shape[1], shape[0]
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def correct_fan(shape: Sequence[int], mode: str) -> int:
    """fan_in or fan_out, as ``torch.nn.init._calculate_correct_fan`` picks it."""
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def variance_scaling_fan(shape: Sequence[int], mode: str) -> float:
    """The fan of ``variance_scaling_``: fan_in, fan_out, their mean or their geometric mean."""
    valid_modes = ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2.0
    return math.sqrt(fan_in * fan_out)
