"""Loss functions with an explicit reduction, so every seed's update can be written exactly.

Each loss returns its value and dLoss/d(output). ``reduction`` says how the per-element losses
are combined: ``"sum"`` over the batch (seeds 000, 002, 004) or ``"mean"`` (seed 001, Keras,
scikit-learn). Two pairs have a simpler output delta than the chain rule gives term by term:
sigmoid + binary cross-entropy and softmax + categorical cross-entropy, where dLoss/dz is
``(out - y) / n``. `output_delta` returns that shortcut for exactly those pairs.
"""

from __future__ import annotations

import numpy as np

from chainrule.activations import Activation

Array = np.ndarray


def _clip_probabilities(out: Array) -> Array:
    eps = np.finfo(out.dtype).eps
    return np.clip(out, eps, 1.0 - eps)


class Loss:
    """A scalar loss of outputs ``out`` against targets ``y``, both ``(n_samples, n_outputs)``."""

    name: str = ""
    reduction: str = "mean"
    #: True when the targets are class labels (used for metrics and stratified splits).
    classification: bool = False

    def __call__(self, y: Array, out: Array) -> float:
        """Return the loss value as a Python float."""
        raise NotImplementedError

    def gradient(self, y: Array, out: Array) -> Array:
        """Return dLoss/d(out), same shape as ``out``."""
        raise NotImplementedError

    def output_delta(self, activation: Activation, y: Array, out: Array) -> Array | None:
        """Return dLoss/dz for the output layer when a fused shortcut exists, else None."""
        return None

    def sample_losses(self, y: Array, out: Array) -> Array:
        """Per-sample losses ``l`` with ``loss == l.sum()`` ("sum") or ``l.mean()`` ("mean").

        Weighting samples multiplies their ``l`` (and their rows of the gradient) by weights.
        """
        raise NotImplementedError

    def weighted(self, y: Array, out: Array, weights: Array) -> float:
        """The loss with sample weights: ``sum(w * l)``, or ``sum(w * l) / sum(w)`` for means.

        Integer weights then act as repeated samples, as in scikit-learn.
        """
        total = float(np.dot(self.sample_losses(y, out), weights))
        return total if self.reduction == "sum" else total / max(float(weights.sum()), 1e-300)

    def row_weights(self, weights: Array) -> Array:
        """Factors for the rows of dLoss/d(out) that turn the unweighted gradient into `weighted`'s."""
        if self.reduction == "sum":
            return weights
        return weights * (weights.size / max(float(weights.sum()), 1e-300))

    def __repr__(self) -> str:
        return self.name


class SquaredError(Loss):
    """``scale * sum((y - out)**2)``; the four squared-error losses differ only in ``scale``."""

    def __init__(self, name: str, half: bool, reduction: str) -> None:
        self.name = name
        self.half = half
        self.reduction = reduction

    def _scale(self, out: Array) -> float:
        scale = 0.5 if self.half else 1.0
        return scale / out.size if self.reduction == "mean" else scale

    def __call__(self, y: Array, out: Array) -> float:
        diff = out - y
        return float(np.vdot(diff, diff)) * self._scale(out)

    def sample_losses(self, y: Array, out: Array) -> Array:
        diff = out - y
        per_row = np.einsum("ij,ij->i", diff, diff) * (0.5 if self.half else 1.0)
        return per_row / out.shape[1] if self.reduction == "mean" else per_row

    def gradient(self, y: Array, out: Array) -> Array:
        grad = out - y
        scale = 2.0 * self._scale(out)
        if scale != 1.0:  # half_sse's gradient is out - y itself
            grad *= scale
        return grad


class MeanAbsoluteError(Loss):
    """``mean(|y - out|)`` over samples and outputs."""

    name = "mae"

    def __call__(self, y: Array, out: Array) -> float:
        return float(np.abs(out - y).sum()) / out.size

    def sample_losses(self, y: Array, out: Array) -> Array:
        return np.abs(out - y).mean(axis=1)

    def gradient(self, y: Array, out: Array) -> Array:
        grad = np.sign(out - y)
        grad *= 1.0 / out.size
        return grad


class BinaryCrossEntropy(Loss):
    """``-mean(y log(out) + (1 - y) log(1 - out))`` over samples and outputs (Keras)."""

    name = "binary_crossentropy"
    classification = True

    def __call__(self, y: Array, out: Array) -> float:
        p = _clip_probabilities(out)
        return -float(np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p))) / out.size

    def sample_losses(self, y: Array, out: Array) -> Array:
        p = _clip_probabilities(out)
        return -(y * np.log(p) + (1.0 - y) * np.log1p(-p)).mean(axis=1)

    def gradient(self, y: Array, out: Array) -> Array:
        p = _clip_probabilities(out)
        return (p - y) / (p * (1.0 - p)) / out.size

    def output_delta(self, activation: Activation, y: Array, out: Array) -> Array | None:
        if activation.name != "sigmoid":
            return None
        delta = out - y  # sigmoid' cancels the 1 / (p (1 - p)) of the gradient
        delta *= 1.0 / out.size
        return delta


class CategoricalCrossEntropy(Loss):
    """``-mean over samples of sum over classes of y log(out)``; ``y`` one-hot rows."""

    name = "categorical_crossentropy"
    classification = True

    def __call__(self, y: Array, out: Array) -> float:
        p = _clip_probabilities(out)
        return -float(np.vdot(y, np.log(p))) / out.shape[0]

    def sample_losses(self, y: Array, out: Array) -> Array:
        return -np.einsum("ij,ij->i", y, np.log(_clip_probabilities(out)))

    def gradient(self, y: Array, out: Array) -> Array:
        return -y / _clip_probabilities(out) / out.shape[0]

    def output_delta(self, activation: Activation, y: Array, out: Array) -> Array | None:
        if activation.name != "softmax":
            return None
        delta = out - y  # the softmax Jacobian times -y/p collapses to p - y for one-hot rows
        delta *= 1.0 / out.shape[0]
        return delta


LOSSES: dict[str, Loss] = {
    "sse": SquaredError("sse", half=False, reduction="sum"),
    "half_sse": SquaredError("half_sse", half=True, reduction="sum"),
    "mse": SquaredError("mse", half=False, reduction="mean"),
    "half_mse": SquaredError("half_mse", half=True, reduction="mean"),
    "mae": MeanAbsoluteError(),
    "binary_crossentropy": BinaryCrossEntropy(),
    "categorical_crossentropy": CategoricalCrossEntropy(),
}


def get_loss(spec: str | Loss) -> Loss:
    """Return a loss by name or pass an instance through."""
    if isinstance(spec, Loss):
        return spec
    try:
        return LOSSES[spec]
    except (KeyError, TypeError):
        known = ", ".join(LOSSES)
        raise ValueError(f"unknown loss {spec!r}; choose one of: {known}") from None


def default_loss(output_activation: Activation) -> Loss:
    """The loss a classifier or regressor with this output would normally use."""
    if output_activation.name == "softmax":
        return LOSSES["categorical_crossentropy"]
    if output_activation.name == "sigmoid":
        return LOSSES["binary_crossentropy"]
    return LOSSES["mse"]
