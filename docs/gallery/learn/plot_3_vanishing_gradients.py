r"""
Vanishing gradients and initialisation
======================================

Backpropagation multiplies, layer by layer: each hidden layer's delta is the next layer's
delta, sent back through the weights and multiplied by the activation's slope,

.. math::

   \delta^{(l)} = \left(\delta^{(l+1)} W^{(l+1)\mathsf T}\right) \odot f'\!\left(z^{(l)}\right).

In a deep network that is a long product, and a long product of factors a little below 1
shrinks to nothing (the gradient *vanishes*), while factors a little above 1 blow up (it
*explodes*). Which happens depends on two things this page measures: the **activation**
(its slope) and the **initial weights** (their scale). Every number and both figures were
computed when this page was built.
"""

# %%
# The experiment
# --------------
#
# A deep network: 64 inputs, ten hidden layers of 64 units, one linear output, on 256 random
# samples. For each activation and each way of drawing the initial weights, one backward pass
# (`Network.gradients`) gives :math:`\partial L / \partial W` for every layer; its norm says how
# strongly that layer would learn. The initialisers, by chainrule's names:
#
# - ``standard_normal``: :math:`\mathcal N(0, 1)`, seed 004's ``np.random.randn``;
# - ``normal``: standard deviation :math:`1/\sqrt{n_{in}}` (LeCun's; seed 001's);
# - ``glorot_uniform``: uniform in :math:`\pm\sqrt{6/(n_{in}+n_{out})}`, variance
#   :math:`2/(n_{in}+n_{out})` (Glorot and Bengio, 2010); chainrule's default for sigmoid and tanh;
# - ``he_normal``: standard deviation :math:`\sqrt{2/n_{in}}` (He et al., 2015); chainrule's
#   default for ReLU.
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
X = rng.normal(size=(256, 64))
y = rng.normal(size=(256, 1))
WIDTHS = [64] + [64] * 10 + [1]
ACTIVATIONS = ["sigmoid", "tanh", "relu"]
INITS = ["standard_normal", "normal", "glorot_uniform", "he_normal"]


def gradient_norms(activation: str, init: str) -> np.ndarray:
    net = cr.Network(WIDTHS, activation=activation, output_activation="identity", init=init, seed=0)
    return np.array([np.linalg.norm(layer["W"]) for layer in net.gradients(X, y, loss="mse")])


norms = {(act, init): gradient_norms(act, init) for act in ACTIVATIONS for init in INITS}
layers = np.arange(1, len(WIDTHS))

fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharey=True)
for ax, act in zip(axes, ACTIVATIONS, strict=True):
    for init in INITS:
        ax.semilogy(layers, norms[act, init], marker="o", markersize=3, label=init)
    ax.set_title(act)
    ax.set_xlabel("layer (1 = first hidden, 11 = output)")
axes[0].set_ylabel("norm of dL/dW at initialisation")
axes[-1].legend(fontsize=8)
fig.tight_layout()

# %%
# The same numbers as a table: the gradient norm of the first layer over that of the last.
# Near 1 means every layer learns at a similar rate; far below 1, the first layers barely
# learn. The size matters too: norms of :math:`10^{15}` (ReLU with :math:`\mathcal N(0,1)`
# weights) mean outputs of that size, and a first step that throws the network away.
print(f"{'activation':<10} {'initialiser':<16} {'first layer':>12} {'last layer':>12} {'first / last':>13}")
for (act, init), values in norms.items():
    print(f"{act:<10} {init:<16} {values[0]:12.2e} {values[-1]:12.2e} {values[0] / values[-1]:13.2e}")
ratio = {key: values[0] / values[-1] for key, values in norms.items()}
assert ratio["sigmoid", "glorot_uniform"] < 1e-4  # vanishes even with its recommended start
assert 0.1 < ratio["tanh", "glorot_uniform"] < 10 and 0.01 < ratio["relu", "he_normal"] < 10

# %%
# Why: the slope and the scale
# ----------------------------
#
# Going back through one layer multiplies the delta by :math:`W^{\mathsf T}` and then by the
# slope :math:`f'(z)`. With :math:`n` inputs and weights of variance :math:`\sigma_W^2`, a
# product with :math:`W^{\mathsf T}` multiplies the variance of a random vector by about
# :math:`n \sigma_W^2`, and the slope multiplies it by :math:`\mathbb E[f'(z)^2]`:
#
# .. math::
#
#    \operatorname{Var} \delta^{(l)} \approx n\,\sigma_W^2\,
#    \mathbb E\!\left[f'(z)^2\right] \operatorname{Var} \delta^{(l+1)} .
#
# - **Sigmoid**: :math:`\sigma'(z) = a(1-a) \le \tfrac14`, so with weights scaled to keep
#   :math:`n\sigma_W^2 \approx 1` (Glorot, LeCun) every layer divides the variance by at
#   least 16: a factor of :math:`16^{10} \approx 10^{12}` in variance over ten layers, and the
#   steepest curve in the left panel. Larger weights (``standard_normal``, :math:`n\sigma_W^2 =
#   64`) make up for the small slope for a while but push units into saturation, where the
#   slope is close to 0 and they stop learning altogether.
# - **tanh**: its slope at 0 is 1, and Glorot's variance :math:`2/(n_{in}+n_{out})` is
#   :math:`1/n` for a square layer: the factor is close to 1 and the curve is flat. This is
#   the case Glorot and Bengio derived it for.
# - **ReLU**: the slope is 1 for the half of the units that are active and 0 for the rest, so
#   :math:`\mathbb E[f'^2] = \tfrac12`. He's variance :math:`2/n_{in}` doubles the scale to
#   cancel that half; LeCun's :math:`1/n_{in}` loses a factor of 2 per layer; and
#   :math:`\mathcal N(0,1)` gains a factor of 32 per layer, which explodes.
#
# Does it matter for training?
# ----------------------------
#
# The same depth on a small regression problem (16 inputs, ten hidden layers of 32 units,
# plain SGD with step 0.05 on mini-batches of 64, 150 epochs): the loss curves, and how far
# each layer's weights moved from where they started, relative to their size.
X_train = rng.normal(size=(256, 16))
y_train = np.sin(X_train[:, :1]) + 0.5 * X_train[:, 1:2] * X_train[:, 2:3]
runs = [
    ("sigmoid", "glorot_uniform"),
    ("tanh", "glorot_uniform"),
    ("relu", "he_normal"),
    ("relu", "standard_normal"),
]
results = {}
for act, init in runs:
    net = cr.Network([16] + [32] * 10 + [1], activation=act, output_activation="identity", init=init, seed=0)
    start = net.get_weights()
    try:
        history = net.fit(X_train, y_train, loss="mse", optimizer=cr.SGD(lr=0.05), epochs=150, batch_size=64)
    except cr.DivergenceError as error:
        print(f"{act} + {init}: {str(error).splitlines()[0]}")
        continue
    moved = [
        np.linalg.norm(b["W"] - a["W"]) / np.linalg.norm(a["W"])
        for a, b in zip(start, net.get_weights(), strict=True)
    ]
    results[act, init] = (history["loss"], np.array(moved))
    print(f"{act} + {init}: loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.6f}; ", end="")
    print(f"first layer moved {moved[0]:.1e} of its size, last layer {moved[-1]:.1e}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
for (act, init), (loss, moved) in results.items():
    left.semilogy(loss, label=f"{act}, {init}")
    right.semilogy(np.arange(1, len(moved) + 1), moved, marker="o", markersize=3, label=f"{act}, {init}")
left.set_xlabel("epoch")
left.set_ylabel("training loss (mse)")
right.set_xlabel("layer")
right.set_ylabel("relative change of W after training")
left.legend(fontsize=8)
fig.tight_layout()
sigmoid_loss, sigmoid_moved = results["sigmoid", "glorot_uniform"]
assert sigmoid_moved[0] < 1e-3 < results["relu", "he_normal"][1][0]

# %%
# The deep sigmoid network's first layers hardly move, and its loss hardly falls: the
# gradient that reaches them is too small. tanh with Glorot and ReLU with He both train, and
# ReLU with :math:`\mathcal N(0,1)` weights does not survive the first epoch
# (`chainrule.DivergenceError` stops it and says why).
#
# What to take away
# -----------------
#
# - Hidden layers: ReLU (or tanh) rather than the seeds' sigmoid once a network has more than
#   a couple of hidden layers; keep sigmoid and softmax for outputs, where the fused delta of
#   :doc:`plot_2_softmax_cross_entropy` applies.
# - Leave ``init`` at chainrule's default: He for ReLU and leaky ReLU, Glorot otherwise
#   (``Network([...], init=...)`` overrides it).
# - To see it on your own network: ``[np.linalg.norm(g["W"]) for g in net.gradients(X, y)]``,
#   `chainrule.trace_step` for every delta of one step, or the :doc:`/guides/playground`,
#   which draws each layer's gradient as training runs.
