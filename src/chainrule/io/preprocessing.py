"""Turn a table (a pandas DataFrame) into network inputs and targets, and back, reproducibly.

`TablePreprocessor` learns from the training table which columns are features, how each
categorical column is one-hot encoded (as seed 001 does with ``rank``), how numeric columns
are scaled (seed 004 divides by the column maxima: ``maxabs``), and how the target is encoded.
Everything it learns is a JSON-ready dict (`to_dict`) stored inside the model file, so
prediction on new rows needs nothing but the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.io.cleaning import check_missing, fill_missing, one_hot
from chainrule.io.derived import Derived, derive, from_data, sources
from chainrule.io.scaling import SCALINGS, Moments, Scaler
from chainrule.io.summary import (
    CLASS_MAX_DISTINCT,
    CLASS_MIN_DISTINCT,
    ROWS_PER_CLASS,
    TableSummary,
    is_number_column,
    natural,
    numeric_block,
    row_label,
    task_rule,
)
from chainrule.io.summary import (
    label as label_of,
)
from chainrule.nn.losses import class_indices

__all__ = [
    "CLASS_MAX_DISTINCT",
    "CLASS_MIN_DISTINCT",
    "ROWS_PER_CLASS",
    "SCALINGS",
    "Moments",
    "Scaler",
    "TablePreprocessor",
    "infer_task",
    "infer_task_reason",
    "row_label",
]


@dataclass
class TablePreprocessor:
    """Feature columns, their encodings and scaling, and the target's encoding.

    Attributes
    ----------
    numeric : list of str
        Numeric feature columns, in order; scaled by ``scaler``.
    categorical : dict of str to list of str
        Categorical feature columns and their categories; each becomes one 0/1 column per
        category, after the numeric columns.
    task : str
        ``"classification"`` or ``"regression"``.
    classes : list of str
        Class labels (classification), in output order, as text.
    class_type : str
        What the labels were in the training table: ``"text"``, ``"number"`` or ``"bool"``;
        `labels` gives them back as such.
    columns, fill, missing, unknown
        The input columns in the table's own order; each one's fill value for missing cells,
        and the ``missing`` strategy they came from; what an unseen category does (``"ignore"``:
        an all-zero one-hot row and a warning, or ``"error"``). See `chainrule.io.cleaning`.
    derived : list of Derived
        Feature columns computed from raw columns by a known formula (`chainrule.io.derived`),
        first of all steps: ``numeric`` may name them, and `inputs` lists the raw columns.
    """

    target: str
    task: str
    numeric: list[str] = field(default_factory=list)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    scaler: Scaler = field(default_factory=Scaler)
    classes: list[str] = field(default_factory=list)
    target_scaler: Scaler = field(default_factory=Scaler)
    class_type: str = "text"
    columns: list[str] = field(default_factory=list)
    fill: dict[str, Any] = field(default_factory=dict)
    missing: str = "refuse"
    unknown: str = "ignore"
    derived: list[Derived] = field(default_factory=list)

    # ------------------------------------------------------------------------------ fit
    @classmethod
    def fit(
        cls,
        frame: Any,
        target: str,
        *,
        features: list[str] | None = None,
        categorical: list[str] | None = None,
        task: str | None = None,
        scale: str = "standard",
        target_scale: str = "standard",
        derived: list[Derived] | None = None,
        rows: Any = None,
    ) -> TablePreprocessor:
        """Learn the encoding from a training DataFrame (its `TableSummary`; see `from_summary`).

        ``derived`` columns are computed first (``features`` may name them); ``rows`` (positions),
        when given, are the only rows the scaling statistics are computed from (the training
        rows of a table whose other rows are held out).
        """
        raw_columns, derived = list(frame.columns), list(derived or [])
        frame = derive(frame, derived)
        features = check_features(list(frame.columns), target, features, categorical)
        summary = TableSummary.of(frame, target, features, sorted(set(categorical or [])))
        if rows is not None:  # the scaling statistics from the training rows only
            fitted = frame.iloc[np.asarray(rows)]
            summary.moments = Moments.of(numeric_block(fitted, summary.numeric))
            if summary.target_moments is not None:
                summary.target_moments = Moments.of(fitted[target].to_numpy(dtype=float)[:, None])
        prep = cls.from_summary(summary, task=task, scale=scale, target_scale=target_scale)
        prep.derived = derived
        prep.columns = [str(c) for c in raw_columns if c in set(sources(features, derived))]
        return prep

    @classmethod
    def from_summary(
        cls,
        summary: TableSummary,
        *,
        task: str | None = None,
        scale: str = "standard",
        target_scale: str = "standard",
    ) -> TablePreprocessor:
        """The preprocessing of a table from its `TableSummary` (one block's, or merged blocks').

        Raises
        ------
        InputError
            For a single class, a regression target that is not numeric, more classes than
            the summary keeps, or a column whose statistics overflow.
        """
        task = task or summary.task_reason()[0]
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be classification or regression, got {task!r}")
        cats = {c: sorted(values, key=natural) for c, values in summary.categories.items()}
        prep = cls(target=summary.target, task=task, numeric=list(summary.numeric), categorical=cats)
        prep.columns = list(summary.columns)
        assert summary.moments is not None
        prep.scaler = Scaler.from_moments(summary.moments, scale, prep.numeric)
        if task == "classification":
            if summary.labels is None:
                raise InputError(
                    f"the target {summary.target!r} has more distinct values than classification "
                    "can take; train a regression (--task regression)"
                )
            prep.classes = sorted(summary.labels, key=natural)
            prep.class_type = summary.target_kind
            if len(prep.classes) < 2:
                raise InputError(
                    f"the target {summary.target!r} has a single class ({prep.classes[0]}): nothing to learn"
                )
        else:
            if summary.target_moments is None:
                raise InputError(f"regression needs a numeric target; {summary.target!r} has text values")
            prep.target_scaler = Scaler.from_moments(
                summary.target_moments, target_scale, [summary.target], "target_scale"
            )
        return prep

    # ------------------------------------------------------------------------ transform
    @property
    def feature_names(self) -> list[str]:
        """The network's input columns: numeric ones, then ``column=category`` one-hots."""
        return [*self.numeric, *(f"{c}={v}" for c, cats in self.categorical.items() for v in cats)]

    @property
    def inputs(self) -> list[str]:
        """The raw table columns a row needs: ``numeric`` (the raw columns of derived ones), categorical."""
        return sources([*self.numeric, *self.categorical], self.derived)

    @property
    def n_outputs(self) -> int:
        if self.task == "regression":
            return 1
        return 1 if len(self.classes) == 2 else len(self.classes)

    def transform(self, frame: Any) -> np.ndarray:
        """Network inputs for the rows of ``frame``; errors name the row (or line) and column."""
        frame = fill_missing(frame, self.fill)
        advice = (
            f"fill them, or retrain with --missing mean (this model's --missing {self.missing} stores none)"
        )
        check_missing(frame, self.inputs, needed=self._needed(), advice=advice)
        frame = derive(frame, self.derived)
        blocks = [self.scaler.transform(self._numeric_block(frame))]
        for column, categories in self.categorical.items():
            labels = [label_of(v) for v in self._column(frame, column)]
            blocks.append(one_hot(labels, categories, column, self.unknown, frame.index))
        return np.hstack(blocks)

    def encode_target(self, values: Any) -> np.ndarray:
        """Targets as the network's outputs: 0/1 column, one-hot rows, or scaled numbers."""
        if self.task == "regression":
            return self.target_scaler.transform(np.asarray(values, dtype=float)[:, None])
        index = {c: i for i, c in enumerate(self.classes)}
        labels = [label_of(v) for v in values]
        unknown = [(row, label) for row, label in enumerate(labels) if label not in index]
        if unknown:
            row, label = unknown[0]
            raise InputError(
                f"{row_label(getattr(values, 'index', None), row)}, column {self.target!r}: class "
                f"{label!r} was not seen in training (known: {', '.join(self.classes)})"
            )
        codes = np.array([index[label] for label in labels], dtype=int)
        if len(self.classes) == 2:
            return codes[:, None].astype(float)
        one_hot = np.zeros((codes.size, len(self.classes)))
        one_hot[np.arange(codes.size), codes] = 1.0
        return one_hot

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Network outputs back in the target's units (regression) or labels (classification)."""
        if self.task == "regression":
            return self.target_scaler.inverse(outputs)[:, 0]
        codes = class_indices(outputs)
        return np.array(self.classes, dtype=object)[codes]

    def labels(self) -> np.ndarray:
        """The classes as the training table held them: numbers, booleans, or text."""
        if self.class_type == "bool":
            return np.array([c == "True" for c in self.classes])
        if self.class_type == "number":
            values = [float(c) for c in self.classes]
            return np.array(values if not all(v.is_integer() for v in values) else [int(v) for v in values])
        return np.array(self.classes, dtype=object)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """One probability column per class, in `classes` order."""
        if outputs.shape[1] == 1:
            return np.hstack([1.0 - outputs, outputs])
        return outputs

    # ------------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "task": self.task,
            "numeric": self.numeric,
            "categorical": self.categorical,
            "scaler": vars(self.scaler),
            "classes": self.classes,
            "target_scaler": vars(self.target_scaler),
            "class_type": self.class_type,
            "columns": self.columns,
            "fill": self.fill,
            "missing": self.missing,
            "unknown": self.unknown,
            **({"derived": [step.to_dict() for step in self.derived]} if self.derived else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TablePreprocessor:
        return cls(
            target=data["target"],
            task=data["task"],
            numeric=list(data["numeric"]),
            categorical={k: list(v) for k, v in data["categorical"].items()},
            scaler=Scaler(**data["scaler"]),
            classes=list(data["classes"]),
            target_scaler=Scaler(**data["target_scaler"]),
            class_type=str(data.get("class_type", "text")),  # files before it: labels as text
            columns=[str(c) for c in data.get("columns", [*data["numeric"], *data["categorical"]])],
            fill=dict(data.get("fill", {})),
            missing=str(data.get("missing", "refuse")),
            unknown=str(data.get("unknown", "ignore")),
            derived=from_data(data.get("derived", [])),
        )

    # ------------------------------------------------------------------------ helpers
    def _needed(self) -> str:
        return ", ".join(self.inputs)

    def _column(self, frame: Any, column: str) -> Any:
        if column not in frame.columns:
            raise InputError(
                f"column {column!r} is missing from the data (the model needs: {self._needed()})"
            )
        return frame[column].to_numpy(dtype=object)

    def _numeric_block(self, frame: Any) -> np.ndarray:
        for column in self.numeric:
            self._column(frame, column)  # raises the missing-column error
        return numeric_block(frame, self.numeric)


def check_features(
    columns: list[Any], target: str, features: list[str] | None, categorical: list[str] | None
) -> list[str]:
    """The feature columns (default: all but the target), checked against the table's ``columns``.

    Raises
    ------
    InputError
        For a missing target or feature column, a target among the features, or a
        ``categorical`` column that is not a feature.
    """
    if target not in columns:
        raise InputError(f"there is no target column {target!r}; the columns are: {_names(columns)}")
    features = list(features or [c for c in columns if c != target])
    missing = [c for c in features if c not in columns]
    if missing:
        raise InputError(f"feature columns {missing} are not in the data; the columns are: {_names(columns)}")
    if target in features:
        raise InputError(f"the target {target!r} cannot also be a feature")
    unknown = set(categorical or []) - set(features)
    if unknown:
        raise InputError(f"--categorical names {sorted(unknown)}, which are not feature columns")
    return features


def infer_task(target: Any) -> str:
    """``"classification"`` or ``"regression"`` for a target column (see `infer_task_reason`)."""
    return infer_task_reason(target)[0]


def infer_task_reason(target: Any) -> tuple[str, str]:
    """The task a target column suggests, and the rule that decided it, in words.

    Text and booleans are classification. A number column is regression if any value is
    fractional, or if it has more than 10 distinct values, or more distinct values than a fifth
    of the rows (a 10-row sample of prices is not 10 classes); otherwise classification.
    """
    import pandas as pd

    kind = "bool" if pd.api.types.is_bool_dtype(target) else "number" if is_number_column(target) else "text"
    if kind != "number":
        return task_rule(kind, 0, False, len(target))
    values = target.to_numpy(dtype=float)
    fractional = not np.all(values == np.round(values))
    return task_rule(kind, len(np.unique(values)), fractional, len(values))


def _names(columns: Any) -> str:
    return ", ".join(str(c) for c in columns)
