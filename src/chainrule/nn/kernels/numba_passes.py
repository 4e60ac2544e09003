"""The compiled passes the Numba modules share: activation, slope, column sums, output block, updates.

`chainrule.nn.kernels.numba_kernels` calls them once per layer and step; the compiled chunk
`chainrule.nn.kernels.numba_chunk` calls them inside its loop over an epoch's batches.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from chainrule.nn.kernels.numba_cache import caching

SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX = range(6)  # kernels.ACTIVATION_CODES
KINDS = {"softmax_cce": 0, "sigmoid_bce": 1, "squared": 2}

#: Cached where a folder is writable (`chainrule.nn.kernels.numba_cache`), decided before any decorator.
jit = numba.njit(cache=caching(), error_model="numpy", nogil=True)
#: For the helpers a compiled loop calls per element, row or batch: inlined into the caller by Numba
#: (a call between compiled functions is not inlined otherwise, and costs the chunk half its step).
inline = numba.njit(cache=caching(), error_model="numpy", nogil=True, inline="always")


@inline
def activated(code, v, alpha):
    """``f(v)`` for an element-wise activation ``code`` (not softmax, which takes a row)."""
    if code == RELU:
        return 0.0 if v < 0.0 else v
    if code == SIGMOID:
        return 1.0 / (1.0 + np.exp(-v))
    if code == TANH:
        return np.tanh(v)
    if code == LEAKY_RELU:
        w = v * alpha
        return v if v >= w else w
    return v  # identity


@inline
def slope_of(code, a, g, alpha):
    """``g * f'(z)`` from the output ``a``, for an element-wise activation ``code``."""
    if code == RELU:
        return g * (1.0 if a > 0.0 else 0.0)
    if code == SIGMOID:
        return (1.0 - a) * a * g
    if code == TANH:
        return (1.0 - a * a) * g
    if code == LEAKY_RELU:
        return g * (1.0 if a > 0.0 else alpha)
    return g  # identity


@inline
def softmax_row(z, out, at, m):
    """``out[at:at+m]`` = softmax of ``z[at:at+m]``, after subtracting the row's maximum."""
    top = z[at]
    for j in range(at + 1, at + m):
        top = max(top, z[j])
    total = 0.0
    for j in range(at, at + m):
        e = np.exp(z[j] - top)
        out[j] = e
        total += e
    for j in range(at, at + m):
        out[j] /= total


@inline
def softmax_slope_row(a, grad, delta, at, m):
    """Softmax's Jacobian-vector product on one row: ``a * (grad - sum(grad * a))``."""
    inner = 0.0
    for j in range(at, at + m):
        inner += grad[j] * a[j]
    for j in range(at, at + m):
        delta[j] = (grad[j] - inner) * a[j]


@jit
def activate(z, b, has_bias, code, alpha, out):
    """``z += b``; ``out = f(z)`` for the activation ``code``.

    Each element-wise code has its own loop, over which `activated` folds to one formula: a loop
    that asked for the code at every element would not vectorize (7x slower on 128x256 float32;
    the compiled chunk, whose rows are short, asks per element).
    """
    n, m = z.shape
    for i in range(n):
        if has_bias:
            for j in range(m):
                z[i, j] += b[j]
        if code == RELU:
            for j in range(m):
                out[i, j] = activated(RELU, z[i, j], alpha)
        elif code == SIGMOID:
            for j in range(m):
                out[i, j] = activated(SIGMOID, z[i, j], alpha)
        elif code == TANH:
            for j in range(m):
                out[i, j] = activated(TANH, z[i, j], alpha)
        elif code == LEAKY_RELU:
            for j in range(m):
                out[i, j] = activated(LEAKY_RELU, z[i, j], alpha)
        elif code == SOFTMAX:
            softmax_row(z[i], out[i], 0, m)
        else:
            for j in range(m):
                out[i, j] = z[i, j]


@jit
def slope(a, grad, code, alpha, delta, gb, has_bias):
    """``delta = grad * f'(z)`` from the output ``a``; column sums of ``delta`` into ``gb``."""
    n, m = a.shape
    if has_bias:
        gb[:] = 0.0
    for i in range(n):
        if code == RELU:
            for j in range(m):
                delta[i, j] = slope_of(RELU, a[i, j], grad[i, j], alpha)
        elif code == SIGMOID:
            for j in range(m):
                delta[i, j] = slope_of(SIGMOID, a[i, j], grad[i, j], alpha)
        elif code == TANH:
            for j in range(m):
                delta[i, j] = slope_of(TANH, a[i, j], grad[i, j], alpha)
        elif code == LEAKY_RELU:
            for j in range(m):
                delta[i, j] = slope_of(LEAKY_RELU, a[i, j], grad[i, j], alpha)
        elif code == SOFTMAX:
            softmax_slope_row(a[i], grad[i], delta[i], 0, m)
        else:
            for j in range(m):
                delta[i, j] = grad[i, j]
        if has_bias:
            for j in range(m):
                gb[j] += delta[i, j]


@jit
def column_sums(delta, gb):
    """``gb = delta.sum(axis=0)``."""
    gb[:] = 0.0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            gb[j] += delta[i, j]


@inline
def clipped(p, eps):
    """``p`` clipped to ``[eps, 1 - eps]``, NaN passed through."""
    if p < eps:
        return eps
    if p > 1.0 - eps:
        return 1.0 - eps
    return p


@inline
def output_pass(kind, y, out, out_at, delta, delta_at, scale, argmax_rule, eps):
    """The loss value, the accuracy or sum of squares, and the output delta ``scale * (out - y)``,
    in one pass (see `chainrule.nn.kernels.numpy_kernels.output_block`). ``out`` and ``delta``
    are flat: the batch's ``len(y) x y.shape[1]`` block starts at ``out_at`` and ``delta_at``."""
    n, m = y.shape
    value, hits = 0.0, 0.0
    for i in range(n):
        best = 0
        row, delta_row = out_at + i * m, delta_at + i * m
        for j in range(m):
            o, t = out[row + j], y[i, j]
            d = o - t
            if kind == 2:
                value += d * d
                delta[delta_row + j] = d if scale == 1.0 else d * scale
                continue
            delta[delta_row + j] = d * scale
            if kind == 0:
                if t != 0.0:  # 0 * log(p) adds nothing: only the true class counts for one-hot rows
                    value -= t * math.log(clipped(o, eps))
            else:
                p = clipped(o, eps)
                value -= t * math.log(p) + (1.0 - t) * math.log1p(-p)
            if not argmax_rule:
                hits += 1.0 if (o > 0.5) == (t > 0.5) else 0.0
            if o > out[row + best]:
                best = j
        if kind != 2 and argmax_rule:
            hits += 1.0 if y[i, best] > 0.5 else 0.0
    if kind == 2:
        return value * (0.5 * scale), math.nan, value
    accuracy = hits / n if argmax_rule else hits / (n * m)
    return value / (n if kind == 0 else n * m), accuracy, math.nan


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
