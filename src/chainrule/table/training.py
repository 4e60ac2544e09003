"""`train_table`: what ``chainrule train`` does, from Python; the command line is a layer over it.

`DEFAULTS` is the one home of the defaults of ``chainrule train`` and `train_table`. The network
and optimizer ones are those of `chainrule.sklearn.NeuralNetClassifier` and `NeuralNetRegressor`
(scikit-learn's ``MLPClassifier``'s, with an epoch cap of 2000 rather than 200, and stopped by
scikit-learn's rule) but for the L2 weight decay: 10 / training rows (chainrule's
``weight_decay``, added to each weight's gradient; `weight_decay`), which keeps the long runs of
small noisy tables from overfitting (R^2 on diabetes' held-out rows: about -0.1 at 1e-4, 0.37 at
0.03) and fades on larger ones. Where to stop is `chainrule.table.stopping`'s rule.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.errors import InputError, TrainingWarning
from chainrule.io.cleaning import UNKNOWN, clean_missing
from chainrule.io.preprocessing import TablePreprocessor, infer_task_reason
from chainrule.network import Network
from chainrule.nn.losses import output_for_task
from chainrule.table.columns import choose_columns
from chainrule.table.data import memory_data
from chainrule.table.model import TableModel
from chainrule.table.report import describe, summary
from chainrule.table.rows import as_frame
from chainrule.table.stopping import (
    describe_rule,
    make_stopper,
    not_converged,
    stopping_rule,
)
from chainrule.table.streamed import streamed_data, streamed_prepare
from chainrule.train.callbacks import Callback
from chainrule.train.optimizers import get_optimizer
from chainrule.train.stream import is_streamed

#: The defaults of `train_table` and ``chainrule train`` (the estimators' documented ones).
DEFAULTS: dict[str, Any] = {
    "layers": (100,),
    "activation": "relu",
    "optimizer": "adam",
    "lr": 0.001,
    "alpha": "auto",  # L2 weight decay AUTO_DECAY / rows: 1e-4 overfits small noisy tables
    "batch_size": "auto",
    "epochs": 2000,
    "validation_split": "auto",
    "early_stopping": "auto",
    "patience": 10,
    "min_delta": 1e-4,
    "scale": "standard",
    "target_scale": "standard",
    "seed": 0,
    "dtype": "float64",
    "missing": "refuse",
    "unknown": "ignore",
}
AUTO_BATCH = 200  # batch_size "auto" is min(200, rows), as in scikit-learn
AUTO_DECAY = 10.0  # alpha "auto" is this divided by the training rows


def weight_decay(option: float | str, rows: int) -> float:
    """The L2 weight decay of an ``alpha`` option: ``"auto"`` is ``AUTO_DECAY / rows``.

    A penalty that does not grow with the data: ``10 / rows`` times ``W`` added to the gradient
    of a mean loss is a fixed ``5 * sum(W**2)`` next to the loss summed over the rows, a prior
    the data outweighs as it grows (0.03 on 330 rows, 0.0074 on 1350).

    Parameters
    ----------
    option : float or "auto"
        The ``alpha`` given (``--alpha`` on the command line).
    rows : int
        The training rows.

    Returns
    -------
    float
        The decay `chainrule.SGD` and the other optimizers take as ``weight_decay``.

    Examples
    --------
    >>> from chainrule.table import weight_decay
    >>> round(weight_decay("auto", 330), 4), weight_decay(0.001, 330)
    (0.0303, 0.001)
    """
    if option == "auto":
        return AUTO_DECAY / max(rows, 1)
    return float(option)


def rows_per_batch(option: int | str | None, rows: int) -> int | None:
    """The batch size ``fit`` takes for a ``batch_size`` option and a training set of ``rows``.

    ``"auto"`` is ``min(200, rows)``; ``0`` or ``None`` the full batch.

    Parameters
    ----------
    option : int, "auto" or None
        The ``batch_size`` given (``--batch-size`` on the command line).
    rows : int
        The training rows.

    Returns
    -------
    int or None
        The batch size; None for full-batch training.

    Examples
    --------
    >>> from chainrule.table import rows_per_batch
    >>> rows_per_batch("auto", 150), rows_per_batch("auto", 5000), rows_per_batch(0, 5000)
    (150, 200, None)
    """
    if option == "auto":
        return min(AUTO_BATCH, rows)
    return int(option or 0) or None


def train_table(
    frame: Any,
    target: str,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    keep_ids: bool = False,
    categorical: Sequence[str] = (),
    missing: str = DEFAULTS["missing"],
    unknown: str = DEFAULTS["unknown"],
    task: str | None = None,
    scale: str = DEFAULTS["scale"],
    target_scale: str = DEFAULTS["target_scale"],
    layers: Sequence[int] = DEFAULTS["layers"],
    activation: str = DEFAULTS["activation"],
    loss: str | None = None,
    optimizer: str = DEFAULTS["optimizer"],
    lr: float = DEFAULTS["lr"],
    alpha: float | str = DEFAULTS["alpha"],
    epochs: int = DEFAULTS["epochs"],
    batch_size: int | str | None = DEFAULTS["batch_size"],
    validation_split: float | str = DEFAULTS["validation_split"],
    early_stopping: bool | str = DEFAULTS["early_stopping"],
    patience: int = DEFAULTS["patience"],
    tol: float = DEFAULTS["min_delta"],
    seed: int = DEFAULTS["seed"],
    dtype: str = DEFAULTS["dtype"],
    callbacks: Sequence[Callback] = (),
    log: Callable[[str], Any] | None = None,
) -> TableModel:
    """Train a network on a table, as ``chainrule train`` does, and return it with its preprocessing.

    Numeric columns are inputs (scaled by ``scale``), text columns and those in ``categorical``
    are one-hot encoded; columns that look like identifiers are left out (see
    `chainrule.table.columns`); missing cells follow ``missing``; the task is inferred from the
    target (see `chainrule.io.preprocessing.infer_task_reason`) unless given, and the output
    layer and loss follow from it. Training stops by the rule of `chainrule.table.stopping`:
    on a validation split when it has enough rows, else on the training loss as scikit-learn's
    MLP stops; a run that ends at ``epochs`` still improving warns (`TrainingWarning`).

    Parameters
    ----------
    frame : DataFrame, polars.DataFrame, dict of columns, list of dicts, or dask DataFrame
        The training table, with the target column. A Dask DataFrame is read in blocks, never
        whole (`chainrule.table.streamed`: preprocessing from merged block summaries, streamed
        epochs; ``missing`` refuse or drop, no validation split); one block gives the model
        of the same table in memory.
    target : str
        The column to predict.
    features : sequence of str, optional
        Input columns (default: every column but the target, less ``drop`` and identifiers).
    drop : sequence of str
        Columns never used as inputs.
    keep_ids : bool
        Keep columns that look like identifiers (left out by default, with a note).
    categorical : sequence of str
        Columns to one-hot encode even if numeric.
    missing : {"refuse", "drop", "mean", "median", "most_frequent"}
        Missing cells: refuse with a count per column (default), drop those rows, or fill each
        input column (text ones with their most frequent value); fill values are stored and
        fill new rows at prediction. See `chainrule.io.cleaning`.
    unknown : {"ignore", "error"}
        A category never seen in training, at prediction: an all-zero one-hot row and a
        `DataWarning` counting such rows, or an error.
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
    alpha : "auto" or float
        L2 weight decay, added times each weight to its gradient: ``"auto"`` is 10 divided by
        the training rows (see `weight_decay`).
    epochs : int
        The most passes over the data.
    batch_size : "auto", int or None
        Rows per step: ``"auto"`` is min(200, rows), ``0`` or ``None`` the full batch.
    validation_split : "auto" or float
        Share of rows held out, in [0, 1): ``"auto"`` holds out 10% when that is at least 500
        rows, else none.
    early_stopping : {"auto", "validation", "training", "off"} or bool
        ``"auto"`` (or True): on the validation loss when the split has 500 rows or more, else
        on the training loss; False is ``"off"``.
    patience : int
        Epochs without an improvement of ``tol`` before stopping.
    tol : float
        The least improvement of the monitored loss that counts.
    seed : int
        Seed of the weights, the split and the shuffling.
    dtype : {"float64", "float32"}
        Parameter precision.
    callbacks : sequence of Callback
        More callbacks for `chainrule.fit` (a progress bar, say).
    log : callable, optional
        Called with each line ``chainrule train`` prints before training (columns left out,
        missing cells, the task and the rule that decided it, the inputs, the network, early
        stopping, the optimizer) and after it (a run that did not converge).

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
    >>> model = cr.train_table(rows, target="passed", epochs=5)
    >>> model.task, model.classes_.tolist()
    ('classification', ['no', 'yes'])
    >>> model.predict([{"hours": 9}]).shape
    (1,)
    """
    say = log or (lambda line: None)
    streamed = is_streamed(frame)
    given = (features, drop, keep_ids, categorical, missing, unknown, task, scale, target_scale, say)
    prepare = streamed_prepare if streamed else prepare_table
    prep, frame, reason = prepare(frame, target, *given)
    net, loss = build_network(prep, list(layers), activation, loss, seed, dtype)
    for line in describe(prep, net, loss, reason, activation, scale, target_scale):
        say(line)
    data = (streamed_data if streamed else memory_data)(prep, frame, validation_split, net.rng, say)
    rule = stopping_rule(early_stopping, data.validation_rows)
    stopper = make_stopper(rule, patience, tol)
    say(describe_rule(rule, patience, tol, data.validation_rows, data.unsplit))
    opt = get_optimizer(optimizer, lr)
    opt.weight_decay = weight_decay(alpha, data.train_rows)
    batch = rows_per_batch(batch_size, data.train_rows)
    decay = f"weight decay {opt.weight_decay:.3g}" + (" (10 / rows)" if alpha == "auto" else "")
    say(f"training: {optimizer} lr {lr:g}, {decay}, batch {batch or 'full'}, up to {epochs} epochs")
    history = net.fit(
        data.X,
        data.y,
        loss=loss,
        optimizer=opt,
        epochs=epochs,
        batch_size=batch,
        validation_data=data.validation,
        callbacks=[data.recorder, *callbacks, *([stopper] if stopper is not None else [])],
        seed=seed,
    )
    model = TableModel(net, prep, history=history)
    metrics = {name: evaluate(model) for name, evaluate in data.splits.items()}
    warning = not_converged(history, stopper, epochs, tol)
    net.metadata["training"] = summary(history, opt, data.rows, metrics, data.recorder, stopper)
    net.metadata["training"].update(
        batch_size=batch,
        seed=seed,
        train_rows=data.train_rows,
        task_reason=reason,
        stopping=rule,
        converged=warning is None,
        not_converged=warning,
    )
    if warning is not None:
        warnings.warn(warning, TrainingWarning, stacklevel=2)
    return model


def prepare_table(
    frame: Any,
    target: str,
    features: Sequence[str] | None,
    drop: Sequence[str],
    keep_ids: bool,
    categorical: Sequence[str],
    missing: str,
    unknown: str,
    task: str | None,
    scale: str,
    target_scale: str,
    say: Callable[[str], Any],
) -> tuple[TablePreprocessor, Any, str]:
    """The fitted preprocessing, the training rows after the missing-cell policy, and the task's reason."""
    frame = as_frame(frame, "train_table takes a table with named columns: " + _TABLES)
    if unknown not in UNKNOWN:
        raise InputError(f"unknown must be one of: {', '.join(UNKNOWN)}; got {unknown!r}")
    if target not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        raise InputError(f"there is no target column {target!r}; the columns are: {columns}")
    chosen, notes = choose_columns(
        frame, target, features=features, drop=drop, categorical=categorical, keep_ids=keep_ids
    )
    for note in notes:
        say(note)
    cleaned = clean_missing(frame, [c for c in chosen if c in frame.columns], target, missing, categorical)
    for note in cleaned.notes:
        say(note)
    frame = cleaned.frame
    reason = "given by --task"
    if task is None:
        task, reason = infer_task_reason(frame[target])
    prep = TablePreprocessor.fit(
        frame,
        target,
        features=chosen,
        categorical=list(categorical),
        task=task,
        scale=scale,
        target_scale=target_scale,
    )
    prep.fill, prep.missing, prep.unknown = cleaned.fill, missing, unknown
    return prep, frame, reason


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
