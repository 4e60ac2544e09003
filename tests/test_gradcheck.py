"""Backpropagation against central finite differences, for every activation x loss x bias x depth.

These never skip: a gradient that disagrees with the forward pass is the one bug a network
library cannot have.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.activations import ACTIVATIONS
from chainrule.nn.losses import LOSSES
from tests.conftest import targets_for

ACTIVATION_NAMES = sorted(set(ACTIVATIONS) - {"linear"})
NATURAL_OUTPUT = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}


def build(activation: str, loss: str, bias: bool, depth: int, seed: int) -> cr.Network:
    """``depth`` Dense layers; hidden layers use ``activation``, and so does the output unless
    the loss needs probabilities (cross-entropies get sigmoid / softmax outputs)."""
    widths = [3, 5, 4, 5, 3][: depth + 1]
    output = NATURAL_OUTPUT.get(loss, activation)
    layers = [
        cr.Dense(n_in, n_out, output if i == depth - 1 else activation, bias=bias, init="glorot_normal")
        for i, (n_in, n_out) in enumerate(itertools.pairwise(widths))
    ]
    net = cr.Network(layers, seed=seed)
    # Random biases: with zero biases a layer whose units are all off feeds exact zeros to the
    # next, which sits on ReLU's kink where no finite difference can agree with either side.
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"][...] = net.rng.normal(0.0, 0.5, layer.params["b"].shape)
    return net


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_backprop_matches_finite_differences(activation, loss, bias, depth):
    rng = np.random.default_rng(zlib.crc32(f"{activation}-{loss}-{bias}-{depth}".encode()))
    net = build(activation, loss, bias, depth, seed=int(rng.integers(2**31)))
    X = rng.normal(size=(6, 3))
    y = targets_for(loss, 6, net.n_outputs, rng)
    result = cr.gradcheck(net, X, y, loss=loss)
    assert result.max_error < 1e-6, result


@pytest.mark.parametrize(
    ("activation", "loss"), [("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy")]
)
def test_fused_output_delta_equals_unfused_chain_rule(activation, loss, rng):
    net = cr.Network([4, 5, 3], activation="tanh", output_activation=activation, seed=3)
    X = rng.normal(size=(7, 4))
    y = targets_for(loss, 7, 3, rng)
    fused = net.gradients(X, y, loss=loss, fused=True)
    unfused = net.gradients(X, y, loss=loss, fused=False)
    for a, b in zip(fused, unfused, strict=True):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-14)
    # and both agree with finite differences
    assert cr.gradcheck(net, X, y, loss=loss, fused=False).max_error < 1e-6


def test_the_fused_shortcut_is_taken_only_for_its_pairs(rng):
    sigmoid_out = np.array([[0.2, 0.7]])
    y = np.array([[0.0, 1.0]])
    bce, cce = cr.get_loss("binary_crossentropy"), cr.get_loss("categorical_crossentropy")
    sigmoid, softmax = cr.get_activation("sigmoid"), cr.get_activation("softmax")
    assert bce.fuses_with(sigmoid)
    assert not bce.fuses_with(softmax)
    assert cce.fuses_with(softmax)
    assert not cce.fuses_with(sigmoid)
    assert not cr.get_loss("mse").fuses_with(sigmoid)
    # The fused delta is (out - y) / n, n the number of output values (BCE) or of rows (CCE).
    np.testing.assert_allclose(bce.fused_delta(y, sigmoid_out), (sigmoid_out - y) / 2)
    np.testing.assert_allclose(cce.fused_delta(y, sigmoid_out), (sigmoid_out - y) / 1)


def test_gradcheck_catches_a_wrong_derivative(monkeypatch, rng):
    """The check must be able to fail: break tanh's derivative and it must notice."""
    from chainrule.nn.activations import Tanh

    net = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    assert cr.gradcheck(net, X, y, loss="mse").max_error < 1e-6

    def wrong_backward(self, a, grad, out=None):
        return np.multiply(grad, 1.0 - a, out=out)  # forgot the square

    monkeypatch.setattr(Tanh, "backward", wrong_backward)
    assert cr.gradcheck(net, X, y, loss="mse").max_error > 1e-3


def test_gradcheck_runs_in_float64_for_float32_networks(rng):
    net = cr.Network([3, 4, 2], activation="sigmoid", seed=1, dtype="float32")
    X, y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    result = cr.gradcheck(net, X, y, loss="mse")
    assert result.max_error < 1e-6
    assert net.layers[0].params["W"].dtype == np.float32  # the network itself is untouched


def test_gradients_have_the_keys_and_shapes_of_params(rng):
    net = cr.Network([cr.Dense(3, 4, "relu"), cr.Dense(4, 2, "identity", bias=False)], seed=0)
    grads = net.gradients(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)), loss="mse")
    assert [set(g) for g in grads] == [{"W", "b"}, {"W"}]
    for layer, g in zip(net.layers, grads, strict=True):
        for key in layer.params:
            assert g[key].shape == layer.params[key].shape
