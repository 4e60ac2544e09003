"""The network: a stack of layers, its forward and backward passes, and what users call on it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.input_checks import as_matrix, check_lengths
from chainrule.layers import Dense, Layer
from chainrule.losses import Loss, default_loss, get_loss
from chainrule.metrics import get_metric
from chainrule.optimizers import Slot

Array = np.ndarray


class Network:
    """A feed-forward network trained by backpropagation.

    Parameters
    ----------
    layers : list of Layer, or list of int
        The layers in order, or layer sizes as in Nielsen's ``Network([784, 30, 10])``:
        ``[3, 4, 1]`` builds ``Dense(3, 4)`` and ``Dense(4, 1)``.
    activation : str
        Hidden activation when ``layers`` are sizes.
    output_activation : str, optional
        Output activation when ``layers`` are sizes; default ``activation``.
    bias : bool
        Whether layers built from sizes have biases.
    init : str or callable, optional
        Initialiser for layers built from sizes (default He for ReLU, Glorot otherwise).
    seed : int or numpy.random.Generator, optional
        The source of all randomness: initial weights, shuffling, validation splits, dropout.
    dtype : str or numpy dtype
        ``float64`` (default, the seeds' numbers) or ``float32``, kept end to end.

    Examples
    --------
    >>> net = Network([2, 3, 1], activation="sigmoid", bias=False, seed=0)
    >>> net.predict([[1.0, 0.5]]).shape
    (1, 1)
    """

    def __init__(
        self,
        layers: Sequence[Layer] | Sequence[int],
        *,
        activation: str = "sigmoid",
        output_activation: str | None = None,
        bias: bool = True,
        init: Any = None,
        seed: int | np.random.Generator | None = None,
        dtype: str | np.dtype = "float64",
    ) -> None:
        if len(layers) == 0:
            raise ValueError("a network needs at least one layer")
        if all(isinstance(n, (int, np.integer)) for n in layers):
            layers = _dense_stack([int(n) for n in layers], activation, output_activation, bias, init)
        self.layers: list[Layer] = list(layers)  # type: ignore[arg-type]
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.loss: Loss | None = None
        self.stop_training = False
        self.metadata: dict[str, Any] = {}
        _check_widths(self.layers)
        for layer in self.layers:
            layer.initialize(self.rng, self.dtype)

    # ----------------------------------------------------------------------------- shape
    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def n_inputs(self) -> int:
        return self.dense_layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.dense_layers[-1].n_out

    @property
    def sizes(self) -> list[int]:
        dense = self.dense_layers
        return [dense[0].n_in, *(layer.n_out for layer in dense)]

    def slots(self) -> list[Slot]:
        """Every trainable array with its gradient, for optimizers (weights decay, biases not)."""
        return [
            Slot(f"{i}.{key}", layer.params[key], layer.grads[key], decay=key == "W")
            for i, layer in enumerate(self.layers)
            for key in layer.params
        ]

    # ------------------------------------------------------------------- forward / backward
    def forward(self, X: Array, training: bool = False) -> Array:
        """Run ``X`` (already a 2-D array of the network's dtype) through every layer."""
        for layer in self.layers:
            X = layer.forward(X, training)
        return X

    def backward(
        self, y: Array, loss: Loss, fused: bool = True, scale: float = 1.0, sample_weight: Array | None = None
    ) -> None:
        """Backpropagate ``loss`` from the last training-mode forward pass, filling ``grads``.

        With ``fused`` the output delta of sigmoid + binary cross-entropy and softmax +
        categorical cross-entropy is taken directly as ``(out - y) / n``. ``scale`` multiplies
        the loss, and so every delta and gradient: backpropagation is linear in the output
        delta, so scaling that small array scales the weight gradients for free.
        ``sample_weight`` (one weight per row) weights each sample's term of the loss.
        """
        *hidden, last = self.layers
        out = last.output if isinstance(last, Dense) else None
        delta = loss.output_delta(last.activation, y, out) if fused and out is not None else None
        if delta is not None:
            _scale_rows(delta, scale, sample_weight)
            grad = last.backward_delta(delta, need_input_grad=bool(hidden))
        else:
            grad_output = loss.gradient(y, self._output_of(last))
            _scale_rows(grad_output, scale, sample_weight)
            grad = last.backward(grad_output, bool(hidden))
        for position in range(len(hidden) - 1, -1, -1):
            grad = hidden[position].backward(grad, need_input_grad=position > 0)

    @staticmethod
    def _output_of(layer: Layer) -> Array:
        out = getattr(layer, "output", None)
        if out is None:
            raise RuntimeError("backward called before a training-mode forward pass")
        return out

    # ------------------------------------------------------------------------ inference
    def predict(self, X: Any) -> Array:
        """Network outputs for ``X`` of shape ``(n_samples, n_inputs)``.

        A single sample may be given as a 1-D array of length ``n_inputs``; its output is
        then 1-D too.
        """
        single = np.ndim(X) == 1 and np.size(X) == self.n_inputs
        out = self.forward(self._inputs(X))
        return out[0] if single else out

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities: softmax rows, or ``[1 - p, p]`` for one sigmoid output."""
        out = self.predict(X)
        if out.ndim == 2 and out.shape[1] == 1:
            return np.hstack([1.0 - out, out])
        return out

    def predict_classes(self, X: Any) -> Array:
        """Class indices: argmax of several outputs, or ``out > 0.5`` for one output."""
        proba = np.atleast_2d(self.predict_proba(X))
        return proba.argmax(axis=1)

    def evaluate(
        self, X: Any, y: Any, loss: str | Loss | None = None, metrics: Sequence[str] | None = None
    ) -> dict[str, float]:
        """The loss and metrics of the network's predictions on ``(X, y)``."""
        X, y = self._inputs(X), self._targets(y)
        check_lengths(X, y)
        loss_fn = self._resolve_loss(loss)
        out = self.forward(X)
        result = {"loss": loss_fn(y, out)}
        for name in metrics if metrics is not None else default_metrics(loss_fn):
            result[name] = get_metric(name)(y, out)
        return result

    # ------------------------------------------------------------------------ gradients
    def gradients(
        self, X: Any, y: Any, loss: str | Loss | None = None, fused: bool = True
    ) -> list[dict[str, Array]]:
        """dLoss/dParam for the batch ``(X, y)``: per layer, a dict with the keys of ``params``."""
        X, y = self._inputs(X), self._targets(y)
        check_lengths(X, y)
        loss_fn = self._resolve_loss(loss)
        self.forward(X, training=True)
        self.backward(y, loss_fn, fused=fused)
        return [{key: grad.copy() for key, grad in layer.grads.items()} for layer in self.layers]

    # ------------------------------------------------------------------------- training
    def fit(self, X: Any, y: Any, **kwargs: Any) -> Any:
        """Train on ``(X, y)``; see `chainrule.training.fit` for the options. Returns a History."""
        from chainrule.training import fit

        return fit(self, X, y, **kwargs)

    # -------------------------------------------------------------------------- weights
    def get_weights(self) -> list[dict[str, Array]]:
        """A copy of every layer's parameters, in layer order."""
        return [{key: value.copy() for key, value in layer.params.items()} for layer in self.layers]

    def set_weights(self, weights: Sequence[dict[str, Any]]) -> None:
        """Copy values into the parameters in place (shapes must match; dtype is kept)."""
        if len(weights) != len(self.layers):
            raise ValueError(f"expected weights for {len(self.layers)} layers, got {len(weights)}")
        for i, (layer, values) in enumerate(zip(self.layers, weights, strict=True)):
            if set(values) != set(layer.params):
                raise ValueError(f"layer {i} has parameters {sorted(layer.params)}, got {sorted(values)}")
            for key, value in values.items():
                value = np.asarray(value)
                if value.shape != layer.params[key].shape:
                    raise ValueError(
                        f"layer {i} {key} has shape {layer.params[key].shape}, got {value.shape}"
                    )
                np.copyto(layer.params[key], value, casting="same_kind")

    def save(self, path: Any, metadata: dict[str, Any] | None = None) -> None:
        """Save to a ``.npz`` file; see `chainrule.save`."""
        from chainrule.serialization import save

        save(self, path, metadata=metadata)

    # -------------------------------------------------------------------------- helpers
    def _inputs(self, X: Any) -> Array:
        return as_matrix(X, "X", self.dtype, n_columns=self.n_inputs)

    def _targets(self, y: Any) -> Array:
        y = as_matrix(y, "y", self.dtype)
        if y.shape[1] != self.n_outputs:
            if y.shape[0] == 1:
                raise InputError(
                    f"y has shape {y.shape}: one row of {y.shape[1]} targets, but the network has "
                    f"{self.n_outputs} output(s); for one target per sample pass a column (y.T, or y.ravel())"
                )
            if y.shape[1] == 1 and self.n_outputs > 1:
                raise InputError(
                    f"y has one column but the network has {self.n_outputs} outputs: one-hot "
                    "encode class labels (chainrule.one_hot(labels)) before training"
                )
            raise InputError(f"y has {y.shape[1]} columns but the network has {self.n_outputs} outputs")
        return y

    def _resolve_loss(self, loss: str | Loss | None) -> Loss:
        if loss is not None:
            return get_loss(loss)
        if self.loss is not None:
            return self.loss
        last = self.dense_layers[-1]
        return default_loss(last.activation)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}], dtype={self.dtype.name})"


def _scale_rows(array: Array, scale: float, sample_weight: Array | None) -> None:
    if sample_weight is not None:
        array *= sample_weight[:, None] if scale == 1.0 else sample_weight[:, None] * scale
    elif scale != 1.0:
        array *= scale


def default_metrics(loss: Loss) -> list[str]:
    """Accuracy for classification losses; mse and mae (less the loss itself) for regression."""
    if loss.classification:
        return ["accuracy"]
    return [name for name in ("mse", "mae") if name != loss.name]


def one_hot(labels: Any, n_classes: int | None = None) -> Array:
    """One-hot rows for integer class labels 0..n_classes-1."""
    labels = np.asarray(labels).ravel()
    if labels.dtype.kind not in "iu" and not np.all(labels == np.round(labels)):
        raise InputError("one_hot needs integer class labels 0, 1, ...")
    labels = labels.astype(np.int64)
    n = int(labels.max()) + 1 if n_classes is None else n_classes
    if labels.min() < 0 or labels.max() >= n:
        raise InputError(f"class labels must be in 0..{n - 1}")
    out = np.zeros((labels.size, n))
    out[np.arange(labels.size), labels] = 1.0
    return out


def _dense_stack(
    sizes: list[int], activation: str, output_activation: str | None, bias: bool, init: Any
) -> list[Layer]:
    if len(sizes) < 2:
        raise ValueError(f"sizes need at least an input and an output width, got {sizes}")
    last = len(sizes) - 2
    return [
        Dense(
            n_in,
            n_out,
            (output_activation or activation) if i == last else activation,
            bias=bias,
            init=init,
        )
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes))
    ]


def _check_widths(layers: list[Layer]) -> None:
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    if not dense:
        raise ValueError("a network needs at least one Dense layer")
    for below, above in itertools.pairwise(dense):
        if below.n_out != above.n_in:
            raise ValueError(
                f"layer widths do not chain: {below!r} outputs {below.n_out} values but "
                f"{above!r} expects {above.n_in}"
            )
