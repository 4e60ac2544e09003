r"""
Checking gradients
==================

A backward pass can be wrong and still train, slowly and badly, with no error anywhere. The
check that catches it needs nothing but the forward pass: nudge one parameter up and down by a
small :math:`\varepsilon`, see how the loss moves, and compare with what backpropagation said,

.. math::

   \frac{\partial L}{\partial p} \approx \frac{L(p + \varepsilon) - L(p - \varepsilon)}{2\varepsilon},

for every parameter in turn. `chainrule.gradcheck` does exactly this. This page shows it
passing on a correct network, then catching two planted bugs and pointing at where they are.
"""

# %%
# A check that passes
# -------------------
#
# A 4-5-3 classifier (tanh hidden layer with biases, softmax output) on a batch of 6. The
# check works on a float64 copy of the network and compares, per parameter array, the relative
# error :math:`\lVert g_{bp} - g_{fd}\rVert / (\lVert g_{bp}\rVert + \lVert g_{fd}\rVert)`.
# Below about :math:`10^{-6}` the two agree; a wrong backward pass gives errors near 1.
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule.nn.activations import Activation
from chainrule.nn.losses import SquaredError

rng = np.random.default_rng(0)
X = rng.normal(size=(6, 4))
labels = np.array([0, 1, 2, 1, 0, 2])
net = cr.Network([4, 5, 3], activation="tanh", output_activation="softmax", seed=0)

result = cr.gradcheck(net, X, labels, loss="categorical_crossentropy")
print(result)
for name, error in result.errors.items():
    print(f"  {name}: relative error {error:.1e}")
assert result.max_error < 1e-7

# %%
# The same check with the chain rule taken term by term at the output (``fused=False``; see
# :doc:`plot_2_softmax_cross_entropy`) passes too:
print(cr.gradcheck(net, X, labels, loss="categorical_crossentropy", fused=False))

# %%
# Choosing epsilon
# ----------------
#
# The difference quotient has two errors pulling in opposite directions: truncation, which
# shrinks like :math:`\varepsilon^2` (the central difference cancels the first-order term),
# and rounding in the loss, about :math:`10^{-16} L / \varepsilon`, which grows as
# :math:`\varepsilon` shrinks. The sweep shows the V between them; ``gradcheck``'s default
# :math:`\varepsilon = 10^{-5}` sits near the bottom.
epsilons = np.logspace(-1, -11, 21)
errors = [
    cr.gradcheck(net, X, labels, loss="categorical_crossentropy", eps=eps).max_error for eps in epsilons
]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(epsilons, errors, marker="o", markersize=3)
ax.axvline(1e-5, color="grey", linestyle=":", linewidth=1)
ax.set_xlabel("epsilon")
ax.set_ylabel("worst relative error")
ax.invert_xaxis()
fig.tight_layout()
best = epsilons[int(np.argmin(errors))]
print(f"smallest error {min(errors):.1e} at epsilon = {best:.0e}")


# %%
# A planted bug: the wrong slope
# ------------------------------
#
# An activation written by hand with a classic slip: tanh's derivative is :math:`1 - a^2`,
# written here as :math:`1 - a`. The forward pass is right, so the network's predictions look
# fine; only the deltas through this layer are wrong.
class SlipTanh(Activation):
    """tanh with a wrong derivative: ``1 - a`` instead of ``1 - a**2``."""

    name = "slip_tanh"
    derivative_formula = "(1-{a})"

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, a):
        return 1.0 - a  # the bug: should be 1.0 - a * a


buggy = cr.Network(
    [
        cr.Dense(4, 5, SlipTanh(), weights=net[0].params["W"], biases=net[0].params["b"]),
        cr.Dense(5, 3, "softmax", weights=net[1].params["W"], biases=net[1].params["b"]),
    ]
)
print("same predictions as the correct network:", np.allclose(buggy.predict(X), net.predict(X)))
caught = cr.gradcheck(buggy, X, labels, loss="categorical_crossentropy")
print(caught)
for name, error in caught.errors.items():
    print(f"  {name}: relative error {error:.1e}")
assert caught.worst.startswith("0.") and caught.errors["0.W"] > 1e-2 and caught.errors["1.W"] < 1e-7


# %%
# The check names the parameters whose gradients disagree: layer 0's ``W`` and ``b``, whose
# deltas pass through the wrong slope. Layer 1's gradients only need its own delta, which the
# slip does not touch, so they pass. That is how a gradient check localises a bug: the first
# layer (counting back from the output) that fails is where to look.
#
# A planted bug: a forgotten mean
# -------------------------------
#
# The second classic: a loss whose value is a *mean* over the batch but whose gradient forgets
# to divide by the number of samples. Here the mean squared error's gradient is written
# :math:`2(a - y)` instead of :math:`2(a - y)/n`.
class ForgotTheMean(SquaredError):  # noqa: N818 (a loss, not an exception)
    """Mean squared error with a gradient that forgot its 1/n."""

    def gradient(self, y, out):
        return 2.0 * (out - y)  # the bug: should be divided by out.size


regression = cr.Network([4, 5, 1], activation="tanh", output_activation="identity", seed=0)
y = rng.normal(size=(6, 1))
print("correct loss:", cr.gradcheck(regression, X, y, loss="mse"))
wrong = cr.gradcheck(regression, X, y, loss=ForgotTheMean("mse", half=False, reduction="mean"))
print("planted bug: ", wrong)
scale = wrong.analytic["1.W"] / wrong.numeric["1.W"]
print("backprop / finite difference, entry by entry:", np.array2string(scale.ravel(), precision=4))
assert np.allclose(scale, len(X), rtol=1e-5)

# %%
# Every parameter fails, and the ratio of the two gradients is the same everywhere: exactly the
# batch size. A constant factor is the fingerprint of a scaling bug (a missing mean, a
# learning rate applied twice); a wrong slope gives errors that vary entry by entry, as above.
#
# When to run it
# --------------
#
# - After writing any new activation, loss or layer: ``cr.gradcheck(net, X, y)`` on a small
#   network and a few samples (it runs the forward pass twice per parameter).
# - chainrule's own test suite runs it for every activation, loss and fused pair.
# - To see *which numbers* a wrong gradient produces in one step, `chainrule.trace_step` (or
#   ``chainrule explain`` for a saved model, :doc:`/guides/cli`) prints every delta and weight
#   change; :doc:`plot_1_backprop_chain_rule` derives what they should be.
