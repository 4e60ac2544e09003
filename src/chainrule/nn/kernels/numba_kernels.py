"""The kernels compiled with Numba: each fused operation of a step in one pass over memory.

Same functions, arguments and results as `chainrule.nn.kernels.numpy_kernels` (the reference,
which the tests compare these with). Compiled with ``cache=`` where a folder is writable (next
to this file, ``NUMBA_CACHE_DIR`` or a per-user folder: `chainrule.nn.kernels.numba_cache`), so
only the first run on a machine compiles, ``error_model="numpy"`` (division
by zero gives inf or NaN as in NumPy; without it the loops are not vectorised), and neither
``fastmath`` (it would break the NaN checks that catch divergence) nor ``parallel`` (threads
would compete with the BLAS threads of the matrix products, which stay NumPy's).

Scalars are cast to the arrays' dtype before a kernel runs, as NumPy casts a Python float next to
a float32 array, so float32 steps round as the reference does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.nn.activations import Activation
from chainrule.nn.kernels import activation_code, numba_chunk, numpy_kernels
from chainrule.nn.kernels.numba_passes import KINDS, activate, column_sums, jit, output_pass, slope

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


@jit
def sgd_pass(param, grad, lr):
    p, g = param.reshape(-1), grad.reshape(-1)
    for i in range(p.size):
        p[i] -= g[i] * lr


@jit
def momentum_pass(param, grad, velocity, lr, momentum, nesterov):
    p, g, v = param.reshape(-1), grad.reshape(-1), velocity.reshape(-1)
    for i in range(p.size):
        vi = v[i] * momentum + g[i]
        v[i] = vi
        p[i] -= (vi * momentum + g[i] if nesterov else vi) * lr


@jit
def adam_pass(param, grad, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_c2, step):
    p, g, mm, vv = param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1)
    for i in range(p.size):
        gi = g[i]
        mi = mm[i] * beta1 + gi * one_minus_beta1
        vi = vv[i] * beta2 + gi * gi * one_minus_beta2
        mm[i], vv[i] = mi, vi
        p[i] -= mi / (np.sqrt(vi) + eps_c2) * step


@jit
def rmsprop_pass(param, grad, v, rho, one_minus_rho, eps, lr):
    p, g, vv = param.reshape(-1), grad.reshape(-1), v.reshape(-1)
    for i in range(p.size):
        gi = g[i]
        vi = vv[i] * rho + gi * gi * one_minus_rho
        vv[i] = vi
        p[i] -= gi / (np.sqrt(vi) + eps) * lr


# ------------------------------------------------------------------ the backend's functions
def dense_forward(z: Array, b: Array | None, activation: Activation, out: Array) -> Array:
    """``z += b`` in place, then ``out = activation(z)``; return ``out``."""
    code = activation_code(activation)
    if code is None:  # an activation of the user's own: its NumPy methods
        return numpy_kernels.dense_forward(z, b, activation, out)
    alpha = z.dtype.type(getattr(activation, "alpha", 0.0))
    activate(z, z[0] if b is None else b, b is not None, code, alpha, out)
    return out


def dense_backward(
    a: Array,
    grad: Array,
    activation: Activation | None,
    delta: Array,
    gb: Array | None,
    mask: Array | None = None,
) -> Array:
    """``delta = grad * f'(z)`` from the output ``a``; the bias gradient into ``gb`` if given.

    ``activation`` None: ``grad`` is the delta already (only the bias gradient). ``mask`` (the
    NumPy kernels' work array for ReLU's slope) is not needed here.
    """
    if activation is None:
        if gb is not None:
            column_sums(grad, gb)
        return grad
    code = activation_code(activation)
    if code is None:
        return numpy_kernels.dense_backward(a, grad, activation, delta, gb, mask)
    alpha = a.dtype.type(getattr(activation, "alpha", 0.0))
    slope(a, grad, code, alpha, delta, delta[0] if gb is None else gb, gb is not None)
    return delta


def bias_grad(delta: Array, gb: Array) -> Array:
    """The bias gradient, the column sums of ``delta``, into ``gb``."""
    column_sums(delta, gb)
    return gb


def output_block(
    kind: str, y: Array, out: Array, delta: Array, scale: float, one_hot: bool, argmax_rule: bool
) -> tuple[float, float, float]:
    """The loss value, the batch accuracy or sum of squares, and the output delta, from ``out``.

    See `chainrule.nn.kernels.numpy_kernels.output_block`; ``one_hot`` needs no separate path
    here (zero targets are skipped anyway).
    """
    eps = float(np.finfo(out.dtype).eps)
    return output_pass(KINDS[kind], y, out, delta, out.dtype.type(scale), argmax_rule, eps)


def sgd_update(param: Array, grad: Array, lr: float, scratch: Array) -> None:
    """``param -= lr * grad``."""
    sgd_pass(param, grad, param.dtype.type(lr))


def momentum_update(
    param: Array, grad: Array, velocity: Array, lr: float, momentum: float, nesterov: bool, scratch: Array
) -> None:
    """``v = momentum * v + grad``; ``param -= lr * v`` (Nesterov: ``lr * (grad + momentum * v)``)."""
    cast = param.dtype.type
    momentum_pass(param, grad, velocity, cast(lr), cast(momentum), nesterov)


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
    cast = param.dtype.type
    c1, c2 = 1.0 - beta1**t, math.sqrt(1.0 - beta2**t)
    adam_pass(
        param, grad, m, v, cast(beta1), cast(1.0 - beta1), cast(beta2), cast(1.0 - beta2), cast(eps * c2),
        cast(lr * c2 / c1),
    )  # fmt: skip


def rmsprop_update(
    param: Array, grad: Array, v: Array, lr: float, rho: float, eps: float, scratch: Array
) -> None:
    """``v = rho * v + (1 - rho) * grad**2``; ``param -= lr * grad / (sqrt(v) + eps)``."""
    cast = param.dtype.type
    rmsprop_pass(param, grad, v, cast(rho), cast(1.0 - rho), cast(eps), cast(lr))


def chunk_trainer() -> Any:
    """The compiled epoch of batches (`chainrule.nn.kernels.numba_chunk.train_chunk`)."""
    return numba_chunk.train_chunk
