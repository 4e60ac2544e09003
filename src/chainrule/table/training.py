"""`train_table`: what ``chainrule train`` does, from Python; the command line is a layer over it.

The defaults (`DEFAULTS`) are those of `chainrule.sklearn.NeuralNetClassifier` and
`NeuralNetRegressor`, which follow scikit-learn's ``MLPClassifier``; the command's options
take theirs from here, so a model trained either way with the same options and seed has the
same weights, bit for bit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.io.preprocessing import TablePreprocessor, infer_task_reason
from chainrule.network import Network
from chainrule.nn.losses import output_for_task
from chainrule.table.model import TableModel
from chainrule.table.record import OutputRecorder
from chainrule.table.rows import as_frame
from chainrule.train.batches import split_indices
from chainrule.train.callbacks import Callback, EarlyStopping
from chainrule.train.history import History
from chainrule.train.optimizers import Optimizer, get_optimizer

#: The defaults of `train_table` and ``chainrule train`` (the estimators' documented ones).
DEFAULTS: dict[str, Any] = {
    "layers": (100,),
    "activation": "relu",
    "optimizer": "adam",
    "lr": 0.001,
    "alpha": 0.0001,
    "batch_size": "auto",
    "epochs": 200,
    "validation_split": 0.1,
    "patience": 10,
    "min_delta": 1e-4,
    "scale": "standard",
    "target_scale": "standard",
    "seed": 0,
    "dtype": "float64",
}
AUTO_BATCH = 200  # batch_size "auto" is min(200, rows), as in scikit-learn


def rows_per_batch(option: int | str | None, rows: int) -> int | None:
    """The batch size ``fit`` takes for a ``batch_size`` option and a training set of ``rows``.

    ``"auto"`` is ``min(200, rows)``; ``0`` or ``None`` the full batch.
    """
    if option == "auto":
        return min(AUTO_BATCH, rows)
    return int(option or 0) or None


def train_table(
    frame: Any,
    target: str,
    *,
    features: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    task: str | None = None,
    scale: str = DEFAULTS["scale"],
    target_scale: str = DEFAULTS["target_scale"],
    layers: Sequence[int] = DEFAULTS["layers"],
    activation: str = DEFAULTS["activation"],
    loss: str | None = None,
    optimizer: str = DEFAULTS["optimizer"],
    lr: float = DEFAULTS["lr"],
    alpha: float = DEFAULTS["alpha"],
    epochs: int = DEFAULTS["epochs"],
    batch_size: int | str | None = DEFAULTS["batch_size"],
    validation_split: float = DEFAULTS["validation_split"],
    early_stopping: bool = True,
    patience: int = DEFAULTS["patience"],
    seed: int = DEFAULTS["seed"],
    dtype: str = DEFAULTS["dtype"],
    callbacks: Sequence[Callback] = (),
    log: Callable[[str], Any] | None = None,
) -> TableModel:
    """Train a network on a table, as ``chainrule train`` does, and return it with its preprocessing.

    Numeric columns are inputs (scaled by ``scale``), text columns and those in ``categorical``
    are one-hot encoded; the task is inferred from the target (see
    `chainrule.io.preprocessing.infer_task_reason`) unless given, and the output layer and loss
    follow from it. ``validation_split`` of the rows (stratified for classes) are held out, and
    unless ``early_stopping=False`` training stops after ``patience`` epochs without a better
    validation loss and keeps the best epoch's weights.

    Parameters
    ----------
    frame : DataFrame, polars.DataFrame, dict of columns or list of dicts
        The training table, with the target column.
    target : str
        The column to predict.
    features : sequence of str, optional
        Input columns (default: every column but the target).
    categorical : sequence of str
        Columns to one-hot encode even if numeric.
    task : {"classification", "regression"}, optional
        Default: inferred from the target; ``model.metadata["training"]["task_reason"]`` says why.
    scale, target_scale : {"standard", "minmax", "maxabs", "none"}
        Input scaling, and a regression target's.
    layers : sequence of int
        Hidden layer widths.
    activation : str
        Hidden activation.
    loss : str, optional
        Default: cross-entropy for classification, mse for regression.
    optimizer : {"sgd", "momentum", "adam", "rmsprop"}
    lr : float
        Learning rate.
    alpha : float
        L2 weight decay.
    epochs : int
        The most passes over the data.
    batch_size : "auto", int or None
        Rows per step: ``"auto"`` is min(200, rows), ``0`` or ``None`` the full batch.
    validation_split : float
        Share of rows held out, in [0, 1); 0 holds none out (and stops nothing early).
    early_stopping : bool
        Stop on the validation loss (needs ``validation_split > 0``).
    patience : int
        Epochs without a validation loss better by ``DEFAULTS["min_delta"]`` before stopping.
    seed : int
        Seed of the weights, the split and the shuffling.
    dtype : {"float64", "float32"}
        Parameter precision.
    callbacks : sequence of Callback
        More callbacks for `chainrule.fit` (a progress bar, say).
    log : callable, optional
        Called with each line ``chainrule train`` prints before training (the task and the rule
        that decided it, the inputs, the network, early stopping, the optimizer).

    Returns
    -------
    TableModel
        The trained model; ``model.history`` is the `History` of the run, and
        ``model.metadata["training"]`` the summary ``chainrule info`` prints (epochs, optimizer,
        metrics on the training and validation rows, in the target's units).

    Examples
    --------
    >>> import chainrule as cr
    >>> rows = [{"hours": h, "passed": "yes" if h > 4 else "no"} for h in range(10)]
    >>> model = cr.train_table(rows, target="passed", epochs=5, validation_split=0)
    >>> model.task, model.classes_.tolist()
    ('classification', ['no', 'yes'])
    >>> model.predict([{"hours": 9}]).shape
    (1,)
    """
    say = log or (lambda line: None)
    frame = as_frame(frame, "train_table takes a table with named columns: " + _TABLES)
    reason = "given by --task"
    if task is None and target in frame.columns:
        task, reason = infer_task_reason(frame[target])
    prep = TablePreprocessor.fit(
        frame,
        target,
        features=list(features) if features else None,
        categorical=list(categorical),
        task=task,
        scale=scale,
        target_scale=target_scale,
    )
    X, y = prep.transform(frame), prep.encode_target(frame[target])
    net, loss = build_network(prep, list(layers), activation, loss, seed, dtype)
    for line in describe(prep, net, loss, reason, activation, scale, target_scale):
        say(line)
    train_rows, val_rows = np.arange(len(frame)), None
    if validation_split:
        stratify = prep.task == "classification"
        train_rows, val_rows = split_indices(y, validation_split, stratify, net.rng)
    recorder = OutputRecorder(prep, frame, train_rows)
    stopper = None
    if val_rows is not None and early_stopping:
        stopper = EarlyStopping(patience, DEFAULTS["min_delta"], "val_loss", restore_best_weights=True)
        say(
            f"early stopping: patience {patience} epochs on the validation loss, best epoch "
            "restored (--no-early-stopping to turn it off)"
        )
    opt = get_optimizer(optimizer, lr)
    opt.weight_decay = alpha
    batch = rows_per_batch(batch_size, len(train_rows))
    say(f"training: {optimizer} lr {lr:g}, batch {batch or 'full'}, up to {epochs} epochs")
    history = net.fit(
        X[train_rows],
        y[train_rows],
        loss=loss,
        optimizer=opt,
        epochs=epochs,
        batch_size=batch,
        validation_data=None if val_rows is None else (X[val_rows], y[val_rows]),
        callbacks=[recorder, *callbacks, *([stopper] if stopper is not None else [])],
        seed=seed,
    )
    model = TableModel(net, prep, history=history)
    splits = {"train": frame.iloc[train_rows]}
    if val_rows is not None:
        splits["validation"] = frame.iloc[val_rows]
    metrics = {name: model.evaluate(rows) for name, rows in splits.items()}
    net.metadata["training"] = summary(history, opt, len(frame), metrics, recorder, stopper)
    net.metadata["training"].update(
        batch_size=batch, seed=seed, train_rows=len(train_rows), task_reason=reason
    )
    return model


_TABLES = "a pandas or polars DataFrame, a dict of columns, or a list of dicts (one per row)"


def build_network(
    prep: TablePreprocessor, hidden: list[int], activation: str, loss: str | None, seed: int, dtype: str
) -> tuple[Network, str]:
    """The network for ``prep``'s inputs and task: its output layer and loss follow the task."""
    output, default_loss = output_for_task(prep.task, prep.n_outputs)
    net = Network(
        [len(prep.feature_names), *hidden, prep.n_outputs],
        activation=activation,
        output_activation=output,
        seed=seed,
        dtype=dtype,
    )
    return net, loss or default_loss


def describe(
    prep: TablePreprocessor,
    net: Network,
    loss: str,
    reason: str,
    activation: str,
    scale: str,
    target_scale: str,
) -> list[str]:
    """What is about to be trained, in the lines ``chainrule train`` prints."""
    described = (
        f"classification, {len(prep.classes)} classes ({', '.join(prep.classes)})"
        if prep.task == "classification"
        else f"regression (target scaled: {target_scale})"
    )
    output = net.output_activation.name
    return [
        f"task: {described}: {reason}; override with --task",
        f"inputs: {len(prep.feature_names)} columns ({', '.join(prep.feature_names)}), scaled: {scale}",
        f"network: {'-'.join(map(str, net.sizes))}, {activation} hidden, {output} output, loss {loss}",
    ]


def summary(
    history: History,
    optimizer: Optimizer,
    rows: int,
    metrics: dict[str, dict[str, Any]],
    recorder: OutputRecorder,
    stopper: EarlyStopping | None,
) -> dict[str, Any]:
    """The ``training`` entry of the model's metadata (``chainrule info`` prints it), JSON-safe."""
    restored = stopper.best_epoch if stopper is not None else None
    return json_safe(
        {
            "rows": rows,
            "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "epochs_run": history.epochs,
            "optimizer": optimizer.config(),
            "final": {k: float(v[-1]) for k, v in history.history.items() if len(v)},
            "metrics": {
                split: {k: v for k, v in m.items() if k != "confusion"} for split, m in metrics.items()
            },
            "trajectory": recorder.trajectory(),
            "early_stopping": stopper.patience if stopper is not None else None,
            "interrupted": bool(getattr(history, "interrupted", False)),
            "stopped_early": stopper is not None and stopper.stopped_epoch is not None,
            "restored_epoch": None if restored is None else restored + 1,
        }
    )


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
