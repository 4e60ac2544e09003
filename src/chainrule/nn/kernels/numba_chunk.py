"""One epoch's batches of a small dense network in one compiled call (Numba).

For a network of a few thousand weights a step is a few microseconds of arithmetic and tens
of microseconds of Python; `train_chunk` runs every batch of an epoch without returning to
Python: forward pass, output block, backward pass, SGD or momentum update, and the sums the
epoch's loss and metrics are made of. It then returns to the training loop
(`chainrule.train.loop.Trainer`), which owns everything else: the divergence checks, the
roll-back, the history, the learning rate, callbacks and resume. It computes what the
step-by-step path computes, in the same order (the tests compare them to 1e-12).

Every array is flat, and each layer's place in it is a row of ``layout`` (columns `N_IN`,
`N_OUT`, `W_AT`, `B_AT`, `CODE`, `AT`): the parameters ``P`` (each layer's weights row by row,
then its biases; `chainrule.train.chunk.Chunk` copies them in and out), their gradients ``GP``
and velocities ``V`` in the same places, and the work buffers ``A`` (outputs), ``Z``
(pre-activations), ``D`` (deltas) and ``G`` (dLoss/d(output)), each layer's ``batch x n_out``
block at ``AT``. Flat arrays and offsets, not tuples of arrays and views: on the seed-sized
network a step took 1.6 us with per-layer views and about 0.6 us without them.
"""

from __future__ import annotations

import math

from chainrule.nn.kernels.numba_passes import (
    SOFTMAX,
    activated,
    inline,
    jit,
    output_pass,
    slope_of,
    softmax_row,
    softmax_slope_row,
)

N_IN, N_OUT, W_AT, B_AT, CODE, AT = range(6)  # the columns of ``layout``; B_AT is -1 without biases


@inline
def forward(x, P, layout, alphas, A, Z, rows):
    """Every layer: ``z = input @ W`` (+ bias), ``out = f(z)``; ``x`` the batch (2-d)."""
    for layer in range(layout.shape[0]):
        n_in, n_out, code = layout[layer, N_IN], layout[layer, N_OUT], layout[layer, CODE]
        at, w_at, b_at, alpha = layout[layer, AT], layout[layer, W_AT], layout[layer, B_AT], alphas[layer]
        in_at = layout[layer - 1, AT] if layer > 0 else 0
        for i in range(rows):
            z = Z[at + i * n_out : at + (i + 1) * n_out]  # row views: loops over them vectorize
            z[:] = 0.0
            for k in range(n_in):  # the products' terms added in k order, as a loop over k adds them
                a = x[i, k] if layer == 0 else A[in_at + i * n_in + k]
                w = P[w_at + k * n_out : w_at + (k + 1) * n_out]
                for j in range(n_out):
                    z[j] += a * w[j]
        for i in range(rows):
            row = at + i * n_out
            if b_at >= 0:
                for j in range(n_out):
                    Z[row + j] += P[b_at + j]
            if code == SOFTMAX:
                softmax_row(Z, A, row, n_out)
            else:  # per element: the rows are short, and this kept the step a third quicker
                for j in range(n_out):
                    A[row + j] = activated(code, Z[row + j], alpha)


@inline
def backward(x, P, GP, layout, alphas, A, D, G, rows, fused):
    """Deltas from the output back (``G`` holds dLoss/d(output)); gradients into ``GP``."""
    last = layout.shape[0] - 1
    for layer in range(last, -1, -1):
        n_in, n_out, code = layout[layer, N_IN], layout[layer, N_OUT], layout[layer, CODE]
        at, w_at, b_at, alpha = layout[layer, AT], layout[layer, W_AT], layout[layer, B_AT], alphas[layer]
        if layer < last:  # G = D(next) @ W(next).T
            n_next, w_next, at_next = layout[layer + 1, N_OUT], layout[layer + 1, W_AT], layout[layer + 1, AT]
            for i in range(rows):
                d = D[at_next + i * n_next : at_next + (i + 1) * n_next]
                for j in range(n_out):  # a dot product of two rows, its terms added in k order
                    w = P[w_next + j * n_next : w_next + (j + 1) * n_next]
                    total = 0.0
                    for k in range(n_next):
                        total += d[k] * w[k]
                    G[at + i * n_out + j] = total
        if b_at >= 0:
            for j in range(n_out):
                GP[b_at + j] = 0.0
        for i in range(rows):  # the delta (unless the output block wrote it), then the bias gradient
            row = at + i * n_out
            if layer < last or not fused:
                if code == SOFTMAX:
                    softmax_slope_row(A, G, D, row, n_out)
                else:
                    for j in range(n_out):
                        D[row + j] = slope_of(code, A[row + j], G[row + j], alpha)
            if b_at >= 0:
                for j in range(n_out):
                    GP[b_at + j] += D[row + j]
        in_at = layout[layer - 1, AT] if layer > 0 else 0
        for k in range(n_in):  # gW = input.T @ delta, rows added in order
            g = GP[w_at + k * n_out : w_at + (k + 1) * n_out]
            g[:] = 0.0
            for i in range(rows):
                a = x[i, k] if layer == 0 else A[in_at + i * n_in + k]
                d = D[at + i * n_out : at + (i + 1) * n_out]
                for j in range(n_out):
                    g[j] += a * d[j]


@inline
def update(P, GP, V, lr, momentum, nesterov):
    """Every parameter against its gradient: ``P -= lr * GP``, or momentum with velocity ``V``."""
    if momentum == 0.0:
        for i in range(P.shape[0]):
            P[i] -= GP[i] * lr
        return
    for i in range(P.shape[0]):
        vi = V[i] * momentum + GP[i]
        V[i] = vi
        P[i] -= (vi * momentum + GP[i] if nesterov else vi) * lr


@inline
def scores(t, out, at, rows, argmax_rule, want_mae):
    """The batch accuracy (argmax against the target above 0.5, or each output at 0.5) and the
    sum of absolute errors, of the outputs at ``at``."""
    m = t.shape[1]
    hits, absolute = 0.0, 0.0
    for i in range(rows):
        row = at + i * m
        best = 0
        for j in range(m):
            o, y = out[row + j], t[i, j]
            if want_mae:
                absolute += abs(o - y)
            if argmax_rule:
                if o > out[row + best]:
                    best = j
            else:
                hits += 1.0 if (o > 0.5) == (y > 0.5) else 0.0
        if argmax_rule:
            hits += 1.0 if t[i, best] > 0.5 else 0.0
    return (hits / rows if argmax_rule else hits / (rows * m)), absolute


@inline
def batch_of(X, y, order, start, rows, x, t):
    """The batch's rows: views in data order, or gathered into ``x``, ``t`` by ``order``."""
    if order.shape[0] == 0:
        return X[start : start + rows], y[start : start + rows]
    for r in range(rows):
        source = order[start + r]
        x[r, :] = X[source]
        t[r, :] = y[source]
    return x[:rows], t[:rows]


@inline
def train_epoch(net, work, opt, data, out_spec, sums):
    """One epoch's batches; return ``(batches done, the batch whose loss was not finite or -1, loss)``.

    ``net`` = (P, layout, alphas); ``work`` = (GP, A, Z, D, G); ``opt`` = (lr, momentum,
    nesterov, V); ``data`` = (X, y, order, batch, x, t), ``order`` empty for data order;
    ``out_spec`` = (kind, scale of a full batch, scale of the last batch, argmax_rule, eps,
    summed, fused, want_mae, want_accuracy), the scales the loss's ``delta_scale``. Adds to
    ``sums`` = (loss, accuracy, mse, mae), each weighted by the batch's rows as the step path
    weights them. A batch whose loss is not finite changes nothing: the caller rolls back and
    reports it.
    """
    P, layout, alphas = net
    GP, A, Z, D, G = work
    lr, momentum, nesterov, V = opt
    X, y, order, batch, x_buffer, t_buffer = data
    kind, full_scale, last_scale, argmax_rule, eps, summed, fused, want_mae, want_accuracy = out_spec
    n, last = X.shape[0], layout.shape[0] - 1
    at, width = layout[last, AT], layout[last, N_OUT]
    batch_number = 0
    for start in range(0, n, batch):
        rows = min(batch, n - start)
        x, t = batch_of(X, y, order, start, rows, x_buffer, t_buffer)
        forward(x, P, layout, alphas, A, Z, rows)
        scale = full_scale if rows == batch else last_scale
        first_delta = D if fused else G  # dLoss/dz for a fused pair, else dLoss/d(output)
        value, accuracy_of_batch, squares = output_pass(
            kind, t, A, at, first_delta, at, scale, argmax_rule, eps
        )
        if not math.isfinite(value):
            return batch_number, batch_number, value
        backward(x, P, GP, layout, alphas, A, D, G, rows, fused)
        update(P, GP, V, lr, momentum, nesterov)
        sums[0] += value if summed else value * rows
        if kind == 2:
            sums[2] += squares / (rows * width) * rows
        else:
            sums[1] += accuracy_of_batch * rows
        if want_mae or (kind == 2 and want_accuracy):
            accuracy, absolute = scores(t, A, at, rows, argmax_rule, want_mae)
            if kind == 2 and want_accuracy:
                sums[1] += accuracy * rows
            sums[3] += absolute / (rows * width) * rows
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
