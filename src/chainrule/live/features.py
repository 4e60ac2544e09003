"""The page's side of the built-in 2-D sets' input features (x1², x2², x1x2, sin x1, sin x2).

Their one definition is `chainrule.io.derived` (``PLAYGROUND``): the table preprocessing
computes them from the raw ``x1``, ``x2`` of every row, of every point of the views and of the
rows a downloaded model is given. This module checks the page's choice and lists them for it.
"""

from __future__ import annotations

from chainrule.errors import ChainruleError
from chainrule.io.derived import PLAYGROUND, formula_text

#: The feature names, in the order the page lists them and the network takes them.
FEATURES = list(PLAYGROUND)
DEFAULT = ["x1", "x2"]


class FeatureError(ChainruleError):
    """A choice of input features the playground cannot use."""


def check(names: object) -> list[str]:
    """``names`` as a list of known features in `FEATURES` order (at least one)."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FeatureError(f"features must be a list of names from: {', '.join(FEATURES)}")
    unknown = [n for n in names if n not in PLAYGROUND]
    if unknown:
        raise FeatureError(f"unknown feature(s) {', '.join(unknown)}: choose from {', '.join(FEATURES)}")
    if not names:
        raise FeatureError("choose at least one input feature (the network needs an input)")
    return [n for n in FEATURES if n in names]


def formulas(names: list[str]) -> dict[str, str]:
    """Each chosen feature's formula of the raw ``x1``, ``x2`` (stored with a downloaded model)."""
    return {name: formula_text(name) for name in names}


def listing() -> list[dict[str, str]]:
    """Every feature for the page's toggles: name, label and formula."""
    return [{"name": n, "label": label, "formula": formula_text(n)} for n, (label, _) in PLAYGROUND.items()]
