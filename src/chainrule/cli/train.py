"""``chainrule train``: read a table, fit its preprocessing, train a network, save both."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.cli.inputs import CommandError, read_table, split_list
from chainrule.cli.progress import ProgressBar
from chainrule.cli.report import task_metrics, write_history
from chainrule.io.preprocessing import SCALINGS, TablePreprocessor
from chainrule.nn.losses import output_for_task
from chainrule.train.batches import split_indices


def add_parser(sub: Any) -> None:
    """Add the ``train`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "train",
        help="train a network on a CSV (or .npz/.npy) and save it",
        description="Train on a table: numeric columns are inputs, text columns one-hot encoded.",
    )
    p.add_argument("data", help="training data: .csv, .npz (arrays X and y) or .npy")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--out", required=True, help="the model file to write (.npz)")
    p.add_argument("--features", help="comma-separated input columns (default: all but the target)")
    p.add_argument("--categorical", help="comma-separated columns to one-hot encode even if numeric")
    p.add_argument(
        "--task", choices=["classification", "regression"], help="default: inferred from the target"
    )
    p.add_argument("--scale", choices=SCALINGS, default="standard", help="input scaling (default standard)")
    p.add_argument(
        "--target-scale",
        choices=SCALINGS,
        default="standard",
        help="regression target scaling (default standard)",
    )
    p.add_argument("--layers", default="16", help="hidden layer widths, e.g. 8,4 (default 16)")
    p.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    p.add_argument("--loss", help="default: cross-entropy for classification, mse for regression")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam", "rmsprop"], default="adam")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32, help="rows per step; 0 for full batch (default 32)")
    p.add_argument(
        "--validation-split", type=float, default=0.2, help="fraction held out (default 0.2; 0 for none)"
    )
    p.add_argument(
        "--early-stopping",
        type=int,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without improvement",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--history", help="write the per-epoch history to this CSV")
    p.add_argument("--plot", help="write the loss curves to this .png or .svg")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule train``; return the exit code."""
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    frame = read_table(args.data)
    prep = TablePreprocessor.fit(
        frame,
        args.target,
        features=split_list(args.features, "--features") or None,
        categorical=split_list(args.categorical, "--categorical"),
        task=args.task,
        scale=args.scale,
        target_scale=args.target_scale,
    )
    X, y = prep.transform(frame), prep.encode_target(frame[args.target])
    net, loss = build_network(args, prep, X.shape[1], say)
    train_rows, val_rows = np.arange(len(frame)), None
    if args.validation_split:
        stratify = prep.task == "classification"
        train_rows, val_rows = split_indices(y, args.validation_split, stratify, net.rng)
    callbacks: list[Any] = [] if args.quiet else [ProgressBar(args.epochs)]
    stopper = None
    if args.early_stopping:
        stopper = cr.EarlyStopping(patience=args.early_stopping, restore_best_weights=True)
        callbacks.append(stopper)
    optimizer = cr.get_optimizer(args.optimizer, args.lr)
    history = net.fit(
        X[train_rows],
        y[train_rows],
        loss=loss,
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size or None,
        validation_data=None if val_rows is None else (X[val_rows], y[val_rows]),
        callbacks=callbacks,
        seed=args.seed,
    )
    restored = stopper.best_epoch if stopper is not None else None
    print(f"trained {history.epochs} epochs on {len(train_rows)} rows")
    if restored is not None:
        print(f"early stopping restored the weights of epoch {restored + 1}")
    report = {"train": task_metrics(prep, net, frame.iloc[train_rows])}
    if val_rows is not None:
        report["validation"] = task_metrics(prep, net, frame.iloc[val_rows])
    for split, metrics in report.items():
        name = "training" if split == "train" else split
        print(f"{name} set: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "confusion"))
    save_outputs(args, net, prep, history, optimizer, len(frame), report)
    return 0


def build_network(
    args: argparse.Namespace, prep: TablePreprocessor, n_inputs: int, say: Any
) -> tuple[cr.Network, str]:
    """The network the options describe, with the output layer and loss the task needs."""
    hidden = [int(n) for n in split_list(args.layers, "--layers")]
    if any(n < 1 for n in hidden):
        raise CommandError(f"--layers needs positive widths, got {args.layers}")
    output, default_loss = output_for_task(prep.task, prep.n_outputs)
    loss = args.loss or default_loss
    net = cr.Network(
        [n_inputs, *hidden, prep.n_outputs],
        activation=args.activation,
        output_activation=output,
        seed=args.seed,
        dtype=args.dtype,
    )
    described = (
        f"classification, {len(prep.classes)} classes ({', '.join(prep.classes)})"
        if prep.task == "classification"
        else f"regression (target scaled: {args.target_scale})"
    )
    say(f"task: {described}; override with --task")
    say(f"inputs: {len(prep.feature_names)} columns ({', '.join(prep.feature_names)}), scaled: {args.scale}")
    say(f"network: {'-'.join(map(str, net.sizes))}, {args.activation} hidden, {output} output, loss {loss}")
    return net, loss


def save_outputs(
    args: argparse.Namespace,
    net: cr.Network,
    prep: TablePreprocessor,
    history: cr.History,
    optimizer: cr.Optimizer,
    rows: int,
    report: dict[str, dict[str, Any]],
) -> None:
    """Write the history, the plot and the model (with its preprocessing and a training summary)."""
    summary = {
        "data": str(args.data),
        "rows": rows,
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "epochs_run": history.epochs,
        "optimizer": optimizer.config(),
        "batch_size": args.batch_size or None,
        "seed": args.seed,
        "final": {k: v[-1] for k, v in history.history.items()},
        "metrics": {split: {k: v for k, v in m.items() if k != "confusion"} for split, m in report.items()},
    }
    # Write the side files first: if one of them fails, no model file claims a finished run.
    if args.history:
        write_history(history, args.history)
    if args.plot:
        from chainrule.teaching import plots

        plots.loss_curves(history.history, args.plot, title=f"{Path(args.data).name}: loss per epoch")
    cr.save(net, args.out, metadata={"preprocessing": prep.to_dict(), "training": summary})
    print(f"model saved to {args.out}")
