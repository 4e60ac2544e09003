"""One training step, the page a learner reads: forward, loss, output delta, backward, update.

Both `chainrule.fit` (every batch of every epoch) and `chainrule.trace_step` (one step, with
every number recorded) run this function, so what the trace shows is what training does.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from chainrule.nn.activations import Activation
from chainrule.nn.losses import Loss
from chainrule.train.optimizers import Optimizer, Slot

Array = np.ndarray


class Steppable(Protocol):
    """What a step needs from a network (`chainrule.Network` is one)."""

    @property
    def output_activation(self) -> Activation: ...
    def forward(self, X: Array, training: bool = False) -> Array: ...
    def backward(self, grad: Array, *, grad_is_delta: bool = False) -> None: ...
    def slots(self) -> list[Slot]: ...


def train_step(
    net: Steppable, X: Array, y: Array, loss: Loss, optimizer: Optimizer, weights: Array | None = None
) -> tuple[float, Array]:
    """Take one gradient step on the batch ``(X, y)``; return the loss before it and the outputs.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_inputs)
    y : ndarray of shape (n_samples, n_outputs)
    loss : Loss
    optimizer : Optimizer
    weights : ndarray of shape (n_samples,), optional
        Sample weights: each sample's term of the loss (and of the gradient) is multiplied.

    Returns
    -------
    loss : float
        The batch loss at the weights before the step. When it is not finite, nothing is
        updated: the caller decides what to do (`fit` stops with a `DivergenceError`).
    outputs : ndarray of shape (n_samples, n_outputs)
        The network's outputs on the batch, before the step.
    """
    out = net.forward(X, training=True)  # every layer keeps its input, z and output
    value = loss(y, out) if weights is None else loss.weighted(y, out, weights)
    if not math.isfinite(value):
        return value, out
    # The output delta: sigmoid + binary or softmax + categorical cross-entropy give dLoss/dz
    # directly as (out - y)/n; any other pair gives dLoss/d(out), and the output layer applies
    # its activation's slope itself.
    fused = loss.fuses_with(net.output_activation)
    grad = loss.fused_delta(y, out) if fused else loss.gradient(y, out)
    if weights is not None:
        grad *= loss.row_weights(weights)[:, None]
    net.backward(grad, grad_is_delta=fused)  # deltas layer by layer, back to the first
    optimizer.step(net.slots())  # every parameter moves against its gradient
    return value, out
