"""Loss functions with an explicit reduction, so every seed's update can be written exactly.

Each loss returns its value and dLoss/d(output). ``reduction`` says how the per-element losses
are combined: ``"sum"`` over the batch (seeds 000, 002, 004) or ``"mean"`` (seed 001, Keras,
scikit-learn). Two pairs have a simpler output delta than the chain rule gives term by term:
sigmoid + binary cross-entropy and softmax + categorical cross-entropy, where dLoss/dz is
``(out - y) / n``: `Loss.fuses_with` names the pair and `Loss.fused_delta` computes it.

This module is also the one home of what outputs and targets mean: which output layer and loss
a task uses (`output_for_task`, `default_loss`), and how outputs become class labels
(`class_indices`).
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.errors import InputError
from chainrule.nn.activations import Activation
from chainrule.nn.names import lookup

Array = np.ndarray


def class_indices(values: Array) -> Array:
    """Class index per row: argmax of several columns, ``value > 0.5`` for a single column.

    The one rule for outputs (probabilities) and targets (one-hot rows or 0/1 labels) alike.
    """
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] > 1:
        return values.argmax(axis=1)
    return (values.reshape(values.shape[0], -1)[:, 0] > 0.5).astype(np.int64)


def _clip_probabilities(out: Array) -> Array:
    eps = np.finfo(out.dtype).eps
    return np.clip(out, eps, 1.0 - eps)


class Loss:
    """A scalar loss of outputs ``out`` against targets ``y``, both ``(n_samples, n_outputs)``.

    Calling a loss gives its value; `gradient` gives dLoss/d(out). `get_loss` returns the
    built-in ones by name; a subclass defines ``__call__``, `gradient` and `sample_losses`.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> mse = cr.get_loss("mse")
    >>> y, out = np.array([[1.0], [0.0]]), np.array([[0.8], [0.4]])
    >>> round(mse(y, out), 6)  # ((1 - 0.8)**2 + (0 - 0.4)**2) / 2
    0.1
    >>> mse.gradient(y, out)  # 2 * (out - y) / 2
    array([[-0.2],
           [ 0.4]])
    """

    name: str = ""
    reduction: str = "mean"
    #: True when the targets are class labels (used for metrics and stratified splits).
    classification: bool = False
    #: The output activation whose derivative cancels against this loss's gradient, if any.
    fused_activation: str | None = None
    #: The loss and its gradient dLoss/d(out) as text, for the step trace.
    formula: str = ""
    gradient_formula: str = ""

    def __call__(self, y: Array, out: Array) -> float:
        """Return the loss value as a Python float."""
        raise NotImplementedError

    def gradient(self, y: Array, out: Array) -> Array:
        """Return dLoss/d(out), same shape as ``out``.

        Parameters
        ----------
        y : ndarray of shape (n_samples, n_outputs)
            Targets.
        out : ndarray of shape (n_samples, n_outputs)
            The network's outputs.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            The gradient of the loss value with respect to each output.
        """
        raise NotImplementedError

    def fuses_with(self, activation: Activation) -> bool:
        """Whether the output delta dLoss/dz has the fused form `fused_delta` for ``activation``.

        Parameters
        ----------
        activation : Activation
            The output layer's activation.

        Returns
        -------
        bool
            True for sigmoid with binary cross-entropy and softmax with categorical
            cross-entropy, whose slopes cancel to ``(out - y)`` times `delta_scale`.
        """
        return self.fused_activation is not None and activation.name == self.fused_activation

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        """The factor ``c`` of this loss's linear output delta ``c * (out - y)``, for outputs of ``shape``.

        The one home of that rule: ``1/n`` for categorical cross-entropy (dLoss/dz with
        softmax), ``1/size`` for binary cross-entropy (dLoss/dz with sigmoid), and for the
        squared errors dLoss/d(out), ``2 * scale``. `fused_delta`, `SquaredError.gradient`,
        the output block's kernels and the compiled chunk all take ``c`` from here.

        Parameters
        ----------
        shape : tuple of int
            The outputs' shape ``(n_samples, n_outputs)``.

        Returns
        -------
        float
            The factor ``c``.

        Raises
        ------
        TypeError
            For a loss whose delta is not a multiple of ``out - y``.
        """
        raise TypeError(f"{self.name} has no linear output delta")

    def fused_delta(self, y: Array, out: Array) -> Array:
        """dLoss/dz of the output layer for the fused pair, ``(out - y) * delta_scale`` (a new array).

        Parameters
        ----------
        y : ndarray of shape (n_samples, n_outputs)
            Targets.
        out : ndarray of shape (n_samples, n_outputs)
            The outputs of the activation this loss fuses with.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            The output layer's delta dLoss/dz.

        Raises
        ------
        TypeError
            For a loss without a fused pair.
        """
        if self.fused_activation is None:
            raise TypeError(f"{self.name} has no fused output delta")
        delta = out - y  # the output activation's slope cancels against the loss's gradient
        delta *= self.delta_scale(out.shape)
        return delta

    def check_targets(self, y: Array, whole: bool = True) -> None:
        """Raise `InputError` if ``y`` cannot be learned with this loss (range, encoding, classes).

        Parameters
        ----------
        y : ndarray of shape (n_samples, n_outputs)
            Targets.
        whole : bool
            ``y`` is the whole training set, which must hold two classes or more; a batch or
            validation rows need only the right range and encoding.
        """
        if whole and self.classification and np.unique(class_indices(y)).size < 2:
            raise InputError(
                "the targets hold a single class: a classifier needs examples of at least two "
                "classes (check the labels, or how the data were filtered or split)"
            )

    def sample_losses(self, y: Array, out: Array) -> Array:
        """Per-sample losses ``l`` with ``loss == l.sum()`` ("sum") or ``l.mean()`` ("mean").

        Weighting samples multiplies their ``l`` (and their rows of the gradient) by weights.

        Parameters
        ----------
        y : ndarray of shape (n_samples, n_outputs)
            Targets.
        out : ndarray of shape (n_samples, n_outputs)
            The network's outputs.

        Returns
        -------
        ndarray of shape (n_samples,)
            One loss per sample.
        """
        raise NotImplementedError

    def weighted(self, y: Array, out: Array, weights: Array) -> float:
        """The loss with sample weights: ``sum(w * l)``, or ``sum(w * l) / sum(w)`` for means.

        Integer weights then act as repeated samples, as in scikit-learn.

        Parameters
        ----------
        y : ndarray of shape (n_samples, n_outputs)
            Targets.
        out : ndarray of shape (n_samples, n_outputs)
            The network's outputs.
        weights : ndarray of shape (n_samples,)
            Non-negative sample weights.

        Returns
        -------
        float
            The weighted loss.
        """
        total = float(np.dot(self.sample_losses(y, out), weights))
        return total if self.reduction == "sum" else total / max(float(weights.sum()), 1e-300)

    def row_weights(self, weights: Array) -> Array:
        """Factors for the rows of dLoss/d(out) that turn the unweighted gradient into `weighted`'s.

        Parameters
        ----------
        weights : ndarray of shape (n_samples,)
            Non-negative sample weights.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``weights`` for a summed loss; ``weights * n / sum(weights)`` for a mean.
        """
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
        self.formula = ("1/2 " if half else "") + f"{reduction}((y - out)**2)"
        self.gradient_formula = (
            ("" if half else "2*") + "(out - y)" + ("/size" if reduction == "mean" else "")
        )

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        scale = 1.0 if self.half else 2.0  # d/d(out) of (out - y)**2, halved or not
        return scale / math.prod(shape) if self.reduction == "mean" else scale

    def __call__(self, y: Array, out: Array) -> float:
        diff = out - y
        return float(np.vdot(diff, diff)) * (0.5 * self.delta_scale(out.shape))

    def sample_losses(self, y: Array, out: Array) -> Array:
        diff = out - y
        per_row = np.einsum("ij,ij->i", diff, diff) * (0.5 if self.half else 1.0)
        return per_row / out.shape[1] if self.reduction == "mean" else per_row

    def gradient(self, y: Array, out: Array) -> Array:
        grad = out - y
        scale = self.delta_scale(out.shape)
        if scale != 1.0:  # half_sse's gradient is out - y itself
            grad *= scale
        return grad


class MeanAbsoluteError(Loss):
    """``mean(|y - out|)`` over samples and outputs."""

    name = "mae"
    formula = "mean(|y - out|)"
    gradient_formula = "sign(out - y)/size"

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
    fused_activation = "sigmoid"
    formula = "-mean(y log out + (1-y) log(1-out))"
    gradient_formula = "(out - y)/(out*(1-out))/size"

    def __call__(self, y: Array, out: Array) -> float:
        p = _clip_probabilities(out)
        return -float(np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p))) / out.size

    def sample_losses(self, y: Array, out: Array) -> Array:
        p = _clip_probabilities(out)
        return -(y * np.log(p) + (1.0 - y) * np.log1p(-p)).mean(axis=1)

    def gradient(self, y: Array, out: Array) -> Array:
        p = _clip_probabilities(out)
        return (p - y) / (p * (1.0 - p)) / out.size

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        return 1.0 / math.prod(shape)  # sigmoid' cancels the 1 / (p (1 - p)) of the gradient

    def check_targets(self, y: Array, whole: bool = True) -> None:
        if y.min() < 0 or y.max() > 1:
            raise InputError(
                "binary_crossentropy needs targets in [0, 1], got values from "
                f"{y.min():g} to {y.max():g}: use 0/1 labels, or a regression loss such as mse"
            )
        super().check_targets(y, whole)


class CategoricalCrossEntropy(Loss):
    """``-mean over samples of sum over classes of y log(out)``; ``y`` one-hot rows."""

    name = "categorical_crossentropy"
    classification = True
    fused_activation = "softmax"
    formula = "-sum(y log out)/n"
    gradient_formula = "-y/out/n"

    def __call__(self, y: Array, out: Array) -> float:
        p = _clip_probabilities(out)
        return -float(np.vdot(y, np.log(p))) / out.shape[0]

    def sample_losses(self, y: Array, out: Array) -> Array:
        return -np.einsum("ij,ij->i", y, np.log(_clip_probabilities(out)))

    def gradient(self, y: Array, out: Array) -> Array:
        return -y / _clip_probabilities(out) / out.shape[0]

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        return 1.0 / shape[0]  # the softmax Jacobian times -y/p collapses to p - y for one-hot rows

    def check_targets(self, y: Array, whole: bool = True) -> None:
        if y.min() < 0 or not np.allclose(y.sum(axis=1), 1.0):
            raise InputError(
                "categorical_crossentropy needs one-hot (or probability) rows summing to 1: "
                "encode class labels with chainrule.one_hot(labels)"
            )
        super().check_targets(y, whole)


LOSSES: dict[str, Loss] = {
    "sse": SquaredError("sse", half=False, reduction="sum"),
    "half_sse": SquaredError("half_sse", half=True, reduction="sum"),
    "mse": SquaredError("mse", half=False, reduction="mean"),
    "half_mse": SquaredError("half_mse", half=True, reduction="mean"),
    "mae": MeanAbsoluteError(),
    "binary_crossentropy": BinaryCrossEntropy(),
    "categorical_crossentropy": CategoricalCrossEntropy(),
}


#: Other spellings (normalized: lowercase, no underscores), from Keras, PyTorch and scikit-learn.
LOSS_ALIASES = {
    "meansquarederror": "mse",
    "mseloss": "mse",
    "squarederror": "mse",
    "meanabsoluteerror": "mae",
    "l1loss": "mae",
    "absoluteerror": "mae",
    "bce": "binary_crossentropy",
    "bceloss": "binary_crossentropy",
    "logloss": "binary_crossentropy",
    "cce": "categorical_crossentropy",
    "crossentropy": "categorical_crossentropy",
    "crossentropyloss": "categorical_crossentropy",
    "sparsecategoricalcrossentropy": "categorical_crossentropy",
}


def get_loss(spec: str | Loss) -> Loss:
    """Return a loss by name (any case; Keras and PyTorch spellings too) or pass an instance through.

    Parameters
    ----------
    spec : str or Loss
        ``"mse"``, ``"mean_squared_error"``, ``"MSELoss"``, ... or an instance.
        ``"sparse_categorical_crossentropy"`` is categorical cross-entropy: integer class labels
        are one-hot encoded by the network for softmax outputs.

    Returns
    -------
    Loss
        The loss (the same object for every call with one name).

    Raises
    ------
    ValueError
        For an unknown name, listing the choices.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.get_loss("MSELoss").name  # PyTorch's spelling
    'mse'
    >>> loss = cr.get_loss("binary_crossentropy")
    >>> round(loss(np.array([[1.0], [0.0]]), np.array([[0.8], [0.4]])), 4)  # -(log 0.8 + log 0.6) / 2
    0.367
    """
    if isinstance(spec, Loss):
        return spec
    return lookup(spec, LOSSES, LOSS_ALIASES, "loss")


def default_loss(output_activation: Activation) -> Loss:
    """The loss a classifier or regressor with this output would normally use."""
    for loss in LOSSES.values():
        if loss.fuses_with(output_activation):
            return loss
    return LOSSES["mse"]


def output_for_task(task: str, n_outputs: int) -> tuple[str, str]:
    """The output activation and loss names for ``"classification"`` or ``"regression"``.

    One sigmoid output and binary cross-entropy for two classes (or independent labels),
    softmax and categorical cross-entropy for several classes, identity and mse for regression.
    """
    if task == "regression":
        return "identity", "mse"
    if task != "classification":
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    return ("sigmoid", "binary_crossentropy") if n_outputs == 1 else ("softmax", "categorical_crossentropy")
