"""The ``chainrule`` command: train from a CSV, predict new rows, explain a step, plot, demo.

Every subcommand reports failure as one line on stderr and a non-zero exit code (``--debug``
shows the traceback), and writes its output files atomically, so a failed run leaves none.
pandas, matplotlib and tqdm come with ``pip install "chainrule[cli]"``; the subcommands that
need them say so when they are missing.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.atomic import atomic_write
from chainrule.callbacks import Callback
from chainrule.errors import ChainruleError
from chainrule.preprocessing import SCALINGS, TablePreprocessor

CLI_EXTRA = 'pip install "chainrule[cli]"'


class CommandError(ChainruleError):
    """A problem with the command line's arguments or files, reported as one line."""


# ---------------------------------------------------------------------------------- data


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise CommandError(f"reading tables needs pandas: {CLI_EXTRA}") from None
    return pd


def read_table(path: str) -> Any:
    """A DataFrame from ``.csv``, or from ``.npz`` (arrays ``X`` and ``y``) or ``.npy``.

    Columns of NumPy arrays are named ``x0, x1, ...``; the ``y`` of an ``.npz`` is ``y``.
    """
    pd = _pandas()
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such data file: {path}")
    suffix = file.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(file, allow_pickle=False)
            array = array.reshape(len(array), -1)
            return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if suffix == ".npz":
            with np.load(file, allow_pickle=False) as archive:
                if "X" not in archive.files:
                    raise CommandError(f"{path} has no array named X (found: {', '.join(archive.files)})")
                X = archive["X"]
                X = X.reshape(len(X), -1)
                frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
                if "y" in archive.files:
                    frame["y"] = archive["y"]
                return frame
        frame = pd.read_csv(file)
    except (ValueError, OSError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    except pd.errors.ParserError as exc:
        raise CommandError(f"cannot parse {path} as CSV: {exc}") from None
    if frame.empty:
        raise CommandError(f"{path} has no data rows")
    return frame


def _preprocessor(net: cr.Network, model_path: str) -> TablePreprocessor:
    data = net.metadata.get("preprocessing")
    if data is None:
        raise CommandError(
            f"{model_path} has no stored preprocessing (it was not trained by `chainrule train`); "
            "use the Python API (chainrule.load(path).predict(X)) with inputs prepared as in training"
        )
    return TablePreprocessor.from_dict(data)


def _load(path: str) -> cr.Network:
    if not Path(path).is_file():
        raise CommandError(f"no such model file: {path}")
    return cr.load(path)


def _split_list(text: str | None, what: str) -> list[str]:
    if not text:
        return []
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise CommandError(f"{what} must be a comma-separated list, got {text!r}")
    return items


# ------------------------------------------------------------------------------- metrics


def task_metrics(prep: TablePreprocessor, net: cr.Network, frame: Any) -> dict[str, Any]:
    """Accuracy, log loss and confusion matrix; or MSE, MAE and R^2 in the target's units."""
    outputs = net.predict(prep.transform(frame))
    truth = frame[prep.target]
    if prep.task == "classification":
        encoded = prep.encode_target(truth)
        labels = [
            prep.classes[i]
            for i in (encoded[:, 0].astype(int) if encoded.shape[1] == 1 else encoded.argmax(1))
        ]
        predicted = list(prep.decode(outputs))
        proba = np.clip(prep.probabilities(outputs), 1e-15, 1.0)
        index = {c: i for i, c in enumerate(prep.classes)}
        confusion = np.zeros((len(prep.classes), len(prep.classes)), dtype=int)
        for t, p in zip(labels, predicted, strict=True):
            confusion[index[t], index[p]] += 1
        log_loss = -float(np.mean(np.log(proba[np.arange(len(labels)), [index[t] for t in labels]])))
        return {
            "accuracy": float(np.trace(confusion) / len(labels)),
            "log_loss": log_loss,
            "confusion": confusion,
        }
    y = truth.to_numpy(dtype=float)
    predicted = prep.decode(outputs)
    residual = y - predicted
    total = float(np.sum((y - y.mean()) ** 2))
    return {
        "mse": float(np.mean(residual**2)),
        "mae": float(np.mean(np.abs(residual))),
        "r2": 1.0 - float(np.sum(residual**2)) / total if total > 0 else float("nan"),
    }


def format_metrics(metrics: dict[str, Any], classes: Sequence[str] = ()) -> str:
    lines = [f"{name}: {value:.6g}" for name, value in metrics.items() if name != "confusion"]
    if "confusion" in metrics:
        width = max(8, *(len(c) + 2 for c in classes))
        lines.append("confusion matrix (rows: true class, columns: predicted):")
        lines.append(" " * width + "".join(f"{c:>{width}}" for c in classes))
        for c, row in zip(classes, metrics["confusion"], strict=True):
            lines.append(f"{c:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ progress


class ProgressBar(Callback):
    """A tqdm bar with the current loss on a terminal; plain progress lines otherwise."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.bar: Any = None
        self.lines: Callback | None = None

    def on_train_begin(self) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None and sys.stderr.isatty():
            self.bar = tqdm(total=self.epochs, unit="epoch", file=sys.stderr, leave=False)
        else:
            self.lines = cr.ProgressLogger(self.epochs, every=max(1, self.epochs // 10))
            self.lines.on_train_begin()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss")})
        elif self.lines is not None:
            self.lines.on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()


# ------------------------------------------------------------------------------ commands


def cmd_train(args: argparse.Namespace) -> int:
    frame = read_table(args.data)
    prep = TablePreprocessor.fit(
        frame,
        args.target,
        features=_split_list(args.features, "--features") or None,
        categorical=_split_list(args.categorical, "--categorical"),
        task=args.task,
        scale=args.scale,
        target_scale=args.target_scale,
    )
    X, y = prep.transform(frame), prep.encode_target(frame[args.target])
    hidden = [int(n) for n in _split_list(args.layers, "--layers")]
    if any(n < 1 for n in hidden):
        raise CommandError(f"--layers needs positive widths, got {args.layers}")
    if prep.task == "regression":
        output, default_loss = "identity", "mse"
    elif prep.n_outputs == 1:
        output, default_loss = "sigmoid", "binary_crossentropy"
    else:
        output, default_loss = "softmax", "categorical_crossentropy"
    loss = args.loss or default_loss
    net = cr.Network(
        [X.shape[1], *hidden, prep.n_outputs],
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
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"task: {described}; override with --task")
    say(f"inputs: {len(prep.feature_names)} columns ({', '.join(prep.feature_names)}), scaled: {args.scale}")
    say(f"network: {'-'.join(map(str, net.sizes))}, {args.activation} hidden, {output} output, loss {loss}")

    validation = None
    train_rows = np.arange(len(frame))
    if args.validation_split:
        from chainrule.training import split_indices

        train_rows, val_rows = split_indices(y, args.validation_split, prep.task == "classification", net.rng)
        validation = (X[val_rows], y[val_rows])
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
        validation_data=validation,
        callbacks=callbacks,
        seed=args.seed,
    )
    train_metrics = task_metrics(prep, net, frame.iloc[train_rows])
    report = {"train": {k: v for k, v in train_metrics.items() if k != "confusion"}}
    print(
        f"trained {history.epochs} epochs on {len(train_rows)} rows"
        + (
            f" (early stopping restored epoch {stopper.best_epoch + 1})"
            if stopper and stopper.best_epoch is not None
            else ""
        )
    )
    print("training set: " + ", ".join(f"{k} {v:.4g}" for k, v in report["train"].items()))
    if validation is not None:
        val_metrics = task_metrics(prep, net, frame.iloc[val_rows])
        report["validation"] = {k: v for k, v in val_metrics.items() if k != "confusion"}
        print("validation set: " + ", ".join(f"{k} {v:.4g}" for k, v in report["validation"].items()))

    summary = {
        "data": str(args.data),
        "rows": len(frame),
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "epochs_run": history.epochs,
        "optimizer": optimizer.config(),
        "batch_size": args.batch_size or None,
        "seed": args.seed,
        "final": {k: v[-1] for k, v in history.history.items()},
        "metrics": report,
    }
    # Write the side files first: if one of them fails, no model file claims a finished run.
    if args.history:
        write_history(history, args.history)
    if args.plot:
        from chainrule import plots

        plots.loss_curves(history.history, args.plot, title=f"{Path(args.data).name}: loss per epoch")
    cr.save(net, args.out, metadata={"preprocessing": prep.to_dict(), "training": summary})
    print(f"model saved to {args.out}")
    return 0


def write_history(history: cr.History, path: str) -> None:
    columns = list(history.history)
    with atomic_write(path, "w", newline="") as stream:
        stream.write(",".join(["epoch", *columns]) + "\n")
        for epoch in range(history.epochs):
            stream.write(
                ",".join([str(epoch + 1), *(repr(float(history[c][epoch])) for c in columns)]) + "\n"
            )


def cmd_predict(args: argparse.Namespace) -> int:
    net = _load(args.model)
    prep = _preprocessor(net, args.model)
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    net = _load(args.model)
    prep = _preprocessor(net, args.model)
    frame = read_table(args.data)
    if prep.target not in frame.columns:
        raise CommandError(f"{args.data} has no target column {prep.target!r} to evaluate against")
    print(f"{len(frame)} rows, {prep.task}")
    print(format_metrics(task_metrics(prep, net, frame), prep.classes))
    return 0


SEED_001_STEP = {
    "weights": [[[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]], [[0.1], [-0.3]]],
    "input": "0.5,0.1,-0.2",
    "target": "0.6",
    "lr": 0.5,
    "loss": "half_sse",
}


def cmd_explain(args: argparse.Namespace) -> int:
    spec = args.model
    prep = None
    if Path(spec).is_file():
        net = _load(spec)
        if "preprocessing" in net.metadata:
            prep = _preprocessor(net, spec)
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
        pd = _pandas()
        columns = [*prep.numeric, *prep.categorical]
        values = _split_list(raw_input, "--input")
        if len(values) != len(columns):
            raise CommandError(f"--input needs {len(columns)} values, for the columns: {', '.join(columns)}")
        row = pd.DataFrame([values], columns=columns)
        X = prep.transform(row)
        y = prep.encode_target(pd.Series([_parse_target(raw_target, prep)]))
    else:
        X = np.array([[float(v) for v in _split_list(raw_input, "--input")]])
        y = np.array([[float(v) for v in _split_list(raw_target, "--target")]])
    trace = cr.trace_step(net, X, y, loss=loss, optimizer=cr.SGD(lr=lr), apply=False)
    print(trace.format("markdown" if args.markdown else "text"))
    return 0


def _parse_target(text: str, prep: TablePreprocessor) -> Any:
    return float(text) if prep.task == "regression" else text


def cmd_plot(args: argparse.Namespace) -> int:
    from chainrule import plots

    if args.kind == "history":
        frame = read_table(args.source)
        if "loss" not in frame.columns:
            raise CommandError(f"{args.source} has no 'loss' column: pass a file written by train --history")
        plots.loss_curves({c: frame[c].to_numpy() for c in frame.columns if c != "epoch"}, args.out)
    elif args.kind == "boundary":
        if not args.data:
            raise CommandError("plot boundary needs the model and a data file: plot boundary MODEL DATA.csv")
        net = _load(args.source)
        prep = _preprocessor(net, args.source)
        if prep.categorical or len(prep.numeric) != 2:
            raise CommandError("plot boundary needs a model with exactly two numeric input columns")
        if prep.task != "classification":
            raise CommandError("plot boundary needs a classification model")
        frame = read_table(args.data)
        points = frame[prep.numeric].to_numpy(dtype=float)
        plots.decision_boundary(
            net,
            points,
            frame[prep.target].astype(str).to_numpy(),
            args.out,
            feature_names=prep.numeric,
            transform=prep.scaler.transform,
        )
    elif args.kind == "activations":
        plots.activations(args.out)
    elif args.kind == "steps":
        from chainrule.examples import seed_000_truth_table

        result = seed_000_truth_table.run()
        plots.output_vs_steps(result["steps"], result["test_output_curve"], args.out, target=0.99)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from chainrule.examples import SEEDS

    if args.name:
        key = args.name.removeprefix("seed").removeprefix("_")
        if key not in SEEDS:
            raise CommandError(f"unknown demo {args.name!r}; choose one of: {', '.join(SEEDS)}")
        module = importlib.import_module(f"chainrule.examples.{SEEDS[key]}")
        if key == "002":
            with tempfile.TemporaryDirectory() as folder:
                model = str(Path(folder) / "xor_model.npz")
                module.main(model)
                print()
                print("and the separate inference program, loading that file:")
                importlib.import_module("chainrule.examples.seed_002_xor_predict").main(model)
        else:
            module.main()
        return 0
    return _tour()


def _tour() -> int:
    from chainrule.examples import seed_000_truth_table, seed_001_admissions, seed_004_study_hours

    print("chainrule: backpropagation on NumPy, reproducing five classic tutorials\n")
    s0 = seed_000_truth_table.run()
    print("000  3-4-1 sigmoid network, 5000 steps on a truth table")
    print(f"     test input [1, 0, 0] -> {s0['test_output'][0]:.8f}  (tutorial: 0.99619533)")
    print(f"     steps to reach 0.99: {s0['iterations_to_099']}  (the tutorial prints 1010, an off-by-ten)")
    s1 = seed_001_admissions.run()
    changes = np.array2string(s1["step"].layers[1].changes["W"].ravel(), precision=8)
    print("001  one worked backprop step, then graduate admissions")
    print(f"     hidden->output weight changes {changes}  (tutorial: [0.00804047 0.00555918])")
    print(f"     test accuracy {s1['accuracy']:.3f}  (tutorial: 0.725)")
    s4 = seed_004_study_hours.run()
    print("004  test score from hours studied and slept")
    print(f"     4 h and 8 h -> {s4['score']:.1f} points, scaled with the training maxima {s4['x_max']}")
    print()
    print("Each demo in full:  chainrule demo 000 | 001 | 002 | 003 | 004")
    print("Your own data:      chainrule train data.csv --target COLUMN --out model.npz")
    print("One step explained: chainrule explain seed001")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    net = _load(args.model)
    cr.export_onnx(net, args.out, dtype=args.dtype)
    columns = (
        TablePreprocessor.from_dict(net.metadata["preprocessing"]).feature_names
        if ("preprocessing" in net.metadata)
        else [f"x{i}" for i in range(net.n_inputs)]
    )
    print(
        f"wrote {args.out}: input 'input' of shape (batch, {net.n_inputs}): {', '.join(columns)}",
        file=sys.stderr,
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    net = _load(args.model)
    n_params = sum(p.size for layer in net.layers for p in layer.params.values())
    print(f"model: {args.model}")
    print(
        f"network: {'-'.join(map(str, net.sizes))}, {n_params} parameters, {net.dtype.name}, "
        f"loss {net.loss.name if net.loss else 'not recorded'}"
    )
    for i, layer in enumerate(net.layers):
        print(f"  layer {i}: {layer!r}")
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


# -------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Train feed-forward networks by backpropagation, predict, and see how a step works.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {cr.__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="predict for new rows with the model's stored preprocessing")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", help="CSV to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="metrics of a model on labelled rows")
    p.add_argument("model")
    p.add_argument("data")
    p.set_defaults(func=cmd_evaluate)

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
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("plot", help="loss curves, decision boundary, activations, output vs steps")
    p.add_argument("kind", choices=["history", "boundary", "activations", "steps"])
    p.add_argument("source", nargs="?", help="history CSV (history) or model file (boundary)")
    p.add_argument("data", nargs="?", help="data CSV (boundary)")
    p.add_argument("--out", required=True, help="the .png or .svg to write")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("demo", help="run the seed tutorials on their built-in data")
    p.add_argument("name", nargs="?", help="000, 001, 002, 003 or 004 (default: a short tour)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "export",
        help="export a model to ONNX, with its stored scaling",
        description="Write MODEL as an ONNX graph (input: the feature columns in original units, "
        "categorical ones one-hot; regression output in the target's units).",
    )
    p.add_argument("model")
    p.add_argument("out", help="the .onnx file to write")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("info", help="architecture, preprocessing and training summary of a model")
    p.add_argument("model")
    p.set_defaults(func=cmd_info)
    importlib.import_module("chainrule.playground.command").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "plot" and args.kind in ("history", "boundary") and not args.source:
        parser.error(f"plot {args.kind} needs a file argument")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stdout = open(os.devnull, "w")
        return 0
    except (ChainruleError, ValueError, OSError, ImportError, KeyError) as exc:
        if args.debug:
            raise
        message = str(exc) if not isinstance(exc, KeyError) else f"missing {exc}"
        print(f"chainrule: error: {' '.join(message.split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
