"""``chainrule info``: a model's architecture, preprocessing and training summary."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.inputs import load_model
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.nn.kernels import planned


def add_parser(sub: Any) -> None:
    """Add the ``info`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser("info", help="architecture, preprocessing and training summary of a model")
    p.add_argument("model")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule info``; return the exit code."""
    net = load_model(args.model)
    n_params = sum(p.size for layer in net.layers for p in layer.params.values())
    print(f"model: {args.model}")
    print(
        f"network: {'-'.join(map(str, net.sizes))}, {n_params} parameters, {net.dtype.name}, "
        f"loss {net.loss.name if net.loss else 'not recorded'}"
    )
    for i, layer in enumerate(net.layers):
        print(f"  layer {i}: {layer!r}")
    print(f"kernels: {planned()} (chainrule.set_backend or CHAINRULE_BACKEND)")
    prep_data = net.metadata.get("preprocessing")
    if prep_data:
        prep = TablePreprocessor.from_dict(prep_data)
        print(f"task: {prep.task}" + (f", classes: {', '.join(prep.classes)}" if prep.classes else ""))
        print(
            f"target: {prep.target}"
            + (f" (scaled: {prep.target_scaler.method})" if prep.task == "regression" else "")
        )
        print(f"numeric inputs ({prep.scaler.method} scaling): {', '.join(prep.numeric) or 'none'}")
        for column, categories in prep.categorical.items():
            print(f"categorical input {column}: one-hot over {', '.join(categories)}")
    training = net.metadata.get("training")
    if training:
        print(
            f"trained on {training['data']} ({training['rows']} rows) at {training['trained_at']}, "
            f"{training['epochs_run']} epochs, optimizer {training['optimizer']['name']} "
            f"lr {training['optimizer']['lr']:g}"
        )
        for split, values in training.get("metrics", {}).items():
            print(f"  {split}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
    return 0
