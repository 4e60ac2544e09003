"""Option types that refuse bad values at parse time, and the defaults shared with the estimators.

The defaults of ``chainrule train`` are those of `chainrule.sklearn.NeuralNetClassifier` and
`NeuralNetRegressor` (which follow scikit-learn's ``MLPClassifier``): README.md lists them in
one table.
"""

from __future__ import annotations

import argparse
import math

# The estimators' documented defaults (chainrule.sklearn), used by `chainrule train`.
DEFAULTS = {
    "layers": "100",
    "activation": "relu",
    "optimizer": "adam",
    "lr": 0.001,
    "alpha": 0.0001,
    "batch_size": "auto",
    "epochs": 200,
    "validation_split": 0.1,
    "patience": 10,
    "min_delta": 1e-4,
}
AUTO_BATCH = 200  # batch_size "auto" is min(200, rows), as in scikit-learn
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def positive_int(text: str) -> int:
    """An integer of at least 1 (``--epochs``, ``--patience``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0 (``--lr``)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (``--alpha``)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def fraction(text: str) -> float:
    """A share of the rows in [0, 1) (``--validation-split``)."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text}")
    return value


def batch_size(text: str) -> int | str:
    """``auto`` (min(200, rows)), ``0`` (the full batch) or a positive number of rows."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto, 0 or a number of rows, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be auto, 0 (full batch) or positive, got {value}")
    return value


def rows_per_batch(option: int | str, rows: int) -> int | None:
    """The batch size ``fit`` takes for ``--batch-size`` and a training set of ``rows``."""
    if option == "auto":
        return min(AUTO_BATCH, rows)
    return int(option) or None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value
