"""``chainrule evaluate``: a model's metrics on labelled rows (`chainrule.TableModel.evaluate`)."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.inputs import CommandError, load_table_model, read_table
from chainrule.cli.predict import note_format
from chainrule.cli.report import format_metrics

USAGE = "chainrule evaluate MODEL DATA"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``evaluate`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "evaluate",
        parents=parents,
        help="metrics of a model on labelled rows",
        description="Score a model written by `chainrule train` on rows that include the target "
        "column: accuracy, log loss and the confusion matrix for classification; mse, mae and "
        "R^2 in the target's units for regression.",
    )
    p.add_argument("model", help="a model file written by chainrule train")
    p.add_argument("data", help="labelled rows: CSV, .npz or .npy, with the target column")
    p.add_argument(
        "--unknown",
        choices=["ignore", "error"],
        help="a category not seen in training: all-zero one-hot with a warning, or an error "
        "(default: as the model was trained)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule evaluate``; return the exit code."""
    model = load_table_model(args.model, USAGE)
    model.preprocessor.unknown = args.unknown or model.preprocessor.unknown
    frame = read_table(args.data, USAGE)
    note_format(frame, args)
    if model.target not in frame.columns:
        raise CommandError(f"{args.data} has no target column {model.target!r} to evaluate against")
    metrics = model.evaluate(frame)
    skipped = metrics.pop("unlabelled", 0)
    left_out = f" ({skipped} without a target value, left out)" if skipped else ""
    print(f"{len(frame)} rows{left_out}, {model.task}")
    print(format_metrics(metrics, model.preprocessor.classes))
    return 0
