"""One training step, the page a learner reads: forward, loss, output delta, backward, update.

Both `chainrule.fit` (every batch of every epoch) and `chainrule.trace_step` (one step, with
every number recorded) run this function, so what the trace shows is what training does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from chainrule.nn.activations import Activation
from chainrule.nn.layers import Dense, Layer
from chainrule.nn.losses import Loss
from chainrule.nn.output import OutputBlock
from chainrule.train.optimizers import Optimizer, Slot

Array = np.ndarray


class Steppable(Protocol):
    """What a step needs from a network (`chainrule.Network` is one)."""

    layers: list[Layer]

    @property
    def output_activation(self) -> Activation: ...
    def slots(self) -> list[Slot]: ...


def train_step(
    net: Steppable,
    X: Array,
    y: Array,
    loss: Loss,
    optimizer: Optimizer,
    weights: Array | None = None,
    *,
    block: OutputBlock | None = None,
    slots: list[Slot] | None = None,
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
    block : OutputBlock, optional
        ``loss``'s output block, made once per run by `fit` (it also counts the metrics it can);
        default a fresh one.
    slots : list of Slot, optional
        ``net.slots()``, made once per run by `fit`.

    Returns
    -------
    loss : float
        The batch loss at the weights before the step. When it is not finite, nothing is
        updated: the caller decides what to do (`fit` stops with a `DivergenceError`).
    outputs : ndarray of shape (n_samples, n_outputs)
        The network's outputs on the batch, before the step.
    """
    out = X
    for layer in net.layers:  # forward: every layer keeps its input, z and output
        out = layer.forward(out, training=True)
    # The loss value and the output delta in one pass. Sigmoid + binary or softmax + categorical
    # cross-entropy give dLoss/dz directly as (out - y)/n; any other pair gives dLoss/d(out), and
    # the output layer applies its activation's slope itself.
    if block is None:
        block = OutputBlock(loss, net.output_activation)
    value, grad = block(y, out, weights)
    if not math.isfinite(value):
        return value, out
    backward(net.layers, grad, block.fused)  # deltas layer by layer, back to the first
    optimizer.step(net.slots() if slots is None else slots)  # every parameter moves against its gradient
    return value, out


def backward(layers: Sequence[Layer], grad: Array, grad_is_delta: bool = False) -> None:
    """Backpropagate ``grad`` from the last layer to the first, filling every layer's ``grads``.

    Parameters
    ----------
    layers : list of Layer
        After a training-mode forward pass (each layer keeps its input and output).
    grad : ndarray of shape (n_samples, n_outputs)
        dLoss/d(output) of the last layer, or with ``grad_is_delta`` its delta dLoss/dz (the
        fused sigmoid + binary or softmax + categorical cross-entropy shortcut), whose output
        activation's slope is then not applied again.
    grad_is_delta : bool
    """
    last = len(layers) - 1
    if grad_is_delta and not isinstance(layers[last], Dense):
        raise TypeError(f"grad_is_delta needs a Dense output layer, not {layers[last]!r}")
    for position in range(last, -1, -1):  # the output layer first, back to the first layer
        if position == last and grad_is_delta:
            grad = layers[position].backward(grad, need_input_grad=position > 0, is_delta=True)
        else:
            grad = layers[position].backward(grad, need_input_grad=position > 0)
