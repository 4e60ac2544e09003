"""``chainrule predict``: outputs for new rows, in the original units and labels."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli.inputs import CommandError, load_model, read_table, stored_preprocessing
from chainrule.io.atomic import atomic_write


def add_parser(sub: Any) -> None:
    """Add the ``predict`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser("predict", help="predict for new rows with the model's stored preprocessing")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", help="CSV to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule predict``; return the exit code."""
    net = load_model(args.model)
    prep = stored_preprocessing(net, args.model)
    frame = read_table(args.data)
    outputs = net.predict(prep.transform(frame))
    result = frame.copy()
    column = f"predicted_{prep.target}"
    result[column] = prep.decode(outputs)
    if args.proba:
        if prep.task != "classification":
            raise CommandError("--proba needs a classification model; this one is a regression")
        for name, values in zip(prep.classes, prep.probabilities(outputs).T, strict=True):
            result[f"proba_{name}"] = values
    if args.out:
        with atomic_write(args.out, "w", newline="") as stream:
            result.to_csv(stream, index=False)
        print(f"wrote {len(result)} predictions to {args.out}", file=sys.stderr)
    else:
        result.to_csv(sys.stdout, index=False)
    return 0
