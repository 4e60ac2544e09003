"""One epoch's batches of a small dense network in one compiled call (Numba).

For a network of a few thousand weights a step is a few microseconds of arithmetic and tens
of microseconds of Python; `train_chunk` runs every batch of an epoch without returning to
Python: forward pass, output block, backward pass, SGD or momentum update, and the sums the
epoch's loss and metrics are made of. It then returns to the training loop
(`chainrule.train.loop.Trainer`), which owns everything else: the divergence checks, the
roll-back, the history, the learning rate, callbacks and resume. It computes what the
step-by-step path computes, in the same order (the tests compare them to 1e-12).

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
def batch_of(X, y, order, start, rows, x, t):
    """The batch's rows: views in data order, or gathered into ``x``, ``t`` by ``order``."""
    if order.shape[0] == 0:
        return X[start : start + rows], y[start : start + rows]
    for r in range(rows):
        source = order[start + r]
        x[r, :] = X[source]
        t[r, :] = y[source]
    return x[:rows], t[:rows]


@jit
def train_epoch(net, work, opt, data, out_spec, sums):
    """One epoch's batches; return ``(batches done, the batch whose loss was not finite or -1, loss)``.

    ``net`` = (W, b, biased, codes, alphas); ``work`` = (A, Z, D, G, gW, gb); ``opt`` = (lr,
    momentum, nesterov, vW, vb); ``data`` = (X, y, order, batch, x, t), ``order`` empty for
    data order; ``out_spec`` = (kind, scale of a full batch, scale of the last batch,
    argmax_rule, eps, summed, fused, want_mae, want_accuracy), the scales the loss's
    ``delta_scale``. Adds to ``sums`` = (loss, accuracy, mse, mae), each weighted by the batch's
    rows as the step path weights them. A batch whose loss is not finite changes nothing: the
    caller rolls back and reports it.
    """
    W, b, biased, codes, alphas = net
    A, Z, D, G, gW, gb = work
    lr, momentum, nesterov, vW, vb = opt
    X, y, order, batch, x_buffer, t_buffer = data
    kind, full_scale, last_scale, argmax_rule, eps, summed, fused, want_mae, want_accuracy = out_spec
    n, last = X.shape[0], len(W) - 1
    batch_number = 0
    for start in range(0, n, batch):
        rows = min(batch, n - start)
        x, t = batch_of(X, y, order, start, rows, x_buffer, t_buffer)
        forward(x, W, b, biased, codes, alphas, A, Z, rows)
        out = A[last + 1][:rows]
        first_delta = D[last][:rows] if fused else G[last][:rows]
        scale = full_scale if rows == batch else last_scale
        value, accuracy_of_batch, squares = output_pass(kind, t, out, first_delta, scale, argmax_rule, eps)
        if not math.isfinite(value):
            return batch_number, batch_number, value
        backward(x, W, biased, codes, alphas, A, D, G, gW, gb, rows, fused)
        update(W, b, biased, gW, gb, vW, vb, lr, momentum, nesterov)
        sums[0] += value if summed else value * rows
        if kind == 2:
            sums[2] += squares / out.size * rows
            if want_accuracy:
                sums[1] += accuracy(t, out, argmax_rule) * rows
        else:
            sums[1] += accuracy_of_batch * rows
        if want_mae:
            sums[3] += absolute_error(t, out) / out.size * rows
        batch_number += 1
    return batch_number, -1, 0.0


@jit
def train_chunk(net, work, opt, data, out_spec, sums):
    """``sums.shape[0]`` epochs of `train_epoch` back to back, the same order every epoch.

    Returns ``(epochs completed, batches done in all, the failing batch or -1, its loss)``:
    it stops at the first batch whose loss is not finite, inside epoch ``epochs completed``.
    Epoch ``e``'s sums go to ``sums[e]``. The training loop asks for several epochs only where
    nothing runs between them (`chainrule.train.loop.Trainer.fast_forward`).
    """
    sums[:, :] = 0.0
    steps = 0
    for epoch in range(sums.shape[0]):
        done, failed, value = train_epoch(net, work, opt, data, out_spec, sums[epoch])
        steps += done
        if failed >= 0:
            return epoch, steps, failed, value
    return sums.shape[0], steps, -1, 0.0
