"""The command line of ``python -m philoxinit demo``."""

from __future__ import annotations

import argparse
import sys
import time

from .experiment import ACTIVATIONS, DEFAULT_SCHEMES, SCHEMES, gain_for, measure, train
from .report import _figure, format_table, format_train_table, plot_propagation, plot_training


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
    p.add_argument(
        "--width-end",
        type=int,
        default=None,
        help="taper the widths geometrically from --width to this (fan_in != fan_out)",
    )
    p.add_argument("--batch", type=int, default=None, help="batch size (default 1024; conv: 64)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="default relu")
    p.add_argument("--negative-slope", type=float, default=0.01, help="leaky_relu slope (default 0.01)")
    p.add_argument(
        "--gain",
        type=float,
        default=None,
        help="override the gain (default: calculate_gain of the activation; 1 for selu)",
    )
    p.add_argument("--conv", action="store_true", help="3x3 conv layers instead of linear layers")
    p.add_argument("--image-size", type=int, default=8, help="conv input height and width (default 8)")
    p.add_argument(
        "--schemes",
        default=",".join(DEFAULT_SCHEMES),
        help="comma-separated schemes (default: %(default)s; extras: "
        + ", ".join(k for k in SCHEMES if k not in DEFAULT_SCHEMES)
        + ")",
    )
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--plot", metavar="FILE.png", help="save the std-vs-depth figure here")
    p.add_argument("--train", action="store_true", help="also run the training comparison")
    p.add_argument(
        "--train-plot",
        metavar="FILE.png",
        help="save the training loss curves here (default with --plot: FILE_train.png)",
    )
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
        measure(
            args.depth,
            width,
            batch,
            args.activation,
            s,
            args.seed,
            args.conv,
            image_size=args.image_size,
            width_end=args.width_end,
            negative_slope=args.negative_slope,
            gain=args.gain,
        )
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
            train(
                args.train_depth,
                args.train_width,
                args.activation,
                s,
                args.seed,
                steps=args.train_steps,
                lr=args.lr,
                negative_slope=args.negative_slope,
                gain=args.gain,
            )
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
