"""One row at a time: `predict` for serving, with its checks made once and the products run directly.

`chainrule.Network.predict` checks and converts its input every call (shape, dtype, finite
values), which costs more than a small network's two products. `Predictor` checks the network
once, keeps one output buffer per layer, and per call only converts the row: its outputs are
bit-identical to ``net.predict`` (the same products, the same kernels, in the same order). A row
with NaN or infinite values (or values so large that their squares overflow), or of the wrong
shape, goes through ``predict`` itself, so it fails with the same `chainrule.errors.InputError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.errors import NotInitializedError
from chainrule.nn import kernels
from chainrule.nn.layers import Dense, Dropout, Layer

Array = np.ndarray


class Predictor:
    """``predictor(row)``: the network's output for one sample, as ``predict`` computes it.

    Parameters
    ----------
    layers : list of Layer
        Dense and Dropout layers (Dropout is the identity at inference), with weights.
    dtype : numpy dtype
        The network's dtype; rows are converted to it.
    predict : callable
        The network's own ``predict``, for rows that are not finite.

    Notes
    -----
    The predictor holds the layers' weight arrays: training the network in place (`fit`)
    is seen by it, but a change of dtype or of the layers is not; make a new one then. It uses
    the backend of the context it was made in. Not thread-safe: each thread needs its own.
    """

    def __init__(self, layers: Sequence[Layer], dtype: np.dtype, predict: Callable[[Any], Array]) -> None:
        dense = [layer for layer in layers if not isinstance(layer, Dropout)]
        if not all(isinstance(layer, Dense) for layer in dense):
            raise TypeError("a Predictor runs Dense and Dropout layers only; use predict for others")
        if not all(layer.initialized for layer in dense):
            raise NotInitializedError("the network has no weights yet: fit it or load it first")
        self.dtype, self.predict = np.dtype(dtype), predict
        self.n_inputs = dense[0].n_in
        forward = kernels.current().dense_forward
        self.steps = [
            (layer.params["W"], layer.params.get("b"), layer.activation, *self.buffers(layer.n_out), forward)
            for layer in dense
        ]

    def buffers(self, width: int) -> tuple[Array, Array]:
        """A layer's ``z`` and output for one row."""
        return np.empty((1, width), self.dtype), np.empty((1, width), self.dtype)

    def __call__(self, row: Any) -> Array:
        """The output for ``row``, of shape ``(n_inputs,)`` (or ``(1, n_inputs)``): 1-D for 1-D.

        Raises
        ------
        InputError
            As `chainrule.Network.predict` does, for a row of the wrong length or non-finite values.
        """
        if type(row) is np.ndarray and row.dtype == self.dtype:
            x = row
        else:
            try:
                x = np.asarray(row, self.dtype)
            except (TypeError, ValueError):
                return self.predict(row)  # predict names what is wrong
        single = x.ndim == 1
        if x.size != self.n_inputs or x.ndim not in (1, 2) or x.shape[-1] != self.n_inputs:
            return self.predict(row)  # predict names what is wrong
        out = x.reshape(1, self.n_inputs)
        flat = out[0]
        if not math.isfinite(flat @ flat):  # NaN or inf (or a huge value): predict decides
            return self.predict(row)
        for W, b, activation, z, buffer, forward in self.steps:
            np.matmul(out, W, out=z)
            out = forward(z, b, activation, buffer)
        return out[0].copy() if single else out.copy()
