"""Layers: ``Dense`` (``activation(X @ W + b)``) and ``Dropout``.

A layer owns ``params`` and ``grads``, two dicts with the same keys. ``forward`` caches what
``backward`` needs; ``backward`` takes dLoss/d(output) and returns dLoss/d(input). The seeds'
deltas are ``Dense.backward``'s ``delta``: dLoss/dz for the layer's pre-activation ``z``.

In training mode a layer writes into work buffers it keeps per batch size, so a training step
allocates nothing proportional to the layer size after its first batch. ``grads`` always hold
dLoss/dparam of the last backward pass; the optimizer turns them into a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import NotInitializedError
from chainrule.nn import kernels
from chainrule.nn.activations import Activation, ReLU, get_activation
from chainrule.nn.checks import check_bool, check_float, check_int
from chainrule.nn.initializers import (
    INITIALIZERS,
    Initializer,
    checked_draw,
    default_initializer,
    get_initializer,
)
from chainrule.nn.layer import Layer

__all__ = ["MASK", "Dense", "DenseWork", "Dropout", "Layer", "layer_from_config"]

Array = np.ndarray
#: The dtype of ReLU's slope buffer, which the NumPy kernels write in `Dense.backward`.
MASK = np.dtype(bool)


@dataclass
class DenseWork:
    """A Dense layer's work arrays for one batch size: written by every step, owned by the layer."""

    z: Array
    out: Array
    delta: Array
    grad_input: Array
    mask: Array | None


class Dense(Layer):
    """Fully connected layer ``out = activation(X @ W + b)`` in the seeds' row-vector layout.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` has shape ``(n_in, n_out)``, ``b`` shape ``(n_out,)``.
    activation : str, dict or Activation
        ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"identity"``, ``"softmax"``.
    bias : bool
        Whether the layer has a bias ``b`` (the seeds 000, 001, 004 have none).
    init : str or callable
        Weight initialiser (see `chainrule.nn.initializers`); default He for rectifiers, else Glorot.
    weights, biases : array-like, optional
        Explicit starting values (the seeds start from given matrices); nothing is drawn then.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> layer = cr.Dense(2, 3, activation="relu", weights=[[1.0, -1.0, 0.5], [0.5, 2.0, -1.0]])
    >>> layer
    Dense(2, 3, relu)
    >>> layer.forward(np.array([[1.0, 2.0]]))  # relu([1, 2] @ W + b), b = 0
    array([[2., 3., 0.]])
    >>> layer.params["W"].shape, layer.params["b"].shape, layer.count_params()
    ((2, 3), (3,), 9)
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | dict[str, Any] | Activation = "identity",
        *,
        bias: bool = True,
        init: str | Initializer | None = None,
        weights: Any = None,
        biases: Any = None,
    ) -> None:
        super().__init__()
        self.n_in, self.n_out = check_int("n_in", n_in, 1), check_int("n_out", n_out, 1)
        self.activation = get_activation(activation)
        self.bias = check_bool("bias", bias)
        self.init = init if init is not None else default_initializer(self.activation.name)
        self._init = get_initializer(self.init)
        if weights is not None:
            self.params["W"] = self._checked(weights, (self.n_in, self.n_out), "weights")
        if biases is not None:
            if not self.bias:
                raise ValueError("biases given for a layer built with bias=False")
            self.params["b"] = self._checked(biases, (self.n_out,), "biases")
        if weights is not None:  # usable on its own, before any Network recasts it
            self.initialize(None, self.params["W"].dtype)
        self.input: Array | None = None
        self.z: Array | None = None
        self.output: Array | None = None
        self.delta: Array | None = None

    @staticmethod
    def _checked(values: Any, shape: tuple[int, ...], what: str) -> Array:
        given = np.asarray(values)
        if given.dtype.kind not in "biuf":
            raise ValueError(f"{what} must be real numbers, got an array of {given.dtype}")
        array = np.array(given, dtype=np.result_type(given.dtype, np.float32))
        if array.shape != shape:
            raise ValueError(f"{what} must have shape {shape}, got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"{what} hold NaN or infinite values")
        return array

    @property
    def initialized(self) -> bool:
        return "W" in self.params

    def initialize(self, rng: np.random.Generator | None, dtype: np.dtype = np.float64) -> None:
        if "W" not in self.params:
            if rng is None:
                raise NotInitializedError("Dense.initialize needs a random generator to draw weights")
            self.params["W"] = checked_draw(self._init, (self.n_in, self.n_out), rng, self.init)
        if self.bias and "b" not in self.params:
            self.params["b"] = np.zeros(self.n_out)
        for key, value in self.params.items():
            self.params[key] = np.ascontiguousarray(value, dtype=dtype)
            self.grads[key] = np.zeros(value.shape, dtype)  # calloc: no memory until first written
        self._buffers.clear()

    def linear(self, X: Array) -> Array:
        """The pre-activation ``z = X @ W + b`` as a new array.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_in)
            The batch, of the layer's dtype.

        Returns
        -------
        ndarray of shape (n_samples, n_out)
            ``X @ W + b`` (``X @ W`` without a bias).
        """
        self._require_params()
        z = X @ self.params["W"]
        if self.bias:
            z += self.params["b"]
        return z

    def forward(self, X: Array, training: bool = False) -> Array:
        """Return ``activation(X @ W + b)``; in training, keep ``X``, ``z`` and the output.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_in)
            The batch, of the layer's dtype.
        training : bool
            Keep the input, the pre-activation ``z`` and the output (in reused buffers) for
            `backward` and the step trace; at inference ``z`` is overwritten in place.

        Returns
        -------
        ndarray of shape (n_samples, n_out)
            ``activation(X @ W + b)``.
        """
        W = self.params.get("W")
        if W is None:
            self._require_params()
        if not training:  # the same kernel as training, so predictions equal training outputs exactly
            z = X @ W
            return kernels.current().dense_forward(z, self.params.get("b"), self.activation, np.empty_like(z))
        work = self._buffers.get(X.shape[0])
        if work is None or work.z.dtype != W.dtype:
            work = self._new_work(X.shape[0], W.dtype)
        if X.dtype == W.dtype:  # np.dot(out=) is the quicker call for small products
            np.dot(X, W, out=work.z)
        else:
            np.matmul(X, W, out=work.z)
        kernels.current().dense_forward(work.z, self.params.get("b"), self.activation, work.out)
        self.input, self.z, self.output = X, work.z, work.out
        return work.out

    def backward(
        self, grad_output: Array, need_input_grad: bool = True, *, is_delta: bool = False
    ) -> Array | None:
        """From dLoss/d(output) (or, with ``is_delta``, dLoss/dz), fill ``grads``; return dLoss/d(input).

        The delta is ``grad_output * f'(z)`` (the activation's slope from its output), computed
        with the bias gradient in one kernel; then ``grads["W"] = input.T @ delta`` and
        dLoss/d(input) ``= delta @ W.T``.

        Parameters
        ----------
        grad_output : ndarray of shape (n_samples, n_out)
            dLoss/d(output) for the batch of the last training-mode `forward`.
        need_input_grad : bool
            False skips the product for the input gradient (the first layer's).
        is_delta : bool
            ``grad_output`` is already the delta dLoss/dz (a fused output layer's, the seeds'
            delta): only the bias gradient is taken from it.

        Returns
        -------
        ndarray of shape (n_samples, n_in), or None when ``need_input_grad`` is False
            dLoss/d(input) = delta @ W.T, which the layer before takes as its ``grad_output``.
        """
        if self.output is None or self.input is None:
            raise RuntimeError("backward called before a training-mode forward pass")
        work = self._buffers.get(grad_output.shape[0])
        if work is None or work.delta.dtype != grad_output.dtype:
            work = self._new_work(grad_output.shape[0], grad_output.dtype)
        delta = grad_output if is_delta else work.delta
        kernels.current().dense_backward(
            self.output,
            grad_output,
            None if is_delta else self.activation,
            delta,
            self.grads.get("b"),
            work.mask,
        )
        self.delta = delta
        np.dot(self.input.T, delta, out=self.grads["W"])
        if not need_input_grad:
            return None
        return np.dot(delta, self.params["W"].T, out=work.grad_input)

    def backward_delta(self, delta: Array, need_input_grad: bool = True) -> Array | None:
        """`backward` from the delta dLoss/dz: fill ``grads`` and return dLoss/d(input) = delta @ W.T.

        Parameters
        ----------
        delta : ndarray of shape (n_samples, n_out)
            dLoss/dz: the seeds' delta (their error term is ``-delta``).
        need_input_grad : bool
            False skips the product for the input gradient.

        Returns
        -------
        ndarray of shape (n_samples, n_in), or None
            dLoss/d(input), or None when ``need_input_grad`` is False.
        """
        return self.backward(delta, need_input_grad, is_delta=True)

    def _new_work(self, rows: int, dtype: np.dtype) -> DenseWork:
        """This layer's work arrays for batches of ``rows`` (kept, one set per batch size)."""
        work = self._buffers[rows] = DenseWork(
            z=np.empty((rows, self.n_out), dtype),
            out=np.empty((rows, self.n_out), dtype),
            delta=np.empty((rows, self.n_out), dtype),
            grad_input=np.empty((rows, self.n_in), dtype),
            mask=np.empty((rows, self.n_out), MASK) if type(self.activation) is ReLU else None,
        )
        return work

    def config(self) -> dict[str, Any]:
        """The layer's description: widths, activation, bias, initialiser name.

        Returns
        -------
        dict
            ``{"type": "Dense", "n_in": ..., "n_out": ..., "activation": {...}, "bias": ...,
            "init": ...}`` (``"custom"`` for an initialiser given as a function).
        """
        init = self.init if isinstance(self.init, str) else "custom"
        return {
            "type": "Dense",
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation.config(),
            "bias": self.bias,
            "init": init,
        }

    def _require_params(self) -> None:
        if "W" not in self.params:
            raise NotInitializedError(
                "this Dense layer has no weights yet: put it in a Network (which draws them "
                "from its seed) or pass weights=..."
            )

    def __repr__(self) -> str:
        bias = "" if self.bias else ", bias=False"
        return f"Dense({self.n_in}, {self.n_out}, {self.activation!r}{bias})"


class Dropout(Layer):
    """Zero each input with probability ``rate`` in training, scaling the rest by 1/(1-rate).

    At inference it is the identity ("inverted dropout", as in Keras and PyTorch), so
    predictions need no rescaling.

    Parameters
    ----------
    rate : float
        The probability, in [0, 1), that an input is dropped.

    Attributes
    ----------
    mask : ndarray or None
        The scaled keep-mask of the last training-mode forward pass (0 or ``1/(1-rate)``).
    fixed_mask : ndarray or None
        When set, training-mode passes use this mask instead of drawing one, so a loss can be
        evaluated repeatedly with the same dropped units (as `chainrule.gradcheck` does).

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> net = cr.Network([cr.Dense(2, 4, activation="relu"), cr.Dropout(0.5), cr.Dense(4, 1)], seed=0)
    >>> dropout = net[1]
    >>> dropout.forward(np.ones((2, 4)), training=True)  # half dropped, the rest doubled
    array([[2., 0., 2., 0.],
           [2., 2., 0., 0.]])
    >>> dropout.forward(np.ones((1, 4)))  # the identity at inference
    array([[1., 1., 1., 1.]])
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = check_float("dropout rate", rate, 0.0, 1.0, high_open=True)
        self.rng: np.random.Generator | None = None
        self.mask: Array | None = None
        self.fixed_mask: Array | None = None

    def initialize(self, rng: np.random.Generator, dtype: np.dtype = np.float64) -> None:
        """Keep ``rng``: the masks are drawn from it.

        Parameters
        ----------
        rng : numpy.random.Generator or None
            The network's generator, from which every training-mode mask is drawn.
        dtype : numpy dtype
            Unused: the layer has no parameters.
        """
        self.rng = rng

    def forward(self, X: Array, training: bool = False) -> Array:
        """``X * mask`` in training, ``X`` itself at inference (the last training mask is kept).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The batch.
        training : bool
            Draw a new mask (or use ``fixed_mask``) and apply it; else pass ``X`` through.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``X`` with dropped entries 0 and kept ones scaled by ``1/(1-rate)``; at inference
            ``X`` itself.
        """
        if not training:
            return X
        if self.rate == 0.0:
            self.mask = None
            return X
        if self.fixed_mask is not None:
            self.mask = self.fixed_mask
        else:
            if self.rng is None:
                raise NotInitializedError("Dropout needs a Network (for its random generator)")
            keep = self.rng.random(X.shape) >= self.rate
            self.mask = keep.astype(X.dtype)
            self.mask *= 1.0 / (1.0 - self.rate)
        return X * self.mask

    def backward(self, grad_output: Array, need_input_grad: bool = True) -> Array | None:
        """``grad_output * mask``: dropped units pass no gradient, kept ones a scaled one.

        Parameters
        ----------
        grad_output : ndarray of shape (n_samples, n_features)
            dLoss/d(output) for the batch of the last training-mode `forward`.
        need_input_grad : bool
            False when nobody uses the input gradient (then nothing is computed).

        Returns
        -------
        ndarray of shape (n_samples, n_features), or None when ``need_input_grad`` is False
            dLoss/d(input).
        """
        if not need_input_grad:
            return None
        return grad_output if self.mask is None else grad_output * self.mask

    def config(self) -> dict[str, Any]:
        """The layer's description, ``{"type": "Dropout", "rate": rate}``.

        Returns
        -------
        dict
            The type and the rate.
        """
        return {"type": "Dropout", "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"


def layer_from_config(
    config: dict[str, Any], params: dict[str, Array] | None = None, *, adopt: bool = False
) -> Layer:
    """Rebuild a layer from `Layer.config` and its parameters (``adopt``: checked ones, not copied)."""
    params = params or {}
    kind = config.get("type")
    if kind == "Dense":
        expected = {"W", "b"} if config["bias"] else {"W"}
        if set(params) != expected:
            raise ValueError(
                f"a Dense layer with bias={config['bias']} needs {sorted(expected)}, got {sorted(params)}"
            )
        init = config.get("init", "glorot_uniform")
        layer = Dense(
            config["n_in"],
            config["n_out"],
            config["activation"],
            bias=config["bias"],
            init=init if init in INITIALIZERS else None,
            weights=None if adopt else params["W"],
            biases=None if adopt else params.get("b"),
        )
        layer.params.update(params if adopt else {})  # adopted: a model file's checked arrays
        layer.initialize(None, layer.params["W"].dtype)
        return layer
    if kind == "Dropout":
        if params:
            raise ValueError(f"a Dropout layer has no parameters, got {sorted(params)}")
        return Dropout(config["rate"])
    raise ValueError(f"unknown layer type {kind!r}")
