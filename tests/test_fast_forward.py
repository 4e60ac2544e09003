"""Several epochs per call: the same history, roll-back and state as one epoch at a time.

Where nothing runs between epochs (no callbacks, validation, schedule or shuffling), the loop
asks the compiled chunk (Numba) for several epochs at once and replays their logs
(`Trainer.fast_forward`), or, on the step path (NumPy), runs several epochs of steps and does
their bookkeeping once (`Trainer.steps_forward`).
A failure inside such a call sends the loop back to an exact state, from which it replays the
epochs one by one; these tests force a few epochs per call, so that failures land in every
position (first epoch of a call, its first batch, the epoch after a call), and compare with the
same run made epoch by epoch (a callback that does nothing turns fast-forward off).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import kernels
from chainrule.train import loop
from chainrule.train.chunk import Chunk, numpy_seconds

NUMBA = pytest.param("numba", marks=pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent"))


@pytest.fixture(params=["numpy", NUMBA])
def backend(request):
    return request.param


@pytest.fixture
def calls(monkeypatch, backend):
    """The epochs each fast-forward call was asked for (compiled chunk or step path: a network
    the chunk does not take trains step by step under Numba too)."""
    asked: list[int] = []
    if backend == "numba":
        original = Chunk.run

        def spy(self, order, epochs=1):
            asked.append(epochs)
            return original(self, order, epochs)

        monkeypatch.setattr(Chunk, "run", spy)
    count = loop.Trainer.steps_per_call

    def steps_spy(self, left):
        asked.append(count(self, left))
        return asked[-1]

    monkeypatch.setattr(loop.Trainer, "steps_per_call", steps_spy)
    return asked


def per_call(monkeypatch, backend, X, epochs, batch_size=None, sizes=(3, 6, 1)):
    """Make each fast-forward call run ``epochs`` epochs (the last one fewer)."""
    layers = cr.Network(list(sizes), seed=0).layers
    work = X.shape[0] * sum(layer.n_in * layer.n_out for layer in layers)
    monkeypatch.setattr(loop, "FAST_FORWARD_WORK", float(work * epochs))
    seconds = numpy_seconds(layers, X.shape[0], batch_size)
    monkeypatch.setattr(loop, "FAST_FORWARD_SECONDS", seconds * (epochs + 0.5))


def run(X, y, epochs, lr, *, fast, backend, batch_size=None, sizes=(3, 6, 1)):
    net = cr.Network(list(sizes), activation="relu", output_activation="identity", seed=0)
    opt = cr.SGD(lr, momentum=0.5)
    callbacks = [] if fast else [cr.LambdaCallback(on_epoch_end=lambda epoch, logs: None)]
    error = None
    with cr.use_backend(backend):
        try:
            net.fit(X, y, loss="mse", optimizer=opt, epochs=epochs, batch_size=batch_size,
                    shuffle=False, callbacks=callbacks, metrics=["mae"])  # fmt: skip
        except cr.DivergenceError as caught:
            error = caught
    state = {name: value.copy() for name, value in opt.state_arrays().items()}
    history = error.history.history if error else None
    failure = (str(error), error.epoch) if error else None
    return net.get_weights(), state, opt.iterations, opt.lr, failure, history


def assert_identical(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_identical(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_identical(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)


RATES = [0.015, 0.02, 0.03, 0.05, 0.2, 1.0]  # diverging in epochs 1 to 16 (full batch: 5 to 16)


def test_a_healthy_run_is_the_same_in_calls_of_three_epochs(calls, monkeypatch, rng, backend):
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    for batch_size in (None, 8):
        per_call(monkeypatch, backend, X, 3, batch_size)
        net = cr.Network([3, 6, 1], activation="tanh", output_activation="identity", seed=0)
        with cr.use_backend(backend):
            fast = net.fit(X, y, loss="mse", optimizer=cr.SGD(0.05), epochs=10, batch_size=batch_size,
                           shuffle=False, metrics=["mae"])  # fmt: skip
        assert calls[-4:] == [3, 3, 3, 1]
        other = cr.Network([3, 6, 1], activation="tanh", output_activation="identity", seed=0)
        with cr.use_backend(backend):
            slow = other.fit(X, y, loss="mse", optimizer=cr.SGD(0.05), epochs=10, batch_size=batch_size,
                             shuffle=False, metrics=["mae"], callbacks=[lambda e, logs: None])  # fmt: skip
        assert_identical(fast.history, slow.history)
        assert_identical(net.get_weights(), other.get_weights())


@pytest.mark.parametrize("batch_size", [None, 8])
@pytest.mark.parametrize("lr", RATES)
@pytest.mark.parametrize("per", [1, 2, 3])
def test_a_divergence_rolls_back_as_epoch_by_epoch(calls, monkeypatch, rng, lr, batch_size, per, backend):
    """Learning rates that blow up in different epochs, hence at every position in a call."""
    X, y = rng.normal(size=(20, 3)) * 3, rng.normal(size=(20, 1)) * 30
    per_call(monkeypatch, backend, X, per, batch_size)
    fast = run(X, y, 30, lr, fast=True, backend=backend, batch_size=batch_size)
    assert max(calls) == per
    slow = run(X, y, 30, lr, fast=False, backend=backend, batch_size=batch_size)
    assert_identical(fast, slow)


def test_the_divergences_above_do_diverge(calls, monkeypatch, rng, backend):
    X, y = rng.normal(size=(20, 3)) * 3, rng.normal(size=(20, 1)) * 30
    epochs = {lr: run(X, y, 30, lr, fast=False, backend=backend)[4] for lr in RATES}
    failed = sorted({value[1] for value in epochs.values() if value is not None})
    assert len(failed) >= 4, epochs  # several different failing epochs among the rates


@pytest.mark.parametrize("epochs", [1, 2, 5])
def test_weights_blown_up_by_a_calls_last_step_are_caught(calls, monkeypatch, rng, backend, epochs):
    """The loss is finite (it is computed before the update) but the update overflows: only the
    weight check at the end of a call can see it; the run must fail as epoch by epoch does."""
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    per_call(monkeypatch, backend, X, 3)
    lr = float(np.finfo(np.float64).max)
    fast = run(X, y, epochs, lr, fast=True, backend=backend)
    slow = run(X, y, epochs, lr, fast=False, backend=backend)
    assert slow[4] is not None and "weights became NaN or infinite" in slow[4][0]
    assert_identical(fast, slow)


def test_dropout_layers_draw_as_epoch_by_epoch(calls, monkeypatch, rng, backend):
    """Two Dropout layers share one generator per epoch (the step path's draw order), fast or not."""
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    per_call(monkeypatch, backend, X, 3, sizes=(3, 8, 8, 1))
    runs = []
    for callbacks in ([], [lambda epoch, logs: None]):
        layers = [cr.Dense(3, 8, "relu"), cr.Dropout(0.5), cr.Dense(8, 8, "relu"), cr.Dropout(0.5),
                  cr.Dense(8, 1, "identity")]  # fmt: skip
        net = cr.Network(layers, seed=0)
        with cr.use_backend(backend):
            history = net.fit(X, y, loss="mse", optimizer=cr.SGD(0.01), epochs=7, shuffle=False,
                              callbacks=callbacks)  # fmt: skip
        runs.append((history.history, net.get_weights()))
    assert calls and max(calls) >= 2  # the first run was fast-forwarded, several epochs a call
    assert_identical(runs[0], runs[1])


@pytest.mark.parametrize("batch_size", [None, 4])
def test_a_stop_from_outside_keeps_the_epochs_a_call_completed(monkeypatch, rng, batch_size):
    """`net.stop_training` set while a fast-forward call runs (as another thread would) ends the run
    at the end of that epoch, with every completed epoch kept: the state of a 4-epoch run. On the
    step path (NumPy kernels: under Numba this network would take the compiled chunk)."""
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    monkeypatch.setattr(loop.Trainer, "steps_per_call", lambda self, left: min(left, 6))
    original = loop.Trainer.batches
    seen = []

    def batches(self, epoch_batches, stop_within=True):
        seen.append(stop_within)
        if len(seen) == 4:  # during the fourth epoch of the first call
            self.net.stop_training = True
        return original(self, epoch_batches, stop_within)

    monkeypatch.setattr(loop.Trainer, "batches", batches)

    def fitted(epochs):
        net = cr.Network([3, 6, 1], activation="tanh", output_activation="identity", seed=0)
        opt = cr.SGD(0.05, momentum=0.5)
        with cr.use_backend("numpy"):
            history = net.fit(X, y, loss="mse", optimizer=opt, epochs=epochs, batch_size=batch_size,
                              shuffle=False)  # fmt: skip
        return history, net.get_weights(), opt

    stopped, weights, opt = fitted(10)
    assert seen[:4] == [False] * 4  # the fast-forward path ran these epochs
    assert stopped.epochs == 4
    monkeypatch.setattr(loop.Trainer, "batches", original)
    reference, want, want_opt = fitted(4)
    assert_identical((stopped.history, weights), (reference.history, want))
    assert opt.iterations == want_opt.iterations
    assert_identical(opt.state_arrays(), want_opt.state_arrays())
