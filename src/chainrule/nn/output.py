"""The end of a step's forward pass: loss value, output delta and metric counts in one call.

`OutputBlock` is made once per `fit` for a loss and an output activation. For the common
pairs (softmax + categorical cross-entropy, sigmoid + binary cross-entropy, any squared error)
it hands the whole block to one kernel (`chainrule.nn.kernels`), which also counts the batch's
accuracy, or its sum of squares, so those metrics cost no pass of their own. What the targets
are (exact one-hot rows, one label per row) is checked once, on the whole target array, not
per batch. Any other loss, and sample weights, take the loss's own methods.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.nn import kernels
from chainrule.nn.activations import Activation, Sigmoid, Softmax
from chainrule.nn.losses import BinaryCrossEntropy, CategoricalCrossEntropy, Loss, SquaredError

Array = np.ndarray


def block_kind(loss: Loss, activation: Activation) -> str | None:
    """The kernel's name for this loss and output activation, or None for the general path."""
    if type(loss) is CategoricalCrossEntropy and type(activation) is Softmax:
        return "softmax_cce"
    if type(loss) is BinaryCrossEntropy and type(activation) is Sigmoid:
        return "sigmoid_bce"
    if type(loss) is SquaredError:
        return "squared"
    return None


class OutputBlock:
    """Loss value and output delta for a batch; accuracy or squared error alongside.

    Parameters
    ----------
    loss : Loss
    activation : Activation
        The output layer's; with a fusing pair the delta is dLoss/dz, else dLoss/d(output).
    y : ndarray of shape (n_samples, n_outputs), optional
        All the targets of the run, inspected once: exact one-hot rows (cross-entropy from the
        true class alone) and one target above 0.5 per row (accuracy by argmax). Without
        them the block computes no metric and uses the general cross-entropy.

    Attributes
    ----------
    fused : bool
        The delta is dLoss/dz of the output layer (``delta_scale * (out - y)``).
    accuracy : float
        The last batch's accuracy, counted by the kernel (cross-entropies; NaN otherwise).
    squares : float
        The last batch's sum of squared differences (squared errors; NaN otherwise).
    """

    def __init__(self, loss: Loss, activation: Activation, y: Array | None = None) -> None:
        self.loss = loss
        self.fused = loss.fuses_with(activation)
        self.kind = block_kind(loss, activation)
        self.one_hot = self.argmax_rule = False
        self.inspected = y is not None
        if y is not None and y.shape[1] > 1:
            self.argmax_rule = bool(np.all(np.count_nonzero(y > 0.5, axis=1) == 1))
            self.one_hot = (
                self.kind == "softmax_cce" and self.argmax_rule and bool(np.all((y == 0.0) | (y == 1.0)))
            )
        self.accuracy = self.squares = math.nan
        self._delta: Array | None = None
        self._scales: dict[tuple[int, ...], float] = {}  # Loss.delta_scale by batch shape

    def gives(self, metric: str) -> bool:
        """Whether `score` gives ``metric`` for each batch without a pass of its own."""
        if self.kind == "squared":
            return metric == "mse"
        return metric == "accuracy" and self.kind is not None and self.inspected

    def score(self, metric: str, out: Array) -> float:
        """The last batch's value of a metric that `gives` says this block provides."""
        return self.squares / out.size if metric == "mse" else self.accuracy

    def __call__(self, y: Array, out: Array, weights: Array | None = None) -> tuple[float, Array]:
        """Return the batch loss and the output delta (a buffer reused across batches).

        When the loss is not finite the delta is not to be used (no step follows).

        Parameters
        ----------
        y, out : ndarray of shape (n_samples, n_outputs)
        weights : ndarray of shape (n_samples,), optional
            Sample weights (the general path).
        """
        loss = self.loss
        if weights is None and self.kind is not None:
            delta = self._delta
            if delta is None or delta.shape != out.shape or delta.dtype != out.dtype:
                delta = self._delta = np.empty_like(out)
            scale = self._scales.get(out.shape)
            if scale is None:
                scale = self._scales[out.shape] = loss.delta_scale(out.shape)
            value, self.accuracy, self.squares = kernels.current().output_block(
                self.kind, y, out, delta, scale, self.one_hot, self.argmax_rule
            )
            return value, delta
        value = loss(y, out) if weights is None else loss.weighted(y, out, weights)
        if not math.isfinite(value):  # no step follows: skip the gradient (and its warnings)
            return value, out
        grad = loss.fused_delta(y, out) if self.fused else loss.gradient(y, out)
        if weights is not None:
            grad *= loss.row_weights(weights)[:, None]
        return value, grad
