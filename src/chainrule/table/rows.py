"""Rows of a table as a pandas DataFrame, whatever shape the caller holds them in.

`TableModel` and `train_table` take a pandas DataFrame, a polars DataFrame, a dict of columns,
a dict of one row's values, or a list of dicts (one per row); they all become the same pandas
DataFrame here, so every front end reads a table one way. Plain arrays are refused: their
columns have no names, so they could only be guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.io.tables import pandas_module

ACCEPTED = "a pandas or polars DataFrame, a dict of columns, or a list of dicts (one per row)"


def as_frame(rows: Any, refusal: str) -> Any:
    """``rows`` as a pandas DataFrame (a pandas one is returned as it is, not copied).

    Parameters
    ----------
    rows : DataFrame, polars.DataFrame, dict or list of dict
        A dict whose values are all scalars is one row; otherwise each value is a column.
    refusal : str
        What to say when ``rows`` is an array or a list of lists: how to pass such data instead.

    Returns
    -------
    pandas.DataFrame
        One row per row given, one column per column.

    Raises
    ------
    InputError
        For an array, a list of lists or anything else that is not a table; or (from
        `pandas_module`) when pandas is missing, naming ``pip install "chainrule[cli]"``.

    Examples
    --------
    >>> from chainrule.table import as_frame
    >>> as_frame({"x": [1.0, 2.0], "colour": ["red", "blue"]}, "pass columns").shape
    (2, 2)
    >>> as_frame({"x": 1.0, "colour": "red"}, "pass columns").shape  # scalars: one row
    (1, 2)
    >>> as_frame([[1.0, 2.0]], "pass a dict of columns instead")
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: pass a dict of columns instead
    """
    pd = pandas_module()
    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, pd.Series):
        return pd.DataFrame([rows.to_dict()])
    if _is_polars(rows):
        return pd.DataFrame(rows.to_dict(as_series=False))
    if isinstance(rows, Mapping):
        if rows and all(np.ndim(value) == 0 for value in rows.values()):
            return pd.DataFrame([dict(rows)])
        return pd.DataFrame(dict(rows))
    if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
        if rows and all(isinstance(row, Mapping) for row in rows):
            return pd.DataFrame([dict(row) for row in rows])
        if not rows:
            raise InputError("there are no rows")
    if isinstance(rows, np.ndarray) or isinstance(rows, Sequence):
        raise InputError(refusal)
    raise InputError(f"expected {ACCEPTED}, got {type(rows).__name__}")


def _is_polars(rows: Any) -> bool:
    return type(rows).__module__.split(".")[0] == "polars" and hasattr(rows, "to_dict")
