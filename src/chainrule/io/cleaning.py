"""What a real table needs before it becomes inputs: missing cells, identifier columns, new categories.

* **Missing cells** (`MISSING`): ``refuse`` (the default) raises one error that counts the
  missing cells of each column and names both fixes (leave the column out, or fill the cells);
  ``drop`` drops the rows that have any; ``mean``, ``median`` and ``most_frequent`` fill each
  input column with a value learned from the training rows (text and categorical columns always
  take their most frequent value) and drop only the rows whose *target* is missing. The fill
  values are stored with the preprocessing, so prediction fills new rows the same way.
* **Identifier columns** (`id_like`): text with more distinct values than half its rows (and
  more than 20), or a running integer index (whole numbers one up on each row), would
  become hundreds of one-hot inputs or one meaningless number; they are left out by default.
* **Unknown categories** (`one_hot`): a category never seen in training becomes an all-zero
  one-hot row and a `DataWarning` counting such rows (``unknown="error"`` refuses them), and no
  message ever lists every known category.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.errors import DataWarning, InputError

MISSING = ("refuse", "drop", "mean", "median", "most_frequent")
UNKNOWN = ("ignore", "error")
ID_MIN_DISTINCT = 20  # fewer distinct values than this is never an identifier
ID_SHARE = 0.5  # text with more distinct values than this share of its rows is an identifier
SHOWN = 5  # examples named in a message


@dataclass
class Cleaned:
    """A training table after its missing-cell policy: the rows kept, fill values, and notes."""

    frame: Any
    fill: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def missing_counts(frame: Any, columns: Sequence[str]) -> dict[str, int]:
    """The number of missing cells in each of ``columns`` that has any, in column order."""
    counts = {column: int(frame[column].isna().sum()) for column in columns if column in frame.columns}
    return {column: n for column, n in counts.items() if n}


def missing_message(frame: Any, columns: Sequence[str], target: str | None = None) -> str | None:
    """The refusal for missing cells in ``columns``: a count per column and both fixes; None if none.

    A column missing in more than half its rows is named first for ``--drop``; filling it
    would invent most of it.
    """
    counts = missing_counts(frame, columns)
    if not counts:
        return None
    rows = len(frame)
    parts = []
    for column, n in counts.items():
        where = _where(frame.index, np.flatnonzero(frame[column].isna().to_numpy()))
        parts.append(f"{column!r} {n} of {rows} rows ({where})")
    inputs = [c for c in counts if c != target]
    sparse = [c for c in inputs if counts[c] > rows / 2] or inputs[:1]
    fixes = []
    if sparse:
        named = ",".join(sparse)
        fixes.append(
            f"leave a column out (--drop {named!r})"
            if " " in named
            else f"leave a column out (--drop {named})"
        )
    if inputs:
        fixes.append("fill the cells from the training rows (--missing mean, median or most_frequent)")
    fixes.append("or drop those rows (--missing drop)")
    total = sum(counts.values())
    cells = "1 cell is" if total == 1 else f"{total} cells are"
    return f"{cells} missing: {'; '.join(parts)}. To train anyway: " + ", ".join(fixes)


def clean_missing(
    frame: Any,
    features: Sequence[str],
    target: str,
    strategy: str,
    categorical: Sequence[str] = (),
    fit_rows: Callable[[int], Any] | None = None,
) -> Cleaned:
    """Apply the missing-cell ``strategy`` (see `MISSING`) to a training table.

    Parameters
    ----------
    frame : DataFrame
        The training table.
    features : sequence of str
        The input columns.
    target : str
        The target column: rows missing it are dropped by every strategy but ``refuse``.
    strategy : {"refuse", "drop", "mean", "median", "most_frequent"}
    categorical : sequence of str
        Columns one-hot encoded although numeric: filled with their most frequent value.
    fit_rows : callable, optional
        Given the number of rows kept, the positions of the training rows among them: the fill
        values come from those rows only (the others are held out). Default: every row kept.

    Returns
    -------
    Cleaned
        The rows kept (filled), the fill values and a note per change.

    Raises
    ------
    InputError
        With ``refuse`` and a missing cell (`missing_message`), for an unknown strategy, or
        when no row is left.
    """
    if strategy not in MISSING:
        raise InputError(f"unknown missing-value strategy {strategy!r}; choose one of: {', '.join(MISSING)}")
    columns = [*features, target]
    message = missing_message(frame, columns, target)
    if message is None:
        return Cleaned(frame)
    if strategy == "refuse":
        raise InputError(message)
    dropping = columns if strategy == "drop" else [target]
    keep = ~frame[dropping].isna().any(axis=1).to_numpy()
    cleaned = Cleaned(frame[keep])
    if not keep.all():
        why = "a missing cell" if strategy == "drop" else "no target value"
        cleaned.notes.append(f"missing: dropped {int((~keep).sum())} of {len(frame)} rows with {why}")
    if not keep.any():
        raise InputError(f"every row has {why}: nothing is left to train on")
    if strategy != "drop":
        source = cleaned.frame if fit_rows is None else cleaned.frame.iloc[fit_rows(len(cleaned.frame))]
        cleaned.fill = fill_values(source, features, strategy, categorical)
        counts = missing_counts(cleaned.frame, list(cleaned.fill))
        if counts:
            filled = ", ".join(f"{c!r} {n} with {cleaned.fill[c]!r}" for c, n in counts.items())
            cleaned.notes.append(f"missing: filled ({strategy}) {filled}")
        cleaned.frame = fill_missing(cleaned.frame, cleaned.fill)
    return cleaned


def fill_values(
    frame: Any, features: Sequence[str], strategy: str, categorical: Sequence[str] = ()
) -> dict[str, Any]:
    """The value each input column's missing cells take: its mean, median or most frequent value.

    Text, boolean and ``categorical`` columns take their most frequent value (the smallest on a
    tie) whatever the strategy. Every column gets one, so new rows can be filled at prediction.
    """
    import pandas as pd

    fill: dict[str, Any] = {}
    for column in features:
        present = frame[column].dropna()
        if present.empty:
            raise InputError(f"column {column!r} has no values at all: leave it out (--drop {column})")
        numeric = pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present)
        if numeric and column not in categorical and strategy in ("mean", "median"):
            values = present.to_numpy(dtype=float)
            fill[column] = float(np.mean(values) if strategy == "mean" else np.median(values))
        else:
            counts = present.value_counts(sort=False)
            top = counts[counts == counts.max()].index
            fill[column] = _plain(min(top) if numeric else sorted(top, key=str)[0])
    return fill


def fill_missing(frame: Any, fill: dict[str, Any]) -> Any:
    """``frame`` with the missing cells of each column in ``fill`` set to its value (a copy if any)."""
    present = [c for c in fill if c in frame.columns and frame[c].isna().any()]
    if not present:
        return frame
    frame = frame.copy()
    for column in present:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), fill[column])
        frame[column] = frame[column].infer_objects()
    return frame


def check_missing(
    frame: Any, columns: Sequence[str], needed: str | None = None, advice: str = "fill them"
) -> None:
    """Raise one `InputError` counting every missing cell of ``columns``, with where they are.

    Parameters
    ----------
    frame : DataFrame
    columns : sequence of str
    needed : str, optional
        When given, a column absent from ``frame`` is an error that names these columns.
    advice : str
        What the message ends with: how to get past it.
    """
    reports, total = [], 0
    for column in columns:
        if column not in frame.columns:
            if needed is None:
                continue
            raise InputError(f"column {column!r} is missing from the data (the model needs: {needed})")
        rows = np.flatnonzero(frame[column].isna().to_numpy())
        if rows.size:
            total += rows.size
            reports.append(f"{column!r} {rows.size} ({_where(frame.index, rows)})")
    if total:
        cells = "1 cell is" if total == 1 else f"{total} cells are"
        raise InputError(f"{cells} missing: {'; '.join(reports)}; {advice}")


def id_like(column: Any) -> str | None:
    """Why ``column`` looks like an identifier (text nearly all distinct, a running index), or None."""
    import pandas as pd

    present = column.dropna()
    n = len(present)
    if n < ID_MIN_DISTINCT or pd.api.types.is_bool_dtype(present):
        return None
    distinct = int(present.nunique())
    if not pd.api.types.is_numeric_dtype(present):
        numbers = pd.to_numeric(present, errors="coerce").notna().mean()
        if numbers < 0.5 and distinct > ID_MIN_DISTINCT and distinct > ID_SHARE * n:  # not a number column
            return f"text with {distinct} distinct values in {n} rows"
        return None
    values = present.to_numpy(dtype=float)
    if distinct == n and pd.api.types.is_integer_dtype(present) and np.all(np.diff(values) == 1):
        return f"a running integer index ({values[0]:.0f} to {values[-1]:.0f}, one up each row)"
    return None


def one_hot(
    labels: Sequence[str], categories: Sequence[str], column: str, unknown: str, index: Any = None
) -> np.ndarray:
    """0/1 columns, one per category; an unseen label is an all-zero row (warned) or an error.

    Parameters
    ----------
    labels : sequence of str
        The column's cells as text.
    categories : sequence of str
        The categories seen in training, in column order.
    column : str
        The column's name, for messages.
    unknown : {"ignore", "error"}
        What an unseen category does.
    index : pandas Index, optional
        The rows' index: one named ``"line"`` holds a CSV's line numbers, named in messages.
    """
    known = {c: i for i, c in enumerate(categories)}
    encoded = np.zeros((len(labels), len(categories)))
    unseen: dict[str, list[int]] = {}
    for row, label in enumerate(labels):
        if label in known:
            encoded[row, known[label]] = 1.0
        else:
            unseen.setdefault(label, []).append(row)
    if unseen:
        rows = sorted(r for group in unseen.values() for r in group)
        names = ", ".join(repr(label) for label in list(unseen)[:SHOWN]) + (
            ", ..." if len(unseen) > SHOWN else ""
        )
        counted = f"{len(rows)} row{'s' if len(rows) > 1 else ''}"
        said = (
            f"column {column!r}: {counted} ({_place(index, rows[0])}{', ...' if len(rows) > 1 else ''}) "
            f"{'have' if len(rows) > 1 else 'has'} a category not seen in training ({names}; "
            f"{len(categories)} known)"
        )
        if unknown == "error":
            raise InputError(f"{said}; --unknown ignore encodes them as all-zero one-hot rows")
        warnings.warn(
            f"{said}: encoded as all-zero one-hot rows (--unknown error to refuse them)",
            DataWarning,
            stacklevel=4,
        )
    return encoded


def refuse_non_finite(raw: Any, values: np.ndarray, column: str) -> None:
    """`InputError` naming the lines (or rows) where ``values``, a number column read from the
    pandas column ``raw``, is not finite (NaN, inf), the cells as written, and the fix."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        cells = ", ".join(f"{_place(raw.index, int(r))} {_plain(raw.iloc[int(r)])!r}" for r in bad[:SHOWN])
        more = f" and {bad.size - SHOWN} more" if bad.size > SHOWN else ""
        noun = "1 cell is" if bad.size == 1 else f"{bad.size} cells are"
        raise InputError(
            f"column {column!r}: {noun} not a finite number ({cells}{more}): fix or drop those rows"
        )


def _where(index: Any, rows: np.ndarray, shown: int = SHOWN) -> str:
    """``lines 2, 4, 7, ...`` (or ``rows ...``): where the first ``shown`` of ``rows`` are."""
    kind = "line" if getattr(index, "name", None) == "line" else "row"
    where = ", ".join(_place(index, int(r)).split()[1] for r in rows[:shown])
    return f"{kind}{'s' if rows.size > 1 else ''} {where}{', ...' if rows.size > shown else ''}"


def _place(index: Any, position: int) -> str:
    if getattr(index, "name", None) == "line":
        return f"line {index[position]}"
    return f"row {position + 1}"


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value, so fill values are JSON-ready."""
    return value.item() if isinstance(value, np.generic) else value
