"""A whole training run of a small dense network in one compiled call (Numba).

For a network of a few thousand weights a step is a few microseconds of arithmetic and tens
of microseconds of Python; this module runs every step of a chunk of epochs without returning
to Python: forward pass, output block, backward pass, SGD or momentum update, the epoch's loss
and metrics, the weights at the start of each epoch (for the divergence guard). It computes
what the step-by-step path computes, in the same order (the tests compare them to 1e-12).

Arrays come in as tuples, one entry per layer: weights ``W``, biases ``b`` (zero-length when a
layer has none), gradients and velocities, work buffers ``A`` (inputs and outputs of every
layer, ``A[0]`` the batch), ``Z`` (pre-activations) and ``D`` (deltas).
"""

from __future__ import annotations

import math

from chainrule.nn.kernels.numba_passes import activate, column_sums, jit, output_pass, slope


@jit
def product(A, B, C, transpose_a, transpose_b):
    """``C = op(A) @ op(B)`` by loops (the matrices are small), op the transpose when asked."""
    n, m = C.shape
    inner = A.shape[0] if transpose_a else A.shape[1]
    C[:, :] = 0.0
    for i in range(n):
        for k in range(inner):
            a = A[k, i] if transpose_a else A[i, k]
            for j in range(m):
                C[i, j] += a * (B[j, k] if transpose_b else B[k, j])


@jit
def forward(x, W, b, biased, codes, alphas, A, Z, rows):
    """Every layer: ``Z[l] = input @ W[l]`` (+ bias), ``A[l + 1] = f(Z[l])``; ``x`` the batch."""
    for layer in range(len(W)):
        z = Z[layer][:rows]
        product(x if layer == 0 else A[layer][:rows], W[layer], z, False, False)
        activate(z, b[layer], biased[layer], codes[layer], alphas[layer], A[layer + 1][:rows])


@jit
def backward(x, W, biased, codes, alphas, A, D, G, gW, gb, rows, fused):
    """Deltas from the output back (``G[l]`` holds dLoss/d(output of l)); gradients into gW, gb."""
    last = len(W) - 1
    for layer in range(last, -1, -1):
        delta = D[layer][:rows]
        if layer < last:
            product(D[layer + 1][:rows], W[layer + 1], G[layer][:rows], False, True)
        if layer < last or not fused:
            out = A[layer + 1][:rows]
            slope(out, G[layer][:rows], codes[layer], alphas[layer], delta, gb[layer], biased[layer])
        elif biased[layer]:
            column_sums(delta, gb[layer])
        product(x if layer == 0 else A[layer][:rows], delta, gW[layer], True, False)


@jit
def sgd_or_momentum(p, g, v, lr, momentum, nesterov):
    """``p -= lr * g``, or the momentum update with velocity ``v``."""
    if momentum == 0.0:
        for i in range(p.size):
            p[i] -= g[i] * lr
        return
    for i in range(p.size):
        vi = v[i] * momentum + g[i]
        v[i] = vi
        p[i] -= (vi * momentum + g[i] if nesterov else vi) * lr


@jit
def update(W, b, biased, gW, gb, vW, vb, lr, momentum, nesterov):
    """Every parameter against its gradient, layer by layer (weights, then bias)."""
    for layer in range(len(W)):
        p, g, v = W[layer].reshape(-1), gW[layer].reshape(-1), vW[layer].reshape(-1)
        sgd_or_momentum(p, g, v, lr, momentum, nesterov)
        if biased[layer]:
            sgd_or_momentum(b[layer], gb[layer], vb[layer], lr, momentum, nesterov)


@jit
def copy_weights(W, b, to_W, to_b):
    """``to_W[l][...] = W[l]`` and the same for the biases."""
    for layer in range(len(W)):
        to_W[layer][:, :] = W[layer]
        to_b[layer][:] = b[layer]


@jit
def absolute_error(y, out):
    """``sum(|out - y|)``."""
    total = 0.0
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total += abs(out[i, j] - y[i, j])
    return total


@jit
def accuracy(y, out, argmax_rule):
    """The batch accuracy: argmax against the target above 0.5, or each output at 0.5."""
    n, m = out.shape
    hits = 0.0
    for i in range(n):
        if argmax_rule:
            best = 0
            for j in range(1, m):
                if out[i, j] > out[i, best]:
                    best = j
            hits += 1.0 if y[i, best] > 0.5 else 0.0
        else:
            for j in range(m):
                hits += 1.0 if (out[i, j] > 0.5) == (y[i, j] > 0.5) else 0.0
    return hits / n if argmax_rule else hits / (n * m)


@jit
def batch_of(X, y, orders, epoch, start, rows, x, t):
    """The batch's rows: views in data order, or gathered into ``x``, ``t`` by ``orders[epoch]``."""
    if orders.shape[0] == 0:
        return X[start : start + rows], y[start : start + rows]
    for r in range(rows):
        source = orders[epoch, start + r]
        x[r, :] = X[source]
        t[r, :] = y[source]
    return x[:rows], t[:rows]


@jit
def train_epochs(net, work, opt, data, out_spec, logs, snaps):
    """Run ``logs.shape[0]`` epochs; return ``(epochs done, diverged batch or -1, its loss)``.

    ``net`` = (W, b, biased, codes, alphas); ``work`` = (A, Z, D, G, gW, gb); ``opt`` = (lrs,
    momentum, nesterov, vW, vb); ``data`` = (X, y, orders, batch, x, t); ``out_spec`` = (kind,
    half, mean, argmax_rule, eps, summed, fused, want_mae); ``logs[e]`` = loss, metric from the output block,
    mae; ``snaps`` = (current W, current b, previous W, previous b, epochs started).
    """
    W, b, biased, codes, alphas = net
    A, Z, D, G, gW, gb = work
    lrs, momentum, nesterov, vW, vb = opt
    X, y, orders, batch, x_buffer, t_buffer = data
    kind, half, mean, argmax_rule, eps, summed, fused, want_mae, want_accuracy = out_spec
    cur_W, cur_b, prev_W, prev_b, started = snaps
    n, last = X.shape[0], len(W) - 1
    for epoch in range(logs.shape[0]):
        if started[0]:
            copy_weights(cur_W, cur_b, prev_W, prev_b)
        copy_weights(W, b, cur_W, cur_b)
        started[0] += 1
        total, stat_total, mae_total, hits_total, batch_number = 0.0, 0.0, 0.0, 0.0, 0
        for start in range(0, n, batch):
            rows = min(batch, n - start)
            x, t = batch_of(X, y, orders, epoch, start, rows, x_buffer, t_buffer)
            forward(x, W, b, biased, codes, alphas, A, Z, rows)
            out = A[last + 1][:rows]
            first_delta = D[last][:rows] if fused else G[last][:rows]
            scale = half / out.size if mean else half
            value, stat = output_pass(kind, t, out, first_delta, scale, argmax_rule, eps)
            if not math.isfinite(value):
                return epoch, batch_number, value
            backward(x, W, biased, codes, alphas, A, D, G, gW, gb, rows, fused)
            update(W, b, biased, gW, gb, vW, vb, lrs[epoch], momentum, nesterov)
            total += value if summed else value * rows
            stat_total += (stat / out.size if kind == 2 else stat) * rows
            if want_mae:
                mae_total += absolute_error(t, out) / out.size * rows
            if want_accuracy:
                hits_total += accuracy(t, out, argmax_rule) * rows
            batch_number += 1
        logs[epoch, 0] = total if summed else total / n
        logs[epoch, 1] = stat_total / n
        logs[epoch, 2] = mae_total / n
        logs[epoch, 3] = hits_total / n
    return logs.shape[0], -1, 0.0
