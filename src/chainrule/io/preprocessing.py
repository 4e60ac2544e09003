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
from chainrule.io.cleaning import check_missing, fill_missing, missing_message, one_hot, refuse_non_finite
from chainrule.io.derived import Derived, derive, from_data, sources
from chainrule.nn.losses import class_indices

SCALINGS = ("standard", "minmax", "maxabs", "none")


@dataclass
class Scaler:
    """``(x - offset) / scale`` per column; the statistics come from the training data."""

    method: str = "none"
    offset: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)

    @classmethod
    def fit(
        cls, values: np.ndarray, method: str, names: list[str] | None = None, option: str = "scale"
    ) -> Scaler:
        """Column statistics; `InputError` (naming the column and ``option``) if one overflows."""
        if method not in SCALINGS:
            raise ValueError(f"unknown scaling {method!r}; choose one of: {', '.join(SCALINGS)}")
        n = values.shape[1]
        with np.errstate(over="ignore", invalid="ignore"):
            if method == "none" or n == 0:
                offset, scale = np.zeros(n), np.ones(n)
            elif method == "standard":
                offset, scale = values.mean(axis=0), values.std(axis=0)
            elif method == "minmax":
                offset, scale = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
            else:  # maxabs
                offset, scale = np.zeros(n), np.abs(values).max(axis=0)
        overflowed = np.flatnonzero(~(np.isfinite(offset) & np.isfinite(scale)))
        if overflowed.size:
            j = int(overflowed[0])
            raise InputError(
                f"column {names[j] if names else j!r} cannot be scaled with {option}={method!r}: its "
                f"values (up to {np.abs(values[:, j]).max():.3g} in size) overflow float64 in its "
                "statistics, so the saved model could not predict. Divide the column by a power of ten, "
                "or choose "
                f"{option}='maxabs' (chainrule train --{option.replace('_', '-')} maxabs)"
            )
        scale = np.where(scale > 0, scale, 1.0)  # a constant column is left unscaled
        return cls(method, offset.tolist(), scale.tolist())

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.offset)) / np.asarray(self.scale)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values * np.asarray(self.scale) + np.asarray(self.offset)


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
        """Learn the encoding from a training DataFrame.

        ``derived`` columns are computed first (``features`` may name them); ``rows`` (positions),
        when given, are the only rows the scaling statistics are computed from (the training
        rows of a table whose other rows are held out).
        """
        import pandas as pd

        raw_columns, derived = list(frame.columns), list(derived or [])
        frame = derive(frame, derived)
        if target not in frame.columns:
            raise InputError(
                f"there is no target column {target!r}; the columns are: {_names(frame.columns)}"
            )
        features = features or [c for c in frame.columns if c != target]
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise InputError(
                f"feature columns {missing} are not in the data; the columns are: {_names(frame.columns)}"
            )
        if target in features:
            raise InputError(f"the target {target!r} cannot also be a feature")
        forced = set(categorical or [])
        unknown = forced - set(features)
        if unknown:
            raise InputError(f"--categorical names {sorted(unknown)}, which are not feature columns")
        numeric = [c for c in features if c not in forced and _is_number_column(frame[c])]
        for column in features:
            if column not in forced and column not in numeric:
                _refuse_numeric_looking(frame[column], column)
        message = missing_message(frame, [*features, target], target)
        if message is not None:
            raise InputError(message)
        cats = {
            c: sorted({_label(v) for v in frame[c].dropna()}, key=_natural)
            for c in features
            if c not in numeric
        }
        y = frame[target]
        task = task or infer_task(y)
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be classification or regression, got {task!r}")
        prep = cls(target=target, task=task, numeric=numeric, categorical=cats, derived=derived)
        prep.columns = [str(c) for c in raw_columns if c in set(sources(features, derived))]
        fitted = frame if rows is None else frame.iloc[np.asarray(rows)]
        prep.scaler = Scaler.fit(prep._numeric_block(fitted), scale, numeric)
        if task == "classification":
            prep.classes = sorted({_label(v) for v in y}, key=_natural)
            prep.class_type = "bool" if pd.api.types.is_bool_dtype(y) else "text"
            if _is_number_column(y):
                prep.class_type = "number"
            if len(prep.classes) < 2:
                raise InputError(
                    f"the target {target!r} has a single class ({prep.classes[0]}): nothing to learn"
                )
        else:
            if not pd.api.types.is_numeric_dtype(y):
                raise InputError(f"regression needs a numeric target; {target!r} has text values")
            values = y.to_numpy(dtype=float)
            refuse_non_finite(y, values, target)
            values = values if rows is None else values[np.asarray(rows)]
            prep.target_scaler = Scaler.fit(values[:, None], target_scale, [target], "target_scale")
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
            labels = [_label(v) for v in self._column(frame, column)]
            blocks.append(one_hot(labels, categories, column, self.unknown, frame.index))
        return np.hstack(blocks)

    def encode_target(self, values: Any) -> np.ndarray:
        """Targets as the network's outputs: 0/1 column, one-hot rows, or scaled numbers."""
        if self.task == "regression":
            return self.target_scaler.transform(np.asarray(values, dtype=float)[:, None])
        index = {c: i for i, c in enumerate(self.classes)}
        labels = [_label(v) for v in values]
        unknown = [(row, label) for row, label in enumerate(labels) if label not in index]
        if unknown:
            row, label = unknown[0]
            raise InputError(
                f"{row_label(getattr(values, 'index', None), row)}, column {self.target!r}: class "
                f"{label!r} was not seen in training (known: {', '.join(self.classes)})"
            )
        codes = np.array([index[label] for label in labels])
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
        import pandas as pd

        block = np.empty((len(frame), len(self.numeric)))
        for j, column in enumerate(self.numeric):
            self._column(frame, column)  # raises the missing-column error
            raw = frame[column]
            block[:, j] = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            refuse_non_finite(raw, block[:, j], column)
        return block


#: The task rule: a whole-number target is regression with more than CLASS_MAX_DISTINCT distinct
#: values, or more than max(CLASS_MIN_DISTINCT, rows // ROWS_PER_CLASS) (docs/_ext/shared_tables.py).
CLASS_MAX_DISTINCT, ROWS_PER_CLASS, CLASS_MIN_DISTINCT = 10, 5, 2


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

    if pd.api.types.is_bool_dtype(target):
        return "classification", "the target is true/false"
    if not pd.api.types.is_numeric_dtype(target):
        return "classification", "the target holds text"
    values = target.to_numpy(dtype=float)
    distinct = len(np.unique(values))
    if not np.all(values == np.round(values)):
        return "regression", "the target has fractional values"
    if distinct > CLASS_MAX_DISTINCT:
        return "regression", f"the target has {distinct} distinct values, more than {CLASS_MAX_DISTINCT}"
    if distinct > max(CLASS_MIN_DISTINCT, len(values) // ROWS_PER_CLASS):
        return (
            "regression",
            f"the target has {distinct} distinct values in {len(values)} rows, too many for classes",
        )
    return "classification", f"the target has {distinct} distinct whole numbers in {len(values)} rows"


def row_label(index: Any, position: int) -> str:
    """``"line N"`` (the editor's line of a CSV row, when the index says so) or ``"row N"``."""
    if getattr(index, "name", None) == "line":
        return f"line {index[position]}"
    return f"row {position + 1}"


def _refuse_numeric_looking(column: Any, name: str) -> None:
    """A text column whose cells are mostly numbers has a few bad cells: name each one."""
    import pandas as pd

    present = column.dropna()
    if present.empty:
        return
    parsed = pd.to_numeric(present, errors="coerce")
    bad = present[parsed.isna() | ~np.isfinite(parsed.to_numpy(dtype=float, na_value=np.nan))]
    if bad.empty or len(bad) > len(present) / 2:
        return
    positions = column.index.get_indexer(bad.index)
    shown = zip(positions[:10], bad[:10], strict=True)
    cells = ", ".join(f"{row_label(column.index, int(p))} {v!r}" for p, v in shown)
    more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    raise InputError(
        f"column {name!r} looks numeric but {_count(len(bad), 'cell')} not a number: {cells}{more}; "
        f"fix those cells, or pass --categorical {name} to treat the column as categories"
    )


def _count(n: int, noun: str) -> str:
    return f"1 {noun} is" if n == 1 else f"{n} {noun}s are"


def _is_number_column(column: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def _label(value: Any) -> str:
    """A category or class as a string; integral floats read back as integers (1.0 -> "1")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _natural(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _names(columns: Any) -> str:
    return ", ".join(str(c) for c in columns)
