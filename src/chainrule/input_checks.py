"""Turn what users pass as X and y into the 2-D float arrays the network computes with.

Every public entry point goes through here, so bad data fails early with an `InputError`
that names the problem and the fix, instead of a NumPy broadcasting error deep in a step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.errors import InputError

Array = np.ndarray


def as_matrix(data: Any, what: str, dtype: np.dtype, n_columns: int | None = None) -> Array:
    """Return ``data`` as a C-contiguous 2-D array of ``dtype`` with finite values.

    A 1-D array is one sample when ``n_columns`` says it has that many features, else a
    column (one feature, or one target per sample).
    """
    array = _numeric(data, what)
    if array.ndim == 1:
        array = array[None, :] if n_columns is not None and array.size == n_columns > 1 else array[:, None]
    elif array.ndim != 2:
        raise InputError(f"{what} must be 1-D or 2-D, got an array of shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"{what} is empty: it has no rows")
    if array.shape[1] == 0:
        raise InputError(f"{what} has no columns")
    if n_columns is not None and array.shape[1] != n_columns:
        raise InputError(
            f"{what} has {array.shape[1]} columns but the network expects {n_columns}: "
            "pass the same features, in the same order, as the network was built for"
        )
    array = np.ascontiguousarray(array, dtype=dtype)
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InputError(
            f"{what} contains NaN or infinite values (first at row {bad[0]}, column {bad[1]}): "
            "drop or impute them before training or predicting"
        )
    return array


def _numeric(data: Any, what: str) -> Array:
    if hasattr(data, "to_numpy"):  # pandas DataFrame or Series, without importing pandas
        data = data.to_numpy()
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged lists
        raise InputError(f"{what} cannot be read as a numeric array: {exc}") from None
    if array.dtype.kind in "biuf":
        return array
    if array.dtype.kind == "O":
        try:
            return array.astype(np.float64)
        except (ValueError, TypeError):
            pass
    raise InputError(
        f"{what} must be numeric, got dtype {array.dtype}: encode text or categories as "
        "numbers first (for example one-hot columns)"
    )


def check_lengths(X: Array, y: Array) -> None:
    """Raise if X and y have different numbers of rows."""
    if X.shape[0] != y.shape[0]:
        raise InputError(f"X has {X.shape[0]} rows but y has {y.shape[0]}: each sample needs one target row")
