"""The kernels compiled with Numba: each fused operation of a step in one pass over memory.

Same functions, arguments and results as `chainrule.nn.kernels.numpy_kernels` (the reference,
which the tests compare these with). Compiled with ``cache=`` where a folder is writable (next
to this file, ``NUMBA_CACHE_DIR`` or a per-user folder: `chainrule.nn.kernels.numba_cache`), so
only the first run on a machine compiles, ``error_model="numpy"`` (division
by zero gives inf or NaN as in NumPy; without it the loops are not vectorised), and neither
``fastmath`` (it would break the NaN checks that catch divergence) nor ``parallel``. Where the
caller asked for threads (`chainrule.nn.kernels.threads.split_passes`) and an array is big, a
pass calls its parallel variant (`chainrule.nn.kernels.numba_parallel`), which splits the same
serial pass over blocks: the same numbers as one thread.

Scalars are cast to the arrays' dtype before a kernel runs, as NumPy casts a Python float next to
a float32 array, so float32 steps round as the reference does.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from chainrule.nn.activations import Activation
from chainrule.nn.kernels import activation_code, numba_chunk, numba_parallel, numpy_kernels
from chainrule.nn.kernels.numba_passes import (
    KINDS,
    activate,
    adam_pass,
    column_sums,
    momentum_pass,
    output_pass,
    rmsprop_pass,
    sgd_pass,
    slope,
)
from chainrule.nn.kernels.threads import PARALLEL_MIN, passes

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


_pool = threading.Lock()  # one parallel pass at a time (`chainrule.nn.kernels.numba_parallel`)


def _split(serial: Any, parallel: Any, size: int, *arguments: Any) -> None:
    """``parallel(*arguments, threads)`` where this run's passes may use threads
    (`chainrule.nn.kernels.threads`), the array has `PARALLEL_MIN` elements and no other thread's
    parallel pass is running; else ``serial(*arguments)``. The numbers are the same either way."""
    count = passes()
    if count > 1 and size >= PARALLEL_MIN and _pool.acquire(blocking=False):
        try:
            parallel(*arguments, count)
        finally:
            _pool.release()
    else:
        serial(*arguments)


# ------------------------------------------------------------------ the backend's functions
def dense_forward(z: Array, b: Array | None, activation: Activation, out: Array) -> Array:
    """``z += b`` in place, then ``out = activation(z)``; return ``out``."""
    code = activation_code(activation)
    if code is None:  # an activation of the user's own: its NumPy methods
        return numpy_kernels.dense_forward(z, b, activation, out)
    alpha = z.dtype.type(getattr(activation, "alpha", 0.0))
    _split(
        activate,
        numba_parallel.activate_blocks,
        z.size,
        z,
        z[0] if b is None else b,
        b is not None,
        code,
        alpha,
        out,
    )
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
            _split(column_sums, numba_parallel.column_sums_blocks, grad.size, grad, gb)
        return grad
    code = activation_code(activation)
    if code is None:
        return numpy_kernels.dense_backward(a, grad, activation, delta, gb, mask)
    alpha = a.dtype.type(getattr(activation, "alpha", 0.0))
    gb_or_row = delta[0] if gb is None else gb
    _split(slope, numba_parallel.slope_blocks, a.size, a, grad, code, alpha, delta, gb_or_row, gb is not None)
    return delta


def bias_grad(delta: Array, gb: Array) -> Array:
    """The bias gradient, the column sums of ``delta``, into ``gb``."""
    _split(column_sums, numba_parallel.column_sums_blocks, delta.size, delta, gb)
    return gb


def output_block(
    kind: str, y: Array, out: Array, delta: Array, scale: float, one_hot: bool, argmax_rule: bool
) -> tuple[float, float, float]:
    """The loss value, the batch accuracy or sum of squares, and the output delta, from ``out``.

    See `chainrule.nn.kernels.numpy_kernels.output_block`; ``one_hot`` needs no separate path
    here (zero targets are skipped anyway).
    """
    eps = float(np.finfo(out.dtype).eps)
    if not delta.flags.c_contiguous:  # a flat view is needed: write a contiguous delta, then copy it
        written = np.empty(delta.shape, delta.dtype)
        result = output_block(kind, y, out, written, scale, one_hot, argmax_rule)
        delta[...] = written
        return result
    flat_out, flat_delta = out.reshape(-1), delta.reshape(-1)  # the pass reads and writes them flat
    return output_pass(KINDS[kind], y, flat_out, 0, flat_delta, 0, out.dtype.type(scale), argmax_rule, eps)


def sgd_update(param: Array, grad: Array, lr: float, scratch: Array) -> None:
    """``param -= lr * grad``."""
    _split(sgd_pass, numba_parallel.sgd_blocks, param.size, param, grad, param.dtype.type(lr))


def momentum_update(
    param: Array, grad: Array, velocity: Array, lr: float, momentum: float, nesterov: bool, scratch: Array
) -> None:
    """``v = momentum * v + grad``; ``param -= lr * v`` (Nesterov: ``lr * (grad + momentum * v)``)."""
    cast = param.dtype.type
    arguments = (param, grad, velocity, cast(lr), cast(momentum), nesterov)
    _split(momentum_pass, numba_parallel.momentum_blocks, param.size, *arguments)


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
    _split(
        adam_pass, numba_parallel.adam_blocks, param.size, param, grad, m, v, cast(beta1), cast(1.0 - beta1),
        cast(beta2), cast(1.0 - beta2), cast(eps * c2), cast(lr * c2 / c1),
    )  # fmt: skip


def rmsprop_update(
    param: Array, grad: Array, v: Array, lr: float, rho: float, eps: float, scratch: Array
) -> None:
    """``v = rho * v + (1 - rho) * grad**2``; ``param -= lr * grad / (sqrt(v) + eps)``."""
    cast = param.dtype.type
    arguments = (param, grad, v, cast(rho), cast(1.0 - rho), cast(eps), cast(lr))
    _split(rmsprop_pass, numba_parallel.rmsprop_blocks, param.size, *arguments)


def chunk_trainer() -> Any:
    """The compiled epoch of batches (`chainrule.nn.kernels.numba_chunk.train_chunk`)."""
    return numba_chunk.train_chunk
