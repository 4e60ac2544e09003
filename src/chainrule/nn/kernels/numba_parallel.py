"""The Numba passes split over threads: each serial pass of `chainrule.nn.kernels.numba_passes`
run on blocks of rows (or of elements) with ``prange``, so every element is computed by the same
compiled code as on one thread and the results are bit for bit the same.

The one reduction, a bias gradient's column sums, is split over blocks of columns: each column is
still summed down its rows in order, as `chainrule.nn.kernels.numba_passes.slope` does. The loss
and metric sums of the output block stay serial (its arrays are a batch by the outputs: small).

`chainrule.nn.kernels.numba_kernels` calls these only where the caller asked for threads
(`chainrule.nn.kernels.threads.split_passes`) and the array is large enough, and one at a time:
Numba's workqueue threading layer (used where neither TBB nor OpenMP is installed) cannot run two
parallel regions at once, so a call that finds another thread's pass running takes the serial
pass instead.
"""

from __future__ import annotations

import numba

from chainrule.nn.kernels.numba_cache import caching
from chainrule.nn.kernels.numba_passes import (
    activate,
    adam_pass,
    column_sums,
    momentum_pass,
    rmsprop_pass,
    sgd_pass,
    slope,
)

#: Compiled on first use only (a run with several threads and big arrays), cached like the rest.
pjit = numba.njit(cache=caching(), error_model="numpy", nogil=True, parallel=True)


@pjit
def activate_blocks(z, b, has_bias, code, alpha, out, blocks):
    """`activate` on ``blocks`` blocks of rows at once."""
    n = z.shape[0]
    for k in numba.prange(blocks):
        start, stop = k * n // blocks, (k + 1) * n // blocks
        activate(z[start:stop], b, has_bias, code, alpha, out[start:stop])


@pjit
def slope_blocks(a, grad, code, alpha, delta, gb, has_bias, blocks):
    """`slope` on blocks of rows, then the column sums of ``delta`` on blocks of columns."""
    n, m = a.shape
    for k in numba.prange(blocks):
        start, stop = k * n // blocks, (k + 1) * n // blocks
        slope(a[start:stop], grad[start:stop], code, alpha, delta[start:stop], gb, False)
    if has_bias:
        for k in numba.prange(blocks):
            start, stop = k * m // blocks, (k + 1) * m // blocks
            column_sums(delta[:, start:stop], gb[start:stop])


@pjit
def column_sums_blocks(delta, gb, blocks):
    """`column_sums` on blocks of columns (each column summed down its rows in order)."""
    m = delta.shape[1]
    for k in numba.prange(blocks):
        start, stop = k * m // blocks, (k + 1) * m // blocks
        column_sums(delta[:, start:stop], gb[start:stop])


@pjit
def sgd_blocks(param, grad, lr, blocks):
    """`sgd_pass` on blocks of elements."""
    p, g = param.reshape(-1), grad.reshape(-1)
    n = p.size
    for k in numba.prange(blocks):
        start, stop = k * n // blocks, (k + 1) * n // blocks
        sgd_pass(p[start:stop], g[start:stop], lr)


@pjit
def momentum_blocks(param, grad, velocity, lr, momentum, nesterov, blocks):
    """`momentum_pass` on blocks of elements."""
    p, g, v = param.reshape(-1), grad.reshape(-1), velocity.reshape(-1)
    n = p.size
    for k in numba.prange(blocks):
        start, stop = k * n // blocks, (k + 1) * n // blocks
        momentum_pass(p[start:stop], g[start:stop], v[start:stop], lr, momentum, nesterov)


@pjit
def adam_blocks(param, grad, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_c2, step, blocks):
    """`adam_pass` on blocks of elements."""
    p, g, mm, vv = param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1)
    n = p.size
    for k in numba.prange(blocks):
        s, e = k * n // blocks, (k + 1) * n // blocks
        adam_pass(
            p[s:e], g[s:e], mm[s:e], vv[s:e], beta1, one_minus_beta1, beta2, one_minus_beta2, eps_c2, step
        )


@pjit
def rmsprop_blocks(param, grad, v, rho, one_minus_rho, eps, lr, blocks):
    """`rmsprop_pass` on blocks of elements."""
    p, g, vv = param.reshape(-1), grad.reshape(-1), v.reshape(-1)
    n = p.size
    for k in numba.prange(blocks):
        start, stop = k * n // blocks, (k + 1) * n // blocks
        rmsprop_pass(p[start:stop], g[start:stop], vv[start:stop], rho, one_minus_rho, eps, lr)
