"""Columns computed from other columns by a known formula: a step of the stored preprocessing.

TensorFlow Playground's input features (x1², x2², x1·x2, sin x1, sin x2) are columns derived
from the raw ``x1``, ``x2``. `TablePreprocessor` computes them from raw rows before scaling
(``derived``), so a model trained on them predicts from the raw columns everywhere: in Python,
in ``chainrule predict``, ``evaluate`` and ``explain``, on the playground's page, and in its
ONNX graph and C header. This module is the one home of the formulas: each is a name in
`FORMULAS` with its NumPy function, its text, its ONNX operator and its C expression. A model
file stores a derived column as data, ``{"name": "x1^2", "formula": "square", "of": ["x1"]}``;
loading never runs code from a file, and a formula name this version does not know is refused
(`FormulaError`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.io.cleaning import refuse_non_finite

Array = np.ndarray


@dataclass(frozen=True)
class Formula:
    """A known formula: its NumPy function of ``arity`` columns, its text, ONNX operator and C.

    ``onnx`` is the ONNX operator computing it: ``Mul`` of the inputs (a square repeats its
    one input), or a one-input operator (``Sin``); ``c`` its float expression in a C header
    (``(float)`` because avr-libc's ``sinf`` is its double ``sin``).
    """

    arity: int
    function: Callable[..., Array]
    text: str
    onnx: str
    c: str


FORMULAS: dict[str, Formula] = {
    "square": Formula(1, lambda a: a * a, "{0} ** 2", "Mul", "{0} * {0}"),
    "product": Formula(2, lambda a, b: a * b, "{0} * {1}", "Mul", "{0} * {1}"),
    "sin": Formula(1, np.sin, "sin({0})", "Sin", "(float)sinf({0})"),
}


class FormulaError(ValueError):
    """A derived column this version of chainrule cannot compute (a model file's, say)."""


@dataclass(frozen=True)
class Derived:
    """The column ``name``: `FORMULAS` [``formula``] of the columns ``of``.

    Examples
    --------
    >>> import numpy as np
    >>> step = Derived("x1*x2", "product", ("x1", "x2"))
    >>> step.text(), step.compute({"x1": np.array([2.0]), "x2": np.array([3.0])})
    ('x1 * x2', array([6.]))
    """

    name: str
    formula: str
    of: tuple[str, ...]

    def text(self) -> str:
        """The formula in words of its columns, such as ``x1 ** 2``."""
        return FORMULAS[self.formula].text.format(*self.of)

    def compute(self, columns: Any) -> Array:
        """The column's values from ``columns`` (a DataFrame or dict of numeric columns)."""
        return FORMULAS[self.formula].function(*(np.asarray(columns[c], dtype=float) for c in self.of))

    def to_dict(self) -> dict[str, Any]:
        """What a model file stores: names only, never code."""
        return {"name": self.name, "formula": self.formula, "of": list(self.of)}


def from_data(data: Any) -> list[Derived]:
    """The derived columns a model file stores (a list of `Derived.to_dict` entries), checked.

    Raises
    ------
    FormulaError
        For an entry that is not a known formula of the right number of named columns.
    """
    if not isinstance(data, list):
        raise FormulaError(f"the derived columns must be a list, got {type(data).__name__}")
    steps = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise FormulaError(f"a derived column must be {{name, formula, of}}, got {entry!r}")
        name, formula, of = entry["name"], entry.get("formula"), entry.get("of")
        if formula not in FORMULAS:
            raise FormulaError(
                f"the derived column {name!r} uses the formula {formula!r}, which this version of "
                f"chainrule does not know (known: {', '.join(FORMULAS)}); a model file names its "
                "formulas and never holds code: upgrade chainrule, or retrain without that column"
            )
        arity = FORMULAS[formula].arity
        if not isinstance(of, list) or len(of) != arity or not all(isinstance(c, str) for c in of):
            raise FormulaError(
                f"the derived column {name!r} ({formula}) needs {arity} column name(s), got {of!r}"
            )
        steps.append(Derived(name, formula, tuple(of)))
    return steps


def sources(columns: Sequence[str], steps: Sequence[Derived]) -> list[str]:
    """The raw columns that ``columns`` (some of them derived by ``steps``) are computed from, in order."""
    made = {step.name: step for step in steps}
    raw: list[str] = []
    for column in columns:
        for name in made[column].of if column in made else (column,):
            if name not in raw:
                raw.append(name)
    return raw


def derive(frame: Any, steps: Sequence[Derived]) -> Any:
    """``frame`` (a pandas DataFrame) with each derived column added, computed from its raw columns.

    A derived column already in ``frame`` is replaced by its formula's value.

    Raises
    ------
    InputError
        For a missing raw column (named, with the formula that needs it) or a cell that is not
        a finite number.
    """
    if not steps:
        return frame
    import pandas as pd

    values: dict[str, Array] = {}
    for step in steps:
        for column in step.of:
            if column in values:
                continue
            if column not in frame.columns:
                raise InputError(
                    f"column {column!r} is missing from the data: the model computes its input "
                    f"{step.name} = {step.text()} from it"
                )
            raw = frame[column]
            values[column] = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            refuse_non_finite(raw, values[column], column)
        values[step.name] = step.compute(values)
    return frame.assign(**{step.name: values[step.name] for step in steps})


# ------------------------------------------------------------- TensorFlow Playground's features
#: The playground's input features of a built-in 2-D set: name -> (label on the page, how it is
#: computed from the raw x1, x2: None for a raw column itself).
PLAYGROUND: dict[str, tuple[str, Derived | None]] = {
    "x1": ("x₁", None),
    "x2": ("x₂", None),
    "x1^2": ("x₁²", Derived("x1^2", "square", ("x1",))),
    "x2^2": ("x₂²", Derived("x2^2", "square", ("x2",))),
    "x1*x2": ("x₁x₂", Derived("x1*x2", "product", ("x1", "x2"))),
    "sin(x1)": ("sin(x₁)", Derived("sin(x1)", "sin", ("x1",))),
    "sin(x2)": ("sin(x₂)", Derived("sin(x2)", "sin", ("x2",))),
}


def playground_steps(names: Sequence[str]) -> list[Derived]:
    """The derived columns among the playground features ``names`` (raw ``x1``, ``x2`` need none)."""
    return [step for name in names if (step := PLAYGROUND[name][1]) is not None]


def formula_text(name: str) -> str:
    """A playground feature's formula of the raw ``x1``, ``x2`` (``"x1 ** 2"``; ``"x1"`` for x1)."""
    step = PLAYGROUND[name][1]
    return name if step is None else step.text()
