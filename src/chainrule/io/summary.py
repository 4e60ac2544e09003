"""What preprocessing learns from a table, gathered block by block: `TableSummary`.

`TablePreprocessor.fit` summarises the whole table in one `TableSummary`; a table read in blocks
(a folder of Parquet or CSV files) is summarised block by block, on whichever machine holds
each block, and the summaries `merge`. Either way the preprocessor is built from the summary by
the same code (`TablePreprocessor.from_summary`), so streamed and in-memory training scale and
encode alike. A summary holds each numeric column's `Moments`, each categorical column's
categories, and the target's labels (up to `MAX_LABELS`) or moments; never the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.io.cleaning import missing_message, refuse_non_finite
from chainrule.io.scaling import Moments

#: The task rule: a whole-number target is regression with more than CLASS_MAX_DISTINCT distinct
#: values, or more than max(CLASS_MIN_DISTINCT, rows // ROWS_PER_CLASS) (docs/_ext/shared_tables.py).
CLASS_MAX_DISTINCT, ROWS_PER_CLASS, CLASS_MIN_DISTINCT = 10, 5, 2
MAX_LABELS = 1_000  # distinct target values kept; more is a regression target (or too many classes)


@dataclass
class TableSummary:
    """The statistics of a table's feature and target columns that preprocessing is built from.

    Attributes
    ----------
    target : str
    columns : list of str
        The feature columns, in the table's own order.
    numeric : list of str
        Feature columns scaled as numbers, in feature order; the others are categorical.
    categories : dict of str to set of str
        Each categorical column's values, as labels.
    moments : Moments
        Of the numeric columns.
    target_kind : {"bool", "number", "text"}
    labels : set of str or None
        The target's distinct values as labels; None once there are more than `MAX_LABELS`.
    fractional : bool
        Whether a numeric target has a value that is not a whole number.
    target_moments : Moments or None
        Of a numeric (or true/false) target.
    """

    target: str
    columns: list[str]
    numeric: list[str]
    categories: dict[str, set[str]] = field(default_factory=dict)
    moments: Moments | None = None
    target_kind: str = "text"
    labels: set[str] | None = field(default_factory=set)
    fractional: bool = False
    target_moments: Moments | None = None

    @property
    def rows(self) -> int:
        """The rows summarised."""
        assert self.moments is not None
        return self.moments.count

    @classmethod
    def of(cls, frame: Any, target: str, features: list[str], categorical: list[str]) -> TableSummary:
        """Summarise a DataFrame (after the checks `TablePreprocessor.fit` documents)."""
        numeric = [c for c in features if c not in set(categorical) and is_number_column(frame[c])]
        for column in features:
            if column not in categorical and column not in numeric:
                refuse_numeric_looking(frame[column], column)
        message = missing_message(frame, [*features, target], target)
        if message is not None:
            raise InputError(message)
        y = frame[target]
        kind = "bool" if _is_bool(y) else "number" if is_number_column(y) else "text"
        labels: set[str] | None = set()
        for value in y.unique():
            labels.add(label(value))
            if len(labels) > MAX_LABELS:
                labels = None
                break
        values = y.to_numpy(dtype=float) if kind != "text" else None
        if values is not None:
            refuse_non_finite(y, values, target)
        return cls(
            target=target,
            columns=[str(c) for c in frame.columns if c in set(features)],
            numeric=numeric,
            categories={c: {label(v) for v in frame[c].dropna()} for c in features if c not in numeric},
            moments=Moments.of(numeric_block(frame, numeric)),
            target_kind=kind,
            labels=labels,
            fractional=bool(values is not None and not np.all(values == np.round(values))),
            target_moments=None if values is None else Moments.of(values[:, None]),
        )

    def merge(self, other: TableSummary) -> TableSummary:
        """The summary of both tables' rows (tables with the same columns, as blocks of one table)."""
        if (self.columns, self.numeric, self.target_kind) != (
            other.columns,
            other.numeric,
            other.target_kind,
        ):
            raise InputError(
                f"the blocks of the table disagree on its columns or their types ({self.columns}, "
                f"numeric {self.numeric}, target {self.target_kind}; then {other.columns}, numeric "
                f"{other.numeric}, target {other.target_kind}): give files with the same columns"
            )
        labels = None if self.labels is None or other.labels is None else self.labels | other.labels
        assert self.moments is not None and other.moments is not None
        moments = self.target_moments, other.target_moments
        return TableSummary(
            target=self.target,
            columns=self.columns,
            numeric=self.numeric,
            categories={c: values | other.categories[c] for c, values in self.categories.items()},
            moments=self.moments.merge(other.moments),
            target_kind=self.target_kind,
            labels=labels if labels is None or len(labels) <= MAX_LABELS else None,
            fractional=self.fractional or other.fractional,
            target_moments=None if moments[0] is None or moments[1] is None else moments[0].merge(moments[1]),
        )

    def task_reason(self) -> tuple[str, str]:
        """The task the target suggests, and why (`chainrule.io.preprocessing.infer_task_reason`'s rule)."""
        distinct = MAX_LABELS + 1 if self.labels is None else len(self.labels)
        return task_rule(self.target_kind, distinct, self.fractional, self.rows)


def task_rule(kind: str, distinct: int, fractional: bool, rows: int) -> tuple[str, str]:
    """The task for a target of ``kind`` with ``distinct`` values in ``rows`` rows, and the reason.

    Text and booleans are classification. A number column is regression if any value is
    fractional, or if it has more than 10 distinct values, or more distinct values than a fifth
    of the rows (a 10-row sample of prices is not 10 classes); otherwise classification.
    """
    if kind == "bool":
        return "classification", "the target is true/false"
    if kind == "text":
        return "classification", "the target holds text"
    if fractional:
        return "regression", "the target has fractional values"
    if distinct > CLASS_MAX_DISTINCT:
        shown = f"more than {MAX_LABELS}" if distinct > MAX_LABELS else str(distinct)
        return "regression", f"the target has {shown} distinct values, more than {CLASS_MAX_DISTINCT}"
    if distinct > max(CLASS_MIN_DISTINCT, rows // ROWS_PER_CLASS):
        return "regression", f"the target has {distinct} distinct values in {rows} rows, too many for classes"
    return "classification", f"the target has {distinct} distinct whole numbers in {rows} rows"


def numeric_block(frame: Any, numeric: list[str]) -> np.ndarray:
    """The ``numeric`` columns of ``frame`` as floats; `InputError` naming cells that are not finite."""
    import pandas as pd

    block = np.empty((len(frame), len(numeric)))
    for j, column in enumerate(numeric):
        raw = frame[column]
        block[:, j] = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        refuse_non_finite(raw, block[:, j], column)
    return block


def refuse_numeric_looking(column: Any, name: str) -> None:
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
        f"column {name!r} looks numeric but {count(len(bad), 'cell')} not a number: {cells}{more}; "
        f"fix those cells, or pass --categorical {name} to treat the column as categories"
    )


def row_label(index: Any, position: int) -> str:
    """``"line N"`` (the editor's line of a CSV row, when the index says so) or ``"row N"``."""
    if getattr(index, "name", None) == "line":
        return f"line {index[position]}"
    return f"row {position + 1}"


def count(n: int, noun: str) -> str:
    """``"1 cell is"`` or ``"3 cells are"``."""
    return f"1 {noun} is" if n == 1 else f"{n} {noun}s are"


def is_number_column(column: Any) -> bool:
    """Whether a column holds numbers (booleans are not numbers here)."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column) and not _is_bool(column))


def _is_bool(column: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_bool_dtype(column))


def label(value: Any) -> str:
    """A category or class as a string; integral floats read back as integers (1.0 -> "1")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def natural(label: str) -> tuple[int, float, str]:
    """Sort key of labels: numbers by value first, then text."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
