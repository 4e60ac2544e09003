"""`chainrule.train.step.train_step` against one step written out in plain NumPy (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.losses import get_loss
from chainrule.train.step import train_step

TOL = {"rtol": 1e-12, "atol": 1e-14}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def network(output: str, bias: bool = True, n_out: int = 2) -> cr.Network:
    net = cr.Network([3, 4, n_out], activation="sigmoid", output_activation=output, bias=bias, seed=7)
    for layer in net.layers:  # non-zero biases, so that a wrong bias gradient shows
        if "b" in layer.params:
            layer.params["b"][...] = net.rng.normal(0.0, 0.5, layer.params["b"].shape)
    return net


def params(net):
    """W1, b1, W2, b2 as copies (zeros for missing biases)."""
    (first, second) = net.layers
    return (
        first.params["W"].copy(),
        first.params["b"].copy() if "b" in first.params else np.zeros(first.n_out),
        second.params["W"].copy(),
        second.params["b"].copy() if "b" in second.params else np.zeros(second.n_out),
    )


def check_step(net, X, y, loss, lr, expected_loss, out, grads, weights=None):
    """Run train_step and compare loss, outputs, gradients and updated parameters."""
    W1, b1, W2, b2 = params(net)
    value, returned = train_step(net, X, y, get_loss(loss), cr.SGD(lr=lr), weights)
    assert value == pytest.approx(expected_loss, rel=1e-13)
    np.testing.assert_allclose(returned, out, **TOL)
    gW1, gb1, gW2, gb2 = grads
    first, second = net.layers
    np.testing.assert_allclose(first.grads["W"], gW1, **TOL)
    np.testing.assert_allclose(second.grads["W"], gW2, **TOL)
    np.testing.assert_allclose(first.params["W"], W1 - lr * gW1, **TOL)
    np.testing.assert_allclose(second.params["W"], W2 - lr * gW2, **TOL)
    if "b" in first.params:
        np.testing.assert_allclose(first.grads["b"], gb1, **TOL)
        np.testing.assert_allclose(second.grads["b"], gb2, **TOL)
        np.testing.assert_allclose(first.params["b"], b1 - lr * gb1, **TOL)
        np.testing.assert_allclose(second.params["b"], b2 - lr * gb2, **TOL)


def hand_backward(X, h, W2, d2):
    """Gradients of a sigmoid hidden layer from the output delta d2 = dL/dz2."""
    d1 = (d2 @ W2.T) * h * (1.0 - h)
    return X.T @ d1, d1.sum(axis=0), h.T @ d2, d2.sum(axis=0)


# Squared-error losses: value and dL/d(out) by hand, n rows and k outputs
SQUARED = {
    "mse": (lambda d, n, k: np.sum(d**2) / (n * k), lambda d, n, k: 2.0 * d / (n * k)),
    "half_mse": (lambda d, n, k: 0.5 * np.sum(d**2) / (n * k), lambda d, n, k: d / (n * k)),
    "sse": (lambda d, n, k: np.sum(d**2), lambda d, n, k: 2.0 * d),
    "half_sse": (lambda d, n, k: 0.5 * np.sum(d**2), lambda d, n, k: d),
}


@pytest.mark.parametrize("loss", list(SQUARED))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_sigmoid_network_with_squared_error(loss, bias, rng):
    net = network("sigmoid", bias=bias)
    X, y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    W1, b1, W2, b2 = params(net)
    h = sigmoid(X @ W1 + b1)
    out = sigmoid(h @ W2 + b2)
    value, slope = SQUARED[loss]
    d2 = slope(out - y, 5, 2) * out * (1.0 - out)
    check_step(net, X, y, loss, 0.5, value(out - y, 5, 2), out, hand_backward(X, h, W2, d2))


def test_softmax_with_categorical_crossentropy(rng):
    net = network("softmax", n_out=3)
    X = rng.normal(size=(6, 3))
    y = np.eye(3)[rng.integers(0, 3, 6)]
    W1, b1, W2, b2 = params(net)
    h = sigmoid(X @ W1 + b1)
    out = softmax(h @ W2 + b2)
    loss = -np.sum(y * np.log(out)) / 6
    # the chain rule term by term: dL/d(out) = -y / out / n, through each row's softmax Jacobian
    grad_out = -y / out / 6
    d2 = np.stack([(np.diag(p) - np.outer(p, p)) @ g for p, g in zip(out, grad_out, strict=True)])
    np.testing.assert_allclose(d2, (out - y) / 6, rtol=1e-12, atol=1e-15)  # the fused shortcut
    check_step(net, X, y, "categorical_crossentropy", 0.3, loss, out, hand_backward(X, h, W2, d2))


def test_sigmoid_with_binary_crossentropy(rng):
    net = network("sigmoid")
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=(5, 2)).astype(float)
    W1, b1, W2, b2 = params(net)
    h = sigmoid(X @ W1 + b1)
    out = sigmoid(h @ W2 + b2)
    loss = -np.mean(y * np.log(out) + (1 - y) * np.log(1 - out))
    grad_out = (out - y) / (out * (1 - out)) / out.size
    d2 = grad_out * out * (1 - out)
    check_step(net, X, y, "binary_crossentropy", 0.8, loss, out, hand_backward(X, h, W2, d2))


def test_identity_output_with_sample_weights(rng):
    net = network("identity")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    w = np.array([1.0, 0.0, 2.0, 0.5, 3.0])
    W1, b1, W2, b2 = params(net)
    h = sigmoid(X @ W1 + b1)
    out = h @ W2 + b2
    # the weighted mean of each row's mean squared error
    loss = np.sum(w * np.mean((out - y) ** 2, axis=1)) / w.sum()
    d2 = w[:, None] * 2.0 * (out - y) / (2 * w.sum())
    check_step(net, X, y, "mse", 0.2, loss, out, hand_backward(X, h, W2, d2), weights=w)


def test_integer_weights_equal_repeated_rows(rng):
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    weighted, repeated = network("identity"), network("identity")
    counts = np.array([1, 3, 0, 2])
    v1, _ = train_step(weighted, X, y, get_loss("mse"), cr.SGD(lr=0.1), counts.astype(float))
    v2, _ = train_step(
        repeated, np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0), get_loss("mse"), cr.SGD(lr=0.1)
    )
    assert v1 == pytest.approx(v2, rel=1e-13)
    for a, b in zip(weighted.get_weights(), repeated.get_weights(), strict=True):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], **TOL)


# ---------------------------------------------------------------------- non-finite loss
@pytest.mark.parametrize("where", ["y", "X"])
@pytest.mark.parametrize("make", [lambda: cr.SGD(lr=0.1, momentum=0.9), cr.Adam], ids=["momentum", "adam"])
def test_a_non_finite_loss_updates_nothing(where, make, rng):
    net = network("identity")
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    if where == "y":
        y[2, 1] = np.inf
    else:
        X[1, 0] = np.nan
    before = net.get_weights()
    grads_before = [{k: g.copy() for k, g in layer.grads.items()} for layer in net.layers]
    optimizer = make()
    value, out = train_step(net, X, y, get_loss("mse"), optimizer)
    assert not np.isfinite(value)
    assert out.shape == (4, 2)
    for layer, saved, grads in zip(net.layers, before, grads_before, strict=True):
        for key in layer.params:
            np.testing.assert_array_equal(layer.params[key], saved[key])
            np.testing.assert_array_equal(layer.grads[key], grads[key])
    assert optimizer.iterations == 0 and optimizer.state == {}


def test_one_step_visits_few_functions_a_reader_can_follow():
    """One `train_step`, as `fit` calls it, runs at most 12 chainrule functions in 6 files
    (NumPy backend; `benchmarks/step_functions.py` lists them)."""
    import sys
    from pathlib import Path

    from chainrule.nn import kernels
    from chainrule.nn.output import OutputBlock

    root = str(Path(cr.__file__).parent)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 4)), cr.one_hot(rng.integers(0, 3, 32), 3)
    net = cr.Network([4, 8, 3], activation="relu", output_activation="softmax", seed=0)
    opt, loss = cr.SGD(0.1), net.resolve_loss(None)
    block, slots = OutputBlock(loss, net.output_activation, y), net.slots()
    seen = set()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(root):
            seen.add((frame.f_code.co_filename, frame.f_code.co_name))

    with kernels.use_backend("numpy"):
        train_step(net, X, y, loss, opt, block=block, slots=slots)  # the first step makes buffers
        sys.setprofile(profile)
        try:
            train_step(net, X, y, loss, opt, block=block, slots=slots)
        finally:
            sys.setprofile(None)
    names = sorted(f"{Path(file).name}:{name}" for file, name in seen)
    assert len(seen) <= 12, names
    assert len({file for file, _ in seen}) <= 6, names
    assert "step.py:train_step" in names and "layers.py:backward" in names  # the profile saw the step
