"""Tests for philoxinit.demo: the qualitative facts behind Xavier/Kaiming initialization.

Each test would fail if the scaling of an init function broke (a wrong gain, fan or
truncation correction multiplies the per-layer std by a constant c != 1, which
compounds to c**depth). Networks are smaller than the demo's defaults where the fact
still holds; every run is seeded, so the numbers are fixed.
"""

import math

import numpy as np
import pytest

import philoxinit
from philoxinit import demo


def ratios(depth, width, batch, activation, scheme, seed=0, **kw):
    return demo.pass_ratios(demo.measure(depth, width, batch, activation, scheme, seed, **kw))


# --- ReLU, 50 layers ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["kaiming_normal", "kaiming_uniform"])
def test_relu_kaiming_preserves_scale_over_50_layers(scheme):
    fwd, bwd = ratios(50, 1024, 32, "relu", scheme)
    assert 0.5 <= fwd <= 2.0
    assert 0.5 <= bwd <= 2.0


def test_relu_small_normal_collapses_and_unit_normal_explodes():
    r = demo.measure(50, 512, 32, "relu", "normal_0.01", 0)
    fwd, bwd = demo.pass_ratios(r)
    assert fwd < 1e-6 and bwd < 1e-6
    # Geometric decay at the predicted rate: std factor 0.01 * sqrt(fan_in / 2) per layer.
    per_layer = (r["forward"][-1] / r["forward"][0]) ** (1 / 49)
    assert per_layer == pytest.approx(0.01 * math.sqrt(512 / 2), rel=0.05)
    fwd, bwd = ratios(50, 512, 32, "relu", "normal_1")
    assert fwd > 1e6 and bwd > 1e6


def test_relu_without_the_factor_two_vanishes():
    # The same kaiming_normal_ with the 'linear' gain (1 instead of sqrt 2): each layer
    # halves the variance, so 49 layers shrink the std by about 2**-24.5.
    fwd, bwd = ratios(50, 512, 32, "relu", "kaiming_normal", gain=1.0)
    assert fwd < 1e-5 and bwd < 1e-5


# --- tanh --------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["xavier_uniform", "xavier_normal"])
def test_tanh_xavier_stays_within_factor_3(scheme):
    fwd, bwd = ratios(10, 256, 128, "tanh", scheme)
    assert 1 / 3 <= fwd <= 3
    assert 1 / 3 <= bwd <= 3


def test_tanh_unit_normal_saturates():
    r = demo.measure(10, 256, 128, "tanh", "normal_1", 0)
    # Pre-activations have std ~ sqrt(256): nearly every unit sits at +-1.
    assert min(r["saturation"]) > 0.8
    assert min(r["forward"]) > 0.95
    # The few units that are not saturated carry weights of std 1, so the gradient
    # does not keep its scale: it grows by orders of magnitude over 10 layers.
    _, bwd = demo.pass_ratios(r)
    assert bwd > 1e3
    x = demo.measure(10, 256, 128, "tanh", "xavier_uniform", 0)
    # Layer 1 sees pre-activations of std 5/3 (11% beyond |h| = 0.99), later ones less.
    assert max(x["saturation"]) < 0.15 and x["saturation"][-1] < 0.05


def _tanh_mean_field(gain):
    """(fixed-point activation std, per-layer gradient std growth) for a wide tanh net
    with weight variance gain**2 / fan: q = g^2 E[tanh(sqrt(q) z)^2],
    chi = g^2 E[tanh'(sqrt(q) z)^2]."""
    z, w = np.polynomial.hermite_e.hermegauss(160)
    w = w / w.sum()
    q = 1.0
    for _ in range(500):
        q = gain**2 * np.sum(w * np.tanh(math.sqrt(q) * z) ** 2)
    act_std = math.sqrt(np.sum(w * np.tanh(math.sqrt(q) * z) ** 2))
    chi = gain**2 * np.sum(w * (1 - np.tanh(math.sqrt(q) * z) ** 2) ** 2)
    return act_std, math.sqrt(chi)


def test_tanh_xavier_50_layers_matches_mean_field():
    # With calculate_gain('tanh') = 5/3 the forward std settles at a fixed point, while
    # the gradient grows by sqrt(chi) ~ 1.10 per layer (the chaotic side of the
    # order/chaos transition): measured and predicted must agree.
    r = demo.measure(50, 512, 64, "tanh", "xavier_uniform", 0)
    fwd, _ = demo.pass_ratios(r)
    assert 1 / 3 <= fwd <= 3
    act_std, growth = _tanh_mean_field(5 / 3)
    assert r["forward"][-1] == pytest.approx(act_std, rel=0.05)
    b = r["backward"]
    measured = (b[9] / b[-1]) ** (1 / 40)  # layers 10..50, past the transient
    assert measured == pytest.approx(growth, rel=0.02)


# --- linear: the gains and the truncation correction -------------------------------------


@pytest.mark.parametrize("scheme", ["xavier_uniform", "kaiming_normal", "lecun_normal"])
def test_linear_unit_gain_preserves_scale(scheme):
    fwd, bwd = ratios(50, 256, 64, "linear", scheme)
    assert 0.5 <= fwd <= 2.0
    assert 0.5 <= bwd <= 2.0


def test_truncated_normal_needs_the_correction():
    # trunc_normal_ with std 1/sqrt(fan_in) and +-2 std bounds, without dividing by
    # .8796: every layer multiplies the std by .8796, lecun_normal_ does not.
    fwd, bwd = ratios(50, 256, 64, "linear", "trunc_normal_uncorrected")
    expected = demo.TRUNC_STD_2SIGMA**49
    assert expected / 2 < fwd < expected * 2
    assert expected / 2 < bwd < expected * 2


def test_fan_in_fan_out_fan_avg_with_tapering_widths():
    # Widths 1024 -> 128: fan_in keeps the forward scale, fan_out the backward scale,
    # fan_avg (xavier) splits the difference: sqrt(1024 / 128) ** 0.5 ~ 1.68 each way.
    kw = dict(width_end=128)
    f_in, b_in = ratios(30, 1024, 32, "linear", "kaiming_normal", **kw)
    f_out, b_out = ratios(30, 1024, 32, "linear", "kaiming_normal_fan_out", **kw)
    f_avg, b_avg = ratios(30, 1024, 32, "linear", "xavier_normal", **kw)
    assert 0.8 < f_in < 1.25 and b_in < 0.5
    assert 0.8 < b_out < 1.25 and f_out > 2
    assert 1.3 < f_avg < 2.2 and 1 / 2.2 < b_avg < 1 / 1.3


# --- determinism, command line, plots, training ------------------------------------------


def test_measure_is_deterministic_with_seed():
    a = demo.measure(8, 64, 32, "tanh", "xavier_normal", 3)
    b = demo.measure(8, 64, 32, "tanh", "xavier_normal", 3)
    c = demo.measure(8, 64, 32, "tanh", "xavier_normal", 4)
    # Same seed: the same weights and inputs. BLAS may split sums differently between
    # calls (MKL adapts its thread count to the load), so compare to rounding, not bits.
    assert a["forward"] == pytest.approx(b["forward"], rel=1e-9)
    assert a["backward"] == pytest.approx(b["backward"], rel=1e-9)
    assert a["forward"] != pytest.approx(c["forward"], rel=1e-3)


def test_conv_kaiming_beats_small_normal():
    k = ratios(20, 32, 8, "relu", "kaiming_normal", conv=True, image_size=6)
    s = ratios(20, 32, 8, "relu", "normal_0.01", conv=True, image_size=6)
    assert 0.25 <= k[0] <= 4 and 0.25 <= k[1] <= 4
    assert s[0] < 1e-6 and s[1] < 1e-6


def test_measure_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        demo.measure(2, 8, 4, "sigmoid", "kaiming_normal", 0)
    with pytest.raises(ValueError, match="scheme"):
        demo.measure(2, 8, 4, "relu", "orthogonal", 0)


def test_main_prints_the_table(capsys):
    assert demo.main(["--depth", "6", "--width", "32", "--batch", "16", "--activation", "tanh"]) == 0
    out = capsys.readouterr().out
    for label in ("N(0,1)", "N(0,0.01)", "xavier_uniform_", "kaiming_normal_", "lecun_normal_"):
        assert label in out
    assert demo.main(["--schemes", "nope"]) == 2


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 400 and height >= 300
    assert len(data) > 10_000  # curves, labels and a legend, not an empty canvas


def test_plots_are_valid_pngs(tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib, which is not installed")
    vp, tp = tmp_path / "vp.png", tmp_path / "tr.png"
    argv = [
        "--depth",
        "8",
        "--width",
        "32",
        "--batch",
        "16",
        "--plot",
        str(vp),
        "--train",
        "--train-depth",
        "4",
        "--train-width",
        "16",
        "--train-steps",
        "5",
        "--train-plot",
        str(tp),
    ]
    assert demo.main(argv) == 0
    _check_png(vp)
    _check_png(tp)


def test_training_good_init_learns_bad_init_does_not():
    kw = dict(depth=12, width=64, activation="relu", seed=0, steps=120)
    good = demo.train(scheme="kaiming_normal", **kw)
    small = demo.train(scheme="normal_0.01", **kw)
    big = demo.train(scheme="normal_1", **kw)
    chance = math.log(10)
    assert not good["diverged"] and good["final_loss"] < min(0.9 * chance, small["final_loss"] - 0.2)
    assert small["final_loss"] > 0.95 * chance  # no signal reaches the output: stuck at chance
    assert big["diverged"] or big["final_loss"] > chance
    assert good["test_accuracy"] > small["test_accuracy"] + 0.1


def test_gain_for_matches_calculate_gain():
    assert demo.gain_for("relu") == pytest.approx(math.sqrt(2))
    assert demo.gain_for("tanh") == pytest.approx(5 / 3)
    assert demo.gain_for("leaky_relu", 0.2) == pytest.approx(philoxinit.calculate_gain("leaky_relu", 0.2))
    assert demo.gain_for("linear") == 1.0
    assert demo.gain_for("selu") == 1.0
