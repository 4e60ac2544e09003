"""``chainrule info``: a model's architecture, preprocessing and training summary."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.inputs import load_model
from chainrule.nn.kernels import planned
from chainrule.table import TableModel

USAGE = "chainrule info MODEL"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``info`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "info",
        parents=parents,
        help="architecture, preprocessing and training summary of a model",
        description="Print what a model file holds: its layers and parameter count, the stored "
        "preprocessing (task, classes, scaling, one-hot columns) and the training summary "
        "(data, epochs, optimizer, metrics; whether the run was interrupted).",
    )
    p.add_argument("model", help="a model file (.npz) written by chainrule")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule info``; return the exit code."""
    model = load_model(args.model, USAGE)
    net = model.network if isinstance(model, TableModel) else model
    n_params = sum(p.size for layer in net.layers for p in layer.params.values())
    print(f"model: {args.model}")
    print(
        f"network: {'-'.join(map(str, net.sizes))}, {n_params} parameters, {net.dtype.name}, "
        f"loss {net.loss.name if net.loss else 'not recorded'}"
    )
    for i, layer in enumerate(net.layers):
        print(f"  layer {i}: {layer!r}")
    print(f"kernels: {planned()} (chainrule.set_backend or CHAINRULE_BACKEND)")
    if isinstance(model, TableModel):
        prep = model.preprocessor
        print(f"task: {prep.task}" + (f", classes: {', '.join(prep.classes)}" if prep.classes else ""))
        print(
            f"target: {prep.target}"
            + (f" (scaled: {prep.target_scaler.method})" if prep.task == "regression" else "")
        )
        print(f"numeric inputs ({prep.scaler.method} scaling): {', '.join(prep.numeric) or 'none'}")
        if prep.derived:
            formulas = ", ".join(f"{step.name} = {step.text()}" for step in prep.derived)
            print(f"computed from the raw columns {', '.join(prep.inputs)}: {formulas}")
        for column, categories in prep.categorical.items():
            shown = ", ".join(categories[:20]) + (
                f", ... ({len(categories)} in all)" if len(categories) > 20 else ""
            )
            print(f"categorical input {column}: one-hot over {shown}")
        filled = ", ".join(f"{column}={value!r}" for column, value in prep.fill.items())
        print(f"missing cells: {prep.missing}" + (f", filled with {filled}" if filled else ""))
        unseen = "an error" if prep.unknown == "error" else "all-zero one-hot, with a warning"
        print(f"unseen categories: {unseen}")
    training = net.metadata.get("training")
    if isinstance(training, dict):
        print_training(training)
    return 0


def print_training(training: dict[str, Any]) -> None:
    """The training summary, tolerating missing or odd entries (older or edited files)."""
    optimizer = training.get("optimizer") if isinstance(training.get("optimizer"), dict) else {}
    print(
        f"trained on {training.get('data', '?')} ({training.get('rows', '?')} rows) at "
        f"{training.get('trained_at', '?')}, {training.get('epochs_run', '?')} epochs, optimizer "
        f"{optimizer.get('name', '?')} lr {_number(optimizer.get('lr', '?'))}"
    )
    if isinstance(training.get("features"), dict):
        formulas = ", ".join(f"{name} = {text}" for name, text in training["features"].items())
        print(f"inputs computed from the raw x1, x2 (chainrule playground): {formulas}")
    if training.get("not_converged"):
        print(str(training["not_converged"]))
    if training.get("interrupted"):
        print(
            f"INTERRUPTED: training was stopped by Ctrl-C after {training.get('epochs_run', '?')} "
            "epochs; this model was kept with --keep-interrupted"
        )
    metrics = training.get("metrics")
    for split, values in metrics.items() if isinstance(metrics, dict) else ():
        if isinstance(values, dict):
            print(f"  {split}: " + ", ".join(f"{k} {_number(v)}" for k, v in values.items()))


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
