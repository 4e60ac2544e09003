"""The step trace: its numbers are the real step's, and it reads in the seeds' terms."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import kernels
from chainrule.teaching.updates import expected_change
from chainrule.train.step import train_step


def test_trace_changes_equal_minus_lr_times_gradients(rng):
    net = cr.Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=0)
    X, y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    grads = net.gradients(X, y, loss="mse")
    before = net.get_weights()
    trace = cr.trace_step(net, X, y, loss="mse", optimizer=cr.SGD(lr=0.3))
    for i, record in enumerate(trace.layers):
        for key in record.changes:
            np.testing.assert_allclose(record.changes[key], -0.3 * grads[i][key], rtol=1e-12, atol=1e-16)
            np.testing.assert_allclose(
                net.get_weights()[i][key], before[i][key] + record.changes[key], rtol=1e-14
            )
    assert trace.loss_after < trace.loss


def test_trace_records_forward_values_and_deltas(rng):
    net = cr.Network([2, 3, 1], activation="sigmoid", seed=1)
    X, y = rng.normal(size=(4, 2)), rng.uniform(size=(4, 1))
    trace = cr.trace_step(net, X, y, loss="half_sse", apply=False)
    W1, b1 = net.layers[0].params["W"], net.layers[0].params["b"]
    W2, b2 = net.layers[1].params["W"], net.layers[1].params["b"]
    z1 = X @ W1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    np.testing.assert_allclose(trace.layers[0].z, z1, rtol=1e-14)
    np.testing.assert_allclose(trace.layers[0].output, a1, rtol=1e-14)
    np.testing.assert_allclose(trace.output, a2, rtol=1e-14)
    np.testing.assert_allclose(trace.error, y - a2, rtol=1e-14)
    delta2 = (a2 - y) * a2 * (1 - a2)  # the seeds' delta with the gradient's sign
    np.testing.assert_allclose(trace.layers[1].delta, delta2, rtol=1e-13)
    np.testing.assert_allclose(trace.layers[0].delta, (delta2 @ W2.T) * a1 * (1 - a1), rtol=1e-13)
    # apply=False left the weights as they were
    np.testing.assert_array_equal(net.layers[0].params["W"], W1)


def test_trace_text_and_markdown_name_the_pieces():
    net = cr.Network(
        [
            cr.Dense(3, 2, "sigmoid", bias=False, weights=[[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]),
            cr.Dense(2, 1, "sigmoid", bias=False, weights=[[0.1], [-0.3]]),
        ]
    )
    trace = cr.trace_step(net, [0.5, 0.1, -0.2], [0.6], loss="half_sse", optimizer=cr.SGD(lr=0.5))
    text = str(trace)
    for piece in (
        "Forward pass",
        "z1 = a0 @ W1",
        "a2 = sigmoid(z2)",
        "error y - a2",
        "delta2 = (a2 - y) * a2*(1-a2)",
        "delta1 = (delta2 @ W2.T) * a1*(1-a1)",
        "change in W2",
        "[[0.00804047]",
        "1.77005547e-04",
    ):
        assert piece in text, piece
    markdown = trace.format("markdown")
    assert markdown.startswith("### One backpropagation step: 3-2-1 network")
    assert "```" in markdown


def test_trace_names_the_fused_output_delta(rng):
    net = cr.Network([2, 3, 3], activation="relu", output_activation="softmax", seed=0)
    trace = cr.trace_step(net, rng.normal(size=(4, 2)), cr.one_hot([0, 1, 2, 1]), apply=False)
    assert trace.fused and "fused softmax + categorical_crossentropy" in str(trace)


@pytest.mark.parametrize("loss", ["half_sse", "mse", "binary_crossentropy"])
def test_trace_step_and_one_full_batch_epoch_of_fit_give_identical_weights(loss, rng):
    """trace_step runs the training step itself: the same bits as fit's step on the NumPy backend.

    With Numba, fit runs a small network's batches in the compiled chunk, whose loop products
    round differently from BLAS's: equal to 1e-12 there (`tests/test_one_trainer.py`)."""
    X, y = rng.normal(size=(6, 3)), (rng.random(size=(6, 1)) > 0.5).astype(float)
    traced = cr.Network([3, 4, 1], activation="sigmoid", seed=3)
    fitted = cr.Network([3, 4, 1], activation="sigmoid", seed=3)
    previous = kernels.backend()
    kernels.set_backend("numpy")
    try:
        trace = cr.trace_step(traced, X, y, loss=loss, optimizer=cr.SGD(lr=0.5))
        fitted.fit(X, y, loss=loss, optimizer=cr.SGD(lr=0.5), epochs=1)
    finally:
        kernels.set_backend(previous)
    for a, b in zip(traced.get_weights(), fitted.get_weights(), strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    # and the recorded z is the layer's own pre-activation, not a recomputation that could differ
    for record, layer in zip(trace.layers, traced.dense_layers, strict=True):
        np.testing.assert_array_equal(record.z, layer.z)


def test_markdown_nests_code_blocks_under_their_items_and_headings_stand_alone(rng):
    """Every fenced block belongs to the list item above it; nothing else is indented."""
    net = cr.Network([2, 3, 1], activation="tanh", seed=0)
    text = cr.trace_step(net, rng.normal(size=(2, 2)), [[1.0], [0.0]], loss="mse").format("markdown")
    lines = text.splitlines()
    inside = False
    for number, line in enumerate(lines):
        if line.strip() == "```":
            if not inside:  # an opening fence: indented 2, after "- `label` =" and a blank line
                assert line == "  ```" and lines[number - 1] == "" and lines[number - 2].startswith("- `")
            inside = not inside
        elif not inside:
            assert not line.startswith(" "), f"line {number} would nest under the list above: {line!r}"
            if line.startswith("#"):
                assert (number == 0 or lines[number - 1] == "") and lines[number + 1] == ""
    assert not inside
    assert "#### layer 1 (hidden, tanh):" in lines and "W1" in text
    assert cr.trace_step(net, [[0.1, 0.2]], [[1.0]])._repr_markdown_().startswith("### One")


def _trained(optimizer, rng):
    """A small network and its optimizer a few real steps into training (state not zero)."""
    net = cr.Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=0)
    X, y = rng.normal(size=(12, 3)), (rng.random(size=(12, 2)) > 0.5).astype(float)
    net.fit(X, y, loss="binary_crossentropy", optimizer=optimizer, epochs=2, batch_size=4, verbose=0)
    return net, optimizer, X[:1], y[:1]


OPTIMIZERS = {
    "adam": lambda: cr.Adam(0.03, weight_decay=0.01),
    "momentum": lambda: cr.SGD(0.1, momentum=0.9),
    "nesterov": lambda: cr.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.003),
    "rmsprop": lambda: cr.RMSprop(0.01),
    "sgd": lambda: cr.SGD(0.1, weight_decay=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_trace_is_the_optimizers_real_next_step(name, rng):
    """Every number the trace shows for the update equals what one real training step does."""
    net, opt, x, y = _trained(OPTIMIZERS[name](), rng)
    real_net, real_opt = copy.deepcopy(net), copy.deepcopy(opt)
    state, iterations = copy.deepcopy(opt.state), opt.iterations
    trace = cr.trace_step(net, x, y, loss="binary_crossentropy", optimizer=opt, apply=False)
    assert opt.iterations == iterations  # apply=False: the optimizer is as it was
    assert all(np.array_equal(opt.state[s][k], state[s][k]) for s in state for k in state[s])
    loss = real_net.resolve_loss("binary_crossentropy")
    train_step(real_net, x, y, loss, real_opt)  # the real step, on copies
    assert trace.rule is not None and trace.rule.name == name
    assert trace.rule.settings["lr"] == opt.lr
    if name == "adam":
        assert trace.rule.settings["t"] == iterations + 1 == 7
        assert trace.rule.settings["c1"] == 1 - 0.9 ** (iterations + 1)
    for record, layer, position in zip(trace.layers, real_net.dense_layers, (0, 1), strict=True):
        for key, update in record.updates.items():
            before = net.layers[position].params[key]
            np.testing.assert_array_equal(before + update.arrays["change"], layer.params[key])
            real_state = real_opt.state.get(f"{position}.{key}", {})
            for short, real in (("m", "m"), ("v", "v"), ("v", "velocity")):
                if real in real_state:
                    np.testing.assert_array_equal(update.arrays[short], real_state[real])
            if "l2" in update.arrays:
                np.testing.assert_array_equal(update.arrays["l2"], opt.weight_decay * before)
            np.testing.assert_allclose(
                expected_change(update, trace.rule), update.arrays["change"], rtol=1e-9, atol=1e-15
            )
    assert trace.loss_after == loss(y, real_net.forward(x))
    text = str(trace)
    assert f"the {name} update" in text and "change in W2" in text
    if name == "adam":
        assert "m_hat = m / (1 - beta1**t)" in text and "t = 7" in text
        assert "l2 term weight_decay * W1" in text


def test_a_traced_step_with_apply_advances_the_optimizer_as_training_does(rng):
    net, opt, x, y = _trained(cr.Adam(0.01), rng)
    real_net, real_opt = copy.deepcopy(net), copy.deepcopy(opt)
    cr.trace_step(net, x, y, loss="binary_crossentropy", optimizer=opt)
    train_step(real_net, x, y, real_net.resolve_loss("binary_crossentropy"), real_opt)
    assert opt.iterations == real_opt.iterations
    for a, b in zip(net.get_weights(), real_net.get_weights(), strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
