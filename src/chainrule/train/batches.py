"""How the data reach the step: batches, validation splits and sample weights."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.nn.losses import class_indices

Array = np.ndarray
Batch = tuple[Array, Array, Array | None]


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
    """``values`` as one finite, non-negative weight per sample (not all zero)."""
    weights = np.asarray(values, dtype=np.float64).ravel()
    if weights.shape != (n,):
        raise InputError(
            f"sample_weight has {weights.size} values for {n} samples: give one weight per sample"
        )
    if not np.isfinite(weights).all() or weights.min() < 0 or weights.sum() <= 0:
        raise InputError("sample_weight must be finite, non-negative, and not all zero")
    return weights
