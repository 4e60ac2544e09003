"""The training loop's fast path (work buffers, in-place updates, fused output blocks, batches
gathered without copying) computes what the plain path computes: `Network.gradients` (fresh
arrays every call) and the optimizer formulas written out in NumPy. Every test runs under each
kernel backend (numba skipped when it is not installed)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import kernels


@pytest.fixture(
    autouse=True,
    params=[
        "numpy",
        pytest.param("numba", marks=pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")),
    ],
)
def backend(request):
    previous = kernels.backend()
    kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(previous)


def plain_training(net, X, y, loss, rule, epochs, batch_size):
    """Train ``net`` by the plain path: fresh gradients, update formulas applied by hand."""
    state = {}
    t = 0
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            grads = net.gradients(X[start : start + batch_size], y[start : start + batch_size], loss=loss)
            t += 1
            for i, layer in enumerate(net.layers):
                for key, p in layer.params.items():
                    g = grads[i][key].astype(np.float64)
                    s = state.setdefault((i, key), {"v": np.zeros_like(g), "m": np.zeros_like(g)})
                    p[...] = p - rule(g, s, t)


def sgd_rule(g, s, t):
    return 0.1 * g


def momentum_rule(g, s, t):
    s["v"] = 0.9 * s["v"] + g
    return 0.05 * s["v"]


def adam_rule(g, s, t):
    s["m"] = 0.9 * s["m"] + 0.1 * g
    s["v"] = 0.999 * s["v"] + 0.001 * g * g
    return 0.01 * (s["m"] / (1 - 0.9**t)) / (np.sqrt(s["v"] / (1 - 0.999**t)) + 1e-8)


def rmsprop_rule(g, s, t):
    s["v"] = 0.9 * s["v"] + 0.1 * g * g
    return 0.01 * g / (np.sqrt(s["v"]) + 1e-8)


RULES = {
    "sgd": (lambda: cr.SGD(lr=0.1), sgd_rule),
    "momentum": (lambda: cr.SGD(lr=0.05, momentum=0.9), momentum_rule),
    "adam": (lambda: cr.Adam(lr=0.01), adam_rule),
    "rmsprop": (lambda: cr.RMSprop(lr=0.01), rmsprop_rule),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(RULES))
@pytest.mark.parametrize(("output", "loss"), [("softmax", "categorical_crossentropy"), ("sigmoid", "mse")])
def test_fit_matches_the_plain_path(name, dtype, output, loss, rng):
    X = rng.normal(size=(60, 5))
    y = cr.one_hot(rng.integers(0, 3, 60), 3)
    make_optimizer, rule = RULES[name]
    fast = cr.Network([5, 8, 6, 3], activation="relu", output_activation=output, seed=4, dtype=dtype)
    plain = cr.Network([5, 8, 6, 3], activation="relu", output_activation=output, seed=4, dtype=dtype)
    fast.fit(X, y, loss=loss, optimizer=make_optimizer(), epochs=4, batch_size=16, shuffle=False, metrics=[])
    plain_training(plain, X, y, loss, rule, epochs=4, batch_size=16)
    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=1e-5)
    for a, b in zip(fast.get_weights(), plain.get_weights(), strict=True):
        for key in a:
            assert a[key].dtype == np.dtype(dtype)
            np.testing.assert_allclose(a[key], b[key], **tolerance)
    assert fast.evaluate(X, y, loss=loss)["loss"] == pytest.approx(
        plain.evaluate(X, y, loss=loss)["loss"], rel=1e-9 if dtype == "float64" else 1e-4
    )


@pytest.mark.parametrize("loss", ["mse", "half_sse", "binary_crossentropy"])
def test_layer_grads_after_a_plain_sgd_fit_are_the_true_gradients(rng, loss):
    """`grads` always mean dLoss/dparam of the last step, whatever the optimizer (no lr fold)."""
    X, y = rng.normal(size=(8, 3)), (rng.random(size=(8, 1)) > 0.5).astype(float)
    out = "sigmoid" if loss == "binary_crossentropy" else "identity"
    net = cr.Network([3, 4, 1], activation="tanh", output_activation=out, seed=0)
    expected = net.gradients(X, y, loss=loss)  # at the weights before the update
    net.fit(X, y, loss=loss, optimizer=cr.SGD(lr=0.25), epochs=1)
    for layer, g in zip(net.layers, expected, strict=True):
        for key in g:
            np.testing.assert_allclose(layer.grads[key], g[key], rtol=1e-10)


def test_memory_mapped_data_trains_like_in_memory_data(tmp_path, rng):
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = cr.one_hot(rng.integers(0, 2, 200), 2).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    results = []
    for data in (X, mapped):
        net = cr.Network([6, 8, 2], activation="relu", output_activation="softmax", seed=0, dtype="float32")
        net.fit(data, y, optimizer="adam", epochs=3, batch_size=32)
        results.append(net.get_weights())
    for a, b in zip(*results, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_a_batch_function_trains_like_arrays(rng, backend):
    """Bit for bit on the step path; numba's whole loop (arrays only) agrees to 1e-12."""
    X, y = rng.normal(size=(96, 4)), rng.normal(size=(96, 2))
    a = cr.Network([4, 5, 2], activation="tanh", output_activation="identity", seed=0)
    b = cr.Network([4, 5, 2], activation="tanh", output_activation="identity", seed=0)
    a.fit(X, y, loss="mse", optimizer=cr.SGD(0.1, momentum=0.9), epochs=3, batch_size=32, shuffle=False)
    stream = lambda: ((X[s : s + 32], y[s : s + 32]) for s in range(0, 96, 32))  # noqa: E731
    history = b.fit(stream, None, loss="mse", optimizer=cr.SGD(0.1, momentum=0.9), epochs=3)
    for la, lb in zip(a.get_weights(), b.get_weights(), strict=True):
        for key in la:
            if backend == "numpy":
                np.testing.assert_array_equal(la[key], lb[key])
            else:
                np.testing.assert_allclose(la[key], lb[key], rtol=1e-12, atol=1e-15)
    assert history.epochs == 3


def test_fit_does_not_copy_or_upcast_the_data(rng):
    X = rng.random((60000, 100), dtype=np.float32)
    y = cr.one_hot(rng.integers(0, 10, 60000), 10).astype(np.float32)
    net = cr.Network([100, 64, 10], activation="relu", output_activation="softmax", dtype="float32", seed=0)
    tracemalloc.start()
    net.fit(X, y, optimizer=cr.SGD(0.01), epochs=1, batch_size=128)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.15 * (X.nbytes + y.nbytes), f"{peak / 2**20:.1f} MiB"
