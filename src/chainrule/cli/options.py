"""Option types that refuse bad values at parse time, and the defaults shared with the estimators.

The defaults of ``chainrule train`` are those of `chainrule.train_table` (`DEFAULTS`, kept in
`chainrule.table.training`), which are those of `chainrule.sklearn.NeuralNetClassifier` and
`NeuralNetRegressor` (which follow scikit-learn's ``MLPClassifier``): README.md lists them in
one table.
"""

from __future__ import annotations

import argparse
import math

from chainrule.table import AUTO_BATCH, DEFAULTS  # the defaults' one home, shared with train_table

__all__ = [
    "AUTO_BATCH",
    "DEFAULTS",
    "PLOT_SUFFIXES",
    "batch_size",
    "decay_or_auto",
    "fraction",
    "fraction_or_auto",
    "non_negative_float",
    "positive_float",
    "positive_int",
]
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


def decay_or_auto(text: str) -> float | str:
    """``auto`` (10 / training rows) or a number of at least 0 (``--alpha``)."""
    return text if text == "auto" else non_negative_float(text)


def fraction_or_auto(text: str) -> float | str:
    """``auto`` or a share of the rows in [0, 1) (``--validation-split``)."""
    return text if text == "auto" else fraction(text)


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


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value
