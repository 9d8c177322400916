"""The experiments of ``python -m philoxinit demo``: a deep plain network initialized by each
scheme, measured over one forward and one backward pass (:func:`measure`), or trained briefly on
a synthetic task (:func:`train`)."""

from __future__ import annotations

import math
import time

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
        for k in range(1, depth + 1):
            shape = (widths[k], widths[k - 1], 3, 3) if conv else (widths[k], widths[k - 1])
            w = torch.empty(shape, dtype=dtype)
            init_weight(w, scheme, activation, layer_seed(seed, k), negative_slope, gain)
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
    w1 = P.normal_(
        torch.empty(4 * in_dim, in_dim, dtype=dtype), 0.0, 1.0 / math.sqrt(in_dim), seed=layer_seed(seed, base + 1)
    )
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
        for k in range(1, depth + 1):
            w = torch.empty(dims[k], dims[k - 1], dtype=dtype)
            init_weight(w, scheme, activation, layer_seed(seed, k), negative_slope, gain)
            b = torch.zeros(dims[k], dtype=dtype)
            params += [w.requires_grad_(True), b.requires_grad_(True)]
    act = _activation_fn(activation, negative_slope)

    def forward(x):
        h = x
        for k in range(depth):
            h = F.linear(h, params[2 * k], params[2 * k + 1])
            if k < depth - 1:
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
    tail = losses[-max(1, steps // 10) :]
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
