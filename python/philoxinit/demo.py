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

from __future__ import annotations

import argparse
import math
import sys
import time

__all__ = [
    "ACTIVATIONS",
    "SCHEMES",
    "DEFAULT_SCHEMES",
    "layer_seed",
    "gain_for",
    "measure",
    "train",
    "format_table",
    "format_train_table",
    "plot_propagation",
    "plot_training",
    "main",
]

ACTIVATIONS = ("tanh", "relu", "leaky_relu", "linear", "selu")

# key -> label shown in tables and legends.
SCHEMES = {
    "normal_1": "N(0,1)",
    "normal_0.01": "N(0,0.01)",
    "xavier_uniform": "xavier_uniform_",
    "xavier_normal": "xavier_normal_",
    "kaiming_uniform": "kaiming_uniform_",
    "kaiming_normal": "kaiming_normal_",
    "lecun_normal": "lecun_normal_",
    # Extras, not run by default: they illustrate single points of docs/initialization.md.
    "kaiming_normal_fan_out": "kaiming_normal_(fan_out)",
    "trunc_normal_uncorrected": "trunc_normal_ (no .8796)",
}
DEFAULT_SCHEMES = (
    "normal_1",
    "normal_0.01",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "lecun_normal",
)

# Standard deviation of a standard normal truncated to [-2, 2].
TRUNC_STD_2SIGMA = 0.87962566103423978

_SEED_STRIDE = 1 << 20  # room for this many seeded tensors per run seed


def layer_seed(seed: int, index: int) -> int:
    """The philoxinit ``seed=`` for tensor ``index`` of a run with seed ``seed``.

    Index 0 is the input batch, 1..depth the layers' weights, depth + 1 the random
    projection the backward pass starts from (training uses its own indices).
    Every (seed, index) pair gets a distinct key, so no two tensors share draws.
    """
    if not 0 <= index < _SEED_STRIDE:
        raise ValueError(f"index must be in [0, {_SEED_STRIDE}), got {index}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    key = seed * _SEED_STRIDE + index
    if key >= 1 << 64:
        raise ValueError(f"seed too large: {seed}")
    return key


def _torch():
    import torch

    return torch


def _api():
    import philoxinit

    return philoxinit


def gain_for(activation: str, negative_slope: float = 0.01) -> float:
    """The gain the demo uses for ``activation``.

    ``calculate_gain`` for tanh (5/3), relu (sqrt 2), leaky_relu
    (sqrt(2 / (1 + slope^2))) and linear (1). For selu the demo uses 1, the LeCun
    scale under which SELU networks self-normalize (torch's own documentation
    advises ``nonlinearity='linear'`` for self-normalizing networks rather than
    ``calculate_gain('selu') == 3/4``).
    """
    _check_activation(activation)
    if activation == "selu":
        return 1.0
    return float(_api().calculate_gain(activation, negative_slope if activation == "leaky_relu" else None))


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")


def _check_scheme(scheme):
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")


def _kaiming_args(activation, negative_slope):
    """(a, nonlinearity) for kaiming_* so that its gain is gain_for(activation)."""
    if activation == "leaky_relu":
        return negative_slope, "leaky_relu"
    if activation == "selu":
        return 0, "linear"
    return 0, activation


def _fan_in(w):
    n = w.shape[1]
    for s in w.shape[2:]:
        n *= s
    return n


def init_weight(w, scheme: str, activation: str, seed: int, negative_slope: float = 0.01, gain=None):
    """Fill weight ``w`` in place with ``scheme`` (a key of :data:`SCHEMES`) for ``activation``."""
    _check_scheme(scheme)
    P = _api()
    g = gain_for(activation, negative_slope) if gain is None else float(gain)
    if scheme == "normal_1":
        P.normal_(w, 0.0, 1.0, seed=seed)
    elif scheme == "normal_0.01":
        P.normal_(w, 0.0, 0.01, seed=seed)
    elif scheme == "xavier_uniform":
        P.xavier_uniform_(w, gain=g, seed=seed)
    elif scheme == "xavier_normal":
        P.xavier_normal_(w, gain=g, seed=seed)
    elif scheme in ("kaiming_uniform", "kaiming_normal", "kaiming_normal_fan_out"):
        if gain is None:
            a, nl = _kaiming_args(activation, negative_slope)
        else:  # an explicit gain: kaiming with the 'linear' gain 1, rescaled below
            a, nl = 0, "linear"
        fn = P.kaiming_uniform_ if scheme == "kaiming_uniform" else P.kaiming_normal_
        mode = "fan_out" if scheme == "kaiming_normal_fan_out" else "fan_in"
        fn(w, a=a, mode=mode, nonlinearity=nl, seed=seed)
        if gain is not None:
            w.mul_(g)
    elif scheme == "lecun_normal":
        # lecun_normal_ is the gain-1 preset (std 1/sqrt(fan_in), truncated at 2 sigma,
        # corrected by 1/.8796); the activation's gain multiplies it.
        P.lecun_normal_(w, seed=seed)
        if g != 1.0:
            w.mul_(g)
    elif scheme == "trunc_normal_uncorrected":
        std = g / math.sqrt(_fan_in(w))
        P.trunc_normal_(w, 0.0, std, -2.0 * std, 2.0 * std, seed=seed)
    return w


def _activation_fn(activation, negative_slope):
    torch = _torch()
    F = torch.nn.functional
    if activation == "tanh":
        return torch.tanh
    if activation == "relu":
        return F.relu
    if activation == "leaky_relu":
        return lambda x: F.leaky_relu(x, negative_slope)
    if activation == "selu":
        return F.selu
    return lambda x: x


def _widths(depth, width, width_end):
    if width_end is None or width_end == width:
        return [width] * (depth + 1)
    r = width_end / width
    return [max(1, round(width * r ** (i / depth))) for i in range(depth + 1)]


def _std(t):
    return float(t.double().std())


def measure(
    depth: int = 50,
    width: int = 512,
    batch: int = 1024,
    activation: str = "relu",
    scheme: str = "kaiming_normal",
    seed: int = 0,
    conv: bool = False,
    *,
    image_size: int = 8,
    width_end=None,
    negative_slope: float = 0.01,
    gain=None,
    dtype=None,
) -> dict:
    """One forward and one backward pass through a freshly initialized deep plain network.

    Linear layers: ``h_l = act(h_{l-1} @ W_l.T)`` for l = 1..depth, no bias, input
    ``h_0 ~ N(0, 1)`` of shape (batch, width). With ``conv=True`` each layer is a
    3x3 convolution (``width`` channels, circular padding so that every output
    sees exactly fan_in = 9 * channels inputs; zero padding would shrink the
    border pixels' variance and add a decay of its own) on (batch, width,
    image_size, image_size) inputs. ``width_end`` tapers the widths geometrically from
    ``width`` (input) to ``width_end`` (last layer), which makes fan_in differ
    from fan_out. The backward pass starts from ``loss = sum(h_depth * r)`` with a
    fixed ``r ~ N(0, 1)``, so dloss/dh_depth has std 1 whatever the forward scale
    is, and the gradients measure backward propagation alone.

    Computed in float64 by default so that exploding (1e60) and vanishing (1e-40)
    signals are represented instead of overflowing or turning into slow denormals.

    Returns a dict with ``forward`` and ``backward``: lists of length ``depth``,
    entry l-1 the std over all elements of h_l and of dloss/dh_l; ``input_std``;
    ``saturation``: per layer, the fraction of activations with |h| > 0.99 (the
    tanh saturation measure); ``fan_in`` per layer; and the arguments.
    """
    _check_activation(activation)
    _check_scheme(scheme)
    if depth < 1 or width < 1 or batch < 1:
        raise ValueError("depth, width and batch must be positive")
    torch = _torch()
    F = torch.nn.functional
    P = _api()
    dtype = torch.float64 if dtype is None else dtype
    act = _activation_fn(activation, negative_slope)
    widths = _widths(depth, width, width_end)

    with torch.no_grad():
        if conv:
            x = torch.empty(batch, widths[0], image_size, image_size, dtype=dtype)
        else:
            x = torch.empty(batch, widths[0], dtype=dtype)
        P.normal_(x, 0.0, 1.0, seed=layer_seed(seed, 0))
        weights = []
        for l in range(1, depth + 1):
            shape = (widths[l], widths[l - 1], 3, 3) if conv else (widths[l], widths[l - 1])
            w = torch.empty(shape, dtype=dtype)
            init_weight(w, scheme, activation, layer_seed(seed, l), negative_slope, gain)
            weights.append(w)

    x.requires_grad_(True)
    hs = []
    h = x
    with torch.enable_grad():
        for w in weights:
            if conv:  # circular padding: every output sees exactly fan_in inputs
                z = F.conv2d(F.pad(h, (1, 1, 1, 1), mode="circular"), w)
            else:
                z = h @ w.t()
            h = act(z)
            h.retain_grad()
            hs.append(h)
        with torch.no_grad():
            r = torch.empty_like(h)
            P.normal_(r, 0.0, 1.0, seed=layer_seed(seed, depth + 1))
        (h * r).sum().backward()

    with torch.no_grad():
        forward = [_std(h) for h in hs]
        backward = [_std(h.grad) for h in hs]
        saturation = [float((h.abs() > 0.99).double().mean()) for h in hs]
        input_std = _std(x)
    return {
        "scheme": scheme,
        "label": SCHEMES[scheme],
        "activation": activation,
        "depth": depth,
        "width": width,
        "width_end": widths[-1],
        "batch": batch,
        "conv": conv,
        "seed": seed,
        "gain": gain_for(activation, negative_slope) if gain is None else float(gain),
        "fan_in": [_fan_in(w) for w in weights],
        "input_std": input_std,
        "forward": forward,
        "backward": backward,
        "saturation": saturation,
    }


def pass_ratios(result: dict):
    """(forward, backward) growth over each pass: forward std at layer depth / layer 1,
    backward std at layer 1 / layer depth (the backward pass runs from depth down to 1).
    Near 1 means the scale is preserved; << 1 vanishing, >> 1 exploding."""
    f, b = result["forward"], result["backward"]
    return _ratio(f[-1], f[0]), _ratio(b[0], b[-1])


def _ratio(a, b):
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return float("nan")
    return a / b


def _fmt(v):
    if v != v:
        return "nan"
    if math.isinf(v):
        return "inf"
    return f"{v:.3g}"


def format_table(results) -> str:
    """A text table: forward and backward std at layer 1, the middle layer and the last
    layer, and the growth over each pass (see :func:`pass_ratios`)."""
    if not results:
        return ""
    depth = results[0]["depth"]
    mid = (depth + 1) // 2
    name_w = max(10, max(len(r["label"]) for r in results))
    cols = [f"L1", f"L{mid}", f"L{depth}", f"L{depth}/L1", "|", f"L{depth}", f"L{mid}", "L1", f"L1/L{depth}"]
    head = f"{'scheme':<{name_w}}  " + " ".join(f"{c:>9}" if c != "|" else "|" for c in cols)
    title = (
        f"{'':<{name_w}}  {'activation std (forward)':^39} | {'gradient std (backward)':^39}"
    )
    lines = [title, head, "-" * len(head)]
    for r in results:
        f, b = r["forward"], r["backward"]
        rf, rb = pass_ratios(r)
        vals = [f[0], f[mid - 1], f[-1], rf, None, b[-1], b[mid - 1], b[0], rb]
        cells = " ".join("|" if v is None else f"{_fmt(v):>9}" for v in vals)
        lines.append(f"{r['label']:<{name_w}}  {cells}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# Training comparison


def _make_task(seed, in_dim, classes, n_train, n_test, dtype):
    """A synthetic classification task: labels are the argmax of a fixed random
    two-layer tanh teacher network applied to x ~ N(0, I)."""
    torch = _torch()
    P = _api()
    base = 1 << 19  # seed indices for the task, far from the layer indices
    n = n_train + n_test
    x = P.normal_(torch.empty(n, in_dim, dtype=dtype), 0.0, 1.0, seed=layer_seed(seed, base))
    w1 = P.normal_(torch.empty(4 * in_dim, in_dim, dtype=dtype), 0.0, 1.0 / math.sqrt(in_dim), seed=layer_seed(seed, base + 1))
    w2 = P.normal_(torch.empty(classes, 4 * in_dim, dtype=dtype), 0.0, 1.0, seed=layer_seed(seed, base + 2))
    y = torch.argmax(torch.tanh(x @ w1.t()) @ w2.t(), dim=1)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def train(
    depth: int = 20,
    width: int = 128,
    activation: str = "relu",
    scheme: str = "kaiming_normal",
    seed: int = 0,
    *,
    steps: int = 300,
    batch: int = 128,
    lr: float = 0.01,
    momentum: float = 0.9,
    in_dim: int = 32,
    classes: int = 10,
    n_train: int = 32768,
    n_test: int = 4096,
    negative_slope: float = 0.01,
    gain=None,
) -> dict:
    """Train a ``depth``-layer MLP (in_dim -> width x (depth-1) -> classes, zero biases,
    ``activation`` between layers) with SGD + momentum and cross-entropy on the task of
    :func:`_make_task`, every weight initialized by ``scheme``.

    The same data, minibatch order and optimizer are used for every scheme; only the
    initial weights differ. A run whose loss becomes non-finite is stopped and marked
    ``diverged``. Returns ``losses`` (minibatch loss per step, NaN after divergence),
    ``initial_loss``, ``final_loss`` (mean of the last 10% of steps), ``test_accuracy``,
    ``diverged`` and ``seconds``.
    """
    _check_activation(activation)
    _check_scheme(scheme)
    if depth < 2:
        raise ValueError("depth must be at least 2")
    torch = _torch()
    F = torch.nn.functional
    dtype = torch.float32
    t0 = time.perf_counter()
    xtr, ytr, xte, yte = _make_task(seed, in_dim, classes, n_train, n_test, dtype)
    dims = [in_dim] + [width] * (depth - 1) + [classes]
    params = []
    with torch.no_grad():
        for l in range(1, depth + 1):
            w = torch.empty(dims[l], dims[l - 1], dtype=dtype)
            init_weight(w, scheme, activation, layer_seed(seed, l), negative_slope, gain)
            b = torch.zeros(dims[l], dtype=dtype)
            params += [w.requires_grad_(True), b.requires_grad_(True)]
    act = _activation_fn(activation, negative_slope)

    def forward(x):
        h = x
        for l in range(depth):
            h = F.linear(h, params[2 * l], params[2 * l + 1])
            if l < depth - 1:
                h = act(h)
        return h

    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    g = torch.Generator().manual_seed(seed)
    losses = []
    diverged = False
    for step in range(steps):
        idx = torch.randint(0, n_train, (batch,), generator=g)
        loss = F.cross_entropy(forward(xtr[idx]), ytr[idx])
        lv = float(loss.detach())
        if not math.isfinite(lv):
            diverged = True
            losses += [float("nan")] * (steps - step)
            break
        losses.append(lv)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = forward(xte)
        finite = bool(torch.isfinite(out).all())
        acc = float((out.argmax(dim=1) == yte).double().mean()) if finite and not diverged else float("nan")
    tail = losses[-max(1, steps // 10):]
    final = float("nan") if diverged else sum(tail) / len(tail)
    return {
        "scheme": scheme,
        "label": SCHEMES[scheme],
        "activation": activation,
        "depth": depth,
        "width": width,
        "steps": steps,
        "lr": lr,
        "seed": seed,
        "losses": losses,
        "initial_loss": losses[0],
        "final_loss": final,
        "test_accuracy": acc,
        "chance_loss": math.log(classes),
        "diverged": diverged,
        "seconds": time.perf_counter() - t0,
    }


def format_train_table(results) -> str:
    if not results:
        return ""
    name_w = max(10, max(len(r["label"]) for r in results))
    steps = results[0]["steps"]
    head = f"{'scheme':<{name_w}}  {'loss@0':>9} {'loss@end':>9} {'test acc':>9} {'seconds':>8}"
    lines = [head, "-" * len(head)]
    for r in results:
        end = "diverged" if r["diverged"] else _fmt(r["final_loss"])
        acc = "-" if r["test_accuracy"] != r["test_accuracy"] else f"{r['test_accuracy']:.3f}"
        lines.append(
            f"{r['label']:<{name_w}}  {_fmt(r['initial_loss']):>9} {end:>9} {acc:>9} {r['seconds']:>8.2f}"
        )
    chance = results[0]["chance_loss"]
    lines.append(
        f"(loss@end: mean minibatch loss over the last {max(1, steps // 10)} of {steps} steps; "
        f"chance level ln {round(math.exp(chance))} = {chance:.3f}; test acc on held-out samples)"
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# Plots


def _figure(*args, **kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "plotting needs matplotlib, which is not installed: pip install matplotlib"
        ) from e
    return Figure(*args, **kwargs)


_STYLES = {
    "normal_1": ("tab:red", "-", "x"),
    "normal_0.01": ("tab:purple", "-", "+"),
    "xavier_uniform": ("tab:blue", "-", None),
    "xavier_normal": ("tab:cyan", "--", None),
    "kaiming_uniform": ("tab:green", "-", None),
    "kaiming_normal": ("tab:olive", "--", None),
    "lecun_normal": ("tab:orange", ":", None),
    "kaiming_normal_fan_out": ("tab:brown", "-.", None),
    "trunc_normal_uncorrected": ("tab:gray", "-.", None),
}


def _finite_pos(vals):
    return [v if (math.isfinite(v) and v > 0) else float("nan") for v in vals]


def plot_propagation(results, path: str, title=None) -> str:
    """Save the std-against-depth figure as ``path``: forward activation std (left) and
    backward gradient std (right) per layer, one curve per scheme, log scale; the top
    row shows the whole range, the bottom row zooms in on [0.1, 10]."""
    fig = _figure(figsize=(12, 8.4), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    for r in results:
        color, ls, marker = _STYLES.get(r["scheme"], (None, "-", None))
        layers = list(range(1, len(r["forward"]) + 1))
        kw = dict(color=color, linestyle=ls, marker=marker, markevery=5, label=r["label"], linewidth=1.6)
        for row in (0, 1):
            axes[row][0].plot(layers, _finite_pos(r["forward"]), **kw)
            axes[row][1].plot(layers, _finite_pos(r["backward"]), **kw)
    titles = ("activation std  (forward: layer 1 \u2192 L)", "gradient std dloss/dh  (backward: layer L \u2192 1)")
    for row in (0, 1):
        for col in (0, 1):
            ax = axes[row][col]
            ax.set_yscale("log")
            ax.grid(True, which="major", alpha=0.3)
            if row == 0:
                ax.set_title(titles[col], fontsize=11)
            else:
                ax.set_ylim(0.1, 10)
                ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10]
                ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
                ax.set_yticks([], minor=True)
                ax.set_xlabel("layer")
                ax.set_title("zoom: 0.1 to 10", fontsize=9)
    axes[0][1].legend(fontsize=8, loc="best")
    if results:
        r = results[0]
        kind = "conv 3x3" if r["conv"] else "linear"
        width = f"{r['width']}" if r["width_end"] == r["width"] else f"{r['width']}\u2192{r['width_end']}"
        fig.suptitle(
            title
            or f"{r['depth']} {kind} layers, width {width}, batch {r['batch']}, "
            f"{r['activation']} (gain {r['gain']:.3g}), seed {r['seed']}"
        )
    fig.savefig(path, dpi=100, metadata={"Software": None})
    return path


def plot_training(results, path: str, title=None) -> str:
    """Save the training loss curves (running mean over 10 steps) as ``path``."""
    fig = _figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    top = 0.0
    for r in results:
        color, ls, _ = _STYLES.get(r["scheme"], (None, "-", None))
        losses = r["losses"]
        k = 10
        smooth = []
        for i in range(len(losses)):
            window = losses[max(0, i - k + 1): i + 1]
            smooth.append(sum(window) / len(window))
        end = "diverged" if r["diverged"] else f"end {r['final_loss']:.3g}"
        ax.plot(range(1, len(smooth) + 1), _finite_pos(smooth), color=color, linestyle=ls,
                label=f"{r['label']} ({end})", linewidth=1.6)
    if results:
        chance = results[0]["chance_loss"]
        ax.axhline(chance, color="k", linewidth=0.8, alpha=0.5, linestyle=":")
        ax.text(1, chance, " chance", va="bottom", fontsize=8, alpha=0.7)
        top = 1.6 * chance  # a diverging run (1e17) would flatten every other curve
        r = results[0]
        ax.set_title(
            title
            or f"{r['depth']}-layer {r['activation']} MLP, width {r['width']}, SGD lr {r['lr']} + momentum, "
            f"seed {r['seed']} (curves above the top are off scale)",
            fontsize=10,
        )
        ax.set_ylim(0, top)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (running mean of 10 steps)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.savefig(path, dpi=110, metadata={"Software": None})
    return path


# ----------------------------------------------------------------------------------------
# Command line


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m philoxinit demo",
        description=(
            "Measure how activation and gradient scale propagate through a deep plain network "
            "under several initialization schemes (one forward and one backward pass)."
        ),
    )
    p.add_argument("--depth", type=int, default=50, help="number of layers (default 50)")
    p.add_argument("--width", type=int, default=None, help="units per layer (default 512; conv: channels, default 64)")
    p.add_argument("--width-end", type=int, default=None,
                   help="taper the widths geometrically from --width to this (fan_in != fan_out)")
    p.add_argument("--batch", type=int, default=None, help="batch size (default 1024; conv: 64)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="default relu")
    p.add_argument("--negative-slope", type=float, default=0.01, help="leaky_relu slope (default 0.01)")
    p.add_argument("--gain", type=float, default=None,
                   help="override the gain (default: calculate_gain of the activation; 1 for selu)")
    p.add_argument("--conv", action="store_true", help="3x3 conv layers instead of linear layers")
    p.add_argument("--image-size", type=int, default=8, help="conv input height and width (default 8)")
    p.add_argument("--schemes", default=",".join(DEFAULT_SCHEMES),
                   help="comma-separated schemes (default: %(default)s; extras: "
                   + ", ".join(k for k in SCHEMES if k not in DEFAULT_SCHEMES) + ")")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--plot", metavar="FILE.png", help="save the std-vs-depth figure here")
    p.add_argument("--train", action="store_true", help="also run the training comparison")
    p.add_argument("--train-plot", metavar="FILE.png",
                   help="save the training loss curves here (default with --plot: FILE_train.png)")
    p.add_argument("--train-depth", type=int, default=20, help="training MLP depth (default 20)")
    p.add_argument("--train-width", type=int, default=128, help="training MLP width (default 128)")
    p.add_argument("--train-steps", type=int, default=300, help="SGD steps per scheme (default 300)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01, momentum 0.9)")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
    for s in schemes:
        if s not in SCHEMES:
            print(f"philoxinit demo: unknown scheme {s!r}; choose from {', '.join(SCHEMES)}", file=sys.stderr)
            return 2
    width = args.width or (64 if args.conv else 512)
    batch = args.batch or (64 if args.conv else 1024)
    if args.depth < 1 or width < 1 or batch < 1:
        print("philoxinit demo: --depth, --width and --batch must be positive", file=sys.stderr)
        return 2
    if args.plot or args.train_plot:  # fail before the work, not after it
        try:
            _figure()
        except RuntimeError as e:
            print(f"philoxinit demo: {e}", file=sys.stderr)
            return 1

    kind = f"conv 3x3 on {args.image_size}x{args.image_size}" if args.conv else "linear"
    widths = f"{width}" if args.width_end in (None, width) else f"{width} -> {args.width_end}"
    g = gain_for(args.activation, args.negative_slope) if args.gain is None else args.gain
    print(
        f"{args.depth} {kind} layers, width {widths}, batch {batch}, activation {args.activation} "
        f"(gain {g:.4g}), seed {args.seed}, float64"
    )
    t0 = time.perf_counter()
    results = [
        measure(args.depth, width, batch, args.activation, s, args.seed, args.conv,
                image_size=args.image_size, width_end=args.width_end,
                negative_slope=args.negative_slope, gain=args.gain)
        for s in schemes
    ]
    print(format_table(results))
    print(
        f"(forward: std of each layer's activations h_l; backward: std of dloss/dh_l for "
        f"loss = sum(h_L * r), r ~ N(0,1); ratios are end/start of each pass; {time.perf_counter() - t0:.1f} s)"
    )
    if args.plot:
        plot_propagation(results, args.plot)
        print(f"wrote {args.plot}")

    if args.train:
        print()
        print(
            f"training: {args.train_depth}-layer {args.activation} MLP, width {args.train_width}, "
            f"{args.train_steps} SGD steps (lr {args.lr}, momentum 0.9, batch 128), seed {args.seed}"
        )
        tr = [
            train(args.train_depth, args.train_width, args.activation, s, args.seed,
                  steps=args.train_steps, lr=args.lr, negative_slope=args.negative_slope, gain=args.gain)
            for s in schemes
        ]
        print(format_train_table(tr))
        tplot = args.train_plot
        if tplot is None and args.plot:
            stem = args.plot[:-4] if args.plot.lower().endswith(".png") else args.plot
            tplot = stem + "_train.png"
        if tplot:
            plot_training(tr, tplot)
            print(f"wrote {tplot}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
