"""Text tables and figures of the demo's results (matplotlib is imported only to plot)."""

from __future__ import annotations

import math

from .experiment import pass_ratios


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
    cols = ["L1", f"L{mid}", f"L{depth}", f"L{depth}/L1", "|", f"L{depth}", f"L{mid}", "L1", f"L1/L{depth}"]
    head = f"{'scheme':<{name_w}}  " + " ".join(f"{c:>9}" if c != "|" else "|" for c in cols)
    title = f"{'':<{name_w}}  {'activation std (forward)':^39} | {'gradient std (backward)':^39}"
    lines = [title, head, "-" * len(head)]
    for r in results:
        f, b = r["forward"], r["backward"]
        rf, rb = pass_ratios(r)
        vals = [f[0], f[mid - 1], f[-1], rf, None, b[-1], b[mid - 1], b[0], rb]
        cells = " ".join("|" if v is None else f"{_fmt(v):>9}" for v in vals)
        lines.append(f"{r['label']:<{name_w}}  {cells}")
    return "\n".join(lines)


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
        lines.append(f"{r['label']:<{name_w}}  {_fmt(r['initial_loss']):>9} {end:>9} {acc:>9} {r['seconds']:>8.2f}")
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
        raise RuntimeError("plotting needs matplotlib, which is not installed: pip install matplotlib") from e
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
            window = losses[max(0, i - k + 1) : i + 1]
            smooth.append(sum(window) / len(window))
        end = "diverged" if r["diverged"] else f"end {r['final_loss']:.3g}"
        ax.plot(
            range(1, len(smooth) + 1),
            _finite_pos(smooth),
            color=color,
            linestyle=ls,
            label=f"{r['label']} ({end})",
            linewidth=1.6,
        )
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
