"""``chainrule evaluate``: a model's metrics on labelled rows."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.inputs import CommandError, load_model, read_table, stored_preprocessing
from chainrule.cli.report import format_metrics, task_metrics


def add_parser(sub: Any) -> None:
    """Add the ``evaluate`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser("evaluate", help="metrics of a model on labelled rows")
    p.add_argument("model")
    p.add_argument("data")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule evaluate``; return the exit code."""
    net = load_model(args.model)
    prep = stored_preprocessing(net, args.model)
    frame = read_table(args.data)
    if prep.target not in frame.columns:
        raise CommandError(f"{args.data} has no target column {prep.target!r} to evaluate against")
    print(f"{len(frame)} rows, {prep.task}")
    print(format_metrics(task_metrics(prep, net, frame), prep.classes))
    return 0
