r"""
Why softmax and cross-entropy fuse
==================================

A classifier's output layer is a softmax, and its loss is the cross-entropy. Each on its own
has an awkward derivative: the softmax's is a full matrix (every output depends on every
input), and the cross-entropy's, :math:`-y/a`, divides by probabilities that can be tiny.
Multiplied together by the chain rule they collapse to something very simple,

.. math::

   \frac{\partial L}{\partial z} = \frac{a - y}{n},

the prediction minus the target, over the batch size. This chapter derives it, checks it
numerically, and shows why chainrule (like every library) uses the fused form in training.
"""

# %%
# The two pieces
# --------------
#
# For one sample with logits :math:`z` (a row of :math:`K` numbers) the softmax is
#
# .. math::
#
#    a_k = \frac{e^{z_k}}{\sum_j e^{z_j}} .
#
# Its derivative has two cases. For :math:`k = i`, the quotient rule gives
# :math:`a_i - a_i^2`; for :math:`k \ne i`, only the denominator depends on :math:`z_i`, giving
# :math:`-a_k a_i`. Both in one line, with :math:`[k = i]` equal to 1 or 0:
#
# .. math::
#
#    \frac{\partial a_k}{\partial z_i} = a_k \left([k = i] - a_i\right).
#
# The cross-entropy of a batch of :math:`n` samples with one-hot targets :math:`y`
# (each row sums to 1) is the mean over samples of :math:`-\sum_k y_k \log a_k`, so for one
# sample's outputs
#
# .. math::
#
#    \frac{\partial L}{\partial a_k} = -\frac{1}{n}\,\frac{y_k}{a_k}.
#
# The chain rule
# --------------
#
# :math:`z_i` reaches the loss through *every* output :math:`a_k`, so the chain rule sums over
# them:
#
# .. math::
#
#    \frac{\partial L}{\partial z_i}
#    = \sum_k \frac{\partial L}{\partial a_k}\,\frac{\partial a_k}{\partial z_i}
#    = -\frac1n \sum_k \frac{y_k}{a_k}\, a_k \left([k = i] - a_i\right)
#    = -\frac1n \Big( y_i - a_i \sum_k y_k \Big)
#    = \frac{a_i - y_i}{n},
#
# because the targets sum to 1. The :math:`a_k` of the loss's gradient cancels the
# :math:`a_k` of the softmax's, which is why nothing is left to divide by.
#
# The same cancellation happens for a sigmoid output with binary cross-entropy
# :math:`-[y \log a + (1-y)\log(1-a)]`: its gradient :math:`(a - y)/(a(1-a))` meets the
# sigmoid's slope :math:`a(1-a)`. chainrule's binary cross-entropy is a mean over every
# output (``n`` rows times the number of columns), so that pair's fused delta is
# :math:`a - y` divided by that count. Both pairs are named in one place,
# ``Loss.fuses_with`` and ``Loss.delta_scale`` in ``chainrule.nn.losses``.
#
# Checking the algebra with numbers
# ---------------------------------
#
# Three ways to the output delta of a batch: the Jacobian of the softmax built explicitly and
# multiplied by the loss's gradient; chainrule's term-by-term chain rule
# (``Network.gradients(..., fused=False)``); and the fused :math:`(a - y)/n`.
import numpy as np

import chainrule as cr

rng = np.random.default_rng(1)
n, K = 4, 3
Z = rng.normal(size=(n, K))
labels = np.array([0, 2, 1, 2])
Y = cr.one_hot(labels, K)

A = np.exp(Z - Z.max(axis=1, keepdims=True))
A /= A.sum(axis=1, keepdims=True)
dloss_dout = -Y / A / n  # (n, K)
by_jacobian = np.empty_like(Z)
for s in range(n):
    jacobian = np.diag(A[s]) - np.outer(A[s], A[s])  # J[k, i] = a_k ([k = i] - a_i), symmetric
    by_jacobian[s] = dloss_dout[s] @ jacobian
fused = (A - Y) / n
print("softmax outputs A:")
print(np.array2string(A, precision=6))
print("(A - Y) / n:")
print(np.array2string(fused, precision=6))
print(f"largest difference, Jacobian route vs fused: {np.max(np.abs(by_jacobian - fused)):.1e}")
assert np.allclose(by_jacobian, fused, rtol=1e-12, atol=1e-15)

# %%
# In a network the output delta is what the bias gradient sums (see the previous chapter), so a
# one-layer softmax network whose weight matrix is the identity turns ``Z`` into its own
# logits, and its bias gradient shows the delta's column sums:
net = cr.Network([cr.Dense(K, K, "softmax", weights=np.eye(K), biases=np.zeros(K))])
term_by_term = net.gradients(Z, labels, loss="categorical_crossentropy", fused=False)[0]["b"]
as_trained = net.gradients(Z, labels, loss="categorical_crossentropy", fused=True)[0]["b"]
print("bias gradient, chain rule term by term:", np.array2string(term_by_term, precision=10))
print("bias gradient, fused (as fit trains):  ", np.array2string(as_trained, precision=10))
print("column sums of (A - Y) / n:            ", np.array2string(fused.sum(axis=0), precision=10))
assert np.allclose(term_by_term, as_trained, rtol=1e-12) and np.allclose(
    as_trained, fused.sum(axis=0), rtol=1e-12
)

# %%
# Why fuse: a confident wrong answer
# ----------------------------------
#
# The two routes agree when the probabilities are moderate. Take instead a sample whose logits
# are far apart and whose label is the *unlikely* class: the softmax gives that class a
# probability of :math:`e^{-800}`, which underflows to exactly 0 in float64. The loss's
# gradient :math:`-y/(n a)` is then a division by zero (chainrule clips :math:`a` to the machine
# epsilon first, as Keras does, so the loss stays finite), and the Jacobian multiplies it by
# that same 0.
Z_bad = np.array([[0.0, 800.0, 0.0], Z[1]])
Y_bad = cr.one_hot(np.array([0, 2]), K)
softmax, cross_entropy = cr.get_activation("softmax"), cr.get_loss("categorical_crossentropy")
A_bad = softmax.forward(Z_bad.copy())
print("outputs:", np.array2string(A_bad, precision=6))
print("loss:", cross_entropy(Y_bad, A_bad))
term_by_term_bad = softmax.backward(A_bad, cross_entropy.gradient(Y_bad, A_bad))  # Jacobian times -y/a/n
fused_bad = cross_entropy.fused_delta(Y_bad, A_bad)  # (a - y) / n
print("output delta, term by term:")
print(np.array2string(term_by_term_bad, precision=6))
print("output delta, fused:")
print(np.array2string(fused_bad, precision=6))
assert not term_by_term_bad[0].any() and np.allclose(fused_bad[0], [-0.5, 0.5, 0.0])

# %%
# Term by term, the badly wrong sample (the first row) contributes *nothing*: the network would never learn
# from its worst mistake. The fused delta is :math:`(a - y)/n`, whose entries are bounded by
# :math:`1/n`, and it pushes the wrong logit down and the right one up at full strength.
# That is the whole reason training uses the fused form: the same mathematics, but computed
# without the two factors that cancel.
#
# In chainrule, ``fit``, `chainrule.trace_step` and the playground all use the fused delta
# whenever the pair applies; `chainrule.gradcheck` can check either route (``fused=``), and the
# step trace says which one it took (``trace.fused``):
trace = cr.trace_step(net, Z, labels, loss="categorical_crossentropy", lr=0.1, apply=False)
print("the trace used the fused delta:", trace.fused)
print(
    "output delta of the trace equals (A - Y) / n:",
    np.allclose(trace.layers[-1].delta, fused, rtol=1e-12),
)
assert trace.fused and np.allclose(trace.layers[-1].delta, fused, rtol=1e-12)

# %%
# See also: :doc:`plot_1_backprop_chain_rule` for the deltas of hidden layers, and
# ``chainrule explain`` (:doc:`/guides/cli`) to print this step for a saved classifier.
