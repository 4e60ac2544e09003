"""How the data reach the step: batches, validation splits and sample weights."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from chainrule.errors import InputError
from chainrule.nn.inputs import check_lengths
from chainrule.nn.losses import class_indices

if TYPE_CHECKING:
    from chainrule.nn.losses import Loss
    from chainrule.train.history import TrainingRun
    from chainrule.train.settings import FitSettings

Array = np.ndarray
Batch = tuple[Array, Array, Array | None]
MakeBatches = Callable[[np.random.Generator | None], Iterable[Batch]]


class Converts(Protocol):
    """What data preparation needs from a network: its input and target checks."""

    def as_inputs(self, X: Any) -> Array: ...
    def as_targets(self, y: Any) -> Array: ...


def batches(
    X: Array, y: Array, batch_size: int | None, rng: np.random.Generator | None, weights: Array | None = None
) -> Iterator[Batch]:
    """Yield ``(X_batch, y_batch, weights_batch)`` covering the data once.

    Full batch yields ``X`` and ``y`` themselves. Mini-batches are views in order, or, when
    ``rng`` is given, rows shuffled by it and gathered into two reused buffers: the data set is
    never copied whole.
    """
    n = X.shape[0]
    if batch_size is None or batch_size >= n:  # one batch: row order cannot matter
        yield X, y, weights
        return
    if rng is None:
        for start in range(0, n, batch_size):
            stop = start + batch_size
            yield X[start:stop], y[start:stop], None if weights is None else weights[start:stop]
        return
    order = rng.permutation(n)
    X_buffer = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
    y_buffer = np.empty((batch_size, y.shape[1]), dtype=y.dtype)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        rows = index.size
        yield (
            np.take(X, index, axis=0, out=X_buffer[:rows]),
            np.take(y, index, axis=0, out=y_buffer[:rows]),
            None if weights is None else weights[index],
        )


def split_indices(y: Array, fraction: float, stratify: bool, rng: np.random.Generator) -> tuple[Array, Array]:
    """Shuffled train and validation row indices; per class when ``stratify``.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_outputs)
        The targets (one-hot rows or 0/1 labels when stratifying).
    fraction : float
        The share of rows held out, in (0, 1); at least one row when the data are tiny.
    stratify : bool
        Hold out the same share of every class.
    rng : numpy.random.Generator

    Returns
    -------
    train, validation : ndarray of int
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be between 0 and 1, got {fraction}")
    n = y.shape[0]
    if stratify:
        labels = class_indices(y)
        groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    else:
        groups = [np.arange(n)]
    groups = [rng.permutation(group) for group in groups]
    counts = [round(fraction * group.size) for group in groups]
    if sum(counts) == 0 and n > 1:  # tiny data: hold out one sample of the largest group
        counts[int(np.argmax([group.size for group in groups]))] = 1
    validation = np.sort(np.concatenate([group[:count] for group, count in zip(groups, counts, strict=True)]))
    if validation.size == 0 or validation.size == n:
        raise InputError(
            f"validation_split={fraction} of {n} samples leaves no validation or no training "
            "rows: use more data or another fraction"
        )
    train = np.setdiff1d(np.arange(n), validation)
    return rng.permutation(train), validation


def sample_weights(values: Any, n: int) -> Array:
    """``values`` as one finite, non-negative weight per sample (not all zero; numbers, not text)."""
    given = np.asarray(values)
    if given.dtype.kind in "USO" and any(isinstance(v, (str, bytes)) for v in given.ravel()):
        raise InputError(
            f"sample_weight must be numbers, got text ({given.ravel()[0]!r}, ...): convert it first"
        )
    weights = np.asarray(values, dtype=np.float64).ravel()
    if weights.shape != (n,):
        raise InputError(
            f"sample_weight has {weights.size} values for {n} samples: give one weight per sample"
        )
    if not np.isfinite(weights).all() or weights.min() < 0 or weights.sum() <= 0:
        raise InputError("sample_weight must be finite, non-negative, and not all zero")
    return weights


@dataclass
class TrainingData:
    """The training data as `fit` uses it: a batch maker, the held-out data and the counts."""

    make_batches: MakeBatches
    shuffles: bool
    validation: tuple[Array, Array] | None
    samples: int | None  # training rows (None for a batch function)
    X: Array | None = None  # the training arrays (None for a batch function)
    y: Array | None = None


def prepare_data(
    net: Converts, X: Any, y: Any, loss_fn: Loss, settings: FitSettings, run: TrainingRun
) -> TrainingData:
    """Check the data, split off validation rows, and say how each epoch's batches are made."""
    batch_size, validation_data = settings.batch_size, settings.validation_data
    validation_split, sample_weight = settings.validation_split, settings.sample_weight
    if y is None and callable(X):
        if validation_split or sample_weight is not None:
            raise ValueError(
                "validation_split and sample_weight need arrays; with a batch function pass validation_data"
            )
        batch_function = X
        make_batches: MakeBatches = lambda rng: _checked_batches(net, loss_fn, batch_function())  # noqa: E731
        data = TrainingData(make_batches, False, None, None)
    else:
        X, y = net.as_inputs(X), net.as_targets(y)
        check_lengths(X, y)
        loss_fn.check_targets(y)
        weights = None if sample_weight is None else sample_weights(sample_weight, X.shape[0])
        if validation_split:
            if validation_data is not None:
                raise ValueError("pass validation_data or validation_split, not both")
            train, held_out = split_indices(y, validation_split, loss_fn.classification, run.split_rng())
            validation_data = (X[held_out], y[held_out])
            X, y = X[train], y[train]
            weights = None if weights is None else weights[train]
        shuffles = settings.shuffle and batch_size is not None and batch_size < X.shape[0]
        make_batches = lambda rng: batches(X, y, batch_size, rng, weights)  # noqa: E731
        data = TrainingData(make_batches, shuffles, None, X.shape[0], X, y)
    data.validation = checked_validation(net, loss_fn, validation_data)
    return data


def checked_validation(net: Converts, loss_fn: Loss, validation_data: Any) -> tuple[Array, Array] | None:
    """``validation_data`` (a pair, or None) checked as training data are."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (X_val, y_val)")
    X_val, y_val = net.as_inputs(validation_data[0]), net.as_targets(validation_data[1])
    check_lengths(X_val, y_val)
    loss_fn.check_targets(y_val, whole=False)
    return X_val, y_val


def _checked_batches(net: Converts, loss_fn: Loss, source: Iterable[tuple[Any, Any]]) -> Iterator[Batch]:
    """Each batch a batch function gives, checked as arrays given to `fit` are."""
    for X_batch, y_batch in source:
        X_batch, y_batch = net.as_inputs(X_batch), net.as_targets(y_batch)
        check_lengths(X_batch, y_batch)
        loss_fn.check_targets(y_batch, whole=False)
        yield X_batch, y_batch, None
