"""The Numba whole-loop trainer computes what the NumPy step path computes (float64, 1e-12).

Skipped without Numba. Each case runs under both backends and checks that the numba run
really took the whole loop (a spy on `chainrule.train.whole_loop.train`).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.examples import (
    seed_000_truth_table,
    seed_001_admissions,
    seed_002_xor_train,
    seed_003_matrix_backprop,
    seed_004_study_hours,
)
from chainrule.nn import kernels
from chainrule.train import whole_loop

pytestmark = pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")


@pytest.fixture
def whole_loop_calls(monkeypatch):
    calls = []
    original = whole_loop.train

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(whole_loop, "train", spy)
    previous = kernels.backend()
    yield calls
    kernels.set_backend(previous)


def under_both(fn, calls):
    """``fn()`` under the numpy and the numba backend; the numba run must use the whole loop."""
    kernels.set_backend("numpy")
    reference = fn()
    assert not calls
    kernels.set_backend("numba")
    compiled = fn()
    assert calls, "the numba run did not take the whole loop"
    return reference, compiled


def assert_same(a, b):
    """Nested dicts, lists, tuples and arrays equal to 1e-12 (relative, or absolute near 0)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, cr.History):
        assert_same(a.history, b.history)
    elif isinstance(a, cr.Network):
        assert_same(a.get_weights(), b.get_weights())
    elif isinstance(a, list | tuple) and not (a and isinstance(a[0], float | int)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, cr.StepTrace | str):
        return
    else:
        np.testing.assert_allclose(np.asarray(b, float), np.asarray(a, float), rtol=1e-12, atol=1e-12)


SEEDS = {
    "000": seed_000_truth_table.run,
    "002 sigmoid": seed_002_xor_train.train_sigmoid,
    "002 tanh": seed_002_xor_train.train_tanh_with_biases,
    "003": seed_003_matrix_backprop.train_digits,
    "004": seed_004_study_hours.run,
}


@pytest.mark.parametrize("seed", list(SEEDS))
def test_every_seed_example_trains_the_same(seed, whole_loop_calls):
    reference, compiled = under_both(SEEDS[seed], whole_loop_calls)
    assert_same(reference, compiled)


def test_seed_001_with_its_callback_trains_step_by_step(whole_loop_calls):
    kernels.set_backend("numba")
    numba_run = seed_001_admissions.run()
    assert not whole_loop_calls  # a callback each epoch: the step path
    kernels.set_backend("numpy")
    assert_same(seed_001_admissions.run()["history"], numba_run["history"])


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize(("output", "loss"), [("softmax", "categorical_crossentropy"), ("identity", "mse")])
def test_shuffled_mini_batches_with_biases_and_momentum(momentum, output, loss, whole_loop_calls, rng):
    X = rng.normal(size=(70, 5))
    y = cr.one_hot(rng.integers(0, 3, 70), 3)
    metrics = ["accuracy"] if loss != "mse" else ["mse", "mae"]

    def train():
        net = cr.Network([5, 8, 6, 3], activation="relu", output_activation=output, seed=3)
        opt = cr.SGD(0.05, momentum=momentum, nesterov=momentum > 0)
        history = net.fit(X, y, loss=loss, optimizer=opt, epochs=6, batch_size=16, metrics=metrics, seed=9)
        grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in net.layers]
        return net, history, grads, opt.iterations

    reference, compiled = under_both(train, whole_loop_calls)
    assert_same(reference, compiled)


def test_divergence_keeps_the_same_weights_and_says_the_same(whole_loop_calls, rng):
    X, y = rng.normal(size=(20, 3)) * 50, rng.normal(size=(20, 1)) * 1e3

    def train():
        net = cr.Network([3, 16, 1], activation="relu", output_activation="identity", seed=0)
        with pytest.raises(cr.DivergenceError) as error:
            net.fit(X, y, loss="mse", optimizer=cr.SGD(1.0), epochs=50)
        return net, str(error.value), error.value.epoch, error.value.history

    reference, compiled = under_both(train, whole_loop_calls)
    assert reference[1] == compiled[1]
    assert_same(reference, compiled)
