"""One trainer, both backends: the Numba chunk computes what the NumPy step path computes.

Skipped without Numba. Each case runs under both backends (float64, 1e-12) and checks that the
numba run really ran its epochs in the compiled chunk (a spy on `chainrule.train.chunk.Chunk.run`).
Divergence, the optimizer's state after a roll-back, resume and callbacks go through the same
loop whichever backend runs the batches, so they must agree too.
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
from chainrule.train.chunk import Chunk

pytestmark = pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")


@pytest.fixture
def chunk_calls(monkeypatch):
    calls = []
    original = Chunk.run

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(Chunk, "run", spy)
    previous = kernels.backend()
    yield calls
    kernels.set_backend(previous)


def under_both(fn, calls):
    """``fn()`` under the numpy and the numba backend; the numba run must use the chunk."""
    kernels.set_backend("numpy")
    reference = fn()
    assert not calls
    kernels.set_backend("numba")
    compiled = fn()
    assert calls, "the numba run did not take the compiled chunk"
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
def test_every_seed_example_trains_the_same(seed, chunk_calls):
    reference, compiled = under_both(SEEDS[seed], chunk_calls)
    assert_same(reference, compiled)


def test_seed_001_with_its_callback_takes_the_chunk_too(chunk_calls):
    reference, compiled = under_both(seed_001_admissions.run, chunk_calls)  # a callback each epoch
    assert_same(reference["history"], compiled["history"])


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize(("output", "loss"), [("softmax", "categorical_crossentropy"), ("identity", "mse")])
def test_shuffled_mini_batches_with_biases_and_momentum(momentum, output, loss, chunk_calls, rng):
    X = rng.normal(size=(70, 5))
    y = cr.one_hot(rng.integers(0, 3, 70), 3)
    metrics = ["accuracy"] if loss != "mse" else ["mse", "mae"]

    def train():
        net = cr.Network([5, 8, 6, 3], activation="relu", output_activation=output, seed=3)
        opt = cr.SGD(0.05, momentum=momentum, nesterov=momentum > 0)
        history = net.fit(X, y, loss=loss, optimizer=opt, epochs=6, batch_size=16, metrics=metrics, seed=9)
        grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in net.layers]
        return net, history, grads, opt.iterations

    reference, compiled = under_both(train, chunk_calls)
    assert_same(reference, compiled)


def test_divergence_keeps_the_same_weights_and_says_the_same(chunk_calls, rng):
    X, y = rng.normal(size=(20, 3)) * 50, rng.normal(size=(20, 1)) * 1e3

    def train():
        net = cr.Network([3, 16, 1], activation="relu", output_activation="identity", seed=0)
        with pytest.raises(cr.DivergenceError) as error:
            net.fit(X, y, loss="mse", optimizer=cr.SGD(1.0), epochs=50)
        return net, str(error.value), error.value.epoch, error.value.history

    reference, compiled = under_both(train, chunk_calls)
    assert reference[1] == compiled[1]
    assert_same(reference, compiled)


def optimizer_state(opt):
    return {name: value.copy() for name, value in opt.state_arrays().items()}, opt.iterations, opt.lr


@pytest.mark.parametrize("batch_size", [None, 8])
def test_a_blow_up_in_the_last_step_is_caught_and_rolled_back(batch_size, chunk_calls, rng):
    """The run's very last update makes the weights infinite; no later loss would see it."""
    X, y = rng.normal(size=(20, 3)) * 10, rng.normal(size=(20, 1)) * 1e3

    def train():
        net = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
        opt = cr.SGD(1e308)
        with pytest.raises(cr.DivergenceError) as error:
            net.fit(X, y, loss="mse", optimizer=opt, epochs=1, batch_size=batch_size, shuffle=False)
        weights = net.get_weights()
        assert all(np.isfinite(v).all() for layer in weights for v in layer.values())
        return net, str(error.value), optimizer_state(opt)

    reference, compiled = under_both(train, chunk_calls)
    assert reference[1] == compiled[1]
    assert_same(reference, compiled)
    start = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    assert_same(start, compiled[0])  # back at the start: the only epoch failed


def test_after_a_divergence_the_optimizer_state_rate_and_steps_are_those_of_the_weights(chunk_calls, rng):
    """Momentum's velocity, ``iterations`` and ``lr`` roll back with the weights, on both backends."""
    X, y = rng.normal(size=(40, 3)) * 5, rng.normal(size=(40, 1)) * 50

    def train():
        net = cr.Network([3, 16, 1], activation="relu", output_activation="identity", seed=0)
        opt = cr.SGD(cr.ExponentialDecay(0.01, 4.0), momentum=0.9)  # a rate that grows into divergence
        with pytest.raises(cr.DivergenceError) as error:
            net.fit(X, y, loss="mse", optimizer=opt, epochs=200, batch_size=10, seed=1)
        state = optimizer_state(opt)
        epochs_kept = error.value.history.epochs
        assert state[1] == epochs_kept * 4  # steps of the epochs kept, not of the failed one
        return net, str(error.value), state, error.value.history

    reference, compiled = under_both(train, chunk_calls)
    assert reference[1] == compiled[1]
    assert_same(reference, compiled)
    velocity, _, lr = compiled[2]
    assert all(np.isfinite(v).all() for v in velocity.values())
    assert f"lr={lr:g};" in compiled[1]  # the message quotes the rate of the state kept


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(backend, tmp_path, chunk_calls, rng):
    X, y = rng.normal(size=(30, 4)), cr.one_hot(rng.integers(0, 3, 30), 3)
    kernels.set_backend(backend)

    def fresh():
        return cr.Network([4, 6, 3], activation="tanh", output_activation="softmax", seed=2)

    def settings():
        return dict(optimizer=cr.SGD(0.1, momentum=0.9), epochs=12, batch_size=8, seed=5)

    whole = fresh()
    whole_history = whole.fit(X, y, **settings())
    path = tmp_path / "ckpt_{epoch}.npz"
    first = fresh()
    first.fit(X, y, **{**settings(), "epochs": 5}, callbacks=[cr.ModelCheckpoint(str(path))])
    resumed = fresh()
    history = resumed.fit(X, y, **settings(), resume_from=tmp_path / "ckpt_4.npz")  # epochs count from 0
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        for key in a:
            assert np.array_equal(a[key], b[key]), key
    assert history.history == whole_history.history
    assert bool(chunk_calls) == (backend == "numba")


def test_callbacks_and_verbose_do_not_change_the_numbers(chunk_calls, rng, capsys):
    X, y = rng.normal(size=(50, 4)), cr.one_hot(rng.integers(0, 3, 50), 3)
    kernels.set_backend("numba")

    def train(**extra):
        net = cr.Network([4, 8, 3], activation="relu", output_activation="softmax", seed=4)
        history = net.fit(X, y, optimizer=cr.SGD(0.1), epochs=7, batch_size=16, seed=3, **extra)
        return net.get_weights(), history.history

    plain = train()
    seen = []
    with_callbacks = train(callbacks=[lambda epoch, logs: seen.append(epoch)], verbose=2)
    assert seen == list(range(7))
    assert "loss" in capsys.readouterr().err
    assert chunk_calls
    for a, b in zip(plain[0], with_callbacks[0], strict=True):
        for key in a:
            assert np.array_equal(a[key], b[key]), key
    assert plain[1] == with_callbacks[1]
