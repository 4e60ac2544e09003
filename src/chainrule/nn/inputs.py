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
        if n_columns is not None and n_columns > 1 and array.size != n_columns:
            hint = f" for {array.size // n_columns} samples" if array.size % n_columns == 0 else ""
            raise InputError(
                f"{what} is 1-D with {array.size} values but the network expects rows of {n_columns} "
                f"features: pass a 2-D array, e.g. {what}.reshape(-1, {n_columns}){hint}"
            )
        array = array[None, :] if n_columns is not None and array.size == n_columns > 1 else array[:, None]
    elif array.ndim != 2:
        raise InputError(_shape_message(array, what))
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
    _check_finite(array, what)
    return array


def _shape_message(array: Array, what: str) -> str:
    """Why an array of 0 or more than 2 dimensions cannot be ``what``, and how to reshape it."""
    rows = "rows x features" if what == "X" else "one row per sample"
    expected = f"{what} must be 1-D or 2-D ({rows})"
    if array.ndim == 0:
        return (
            f"{expected}, got a single number (a 0-d array): for one sample, pass np.reshape({what}, (1, -1))"
        )
    return (
        f"{expected}, got an array of shape {array.shape}: pass one row per sample, "
        f"e.g. {what}.reshape(len({what}), -1)"
    )


def _check_finite(array: Array, what: str) -> None:
    # In blocks of rows, so a memory-mapped data set is never materialised whole.
    rows = max(1, 2**16 // array.shape[1])
    for start in range(0, array.shape[0], rows):
        block = array[start : start + rows]
        finite = np.isfinite(block)
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            raise InputError(
                f"{what} contains NaN or infinite values (first at row {start + row}, column {column}): "
                "drop or impute them before training or predicting"
            )


def _refuse_gpu_arrays(data: Any, what: str) -> None:
    """Raise a clear error for a CuPy (or other CUDA) array: chainrule computes with NumPy."""
    module = type(data).__module__ or ""
    if hasattr(type(data), "__cuda_array_interface__") or module.split(".")[0] == "cupy":
        raise InputError(
            f"{what} is a GPU array ({module}.{type(data).__name__}); chainrule computes on the CPU "
            f"with NumPy: copy it to host memory first, with {what}.get() or cupy.asnumpy({what}) "
            f"for CuPy ({what}.cpu().numpy() for a PyTorch tensor)"
        )


def _numeric(data: Any, what: str) -> Array:
    _refuse_gpu_arrays(data, what)
    is_pandas = (type(data).__module__ or "").split(".")[0] == "pandas"
    if hasattr(data, "to_numpy") and not is_pandas:  # polars (nulls become NaN), pyarrow, xarray...
        data = data.to_numpy()
    elif is_pandas and hasattr(data, "to_numpy"):  # without importing pandas
        try:  # nullable columns (Int64 with <NA>) become NaN, reported below with their row
            return data.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            dtypes = getattr(data, "dtypes", None)
            columns = (
                []
                if dtypes is None or not hasattr(dtypes, "items")
                else [
                    str(name) for name, dtype in dtypes.items() if getattr(dtype, "kind", "O") not in "biuf"
                ]
            )
            named = f" (columns {', '.join(columns)})" if columns else ""
            raise InputError(
                f"{what} must be numeric but has non-numeric values{named}: encode text or "
                "categories as numbers first (for example one-hot columns)"
            ) from None
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged lists
        raise InputError(f"{what} cannot be read as a numeric array: {exc}") from None
    if array.dtype.kind in "biuf":
        return array
    if array.dtype.kind == "O" and not any(isinstance(v, (str, bytes)) for v in array.ravel()):
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
    if y.shape[0] == 1 and y.shape[1] == X.shape[0] > 1:
        raise InputError(
            f"y has shape {y.shape}: one row of {y.shape[1]} targets, but X has {X.shape[0]} rows; "
            "pass y as a column (y.T, or y.ravel() for one output)"
        )
    if X.shape[0] != y.shape[0]:
        raise InputError(f"X has {X.shape[0]} rows but y has {y.shape[0]}: each sample needs one target row")


def one_hot(labels: Any, n_classes: int | None = None) -> Array:
    """One-hot rows for integer class labels 0..n_classes-1.

    Parameters
    ----------
    labels : array-like of int, shape (n_samples,)
        Class labels 0, 1, ..., ``n_classes - 1``.
    n_classes : int, optional
        Default: the largest label plus one.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        A 1 in each row's label column, 0 elsewhere (float64).

    Examples
    --------
    >>> one_hot([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        raise InputError("one_hot needs at least one label, got none")
    if labels.dtype.kind not in "biuf":
        raise InputError(
            f"one_hot needs integer class labels 0, 1, ..., got {labels.dtype} values such as "
            f"{labels[0].item()!r}: number them first, e.g. np.unique(labels, return_inverse=True)[1]"
        )
    if labels.dtype.kind not in "iu" and not np.all(labels == np.round(labels)):
        raise InputError("one_hot needs integer class labels 0, 1, ...")
    labels = labels.astype(np.int64)
    n = int(labels.max()) + 1 if n_classes is None else n_classes
    if labels.min() < 0 or labels.max() >= n:
        raise InputError(f"class labels must be in 0..{n - 1}")
    out = np.zeros((labels.size, n))
    out[np.arange(labels.size), labels] = 1.0
    return out


def as_targets(y: Any, n_outputs: int, dtype: np.dtype, sparse_labels: bool = False) -> Array:
    """``y`` as a checked 2-D array of ``dtype`` with ``n_outputs`` columns.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_outputs), or (n_samples,)
    n_outputs : int
        The network's output width.
    dtype : numpy dtype
    sparse_labels : bool
        Accept one integer class label ``0 .. n_outputs-1`` per sample and one-hot encode it
        (Keras' "sparse" targets, for softmax outputs).

    Raises
    ------
    InputError
        For a wrong shape, with the fix (a column; integer labels or one-hot rows), or bad values.
    """
    y = as_matrix(y, "y", dtype)
    if y.shape[1] == n_outputs:
        return y
    if y.shape[0] == 1:
        raise InputError(
            f"y has shape {y.shape}: one row of {y.shape[1]} targets, but the network has "
            f"{n_outputs} output(s); for one target per sample pass a column (y.T, or y.ravel())"
        )
    if y.shape[1] == 1 and sparse_labels:
        labels = y[:, 0]
        if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < n_outputs):
            raise InputError(
                f"y has one column for a softmax network with {n_outputs} outputs: give integer class "
                f"labels 0..{n_outputs - 1} (got values from {labels.min():g} to {labels.max():g}), "
                "or one-hot rows"
            )
        return one_hot(labels.astype(np.int64), n_outputs).astype(dtype)
    if y.shape[1] == 1 and n_outputs > 1:
        raise InputError(
            f"y has one column but the network has {n_outputs} outputs: one-hot "
            "encode class labels (chainrule.one_hot(labels)) before training"
        )
    raise InputError(f"y has {y.shape[1]} columns but the network has {n_outputs} outputs")
