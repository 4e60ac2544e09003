"""`TableModel`: a network with the preprocessing of the table it learned from, as one object.

``chainrule train`` writes one, `train_table` returns one, and `load` reads one back from any
model file that stores its preprocessing (a plain network's file still loads as a `Network`).
Its `TableModel.predict` takes raw rows, prepares them as in training and answers in the
target's own labels or units: the numbers ``chainrule predict`` writes, which calls it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule.errors import InputError, ModelFileError
from chainrule.io.derived import FormulaError
from chainrule.io.model_file import MAX_MODEL_BYTES
from chainrule.io.model_file import save as save_network
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.io.scaling import Moments
from chainrule.network import Network
from chainrule.network import load as load_network
from chainrule.nn.losses import class_indices
from chainrule.table.rows import ACCEPTED, as_frame
from chainrule.train.history import History

ROWS_AT_ONCE = 2048  # rows predicted at a time when scoring: a block's hidden activations stay small


class TableModel:
    """A network, the preprocessing of its table, and the target's labels: predicts on raw rows.

    Parameters
    ----------
    network : Network
        The trained network; it takes preprocessed rows (scaled numbers, then one-hot columns).
    preprocessor : TablePreprocessor
        The columns, encodings and scaling learned from the training table. It is the one home
        of the preprocessing: a ``"preprocessing"`` entry in ``network.metadata`` is removed
        (`save` writes the preprocessor's).
    history : History, optional
        The training run's history (`train_table` sets it; a loaded model has none).

    Attributes
    ----------
    network : Network
    preprocessor : TablePreprocessor
    history : History or None

    Examples
    --------
    >>> import chainrule as cr
    >>> rows = {"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "y": [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]}
    >>> model = cr.train_table(rows, target="y", epochs=3, validation_split=0)
    >>> model.task, model.feature_names
    ('regression', ['x'])
    >>> model.predict({"x": [2.5], "note": ["extra columns are ignored"]}).shape
    (1,)
    """

    def __init__(
        self, network: Network, preprocessor: TablePreprocessor, *, history: History | None = None
    ) -> None:
        inputs, outputs = len(preprocessor.feature_names), preprocessor.n_outputs
        if (network.n_inputs, network.n_outputs) != (inputs, outputs):
            raise ValueError(
                f"the network takes {network.n_inputs} inputs and gives {network.n_outputs} outputs; "
                f"the preprocessing makes {inputs} inputs and reads {outputs} outputs"
            )
        network.metadata.pop("preprocessing", None)
        self.network, self.preprocessor, self.history = network, preprocessor, history

    # ------------------------------------------------------------------------ what it is
    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self.preprocessor.task

    @property
    def target(self) -> str:
        """The column the model predicts."""
        return self.preprocessor.target

    @property
    def feature_names(self) -> list[str]:
        """The table columns `predict` needs, numeric ones first (other columns are ignored).

        The network's own input columns, with one-hot ``column=category`` ones and columns
        derived from these by a formula (``preprocessor.derived``), are
        ``preprocessor.feature_names``.
        """
        return self.preprocessor.inputs

    @property
    def classes_(self) -> np.ndarray:
        """The class labels in output order, as the training table held them (classification)."""
        if self.task != "classification":
            raise AttributeError("a regression model has no classes_")
        return self.preprocessor.labels()

    @property
    def metadata(self) -> dict[str, Any]:
        """The network's metadata: the training summary (``"training"``) and any extras."""
        return self.network.metadata

    # ------------------------------------------------------------------------ prediction
    def transform(self, rows: Any) -> np.ndarray:
        """The network's inputs for ``rows``: numbers scaled, categories one-hot, as in training.

        Parameters
        ----------
        rows : DataFrame, polars.DataFrame, dict of columns or list of dicts
            Rows with (at least) the columns in `feature_names`.

        Returns
        -------
        ndarray of shape (n_rows, n_inputs)
            The rows as the network takes them, columns in ``preprocessor.feature_names`` order.
        """
        return self.preprocessor.transform(self._frame(rows, "transform"))

    def predict(self, rows: Any) -> np.ndarray:
        """Predicted labels (classification) or numbers in the target's units (regression).

        Parameters
        ----------
        rows : DataFrame, polars.DataFrame, dict of columns or list of dicts
            Raw rows with the training table's feature columns; others are ignored.

        Returns
        -------
        ndarray of shape (n_rows,)
            One label or number per row.

        Raises
        ------
        InputError
            For a missing column (named), a bad cell or an unseen category, or for a plain
            array (``model.network.predict`` takes already-preprocessed arrays).
        """
        outputs = self.network.predict(self.preprocessor.transform(self._frame(rows, "predict")))
        if self.task == "regression":
            return self.preprocessor.decode(outputs)
        return self.classes_[class_indices(outputs)]

    def predict_proba(self, rows: Any) -> np.ndarray:
        """Class probabilities, one column per class in `classes_` order (classification).

        Parameters
        ----------
        rows : DataFrame, polars.DataFrame, dict of columns or list of dicts
            Raw rows, as for `predict`.

        Returns
        -------
        ndarray of shape (n_rows, n_classes)
            Each row sums to 1.

        Raises
        ------
        InputError
            For a regression model, or rows `predict` would refuse.
        """
        if self.task != "classification":
            raise InputError("predict_proba needs a classification model; this one is a regression")
        outputs = self.network.predict(self.preprocessor.transform(self._frame(rows, "predict_proba")))
        return self.preprocessor.probabilities(outputs)

    def evaluate(self, rows: Any) -> dict[str, Any]:
        """Metrics on labelled rows, in the target's labels or units.

        Classification: ``accuracy``, ``log_loss`` and ``confusion`` (rows: true class, columns:
        predicted, in `classes_` order); regression: ``mse``, ``mae`` and ``r2``. Rows without
        a target value are left out, and counted as ``unlabelled`` when there are any.

        Parameters
        ----------
        rows : DataFrame, polars.DataFrame, dict of columns or list of dicts
            Raw rows with the feature columns and the target column.

        Returns
        -------
        dict
            The metrics by name (``confusion`` is an ndarray of int, the others numbers).

        Raises
        ------
        InputError
            Without a target column, or with no labelled row.
        """
        frame = self._frame(rows, "evaluate")
        if self.target not in frame.columns:
            raise InputError(f"the rows have no target column {self.target!r} to evaluate against")
        labelled = frame[self.target].notna().to_numpy()
        if not labelled.any():
            raise InputError(f"no row has a value in the target column {self.target!r}")
        metrics = task_metrics(self.preprocessor, self.network, frame[labelled])
        return {**metrics, "unlabelled": int((~labelled).sum())} if not labelled.all() else metrics

    def score(self, rows: Any) -> float:
        """Accuracy (classification) or R^2 (regression) on labelled rows, as scikit-learn scores.

        Parameters
        ----------
        rows : DataFrame, polars.DataFrame, dict of columns or list of dicts
            Raw rows with the feature columns and the target column.

        Returns
        -------
        float
            The accuracy or R^2 of `evaluate`.
        """
        metrics = self.evaluate(rows)
        return float(metrics["accuracy"] if self.task == "classification" else metrics["r2"])

    def _frame(self, rows: Any, method: str) -> Any:
        """``rows`` as a pandas DataFrame; arrays are refused with a message naming `network`."""
        columns = ", ".join(self.feature_names)
        return as_frame(
            rows,
            f"TableModel.{method} takes raw rows with columns [{columns}] as {ACCEPTED}; for arrays "
            f"already scaled and encoded ({len(self.preprocessor.feature_names)} columns: "
            f"{', '.join(self.preprocessor.feature_names)}) use model.network.predict(X)",
        )

    # ------------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write the model to a ``.npz`` file that `chainrule.load` reads back as a `TableModel`.

        Parameters
        ----------
        path : str or path-like
            The file to write, atomically.
        metadata : dict, optional
            JSON-serialisable extras, merged over ``network.metadata``.
        """
        save(self, path, metadata)

    @classmethod
    def from_network(cls, network: Network, path: Any = "the model") -> TableModel:
        """The model of a network whose metadata holds stored preprocessing (a loaded file's).

        Parameters
        ----------
        network : Network
            With ``metadata["preprocessing"]`` as `save` writes it.
        path : str or path-like
            Named in the error.

        Returns
        -------
        TableModel
            The network with its preprocessing (the metadata entry moved into it).

        Raises
        ------
        ModelFileError
            If the stored preprocessing is damaged or does not fit the network.
        """
        try:
            prep = TablePreprocessor.from_dict(network.metadata["preprocessing"])
            check_statistics(prep)
            return cls(network, prep)
        except FormulaError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(
                f"{path}: its stored preprocessing is damaged ({type(exc).__name__}: {exc}); "
                "retrain the model with chainrule train"
            ) from None

    def __repr__(self) -> str:
        return f"TableModel(target={self.target!r}, task={self.task!r}, network={self.network!r})"


def check_statistics(prep: TablePreprocessor) -> None:
    """Raise `ValueError` if a scaling statistic is not a finite number (a model that cannot predict).

    Parameters
    ----------
    prep : TablePreprocessor
    """
    for scaler in (prep.scaler, prep.target_scaler):
        stats = np.array([*scaler.offset, *scaler.scale], dtype=float)  # the string "inf" parses
        if not np.isfinite(stats).all():
            raise ValueError(f"a {scaler.method} scaling statistic is not finite: {scaler}")


def task_metrics(prep: TablePreprocessor, net: Network, frame: Any) -> dict[str, Any]:
    """Accuracy, log loss and confusion matrix; or MSE, MAE and R^2 in the target's units.

    Parameters
    ----------
    prep : TablePreprocessor
        The preprocessing the network was trained with.
    net : Network
        The trained network.
    frame : pandas.DataFrame
        Labelled rows (with the target column).

    Returns
    -------
    dict
        Classification: ``accuracy``, ``log_loss`` and ``confusion`` (an int matrix, rows the
        true class); regression: ``mse``, ``mae`` and ``r2``.

    Examples
    --------
    >>> import warnings
    >>> import chainrule as cr
    >>> from chainrule.table import as_frame, task_metrics
    >>> rows = {"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "y": [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]}
    >>> with warnings.catch_warnings():  # three epochs: not converged, and it says so
    ...     warnings.simplefilter("ignore", cr.TrainingWarning)
    ...     model = cr.train_table(rows, target="y", epochs=3, validation_split=0)
    >>> sorted(task_metrics(model.preprocessor, model.network, as_frame(rows, "")))
    ['mae', 'mse', 'r2']
    """
    return metrics_from_sums(metric_sums(prep, net, frame))


def metric_sums(prep: TablePreprocessor, net: Network, frame: Any) -> dict[str, Any]:
    """The sums over ``frame``'s rows that `metrics_from_sums` turns into metrics; sums of blocks add up.

    Classification: ``rows``, ``confusion`` and the summed ``log_loss``; regression: ``rows``,
    the summed squared and absolute residuals, and the target's `Moments` (for R^2).
    """
    if len(frame) == 0:  # a block with no rows left: sums of nothing
        k = len(prep.classes)
        if prep.task == "classification":
            return {"rows": 0, "confusion": np.zeros((k, k), dtype=int), "log_loss": 0.0}
        return {"rows": 0, "squared": 0.0, "absolute": 0.0, "target": Moments.of(np.empty((0, 1)))}
    X = prep.transform(frame)
    starts = range(0, len(X), ROWS_AT_ONCE)
    outputs = np.vstack([net.predict(X[i : i + ROWS_AT_ONCE]) for i in starts])
    truth = frame[prep.target]
    if prep.task == "classification":
        index = {c: i for i, c in enumerate(prep.classes)}
        true = [index[prep.classes[i]] for i in class_indices(prep.encode_target(truth))]
        guessed = [index[p] for p in prep.decode(outputs)]
        confusion = np.zeros((len(prep.classes), len(prep.classes)), dtype=int)
        np.add.at(confusion, (np.asarray(true, dtype=int), np.asarray(guessed, dtype=int)), 1)
        proba = np.clip(prep.probabilities(outputs), 1e-15, 1.0)
        log_loss = -float(np.sum(np.log(proba[np.arange(len(true)), true])))
        return {"rows": len(true), "confusion": confusion, "log_loss": log_loss}
    y = truth.to_numpy(dtype=float)
    residual = y - prep.decode(outputs)
    return {
        "rows": len(y),
        "squared": float(np.sum(residual**2)),
        "absolute": float(np.sum(np.abs(residual))),
        "target": Moments.of(y[:, None]),
    }


def add_sums(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The `metric_sums` of two blocks' rows together."""
    return {k: a[k].merge(b[k]) if isinstance(a[k], Moments) else a[k] + b[k] for k in a}


def metrics_from_sums(sums: dict[str, Any]) -> dict[str, Any]:
    """The metrics `task_metrics` gives, from `metric_sums` (one block's or several added)."""
    rows = sums["rows"]
    if "confusion" in sums:
        return {
            "accuracy": float(np.trace(sums["confusion"]) / rows),
            "log_loss": sums["log_loss"] / rows,
            "confusion": sums["confusion"],
        }
    total = float(sums["target"].m2[0])
    return {
        "mse": sums["squared"] / rows,
        "mae": sums["absolute"] / rows,
        "r2": 1.0 - sums["squared"] / total if total > 0 else float("nan"),
    }


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_MODEL_BYTES) -> Network | TableModel:
    """Read a model file: a `TableModel` if it stores table preprocessing, else a `Network`.

    ``chainrule train``, `train_table` and the playground's download store preprocessing, so
    their files load as `TableModel` (predicting on raw rows); files of `Network.save` load as
    a `Network`, as they always have. Loading never executes code (no pickles; a JSON header)
    and is bounded: every array's header is checked before any data is read.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` model file.
    max_bytes : int
        The most array data to accept.

    Returns
    -------
    Network or TableModel
        A `TableModel` when the file stores table preprocessing, else a `Network`.

    Raises
    ------
    ModelFileError
        If the file is not a chainrule model, is truncated or corrupt, comes from a newer
        format version, its arrays disagree with its header, or its stored preprocessing is
        damaged.
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import os, tempfile
    >>> import chainrule as cr
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "net.npz")
    ...     cr.Network([2, 1], seed=0).save(path)
    ...     type(cr.load(path)).__name__
    'Network'
    """
    net = load_network(path, max_bytes=max_bytes)
    if net.metadata.get("preprocessing") is None:
        return net
    return TableModel.from_network(net, path)


def save(
    model: Network | TableModel,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
    *,
    checkpoint: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None,
    max_bytes: int = MAX_MODEL_BYTES,
) -> None:
    """Write a `Network` or a `TableModel` to ``path`` (a ``.npz`` file) atomically.

    A `TableModel`'s preprocessing is stored with its network, so `load` returns a
    `TableModel` again. See `chainrule.io.model_file.save` for the file and its checks.

    Parameters
    ----------
    model : Network or TableModel
        The model to write.
    path : str or path-like
        The file to write; a previous file there is replaced only once the new one is complete.
    metadata : dict, optional
        JSON-serialisable extras stored in the header, merged over the network's metadata.
    checkpoint : (dict, dict of ndarray), optional
        Training state for a checkpoint (a `Network` only); see `chainrule.save_checkpoint`.
    max_bytes : int
        The array size `load` will accept.

    Raises
    ------
    ModelFileError
        If `load` would refuse the file (a scaling statistic that is not finite, say); nothing
        is written then.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "net.npz")
    ...     cr.save(net, path, metadata={"note": "xor"})
    ...     again = cr.load(path)
    >>> again.metadata, bool(np.array_equal(again.predict([[0, 1]]), net.predict([[0, 1]])))
    ({'note': 'xor'}, True)
    """
    if isinstance(model, TableModel):
        if checkpoint is not None:
            raise ValueError("checkpoints hold a Network: save model.network with the checkpoint")
        try:
            check_statistics(model.preprocessor)
        except ValueError as exc:
            raise ModelFileError(f"cannot save {path}: {exc}; load would refuse such a file") from None
        metadata = {**(metadata or {}), "preprocessing": model.preprocessor.to_dict()}
        model = model.network
    save_network(model, path, metadata=metadata, checkpoint=checkpoint, max_bytes=max_bytes)
