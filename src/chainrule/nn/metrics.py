"""Metrics reported next to the loss: accuracy for classifiers, mse and mae for regressors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainrule.nn.losses import Loss, class_indices

Array = np.ndarray
Metric = Callable[[Array, Array], float]


def accuracy(y: Array, out: Array) -> float:
    """Fraction correct: argmax per row for several outputs, threshold 0.5 for one output.

    With several sigmoid outputs that are not a one-hot encoding (multi-label targets),
    each output is thresholded at 0.5 and the fraction of correct entries is returned.
    """
    if out.shape[1] == 1 or not _one_hot(y):
        return float(np.mean((out > 0.5) == (y > 0.5)))
    return float(np.mean(class_indices(out) == class_indices(y)))


def mse(y: Array, out: Array) -> float:
    """Mean squared error over samples and outputs."""
    diff = out - y
    return float(np.vdot(diff, diff)) / diff.size


def mae(y: Array, out: Array) -> float:
    """Mean absolute error over samples and outputs (seed 000's printed error)."""
    return float(np.abs(out - y).sum()) / out.size


def _one_hot(y: Array) -> bool:
    """One target above 0.5 per row: one-hot labels, also with soft 0.01/0.99 targets."""
    return bool(np.all(np.count_nonzero(y > 0.5, axis=1) == 1))


METRICS: dict[str, Metric] = {"accuracy": accuracy, "mse": mse, "mae": mae}


def get_metric(name: str) -> Metric:
    """Return a metric by name."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}") from None


def default_metrics(loss: Loss) -> list[str]:
    """Accuracy for classification losses; mse and mae (less the loss itself) for regression."""
    if loss.classification:
        return ["accuracy"]
    return [name for name in ("mse", "mae") if name != loss.name]
