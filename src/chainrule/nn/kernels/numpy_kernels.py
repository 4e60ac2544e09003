"""The reference kernels: each fused operation of a step as a few NumPy calls.

Every function writes into the arrays it is given (``out=``), so a step allocates nothing
proportional to a layer once its buffers exist. Two measured habits make them lean: comparisons
and maxima take a preallocated zeros array rather than the scalar 0 (NumPy's scalar operand
path is about 3x slower), and column sums are a product with a vector of ones (BLAS, about 4x
faster than ``sum(axis=0)``). Those zeros and ones are cached per shape and shared by every
network and thread, so they are read-only; an array a kernel writes is always its caller's (ReLU's
slope mask is the layer's). `chainrule.nn.kernels.numba_kernels` computes the same in one
compiled pass per function.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from chainrule.nn.activations import Activation, ReLU

Array = np.ndarray

__all__ = [
    "adam_update",
    "bias_grad",
    "chunk_trainer",
    "dense_backward",
    "dense_forward",
    "momentum_update",
    "output_block",
    "rmsprop_update",
    "sgd_update",
]

_constants: dict[tuple[str, tuple[int, ...], str], Array] = {}
_creating = threading.Lock()


def _constant(kind: str, shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """A cached read-only array of zeros or ones, per kind, shape and dtype.

    Shared by every network and thread, so never written: ``setflags(write=False)`` makes NumPy
    refuse any ``out=`` that names one. Work arrays a kernel writes belong to its caller.
    """
    key = (kind, shape, np.dtype(dtype).str)
    array = _constants.get(key)
    if array is None:
        with _creating:
            array = _constants.get(key)
            if array is None:
                if len(_constants) > 64:  # many batch shapes (a batch function): start afresh
                    _constants.clear()
                array = np.zeros(shape, dtype) if kind == "zeros" else np.ones(shape, dtype)
                array.setflags(write=False)
                _constants[key] = array
    return array


def dense_forward(z: Array, b: Array | None, activation: Activation, out: Array) -> Array:
    """``z += b`` in place, then ``out = activation(z)``; return ``out``."""
    if b is not None:
        np.add(z, b, out=z)
    if type(activation) is ReLU:
        zeros = _constants.get(("zeros", z.shape, z.dtype.str))
        if zeros is None:
            zeros = _constant("zeros", z.shape, z.dtype)
        return np.maximum(z, zeros, out=out)
    return activation.forward(z, out=out)


def dense_backward(
    a: Array,
    grad: Array,
    activation: Activation | None,
    delta: Array,
    gb: Array | None,
    mask: Array | None = None,
) -> Array:
    """``delta = grad * f'(z)`` from the output ``a``; the bias gradient into ``gb`` if given.

    ``activation`` None means ``grad`` is the delta already (a fused output layer's, passed as
    ``delta`` too): only the bias gradient is computed. ``mask``, a boolean array of ``a``'s
    shape owned by the caller, is where ReLU's slope ``a > 0`` is written (a new array when None).
    """
    if type(activation) is ReLU:
        zeros = _constants.get(("zeros", a.shape, a.dtype.str))
        if zeros is None:
            zeros = _constant("zeros", a.shape, a.dtype)
        np.multiply(grad, np.greater(a, zeros, out=mask), out=delta)
    elif activation is not None:
        activation.backward(a, grad, out=delta)
    if gb is not None:  # the column sums of delta, as a product with ones (BLAS)
        ones = _constants.get(("ones", (delta.shape[0],), delta.dtype.str))
        if ones is None:
            ones = _constant("ones", (delta.shape[0],), delta.dtype)
        np.dot(ones, delta, out=gb)
    return delta


def bias_grad(delta: Array, gb: Array) -> Array:
    """The bias gradient, the column sums of ``delta``, into ``gb``."""
    return dense_backward(delta, delta, None, delta, gb)


def output_block(
    kind: str, y: Array, out: Array, delta: Array, scale: float, one_hot: bool, argmax_rule: bool
) -> tuple[float, float, float]:
    """The loss value, the batch accuracy or sum of squares, and the output delta, from ``out``.

    Parameters
    ----------
    kind : {"softmax_cce", "sigmoid_bce", "squared"}
        Softmax + categorical or sigmoid + binary cross-entropy (``delta`` is then dLoss/dz),
        or a squared error (``delta`` is dLoss/d(out); the loss is ``scale / 2 * sum((out - y)**2)``).
    y, out : ndarray of shape (n_samples, n_outputs)
    delta : ndarray of shape (n_samples, n_outputs)
        Written: ``scale * (out - y)``.
    scale : float
        The loss's `chainrule.Loss.delta_scale` for this batch's shape.
    one_hot : bool
        The targets are exact one-hot rows: the cross-entropy needs only the true class's
        probability.
    argmax_rule : bool
        Accuracy compares argmaxes (one target above 0.5 per row), else thresholds at 0.5.

    Returns
    -------
    value : float
    accuracy : float
        The batch accuracy for the cross-entropies; NaN for a squared error.
    squares : float
        The sum of squared differences for a squared error (the mse metric without another
        pass); NaN for the cross-entropies.
    """
    np.subtract(out, y, out=delta)
    if kind == "squared":
        squares = float(np.vdot(delta, delta))
        if scale != 1.0:  # half the squared error's gradient is out - y itself
            delta *= scale
        return squares * (0.5 * scale), math.nan, squares
    eps = np.finfo(out.dtype).eps
    n = out.shape[0]
    delta *= scale
    if kind == "softmax_cce":
        if one_hot:
            true_class = np.einsum("ij,ij->i", y, out)
            value = -float(np.log(np.clip(true_class, eps, 1.0 - eps)).sum()) / n
        else:
            value = -float(np.vdot(y, np.log(np.clip(out, eps, 1.0 - eps)))) / n
    else:
        p = np.clip(out, eps, 1.0 - eps)
        value = -float(np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p))) / out.size
    if argmax_rule:
        hits = y[np.arange(n), out.argmax(axis=1)] > 0.5
        return value, float(np.count_nonzero(hits)) / n, math.nan
    return value, float(np.count_nonzero((out > 0.5) == (y > 0.5))) / out.size, math.nan


def sgd_update(param: Array, grad: Array, lr: float, scratch: Array) -> None:
    """``param -= lr * grad``."""
    np.multiply(grad, lr, out=scratch)
    param -= scratch


def momentum_update(
    param: Array, grad: Array, velocity: Array, lr: float, momentum: float, nesterov: bool, scratch: Array
) -> None:
    """``v = momentum * v + grad``; ``param -= lr * v`` (Nesterov: ``lr * (grad + momentum * v)``)."""
    velocity *= momentum
    velocity += grad
    step = velocity
    if nesterov:
        np.multiply(velocity, momentum, out=scratch)
        scratch += grad
        step = scratch
    np.multiply(step, lr, out=scratch)
    param -= scratch


def adam_update(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    t: int,
    scratch: Array,
) -> None:
    """Adam's step ``t`` (from 1) with PyTorch's bias correction and epsilon placement."""
    m *= beta1
    np.multiply(grad, 1.0 - beta1, out=scratch)
    m += scratch
    v *= beta2
    np.multiply(grad, grad, out=scratch)
    scratch *= 1.0 - beta2
    v += scratch
    # lr/c1 * m / (sqrt(v)/c2 + eps) == (lr*c2/c1) * m / (sqrt(v) + eps*c2), c2 = sqrt(1 - beta2**t):
    # the bias corrections ride on two scalars, saving a pass over the array.
    c1, c2 = 1.0 - beta1**t, math.sqrt(1.0 - beta2**t)
    np.sqrt(v, out=scratch)
    scratch += eps * c2
    np.divide(m, scratch, out=scratch)
    scratch *= lr * c2 / c1
    param -= scratch


def rmsprop_update(
    param: Array, grad: Array, v: Array, lr: float, rho: float, eps: float, scratch: Array
) -> None:
    """``v = rho * v + (1 - rho) * grad**2``; ``param -= lr * grad / (sqrt(v) + eps)``."""
    v *= rho
    np.multiply(grad, grad, out=scratch)
    scratch *= 1.0 - rho
    v += scratch
    np.sqrt(v, out=scratch)
    scratch += eps
    np.divide(grad, scratch, out=scratch)
    scratch *= lr
    param -= scratch


def chunk_trainer() -> Any:
    """None: the NumPy backend trains step by step (`chainrule.train.step.train_step`)."""
    return None
