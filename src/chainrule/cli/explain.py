"""``chainrule explain``: one backpropagation step of a model, a seed, or sizes, every number printed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.cli.inputs import CommandError, load_model, pandas, split_list, stored_preprocessing
from chainrule.io.preprocessing import TablePreprocessor


def add_parser(sub: Any) -> None:
    """Add the ``explain`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "explain",
        help="print one backprop step with its real numbers",
        description="MODEL is a model file, 'seed001' (the Udacity worked step), or sizes like 3-4-1.",
    )
    p.add_argument("model", metavar="MODEL|SPEC")
    p.add_argument("--input", help="comma-separated input values (original units for CLI-trained models)")
    p.add_argument("--target", help="comma-separated target value(s), or the class label")
    p.add_argument("--lr", type=float, help="learning rate of the step")
    p.add_argument("--loss", help="loss of the step (default: the model's)")
    p.add_argument("--activation", default="sigmoid", help="activation for a sizes spec")
    p.add_argument("--seed", type=int, default=0, help="weights seed for a sizes spec")
    p.add_argument("--scaled", action="store_true", help="--input is already the network's (scaled) input")
    p.add_argument("--markdown", action="store_true", help="print Markdown instead of text")
    p.set_defaults(func=run)


SEED_001_STEP = {
    "weights": [[[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]], [[0.1], [-0.3]]],
    "input": "0.5,0.1,-0.2",
    "target": "0.6",
    "lr": 0.5,
    "loss": "half_sse",
}


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule explain``; return the exit code."""
    spec = args.model
    prep = None
    if Path(spec).is_file():
        net = load_model(spec)
        if "preprocessing" in net.metadata:
            prep = stored_preprocessing(net, spec)
        default_input = default_target = None
        lr, loss = args.lr or 0.1, args.loss
    elif spec == "seed001":
        net = cr.Network(
            [
                cr.Dense(3, 2, "sigmoid", bias=False, weights=SEED_001_STEP["weights"][0]),
                cr.Dense(2, 1, "sigmoid", bias=False, weights=SEED_001_STEP["weights"][1]),
            ]
        )
        default_input, default_target = SEED_001_STEP["input"], SEED_001_STEP["target"]
        lr, loss = args.lr or SEED_001_STEP["lr"], args.loss or SEED_001_STEP["loss"]
    elif all(part.isdigit() for part in spec.split("-")) and spec.count("-") >= 1:
        sizes = [int(part) for part in spec.split("-")]
        net = cr.Network(sizes, activation=args.activation, seed=args.seed)
        default_input = ",".join(["0.5"] * sizes[0])
        default_target = ",".join(["1"] * sizes[-1])
        lr, loss = args.lr or 0.5, args.loss or "half_sse"
    else:
        raise CommandError(f"{spec!r} is not a model file, 'seed001', or sizes such as 3-4-1")
    raw_input, raw_target = args.input or default_input, args.target or default_target
    if raw_input is None or raw_target is None:
        raise CommandError("explain needs --input and --target for a model file")
    if prep is not None and not args.scaled:
        pd = pandas()
        columns = [*prep.numeric, *prep.categorical]
        values = split_list(raw_input, "--input")
        if len(values) != len(columns):
            raise CommandError(f"--input needs {len(columns)} values, for the columns: {', '.join(columns)}")
        row = pd.DataFrame([values], columns=columns)
        X = prep.transform(row)
        y = prep.encode_target(pd.Series([_parse_target(raw_target, prep)]))
    else:
        X = np.array([[float(v) for v in split_list(raw_input, "--input")]])
        y = np.array([[float(v) for v in split_list(raw_target, "--target")]])
    trace = cr.trace_step(net, X, y, loss=loss, optimizer=cr.SGD(lr=lr), apply=False)
    print(trace.format("markdown" if args.markdown else "text"))
    return 0


def _parse_target(text: str, prep: TablePreprocessor) -> Any:
    return float(text) if prep.task == "regression" else text
