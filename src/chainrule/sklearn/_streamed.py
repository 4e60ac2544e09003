"""Dask arrays and DataFrames given to the estimators' ``fit`` and ``partial_fit``: streamed, never whole.

scikit-learn's ``validate_data`` would compute a Dask collection whole; here only small things
are computed from it: the row count of each block (a DataFrame's), the classes (the
classifier's ``fit``; ``partial_fit`` is given them), and a regressor's target mean and spread.
The targets are encoded block by block, lazily, and the epochs stream the blocks through
`chainrule.fit` (`chainrule.train.stream`). With one block the fit is the in-memory fit.
``solver="lbfgs"`` with a ``distributed`` client running evaluates the loss and gradient on
the workers (`chainrule.dask.fit_lbfgs`), as dask-ml's estimators use the current client.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import is_classifier

from chainrule.train.stream import is_streamed

__all__ = ["cluster_client", "fit_streamed", "is_streamed", "target_scaling"]
Array = np.ndarray


def as_dask_array(data: Any, name: str) -> Any:
    """A Dask array of ``data`` with known block lengths (a DataFrame's are counted, a pass)."""
    import dask.array as da

    if data is None or isinstance(data, da.Array):
        return data
    if hasattr(data, "to_dask_array"):
        return data.to_dask_array(lengths=True)
    raise TypeError(f"{name} must be a Dask array or DataFrame like X, got {type(data).__name__}")


def check_features(est: Any, X: Any, data: Any, first: bool) -> None:
    """Set (first fit) or check ``n_features_in_`` and ``feature_names_in_`` as ``validate_data`` does."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array, got a Dask array of shape {X.shape}")
    names = [str(c) for c in getattr(data, "columns", [])]
    if first:
        est.n_features_in_ = X.shape[1]
        if names and all(isinstance(c, str) for c in data.columns):
            est.feature_names_in_ = np.asarray(names, dtype=object)
        else:
            est.__dict__.pop("feature_names_in_", None)
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )


def start_targets(est: Any, y: Any, weights: Any, incremental: bool) -> None:
    """Fit the target encoding from what the blocks summarise (the classes, or the mean and spread)."""
    if is_classifier(est):
        if y.ndim != 1:
            raise ValueError("a Dask y must be one label per row (multi-label targets need arrays)")
        given = est.__dict__.get("_partial_classes") if incremental else None
        classes = given if given is not None else _unique(y)
        est._encode_targets(np.asarray(classes), True, incremental, None)
        return
    est._single_output = y.ndim == 1
    columns = 1 if y.ndim == 1 else y.shape[1]
    est._y_mean, est._y_scale = target_scaling(y.reshape(-1, columns), weights, est.target_scaling)


def _unique(y: Any) -> Array:
    import dask.array as da

    return da.unique(y).compute()


def target_scaling(Y: Any, weights: Any, scaling: bool = True) -> tuple[Array, Array]:
    """The mean and spread a regressor scales its targets by: ``np.average``'s, weighted.

    ``Y`` (of shape (n_samples, n_outputs)) and ``weights`` are NumPy or Dask arrays; Dask ones
    are reduced block by block (with one block, to the same numbers). A zero spread is 1.
    Without ``scaling``: zeros and ones.
    """
    if not scaling:
        return np.zeros(Y.shape[1]), np.ones(Y.shape[1])
    w = None if weights is None else weights[:, None]
    total = Y.shape[0] if w is None else w.sum(axis=0)
    mean = _computed((Y if w is None else Y * w).sum(axis=0) / total)
    squared = (Y - mean) ** 2
    spread = np.sqrt(_computed((squared if w is None else squared * w).sum(axis=0) / total))
    return mean, np.where(spread > 0, spread, 1.0)


def _computed(value: Any) -> Array:
    return np.asarray(value.compute() if hasattr(value, "compute") else value)


def encode_block(est: Any, y: Array, incremental: bool) -> Array:
    """One block's targets as the network's outputs (the encoding `start_targets` fitted)."""
    return est._encode_targets(y, False, incremental, None)


def fit_streamed(est: Any, X: Any, y: Any, sample_weight: Any, incremental: bool) -> Any:
    """The estimators' ``_fit`` for Dask ``X``: check, start the targets, then stream the epochs."""
    import dask
    import dask.array as da

    if est.early_stopping:
        raise ValueError("early_stopping=True holds rows out of arrays in memory; pass early_stopping=False")
    if getattr(est, "class_weight", None) is not None:
        raise ValueError("class_weight needs arrays in memory; give sample_weight as a Dask collection")
    before = dict(est.__dict__)
    try:
        fitted = "network_" in est.__dict__
        first = not fitted or not (incremental or est.warm_start) or est._architecture_changed()
        data, X = X, as_dask_array(X, "X")
        y, weights = as_dask_array(y, "y"), as_dask_array(sample_weight, "sample_weight")
        check_features(est, X, data, first)
        dtype = (np.dtype(est.dtype or _float(X.dtype)) if first else est.network_.dtype).type
        if first:
            start_targets(est, y, weights, incremental)
        y = y.rechunk({0: X.chunks[0]})
        outputs = est._encode_targets(np.asarray(y[:1].compute()), False, incremental, None).shape[1]
        Y = da.concatenate(
            [
                da.from_delayed(dask.delayed(encode_block)(est, block, incremental), (rows, outputs), dtype)
                for block, rows in zip(np.ravel(y.to_delayed()), X.chunks[0], strict=True)
            ]
        )
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(before)
        raise
    try:
        if first:
            est._start(X.shape[1], np.zeros((1, outputs)), np.dtype(dtype))
        est._train(X.astype(dtype), Y.astype(dtype), y, weights, incremental)
    except BaseException:
        est._unfit()
        raise
    return est


def _float(dtype: Any) -> Any:
    return dtype if dtype in (np.float64, np.float32) else np.float64


def cluster_client() -> Any:
    """The running ``distributed`` client, or None (none running, or distributed not installed)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None
