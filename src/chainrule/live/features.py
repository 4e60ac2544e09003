"""The input features of the built-in 2-D data sets, as TensorFlow Playground offers them.

The one home of their definitions: the server lists them to the page (``options``), the
session computes the chosen ones from the raw ``x1``, ``x2`` of every row (and of every point
of the views), and a downloaded model records each one's formula beside its preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainrule.errors import ChainruleError

Array = np.ndarray

#: name (the table column) -> (label on the page, formula text, function of the raw x1, x2)
FEATURES: dict[str, tuple[str, str, Callable[[Array, Array], Array]]] = {
    "x1": ("x₁", "x1", lambda a, b: a),
    "x2": ("x₂", "x2", lambda a, b: b),
    "x1^2": ("x₁²", "x1 ** 2", lambda a, b: a**2),
    "x2^2": ("x₂²", "x2 ** 2", lambda a, b: b**2),
    "x1*x2": ("x₁x₂", "x1 * x2", lambda a, b: a * b),
    "sin(x1)": ("sin(x₁)", "sin(x1)", lambda a, b: np.sin(a)),
    "sin(x2)": ("sin(x₂)", "sin(x2)", lambda a, b: np.sin(b)),
}
DEFAULT = ["x1", "x2"]


class FeatureError(ChainruleError):
    """A choice of input features the playground cannot use."""


def check(names: object) -> list[str]:
    """``names`` as a list of known features in `FEATURES` order (at least one)."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FeatureError(f"features must be a list of names from: {', '.join(FEATURES)}")
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise FeatureError(f"unknown feature(s) {', '.join(unknown)}: choose from {', '.join(FEATURES)}")
    if not names:
        raise FeatureError("choose at least one input feature (the network needs an input)")
    return [n for n in FEATURES if n in names]


def compute(plane: Array, names: list[str]) -> dict[str, Array]:
    """The chosen features of points ``plane`` (one row ``[x1, x2]`` each), by name."""
    a, b = plane[:, 0], plane[:, 1]
    return {name: FEATURES[name][2](a, b) for name in names}


def formulas(names: list[str]) -> dict[str, str]:
    """Each chosen feature's formula of the raw ``x1``, ``x2`` (stored with a downloaded model)."""
    return {name: FEATURES[name][1] for name in names}


def listing() -> list[dict[str, str]]:
    """Every feature for the page's toggles: name, label and formula."""
    return [{"name": n, "label": label, "formula": text} for n, (label, text, _) in FEATURES.items()]
