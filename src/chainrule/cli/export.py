"""``chainrule export``: a model as an ONNX graph, with its stored scaling."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli.files import Output, check_outputs
from chainrule.cli.inputs import load_model
from chainrule.io.onnx import export_onnx
from chainrule.table import TableModel

USAGE = "chainrule export MODEL OUT.onnx"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``export`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "export",
        parents=parents,
        help="export a model to ONNX, with its stored scaling",
        description="Write MODEL as an ONNX graph (input: the feature columns in original units, "
        "categorical ones one-hot; regression output in the target's units).",
    )
    p.add_argument("model", help="a model file written by chainrule")
    p.add_argument("out", help="the .onnx file to write")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="the graph's precision")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule export``; return the exit code."""
    check_outputs({"the model": args.model}, [Output("OUT", args.out, (".onnx",))])
    model = load_model(args.model, USAGE)
    net = model.network if isinstance(model, TableModel) else model
    columns = (
        model.preprocessor.feature_names
        if isinstance(model, TableModel)
        else [f"x{i}" for i in range(net.n_inputs)]
    )
    export_onnx(model, args.out, dtype=args.dtype)
    print(
        f"wrote {args.out}: input 'input' of shape (batch, {net.n_inputs}): {', '.join(columns)}",
        file=sys.stderr,
    )
    return 0
