"""``chainrule train``: read a table, train on it with `chainrule.train_table`, save the model.

The training itself (preprocessing, network, split, early stopping, summary) is
`chainrule.train_table`'s; this command parses options, reads the file, prints and writes.
Output paths are checked before the data is read; the model is written first, so a failing
history or plot file never costs it; Ctrl-C exits 130 and keeps the model only when asked.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chainrule.cli.files import CommandError, Output, check_outputs
from chainrule.cli.inputs import read_table, split_list
from chainrule.cli.options import (
    DEFAULTS,
    PLOT_SUFFIXES,
    batch_size,
    decay_or_auto,
    fraction_or_auto,
    non_negative_float,
    positive_float,
    positive_int,
)
from chainrule.cli.progress import ProgressBar
from chainrule.cli.report import write_history
from chainrule.errors import DivergenceError
from chainrule.io.blocks import BLOCK_SIZE, is_file_set, open_blocks
from chainrule.io.cleaning import MISSING, UNKNOWN
from chainrule.io.preprocessing import SCALINGS
from chainrule.nn.activations import ACTIVATIONS
from chainrule.nn.losses import LOSSES
from chainrule.table import TableModel, train_table
from chainrule.table.stopping import AUTO_VALIDATION, MIN_VALIDATION_ROWS, STOP_ON
from chainrule.train.callbacks import Callback

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
    p.add_argument(
        "data",
        help="training data: CSV (any common delimiter), .npz (arrays X and y) or .npy; or files larger "
        "than memory, read in blocks: a quoted glob ('data/*.parquet', 'logs/*.csv'), a folder, or Parquet",
    )
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--out", required=True, help="the model file to write (.npz)")
    p.add_argument(
        "--features",
        help="comma-separated input columns (default: all but the target, --drop and identifiers)",
    )
    p.add_argument("--drop", help="comma-separated columns to leave out")
    p.add_argument(
        "--keep-ids",
        action="store_true",
        help="keep columns that look like identifiers (text nearly all distinct, a running index)",
    )
    p.add_argument("--categorical", help="comma-separated columns to one-hot encode even if numeric")
    p.add_argument(
        "--missing",
        choices=MISSING,
        default=DEFAULTS["missing"],
        help="missing cells: refuse (with a count per column), drop those rows, or fill input "
        "columns with the training rows' mean, median or most frequent value (stored in the model)",
    )
    p.add_argument(
        "--unknown",
        choices=UNKNOWN,
        default=DEFAULTS["unknown"],
        help="a category not seen in training, at prediction: all-zero one-hot (with a warning) or an error",
    )
    p.add_argument(
        "--task", choices=["classification", "regression"], help="default: inferred from the target"
    )
    p.add_argument("--scale", choices=SCALINGS, default=DEFAULTS["scale"], help="input scaling")
    p.add_argument(
        "--target-scale", choices=SCALINGS, default=DEFAULTS["target_scale"], help="regression target scaling"
    )
    add_training_options(p)
    p.add_argument(
        "--scheduler",
        help="address of a Dask scheduler (tcp://host:8786): read and preprocess the blocks on its "
        "workers (they must see the files at the same paths); implies reading in blocks",
    )
    p.add_argument(
        "--block-size",
        default=BLOCK_SIZE,
        help=f"bytes of CSV per block when reading in blocks (default {BLOCK_SIZE})",
    )
    p.add_argument("--history", help="write the per-epoch history to this CSV")
    p.add_argument("--plot", help="write the loss curves to this .png, .svg or .pdf")
    p.add_argument(
        "--keep-interrupted",
        action="store_true",
        help="on Ctrl-C, save the model of the last completed epoch (marked interrupted)",
    )
    p.set_defaults(func=run)


def add_training_options(p: argparse.ArgumentParser) -> None:
    """The network and training options, with `chainrule.train_table`'s defaults."""
    p.add_argument(
        "--layers", default=",".join(map(str, DEFAULTS["layers"])), help="hidden layer widths, e.g. 64,32"
    )
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
    p.add_argument(
        "--alpha",
        type=decay_or_auto,
        default=DEFAULTS["alpha"],
        help="L2 weight decay, times each weight added to its gradient; auto: 10 / training rows",
    )
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
        type=fraction_or_auto,
        default=DEFAULTS["validation_split"],
        help=f"share of rows held out (0: none); auto: {AUTO_VALIDATION:g} when that is at least "
        f"{MIN_VALIDATION_ROWS} rows, else none",
    )
    p.add_argument(
        "--early-stopping",
        choices=STOP_ON,
        default=DEFAULTS["early_stopping"],
        help=f"stop on the validation loss or the training loss; auto: validation when the split "
        f"has {MIN_VALIDATION_ROWS} rows or more, else training (scikit-learn's rule)",
    )
    p.add_argument(
        "--patience",
        type=positive_int,
        default=DEFAULTS["patience"],
        help="early stopping: epochs without an improvement of --tol before training stops",
    )
    p.add_argument(
        "--tol",
        type=non_negative_float,
        default=DEFAULTS["min_delta"],
        help="early stopping: the least fall of the loss that counts as an improvement",
    )
    p.add_argument("--no-early-stopping", action="store_true", help="run every epoch, keep the last weights")
    p.add_argument(
        "--seed", type=int, default=DEFAULTS["seed"], help="seed of the weights, the split and the shuffling"
    )
    p.add_argument(
        "--dtype", choices=["float64", "float32"], default=DEFAULTS["dtype"], help="parameter precision"
    )


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
    with dask_client(args.scheduler):
        return train_and_save(args, say)


def train_and_save(args: argparse.Namespace, say: Any) -> int:
    """Read the data (in blocks for a glob, a folder, Parquet or a scheduler), train, write; the exit code."""
    if args.scheduler or is_file_set(args.data):
        frame, described = open_blocks(args.data, args.block_size)
        say(f"data: {args.data}: {described}")
    else:
        frame = read_table(args.data, USAGE)
        say(
            f"data: {args.data}: {len(frame)} rows, {len(frame.columns)} columns, {frame.attrs.get('format')}"
        )
    hidden = hidden_layers(args.layers)
    counter = EpochCounter()
    callbacks: list[Callback] = [counter] if args.quiet else [counter, ProgressBar(args.epochs)]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="training interrupted")  # reported below, once
            warnings.filterwarnings("ignore", message="not converged")  # reported below, with the result
            try:
                model = train_table(
                    frame,
                    args.target,
                    features=split_list(args.features, "--features", unique=True) or None,
                    drop=split_list(args.drop, "--drop", unique=True),
                    keep_ids=args.keep_ids,
                    categorical=split_list(args.categorical, "--categorical", unique=True),
                    missing=args.missing,
                    unknown=args.unknown,
                    task=args.task,
                    scale=args.scale,
                    target_scale=args.target_scale,
                    layers=hidden,
                    activation=args.activation,
                    loss=args.loss,
                    optimizer=args.optimizer,
                    lr=args.lr,
                    alpha=args.alpha,
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    validation_split=args.validation_split,
                    early_stopping="off" if args.no_early_stopping else args.early_stopping,
                    patience=args.patience,
                    tol=args.tol,
                    seed=args.seed,
                    dtype=args.dtype,
                    callbacks=callbacks,
                    log=say,
                )
            except DivergenceError as exc:
                raise CommandError(
                    f"training diverged in epoch {exc.epoch + 1}: the loss became NaN or infinite "
                    f"(lr {args.lr:g}: try --lr {args.lr / 10:g}); no model written"
                ) from None
        return report_and_save(args, model)
    except KeyboardInterrupt:  # outside the epochs (which fit itself rolls back): nothing written
        return nothing_kept(counter.done, args.keep_interrupted, saving=counter.done > 0)


@contextlib.contextmanager
def dask_client(address: str | None) -> Iterator[None]:
    """A Dask client of the scheduler at ``address`` while training (none: Dask's local threads)."""
    if not address:
        yield
        return
    try:
        from distributed import Client
    except ImportError:
        raise CommandError('--scheduler needs Dask\'s distributed: pip install "chainrule[dask]"') from None
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise CommandError(f"--scheduler {address}: cannot reach a Dask scheduler there ({exc})") from None
    with client:
        yield


class EpochCounter(Callback):
    """Counts the epochs completed, for the message of a Ctrl-C outside them."""

    def __init__(self) -> None:
        self.done = 0

    def on_train_begin(self) -> None:
        self.done = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.done = epoch + 1


def hidden_layers(text: str) -> list[int]:
    """The widths of ``--layers``, such as ``64,32``."""
    try:
        hidden = [int(n) for n in split_list(text, "--layers")]
    except ValueError:
        raise CommandError(f"--layers needs whole numbers such as 64,32, got {text}") from None
    if any(n < 1 for n in hidden):
        raise CommandError(f"--layers needs positive widths, got {text}")
    return hidden


def nothing_kept(done: int, keep: bool, saving: bool = False) -> int:
    """Report an interrupted run that leaves no model file; return the exit code 130."""
    print(f"chainrule: interrupted after {done} epochs", file=sys.stderr)
    if not keep:
        reason = "pass --keep-interrupted to keep it"
    else:
        reason = "interrupted while saving" if saving else "no epoch completed"
    print(f"chainrule: no model written ({reason})", file=sys.stderr)
    return 130


def report_and_save(args: argparse.Namespace, model: TableModel) -> int:
    """Print how training went, write the model and side files; the exit code (130 when interrupted)."""
    history = model.history
    assert history is not None  # train_table sets it
    interrupted = bool(getattr(history, "interrupted", False))
    if interrupted and (not args.keep_interrupted or history.epochs == 0):
        return nothing_kept(history.epochs, args.keep_interrupted)
    training = model.metadata["training"]
    suffix = " (interrupted)" if interrupted else ""
    print(f"trained {history.epochs} epochs on {training['train_rows']} rows{suffix}")
    if training["stopped_early"]:
        what = "validation" if training["stopping"] == "validation" else "training"
        print(f"early stopping: no fall of the {what} loss by {args.tol:g} for {args.patience} epochs")
    if training.get("not_converged"):
        print(training["not_converged"])
    if training["restored_epoch"] is not None:
        print(f"early stopping restored the weights of epoch {training['restored_epoch']}")
    for split, metrics in training["metrics"].items():
        name = "training" if split == "train" else split
        print(f"{name} set: " + ", ".join(f"{k} {_number(v)}" for k, v in metrics.items()))
    model.metadata["training"] = {"data": str(args.data), **training}
    save_outputs(args, model)
    if interrupted:
        print(f"chainrule: interrupted after {history.epochs} epochs", file=sys.stderr)
        print(f"chainrule: kept the model of epoch {history.epochs}, marked interrupted", file=sys.stderr)
        return 130
    return 0


def _number(value: float | None) -> str:
    return "nan" if value is None else f"{value:.4g}"  # the summary stores NaN as None (JSON null)


def save_outputs(args: argparse.Namespace, model: TableModel) -> None:
    """Write the model first, then the history and the plot; a failing side file never costs the model."""
    model.save(args.out)
    print(f"model saved to {args.out}")
    failures = []
    history = model.history
    assert history is not None
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
