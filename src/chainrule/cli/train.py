"""``chainrule train``: read a table, fit its preprocessing, train a network, save both.

Output paths are checked before the data is read; the model is written first, so a failing
history or plot file never costs it; Ctrl-C exits 130 and keeps the model only when asked.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.cli.files import CommandError, Output, check_outputs
from chainrule.cli.inputs import read_table, split_list
from chainrule.cli.options import (
    DEFAULTS,
    PLOT_SUFFIXES,
    batch_size,
    fraction,
    non_negative_float,
    positive_float,
    positive_int,
    rows_per_batch,
)
from chainrule.cli.progress import ProgressBar
from chainrule.cli.record import OutputRecorder
from chainrule.cli.report import task_metrics, write_history
from chainrule.errors import DivergenceError
from chainrule.io.preprocessing import SCALINGS, TablePreprocessor, infer_task_reason
from chainrule.nn.activations import ACTIVATIONS
from chainrule.nn.losses import LOSSES, output_for_task
from chainrule.train.batches import split_indices

USAGE = "chainrule train DATA --target COLUMN --out MODEL.npz"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``train`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "train",
        parents=parents,
        help="train a network on a CSV (or .npz/.npy) and save it",
        description="Train a network on a table and save it with its preprocessing. Numeric columns "
        "are inputs, text columns are one-hot encoded; the task (classification or regression) is "
        "inferred from the target, and the output layer and loss follow from it. The defaults are "
        "those of chainrule's scikit-learn estimators (README: 'Defaults').",
    )
    p.add_argument("data", help="training data: CSV (any common delimiter), .npz (arrays X and y) or .npy")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--out", required=True, help="the model file to write (.npz)")
    p.add_argument("--features", help="comma-separated input columns (default: all but the target)")
    p.add_argument("--categorical", help="comma-separated columns to one-hot encode even if numeric")
    p.add_argument(
        "--task", choices=["classification", "regression"], help="default: inferred from the target"
    )
    p.add_argument("--scale", choices=SCALINGS, default="standard", help="input scaling")
    p.add_argument("--target-scale", choices=SCALINGS, default="standard", help="regression target scaling")
    p.add_argument("--layers", default=DEFAULTS["layers"], help="hidden layer widths, e.g. 64,32")
    hidden = sorted(set(ACTIVATIONS) - {"softmax"})
    p.add_argument("--activation", choices=hidden, default=DEFAULTS["activation"], help="hidden activation")
    p.add_argument(
        "--loss",
        choices=sorted(LOSSES),
        help="default: cross-entropy for classification, mse for regression",
    )
    p.add_argument(
        "--optimizer",
        choices=["sgd", "momentum", "adam", "rmsprop"],
        default=DEFAULTS["optimizer"],
        help="update rule",
    )
    p.add_argument("--lr", type=positive_float, default=DEFAULTS["lr"], help="learning rate")
    p.add_argument("--alpha", type=non_negative_float, default=DEFAULTS["alpha"], help="L2 weight decay")
    p.add_argument(
        "--epochs", type=positive_int, default=DEFAULTS["epochs"], help="most passes over the data"
    )
    p.add_argument(
        "--batch-size",
        type=batch_size,
        default=DEFAULTS["batch_size"],
        help="rows per step: auto is min(200, rows), 0 the full batch",
    )
    p.add_argument(
        "--validation-split",
        type=fraction,
        default=DEFAULTS["validation_split"],
        help="share of rows held out (0: none)",
    )
    p.add_argument(
        "--patience",
        type=positive_int,
        default=DEFAULTS["patience"],
        help="early stopping: epochs without a better validation loss before training stops",
    )
    p.add_argument("--early-stopping", type=positive_int, dest="patience", help=argparse.SUPPRESS)
    p.add_argument("--no-early-stopping", action="store_true", help="run every epoch, keep the last weights")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, the split and the shuffling")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="parameter precision")
    p.add_argument("--history", help="write the per-epoch history to this CSV")
    p.add_argument("--plot", help="write the loss curves to this .png, .svg or .pdf")
    p.add_argument(
        "--keep-interrupted",
        action="store_true",
        help="on Ctrl-C, save the model of the last completed epoch (marked interrupted)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule train``; return the exit code."""
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    check_outputs(
        {"the data file": args.data},
        [
            Output("--out", args.out, (".npz",)),
            Output("--history", args.history, (".csv",)),
            Output("--plot", args.plot, PLOT_SUFFIXES),
        ],
    )
    if args.plot:
        require_matplotlib()
    frame = read_table(args.data, USAGE)
    say(f"data: {args.data}: {len(frame)} rows, {len(frame.columns)} columns, {frame.attrs.get('format')}")
    task, reason = args.task, "given by --task"
    if task is None and args.target in frame.columns:
        task, reason = infer_task_reason(frame[args.target])
    prep = TablePreprocessor.fit(
        frame,
        args.target,
        features=split_list(args.features, "--features") or None,
        categorical=split_list(args.categorical, "--categorical"),
        task=task,
        scale=args.scale,
        target_scale=args.target_scale,
    )
    X, y = prep.transform(frame), prep.encode_target(frame[args.target])
    net, loss = build_network(args, prep, X.shape[1], reason, say)
    train_rows, val_rows = np.arange(len(frame)), None
    if args.validation_split:
        stratify = prep.task == "classification"
        train_rows, val_rows = split_indices(y, args.validation_split, stratify, net.rng)
    recorder = OutputRecorder(prep, frame, train_rows)
    try:
        return train_and_save(args, net, loss, prep, frame, X, y, train_rows, val_rows, recorder, say)
    except KeyboardInterrupt:  # outside the epochs (which fit itself rolls back): nothing written
        return nothing_kept(recorder.completed, args.keep_interrupted, saving=recorder.completed > 0)


def nothing_kept(done: int, keep: bool, saving: bool = False) -> int:
    """Report an interrupted run that leaves no model file; return the exit code 130."""
    print(f"chainrule: interrupted after {done} epochs", file=sys.stderr)
    if not keep:
        reason = "pass --keep-interrupted to keep it"
    else:
        reason = "interrupted while saving" if saving else "no epoch completed"
    print(f"chainrule: no model written ({reason})", file=sys.stderr)
    return 130


def train_and_save(
    args: argparse.Namespace,
    net: cr.Network,
    loss: str,
    prep: TablePreprocessor,
    frame: Any,
    X: np.ndarray,
    y: np.ndarray,
    train_rows: np.ndarray,
    val_rows: np.ndarray | None,
    recorder: OutputRecorder,
    say: Any,
) -> int:
    """Train, report, and write the model and side files; the exit code (130 when interrupted)."""
    callbacks: list[Any] = [recorder] if args.quiet else [recorder, ProgressBar(args.epochs)]
    stopper = None
    if val_rows is not None and not args.no_early_stopping:
        stopper = cr.EarlyStopping(
            args.patience, DEFAULTS["min_delta"], "val_loss", restore_best_weights=True
        )
        callbacks.append(stopper)
        say(
            f"early stopping: patience {args.patience} epochs on the validation loss, best epoch "
            "restored (--no-early-stopping to turn it off)"
        )
    optimizer = cr.get_optimizer(args.optimizer, args.lr)
    optimizer.weight_decay = args.alpha
    batch = rows_per_batch(args.batch_size, len(train_rows))
    say(f"training: {args.optimizer} lr {args.lr:g}, batch {batch or 'full'}, up to {args.epochs} epochs")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training interrupted")  # reported below, once
        try:
            history = net.fit(
                X[train_rows],
                y[train_rows],
                loss=loss,
                optimizer=optimizer,
                epochs=args.epochs,
                batch_size=batch,
                validation_data=None if val_rows is None else (X[val_rows], y[val_rows]),
                callbacks=callbacks,
                seed=args.seed,
            )
        except DivergenceError as exc:
            raise CommandError(
                f"training diverged in epoch {exc.epoch + 1}: the loss became NaN or infinite "
                f"(lr {args.lr:g}: try --lr {args.lr / 10:g}); no model written"
            ) from None
    interrupted = bool(getattr(history, "interrupted", False))
    if interrupted and (not args.keep_interrupted or history.epochs == 0):
        return nothing_kept(history.epochs, args.keep_interrupted)
    restored = stopper.best_epoch if stopper is not None else None
    suffix = " (interrupted)" if interrupted else ""
    print(f"trained {history.epochs} epochs on {len(train_rows)} rows{suffix}")
    if stopper is not None and stopper.stopped_epoch is not None:
        print(f"early stopping: no better validation loss for {args.patience} epochs")
    if restored is not None:
        print(f"early stopping restored the weights of epoch {restored + 1}")
    report = {"train": task_metrics(prep, net, frame.iloc[train_rows])}
    if val_rows is not None:
        report["validation"] = task_metrics(prep, net, frame.iloc[val_rows])
    for split, metrics in report.items():
        name = "training" if split == "train" else split
        print(f"{name} set: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "confusion"))
    summary = training_summary(args, history, optimizer, len(frame), report, recorder)
    summary["interrupted"] = interrupted
    save_outputs(args, net, prep, history, summary)
    if interrupted:
        print(f"chainrule: interrupted after {history.epochs} epochs", file=sys.stderr)
        print(f"chainrule: kept the model of epoch {history.epochs}, marked interrupted", file=sys.stderr)
        return 130
    return 0


def build_network(
    args: argparse.Namespace, prep: TablePreprocessor, n_inputs: int, reason: str, say: Any
) -> tuple[cr.Network, str]:
    """The network the options describe, with the output layer and loss the task needs."""
    try:
        hidden = [int(n) for n in split_list(args.layers, "--layers")]
    except ValueError:
        raise CommandError(f"--layers needs whole numbers such as 64,32, got {args.layers}") from None
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
    say(f"task: {described}: {reason}; override with --task")
    say(f"inputs: {len(prep.feature_names)} columns ({', '.join(prep.feature_names)}), scaled: {args.scale}")
    say(f"network: {'-'.join(map(str, net.sizes))}, {args.activation} hidden, {output} output, loss {loss}")
    return net, loss


def training_summary(
    args: argparse.Namespace,
    history: cr.History,
    optimizer: cr.Optimizer,
    rows: int,
    report: dict[str, dict[str, Any]],
    recorder: OutputRecorder,
) -> dict[str, Any]:
    """The ``training`` entry of the model's metadata (``chainrule info`` prints it), JSON-safe."""
    summary = {
        "data": str(args.data),
        "rows": rows,
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "epochs_run": history.epochs,
        "optimizer": optimizer.config(),
        "batch_size": rows_per_batch(args.batch_size, rows),
        "seed": args.seed,
        "early_stopping": None if args.no_early_stopping or not args.validation_split else args.patience,
        "final": {k: float(v[-1]) for k, v in history.history.items() if len(v)},
        "metrics": {split: {k: v for k, v in m.items() if k != "confusion"} for split, m in report.items()},
        "trajectory": recorder.trajectory(),
    }
    return json_safe(summary)


def json_safe(value: Any) -> Any:
    """``value`` with NumPy numbers as Python ones and NaN or infinite floats as None (JSON null)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def save_outputs(
    args: argparse.Namespace,
    net: cr.Network,
    prep: TablePreprocessor,
    history: cr.History,
    summary: dict[str, Any],
) -> None:
    """Write the model first, then the history and the plot; a failing side file never costs the model."""
    cr.save(net, args.out, metadata={"preprocessing": prep.to_dict(), "training": summary})
    print(f"model saved to {args.out}")
    failures = []
    if args.history:
        try:
            write_history(history, args.history)
        except OSError as exc:
            failures.append(f"--history {args.history}: {exc}")
    if args.plot:
        try:
            from chainrule.cli.plot import save_loss_plot

            save_loss_plot(history.history, args.plot, title=f"{Path(args.data).name}: loss per epoch")
        except (OSError, ValueError, ImportError) as exc:
            failures.append(f"--plot {args.plot}: {exc}")
    if failures:
        raise CommandError(f"the model is saved in {args.out}, but " + "; ".join(failures))


def require_matplotlib() -> None:
    """Fail before training when ``--plot`` is asked for and matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError('--plot needs matplotlib: pip install "chainrule[cli]"') from None
