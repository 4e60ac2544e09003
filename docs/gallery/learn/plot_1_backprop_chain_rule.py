r"""
Backpropagation from the chain rule
===================================

Backpropagation is the chain rule of calculus, applied from the loss back to each weight, with
the products arranged so that nothing is computed twice. This chapter writes it out three
times, each a little larger: for **one weight**, for **one layer**, and for **a batch** of
samples, with the shape of every matrix. Each step is checked against chainrule's own
backward pass and against finite differences, and every number below was printed by the code
when this page was built.

Notation, as in the seed tutorials: a sample is a *row*; a layer computes
:math:`z = x W + b` and :math:`a = f(z)`, with :math:`W` of shape ``(n_in, n_out)``.
The activation's slope is written from its output: for the sigmoid,
:math:`f'(z) = a (1 - a)`.
"""

# %%
# One weight
# ----------
#
# The smallest network that has a chain: one input :math:`x`, one weight :math:`w`, a sigmoid,
# and the loss :math:`L = \tfrac12 (a - y)^2`.
#
# .. math::
#
#    z = w x, \qquad a = \sigma(z), \qquad L = \tfrac12 (a - y)^2 .
#
# :math:`L` depends on :math:`w` only through :math:`z`, and on :math:`z` only through
# :math:`a`. The chain rule multiplies the three local slopes:
#
# .. math::
#
#    \frac{\partial L}{\partial w}
#    = \underbrace{\frac{\partial L}{\partial a}}_{a - y}\;
#      \underbrace{\frac{\partial a}{\partial z}}_{a (1 - a)}\;
#      \underbrace{\frac{\partial z}{\partial w}}_{x}.
#
# The first two factors together are the **delta** :math:`\delta = \partial L / \partial z`,
# the quantity backpropagation carries from layer to layer. Then
# :math:`\partial L / \partial w = \delta \, x`: the delta times the input that the weight
# multiplied.
import numpy as np

import chainrule as cr

x, w, y = 1.5, 0.8, 0.2
z = w * x
a = 1 / (1 + np.exp(-z))
dloss_da = a - y
da_dz = a * (1 - a)
dz_dw = x
delta = dloss_da * da_dz
by_hand = delta * dz_dw
print(f"z = {z:.6f}   a = {a:.6f}   loss = {0.5 * (a - y) ** 2:.6f}")
print(f"dL/da = {dloss_da:.6f}   da/dz = {da_dz:.6f}   dz/dw = {dz_dw}")
print(f"delta = dL/dz = {delta:.6f}   dL/dw = delta * x = {by_hand:.6f}")

# %%
# Two independent checks. A **finite difference** nudges :math:`w` both ways and measures how
# the loss moves; chainrule's `Network.gradients` runs the library's backward pass on a
# one-unit network with the same weight.


def loss_at(weight: float) -> float:
    out = 1 / (1 + np.exp(-weight * x))
    return 0.5 * (out - y) ** 2


eps = 1e-6
numeric = (loss_at(w + eps) - loss_at(w - eps)) / (2 * eps)
net = cr.Network([cr.Dense(1, 1, "sigmoid", bias=False, weights=[[w]])])
library = net.gradients([[x]], [[y]], loss="half_sse")[0]["W"][0, 0]
print(f"chain rule by hand: {by_hand:.10f}")
print(f"finite difference:  {numeric:.10f}")
print(f"chainrule:          {library:.10f}")
assert abs(by_hand - library) < 1e-15 and abs(by_hand - numeric) < 1e-9

# %%
# One layer
# ---------
#
# Now a layer of ``n_out`` units on ``n_in`` inputs, for one sample: :math:`x` is a row of
# shape ``(1, n_in)``, :math:`W` has shape ``(n_in, n_out)``, :math:`b` shape ``(n_out,)``:
#
# .. math::
#
#    z_j = \sum_i x_i W_{ij} + b_j, \qquad a_j = f(z_j).
#
# Weight :math:`W_{ij}` reaches the loss only through :math:`z_j`, so the one-weight rule
# holds for each of them: :math:`\partial L / \partial W_{ij} = x_i \, \delta_j`. Written for
# the whole matrix, that is an **outer product**, input column times delta row:
#
# .. math::
#
#    \frac{\partial L}{\partial W} = x^{\mathsf T} \delta
#    \qquad \text{shape } (n_{in}, 1)(1, n_{out}) = (n_{in}, n_{out}),
#
# the shape of :math:`W` itself, as it must be. The **bias** is a weight whose input is always
# 1: :math:`\partial z_j / \partial b_j = 1`, so :math:`\partial L / \partial b = \delta`.
#
# What the layer passes *back* is the gradient with respect to its input. Input :math:`x_i`
# feeds every unit of the layer, so its gradient is a sum over them:
# :math:`\partial L / \partial x_i = \sum_j \delta_j W_{ij}`, that is
# :math:`\delta W^{\mathsf T}`, shape ``(1, n_in)``. If :math:`x` is the output of an earlier
# layer with activation :math:`g`, that layer's delta is this times its slope, elementwise:
#
# .. math::
#
#    \delta^{(l)} = \left(\delta^{(l+1)} W^{(l+1)\mathsf T}\right) \odot g'\!\left(z^{(l)}\right).
#
# That line is the whole backward pass; it repeats down to the first layer. Below, a 3-4-2
# network (sigmoid hidden layer, identity output, biases, :math:`L = \tfrac12\sum (a-y)^2`) on
# one sample, by hand, next to chainrule.
rng = np.random.default_rng(0)
x = rng.normal(size=(1, 3))
y = np.array([[0.5, -1.0]])
W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=4)
W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=2)

a1 = 1 / (1 + np.exp(-(x @ W1 + b1)))  # (1, 4)
a2 = a1 @ W2 + b2  # (1, 2), identity output
delta2 = a2 - y  # dL/dz2 = dL/da2 * 1
W2_grad, b2_grad = a1.T @ delta2, delta2[0]  # (4, 2), (2,)
delta1 = (delta2 @ W2.T) * a1 * (1 - a1)  # (1, 4): back through W2, then the sigmoid's slope
W1_grad, b1_grad = x.T @ delta1, delta1[0]  # (3, 4), (4,)

net = cr.Network(
    [
        cr.Dense(3, 4, "sigmoid", weights=W1, biases=b1),
        cr.Dense(4, 2, "identity", weights=W2, biases=b2),
    ]
)
grads = net.gradients(x, y, loss="half_sse")
for name, mine, theirs in [
    ("dL/W1_grad", W1_grad, grads[0]["W"]),
    ("dL/b1_grad", b1_grad, grads[0]["b"]),
    ("dL/W2_grad", W2_grad, grads[1]["W"]),
    ("dL/b2_grad", b2_grad, grads[1]["b"]),
]:
    print(f"{name} shape {mine.shape}: largest difference from chainrule {np.max(np.abs(mine - theirs)):.1e}")
    assert np.allclose(mine, theirs, rtol=1e-13, atol=1e-15)
print("dL/W1_grad =")
print(np.array2string(W1_grad, precision=6))

# %%
# A batch
# -------
#
# Training uses many samples at once: :math:`X` has shape ``(n, n_in)``, one row per sample,
# and every row goes through the same :math:`W`. The forward pass is one matrix product,
# :math:`Z = X W + \mathbf 1 b^{\mathsf T}` (the bias is added to every row). The loss of the
# batch is a sum (or a mean) of the samples' losses, so its gradient is the sum of theirs:
#
# .. math::
#
#    \frac{\partial L}{\partial W} = \sum_{s=1}^{n} x_s^{\mathsf T} \delta_s = X^{\mathsf T} \Delta,
#    \qquad
#    \frac{\partial L}{\partial b} = \sum_{s=1}^{n} \delta_s = \mathbf 1^{\mathsf T} \Delta,
#
# where :math:`\Delta` stacks the samples' deltas as rows, shape ``(n, n_out)``. The matrix
# product :math:`X^{\mathsf T}\Delta` *is* the sum over samples: its inner dimension is the
# batch. That is where the **bias gradient** comes from: the bias meets a column of ones, so
# its gradient is the column sums of :math:`\Delta`. With a mean loss every delta carries a
# factor :math:`1/n` from the start, and the same sums give the mean gradient.
#
# Check it: the per-sample rule in a Python loop, summed, against chainrule's batch backward.
X = rng.normal(size=(5, 3))
Y = rng.normal(size=(5, 2))
loop_grads = [np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)]
for x_s, y_s in zip(X, Y, strict=True):
    x_s, y_s = x_s[None, :], y_s[None, :]
    a1 = 1 / (1 + np.exp(-(x_s @ W1 + b1)))
    d2 = (a1 @ W2 + b2) - y_s
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    for total, part in zip(loop_grads, [x_s.T @ d1, d1[0], a1.T @ d2, d2[0]], strict=True):
        total += part
batch = net.gradients(X, Y, loss="half_sse")
batch_grads = [batch[0]["W"], batch[0]["b"], batch[1]["W"], batch[1]["b"]]
for name, looped, batched in zip(["W1", "b1", "W2", "b2"], loop_grads, batch_grads, strict=True):
    gap = np.max(np.abs(looped - batched))
    print(f"dL/d{name}: sum of 5 per-sample gradients vs one batch product, max diff {gap:.1e}")
    assert np.allclose(looped, batched, rtol=1e-12, atol=1e-14)

# %%
# The shape of every matrix
# -------------------------
#
# `chainrule.trace_step` runs one real training step and keeps every intermediate array, so the
# shapes can be read off the step itself rather than written down. For the 3-4-2 network on a
# batch of 5:
trace = cr.trace_step(net, X, Y, loss="half_sse", lr=0.1, apply=False)
print(f"{'array':<34} {'shape':>8}   note")
print(f"{'A0 = X (the batch)':<34} {trace.X.shape!s:>8}   one row per sample")
last = len(trace.layers)
for layer in trace.layers:
    n = layer.number
    how = "dL/dA * f'(Z): the loss's gradient" if n == last else f"(Delta{n + 1} W{n + 1}.T) * f'(Z{n})"
    rows = [
        (f"W{n}", layer.weights["W"].shape, "(n_in, n_out)"),
        (f"b{n}", layer.weights["b"].shape, "(n_out,)"),
        (f"Z{n} = A{n - 1} W{n} + b{n}", layer.z.shape, "b added to every row"),
        (f"A{n} = f(Z{n})", layer.output.shape, "elementwise"),
        (f"Delta{n} = dL/dZ{n}", layer.delta.shape, how),
        (f"dL/dW{n} = A{n - 1}.T Delta{n}", layer.grads["W"].shape, "same shape as W: sums over the batch"),
        (f"dL/db{n} = column sums of Delta{n}", layer.grads["b"].shape, "same shape as b"),
    ]
    for label, shape, note in rows:
        print(f"{label:<34} {shape!s:>8}   {note}")
assert trace.layers[1].grads["W"].shape == W2.shape and trace.layers[0].delta.shape == (5, 4)

# %%
# Where to go from here
# ---------------------
#
# - :doc:`/guides/backprop_step` does one step of seed 001's network with every number, and
#   shows the lesson's sign convention (its "error term" is :math:`-\delta`).
# - ``print(cr.trace_step(net, X, y))`` prints a step like the one above for any network;
#   from the shell, ``chainrule explain model.npz --input ... --target ...`` does the same for a
#   saved model (:doc:`/guides/cli`).
# - :doc:`/guides/playground` animates the deltas flowing back through the network while it
#   trains, with the same numbers as `chainrule.trace_step`.
# - The next chapters: why the output delta of softmax with cross-entropy is simply
#   :math:`(a - y)/n`, why deltas shrink in deep sigmoid networks, and how to check a backward
#   pass with `chainrule.gradcheck`.
