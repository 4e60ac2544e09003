"""Property tests (hypothesis) over random small architectures, batch sizes and dtypes.

- Gradients add up over mini-batches: for a sum-reduced loss the full-batch gradient is the
  sum of the mini-batch gradients; for a mean-reduced loss it is their row-weighted mean (and
  with sample weights, their weight-weighted mean).
- A float32 network stays float32: outputs, gradients, parameters and optimizer state.
- Predicting a batch gives the rows' predictions one by one; outputs have the documented shapes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.nn.losses import get_loss
from chainrule.train.step import train_step

FAST = settings(max_examples=50, deadline=None)
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUT_FOR = {
    "sse": HIDDEN,
    "half_sse": HIDDEN,
    "mse": HIDDEN,
    "half_mse": HIDDEN,
    "mae": HIDDEN,
    "binary_crossentropy": ["sigmoid"],
    "categorical_crossentropy": ["softmax"],
}
DTYPES = st.sampled_from([np.float64, np.float32])


@st.composite
def problems(draw, losses, dtype=DTYPES, dropout=False):
    """A random network and a batch whose targets suit the loss: (net, X, y, loss)."""
    loss = draw(st.sampled_from(losses))
    n_in = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 5), max_size=2))
    n_out = draw(st.integers(2 if loss == "categorical_crossentropy" else 1, 3))
    activation = draw(st.sampled_from(HIDDEN))
    output = draw(st.sampled_from(OUTPUT_FOR[loss]))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 12))
    widths = [n_in, *hidden, n_out]
    layers = []
    for i in range(len(widths) - 1):
        last = i == len(widths) - 2
        layers.append(cr.Dense(widths[i], widths[i + 1], output if last else activation, bias=bias))
        if dropout and not last and draw(st.booleans()):
            layers.append(cr.Dropout(draw(st.sampled_from([0.2, 0.5]))))
    net = cr.Network(layers, seed=seed, dtype=draw(dtype))
    rng = np.random.default_rng(seed)
    for layer in net.layers:  # random biases, so that their gradients are not trivially alike
        if "b" in layer.params:
            layer.params["b"][...] = rng.normal(0.0, 0.5, layer.params["b"].shape)
    X = rng.normal(size=(n, n_in))
    if loss == "categorical_crossentropy":
        y = np.eye(n_out)[rng.integers(0, n_out, n)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (n, n_out)).astype(float)
    else:
        y = rng.normal(size=(n, n_out))
    if loss.endswith("crossentropy"):  # at least two classes, as a classifier's fit requires
        y[:2] = np.eye(n_out)[:2] if n_out > 1 else [[0.0], [1.0]]
    return net, X, y, loss


@st.composite
def splits(draw, n):
    """Row ranges cutting ``range(n)`` into consecutive mini-batches."""
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 1)))
    edges = [0, *cuts, n]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def tolerances(net):
    return {"rtol": 1e-9, "atol": 1e-12} if net.dtype == np.float64 else {"rtol": 2e-4, "atol": 1e-5}


def assert_grads_close(got, expected, net):
    tol = tolerances(net)
    for g_layer, e_layer in zip(got, expected, strict=True):
        for key in e_layer:
            scale = max(1.0, float(np.abs(e_layer[key]).max()))
            np.testing.assert_allclose(g_layer[key], e_layer[key], rtol=tol["rtol"], atol=tol["atol"] * scale)


def combine(parts, factors):
    return [
        {
            key: sum(f * part[i][key].astype(np.float64) for part, f in zip(parts, factors, strict=True))
            for key in layer
        }
        for i, layer in enumerate(parts[0])
    ]


# --------------------------------------------------------------------------- additivity
@FAST
@given(data=st.data(), problem=problems(["sse", "half_sse"]))
def test_sum_reduced_gradient_is_the_sum_over_mini_batches(data, problem):
    net, X, y, loss = problem
    full = net.gradients(X, y, loss=loss)
    parts = [net.gradients(X[s], y[s], loss=loss) for s in data.draw(splits(len(X)))]
    assert_grads_close(full, combine(parts, [1.0] * len(parts)), net)


@FAST
@given(
    data=st.data(),
    problem=problems(["mse", "half_mse", "mae", "binary_crossentropy", "categorical_crossentropy"]),
)
def test_mean_reduced_gradient_is_the_row_weighted_mean_over_mini_batches(data, problem):
    net, X, y, loss = problem
    n = len(X)
    full = net.gradients(X, y, loss=loss)
    batches = data.draw(splits(n))
    parts = [net.gradients(X[s], y[s], loss=loss) for s in batches]
    rows = [s.stop - s.start for s in batches]
    assert_grads_close(full, combine(parts, [r / n for r in rows]), net)


def step_gradients(net, X, y, loss, weights):
    """dLoss/dparam of a weighted batch, from train_step with a zero learning rate."""
    before = net.get_weights()
    train_step(net, net.as_inputs(X), net.as_targets(y), get_loss(loss), cr.SGD(lr=0.0), weights)
    after = net.get_weights()
    for a, b in zip(before, after, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])  # lr 0 moved nothing
    return [{key: grad.copy() for key, grad in layer.grads.items()} for layer in net.layers]


@FAST
@given(data=st.data(), problem=problems(["sse", "mse", "binary_crossentropy", "categorical_crossentropy"]))
def test_weighted_gradient_combines_mini_batches_by_their_weight(data, problem):
    net, X, y, loss = problem
    weights = np.array(
        data.draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=len(X), max_size=len(X)))
    )
    full = step_gradients(net, X, y, loss, weights)
    batches = data.draw(splits(len(X)))
    parts = [step_gradients(net, X[s], y[s], loss, weights[s]) for s in batches]
    if get_loss(loss).reduction == "sum":
        factors = [1.0] * len(parts)
    else:
        factors = [weights[s].sum() / weights.sum() for s in batches]
    assert_grads_close(full, combine(parts, factors), net)


# ------------------------------------------------------------------------------ dtypes
@FAST
@given(
    problem=problems(list(OUTPUT_FOR), dtype=st.just(np.float32), dropout=True),
    optimizer=st.sampled_from(["sgd", "momentum", "adam", "rmsprop"]),
    batch_size=st.sampled_from([None, 1, 3]),
)
def test_a_float32_network_stays_float32(problem, optimizer, batch_size):
    net, X, y, loss = problem
    f32 = np.float32
    assert net.predict(X).dtype == f32
    assert all(g.dtype == f32 for layer in net.gradients(X, y, loss=loss) for g in layer.values())
    opt = cr.get_optimizer(optimizer, 0.01)
    history = net.fit(X, y, loss=loss, optimizer=opt, epochs=2, batch_size=batch_size, seed=0)
    assert all(p.dtype == f32 for layer in net.layers for p in layer.params.values())
    assert all(g.dtype == f32 for layer in net.layers for g in layer.grads.values())
    assert all(a.dtype == f32 for a in opt.state_arrays().values())
    assert net.predict(X).dtype == f32 and net.predict_proba(X).dtype == f32
    assert all(type(v) is float for values in history.history.values() for v in values)


# ------------------------------------------------------------------------- predictions
@FAST
@given(problem=problems(list(OUTPUT_FOR), dropout=True))
def test_predicting_a_batch_equals_predicting_row_by_row(problem):
    net, X, _, _ = problem
    batch = net.predict(X)
    rows = np.stack([net.predict(row) for row in X])
    np.testing.assert_allclose(batch, rows, **tolerances(net))
    np.testing.assert_array_equal(net.predict(X), batch)  # inference is deterministic (no dropout)


@FAST
@given(problem=problems(list(OUTPUT_FOR), dropout=True))
def test_output_shapes(problem):
    net, X, y, loss = problem
    n, k = y.shape
    assert net.predict(X).shape == (n, k)
    assert net.predict(X[0]).shape == (k,)
    assert net.predict(X[:1]).shape == (1, k)
    assert net.predict_proba(X).shape == ((n, 2) if k == 1 else (n, k))
    assert net.predict_classes(X).shape == (n,)
    grads = net.gradients(X, y, loss=loss)
    assert [set(g) for g in grads] == [set(layer.params) for layer in net.layers]
    assert all(
        g[key].shape == layer.params[key].shape
        for g, layer in zip(grads, net.layers, strict=True)
        for key in g
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_strategy_builds_what_it_says(dtype):
    """A guard for the properties above: the strategy really varies depth and dtype."""
    seen = set()

    @settings(max_examples=30, deadline=None)
    @given(problem=problems(["mse"], dtype=st.just(np.dtype(dtype).type), dropout=True))
    def record(problem):
        net = problem[0]
        assert net.dtype == np.dtype(dtype)
        seen.add(len(net.dense_layers))

    record()
    assert len(seen) > 1
