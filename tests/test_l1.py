"""L1 regularisation: ``l1 * sign(W)`` added to the weights' gradients, checked against finite
differences of the penalised loss, and shown by `trace_step` as the step training takes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule.train.step import train_step


def _net_and_data():
    rng = np.random.default_rng(3)
    net = cr.Network([3, 5, 2], activation="tanh", output_activation="sigmoid", seed=1)
    X, y = rng.normal(size=(16, 3)), (rng.random(size=(16, 2)) > 0.5).astype(float)
    return net, X, y


def test_an_l1_step_follows_the_finite_difference_gradient_of_the_penalised_loss():
    net, X, y = _net_and_data()
    l1, l2, lr = 0.05, 0.02, 1e-3
    loss = net.resolve_loss("binary_crossentropy")
    dense = net.dense_layers

    def objective() -> float:  # the loss plus both penalties, on the weight matrices only
        penalty = sum(l1 * np.abs(d.params["W"]).sum() + l2 / 2 * (d.params["W"] ** 2).sum() for d in dense)
        return float(loss(y, net.forward(X))) + penalty

    numeric = []
    for layer in dense:
        for key in ("W", "b"):
            values, grad = layer.params[key], np.zeros_like(layer.params[key])
            for index in np.ndindex(values.shape):
                keep = values[index]
                values[index] = keep + 1e-6
                up = objective()
                values[index] = keep - 1e-6
                down = objective()
                values[index] = keep
                grad[index] = (up - down) / 2e-6
            numeric.append((layer.params[key].copy(), grad))
    train_step(net, X, y, loss, cr.SGD(lr, weight_decay=l2, l1=l1))
    after = [layer.params[key] for layer in dense for key in ("W", "b")]
    for (before, grad), now in zip(numeric, after, strict=True):
        np.testing.assert_allclose(now - before, -lr * grad, rtol=1e-5, atol=1e-11)


def test_l1_changes_the_step_only_on_weights():
    net, X, y = _net_and_data()
    plain, penalised = copy.deepcopy(net), copy.deepcopy(net)
    loss = net.resolve_loss("binary_crossentropy")
    train_step(plain, X, y, loss, cr.SGD(0.1))
    train_step(penalised, X, y, loss, cr.SGD(0.1, l1=0.5))
    for a, b, start in zip(plain.dense_layers, penalised.dense_layers, net.dense_layers, strict=True):
        np.testing.assert_allclose(b.params["W"] - a.params["W"], -0.1 * 0.5 * np.sign(start.params["W"]))
        np.testing.assert_array_equal(b.params["b"], a.params["b"])


def test_the_trace_shows_the_l1_term_of_the_real_step():
    net, X, y = _net_and_data()
    opt = cr.Adam(0.03, weight_decay=0.01, l1=0.02)
    net.fit(X, y, loss="binary_crossentropy", optimizer=opt, epochs=2, batch_size=4, verbose=0)
    real_net, real_opt = copy.deepcopy(net), copy.deepcopy(opt)
    trace = cr.trace_step(net, X[:1], y[:1], loss="binary_crossentropy", optimizer=opt, apply=False)
    train_step(real_net, X[:1], y[:1], real_net.resolve_loss("binary_crossentropy"), real_opt)
    assert trace.rule.settings["l1"] == 0.02
    for record, layer, position in zip(trace.layers, real_net.dense_layers, (0, 1), strict=True):
        W = net.layers[position].params["W"]
        update = record.updates["W"]
        np.testing.assert_array_equal(update.arrays["l1"], 0.02 * np.sign(W))
        np.testing.assert_array_equal(W + update.arrays["change"], layer.params["W"])
        assert "l1" not in record.updates["b"].arrays
    text = str(trace)
    assert "l1 term l1 * sign(W1)" in text and "g = gradient + weight_decay * W + l1 * sign(W)" in text


def test_l1_is_recorded_only_when_used_and_checked():
    assert "l1" not in cr.SGD(0.1).config()  # older checkpoints (without l1) still resume
    assert cr.RMSprop(0.1, l1=0.3).config()["l1"] == 0.3
    with pytest.raises(ValueError, match="l1"):
        cr.Adam(0.1, l1=-1.0)
