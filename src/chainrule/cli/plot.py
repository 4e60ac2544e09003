"""``chainrule plot``: loss curves, a decision boundary, activations, output against steps."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli.inputs import CommandError, load_model, read_table, stored_preprocessing


def add_parser(sub: Any) -> None:
    """Add the ``plot`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser("plot", help="loss curves, decision boundary, activations, output vs steps")
    p.add_argument("kind", choices=["history", "boundary", "activations", "steps"])
    p.add_argument("source", nargs="?", help="history CSV (history) or model file (boundary)")
    p.add_argument("data", nargs="?", help="data CSV (boundary)")
    p.add_argument("--out", required=True, help="the .png or .svg to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule plot``; return the exit code."""
    from chainrule.teaching import plots

    if args.kind == "history":
        frame = read_table(args.source)
        if "loss" not in frame.columns:
            raise CommandError(f"{args.source} has no 'loss' column: pass a file written by train --history")
        plots.loss_curves({c: frame[c].to_numpy() for c in frame.columns if c != "epoch"}, args.out)
    elif args.kind == "boundary":
        if not args.data:
            raise CommandError("plot boundary needs the model and a data file: plot boundary MODEL DATA.csv")
        net = load_model(args.source)
        prep = stored_preprocessing(net, args.source)
        if prep.categorical or len(prep.numeric) != 2:
            raise CommandError("plot boundary needs a model with exactly two numeric input columns")
        if prep.task != "classification":
            raise CommandError("plot boundary needs a classification model")
        frame = read_table(args.data)
        points = frame[prep.numeric].to_numpy(dtype=float)
        plots.decision_boundary(
            net,
            points,
            frame[prep.target].astype(str).to_numpy(),
            args.out,
            feature_names=prep.numeric,
            transform=prep.scaler.transform,
        )
    elif args.kind == "activations":
        plots.activations(args.out)
    elif args.kind == "steps":
        from chainrule.examples import seed_000_truth_table

        result = seed_000_truth_table.run()
        plots.output_vs_steps(result["steps"], result["test_output_curve"], args.out, target=0.99)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
