"""Guarantee 3, swept: Ctrl-C on *any* line chainrule executes during `fit` leaves a consistent state.

A tracer (`sys.settrace`) raises KeyboardInterrupt at the k-th line executed in chainrule's own
package, for every k from the first line of `fit` to its last, in several short runs. After
each, the network must hold exactly the weights an uninterrupted run had after the number of
epochs its history lists (0: the start weights), the history must be that run's first epochs,
and the optimizer's state, step count and learning rate must be those of the same epoch.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

PACKAGE = str(Path(cr.__file__).resolve().parent)


class Interrupter:
    """A trace function raising KeyboardInterrupt at the ``k``-th line run in chainrule's package
    (or in the files under ``prefix``)."""

    def __init__(self, k: int, prefix: str = PACKAGE) -> None:
        self.k, self.count, self.prefix = k, 0, prefix

    def __call__(self, frame, event, arg):
        return self.line if frame.f_code.co_filename.startswith(self.prefix) else None

    def line(self, frame, event, arg):
        if event == "line":
            self.count += 1
            if self.count == self.k:
                raise KeyboardInterrupt  # CPython then removes the tracer: one interrupt per run
        return self.line


@dataclass
class State:
    """What the network and optimizer hold after some epochs."""

    weights: list = field(default_factory=list)
    opt_state: dict = field(default_factory=dict)
    iterations: int = 0
    lr: float = 0.0


def capture(net, opt) -> State:
    copies = {name: value.copy() for name, value in opt.state_arrays().items()}
    return State(net.get_weights(), copies, opt.iterations, opt.lr)


class Recorder(cr.Callback):
    """The last callback: records the state each epoch ends with (what `fit` commits)."""

    def __init__(self) -> None:
        self.states: list[State] = []

    def on_epoch_end(self, epoch, logs):
        self.states.append(capture(self.network, self.optimizer))


def data(n=12):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, 3))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, cr.one_hot(labels, 3)


CONFIGS = {
    "full batch, SGD": dict(
        layers=lambda: [cr.Dense(3, 4, "tanh"), cr.Dense(4, 3, "softmax")],
        optimizer=lambda: cr.SGD(lr=0.5),
        fit=dict(epochs=3),
    ),
    "mini-batch, momentum, plateau": dict(
        layers=lambda: [cr.Dense(3, 4, "relu"), cr.Dense(4, 3, "softmax")],
        optimizer=lambda: cr.SGD(lr=0.2, momentum=0.9, nesterov=True),
        fit=dict(epochs=2, batch_size=6),
        # changes the learning rate in on_epoch_end: the rate is rolled back with the weights
        callbacks=lambda: [cr.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=100.0)],
    ),
    "Adam, dropout, validation": dict(
        layers=lambda: [cr.Dense(3, 4, "tanh"), cr.Dropout(0.25), cr.Dense(4, 3, "softmax")],
        optimizer=lambda: cr.Adam(lr=0.05, weight_decay=1e-3),
        fit=dict(epochs=2, batch_size=5, validation_split=0.25),
        callbacks=lambda: [cr.LambdaCallback(on_epoch_end=lambda epoch, logs: None)],
    ),
}


def run(config, k=None, prefix=PACKAGE):
    """One fit, interrupted at the k-th chainrule line (never when k is None)."""
    X, y = data()
    net = cr.Network(config["layers"](), seed=3)
    opt = config["optimizer"]()
    start = capture(net, opt)
    recorder = Recorder()
    callbacks = [*config.get("callbacks", lambda: [])(), recorder]
    tracer = Interrupter(k if k is not None else 0, prefix)
    history, raised = None, False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.settrace(tracer)
        try:
            history = net.fit(
                X, y, loss="categorical_crossentropy", optimizer=opt, callbacks=callbacks, **config["fit"]
            )
        except KeyboardInterrupt:
            raised = True
        finally:
            sys.settrace(None)
    if history is None:  # interrupted before fit could return: the run's history, if it began
        history = recorder.run.history if hasattr(recorder, "run") else cr.History()
    return net, opt, history, raised, tracer.count, start, recorder, caught


def same_state(got: State, want: State) -> bool:
    """Whether two states are identical: weights, optimizer state, step count and rate."""
    return (
        all(
            all(np.array_equal(g[key], w[key]) for key in w)
            for g, w in zip(got.weights, want.weights, strict=True)
        )
        and sorted(got.opt_state) == sorted(want.opt_state)
        and all(np.array_equal(got.opt_state[name], value) for name, value in want.opt_state.items())
        and (got.iterations, got.lr) == (want.iterations, want.lr)
    )


def assert_same_state(net, opt, history, want: State, want_history, label):
    got = capture(net, opt)
    for layer, (g, w) in enumerate(zip(got.weights, want.weights, strict=True)):
        for key in w:
            np.testing.assert_array_equal(g[key], w[key], err_msg=f"{label}: layer {layer} {key}")
    assert sorted(got.opt_state) == sorted(want.opt_state), label
    for name, value in want.opt_state.items():
        np.testing.assert_array_equal(got.opt_state[name], value, err_msg=f"{label}: optimizer {name}")
    assert (got.iterations, got.lr) == (want.iterations, want.lr), label
    assert history.history == want_history, label


@pytest.mark.parametrize("name", list(CONFIGS))
def test_an_interrupt_on_any_line_leaves_a_completed_epoch(name):
    config = CONFIGS[name]
    run(config)  # warm-up: first-call paths (the kernel backend chosen once) would change the count
    net, opt, history, _, lines, start, recorder, _ = run(config)
    epochs = config["fit"]["epochs"]
    assert history.epochs == epochs and not history.interrupted
    reference = [start, *recorder.states]  # reference[n]: the state after n epochs
    full = history.history
    outcomes = {"returned": 0, "raised": 0}
    seen_epochs = set()
    for k in range(1, lines + 1):
        net, opt, history, raised, count, _, _, caught = run(config, k)
        assert count == k, f"the interrupt at line {k} did not fire"
        n = history.epochs
        seen_epochs.add(n)
        truncated = {key: values[:n] for key, values in full.items() if n}
        assert_same_state(net, opt, history, reference[n], truncated, f"{name}, interrupt at line {k}")
        if raised:
            outcomes["raised"] += 1
        else:
            outcomes["returned"] += 1
            assert history.interrupted, f"line {k}: fit returned without marking the history"
            assert any("interrupted" in str(w.message) for w in caught)
    # the sweep reached every epoch boundary, and most interrupts are handled inside fit
    assert seen_epochs == set(range(epochs + 1))
    assert outcomes["returned"] > outcomes["raised"]


def test_the_sweep_can_fail():
    """Without the roll-back, an interrupt mid-epoch leaves weights no epoch ended with."""
    config = CONFIGS["mini-batch, momentum, plateau"]
    _, _, _, _, _, start, recorder, _ = run(config)
    reference = [start, *recorder.states]

    class MidEpoch(cr.Callback):
        def on_epoch_begin(self, epoch):
            self.network.layers[0].params["W"] += 1.0  # as a half-done step would

    X, y = data()
    net = cr.Network(config["layers"](), seed=3)
    opt = config["optimizer"]()
    net.fit(
        X, y, loss="categorical_crossentropy", optimizer=opt, epochs=1, batch_size=6, callbacks=[MidEpoch()]
    )
    with pytest.raises(AssertionError):
        assert_same_state(net, opt, cr.History(), reference[1], {}, "tampered")


def test_an_interrupt_on_any_line_of_a_checkpoint_write_leaves_a_good_file_or_none(tmp_path, monkeypatch):
    """Ctrl-C on every line of chainrule's file code (`chainrule.io`) while ModelCheckpoint saves."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not what is tested: speed
    path = tmp_path / "run.npz"
    config = {
        **CONFIGS["full batch, SGD"],
        "fit": dict(epochs=2),
        "callbacks": lambda: [cr.ModelCheckpoint(path)],
    }
    io_code = str(Path(PACKAGE) / "io")
    run(config, prefix=io_code)  # warm-up: first-call paths would make the line count differ
    path.unlink()
    _, _, history, _, lines, start, recorder, _ = run(config, prefix=io_code)
    reference, full = [start, *recorder.states], history.history
    assert lines > 100  # two saves' worth of lines
    for k in range(1, lines + 1):
        path.unlink(missing_ok=True)
        net, opt, history, _, count, _, _, _ = run(config, k, prefix=io_code)
        assert count == k
        n = history.epochs
        truncated = {key: values[:n] for key, values in full.items() if n}
        assert_same_state(net, opt, history, reference[n], truncated, f"checkpoint, interrupt at line {k}")
        assert [p.name for p in tmp_path.iterdir()] in ([], ["run.npz"]), (
            f"line {k}: a temporary file is left"
        )
        if path.exists():  # a complete checkpoint of epoch 1 or 2, never a partial one
            saved = cr.load(path)
            epochs = saved.metadata["epoch"] + 1
            for layer, want in zip(saved.get_weights(), reference[epochs].weights, strict=True):
                for key in want:
                    np.testing.assert_array_equal(layer[key], want[key])


@pytest.mark.parametrize("batch_size", [None, 5])
def test_an_interrupt_on_any_line_of_a_fast_forwarded_run(monkeypatch, batch_size):
    """Without callbacks the step path runs several epochs per call (`Trainer.steps_forward`) and
    commits once per call: Ctrl-C anywhere leaves the state of a committed epoch, exactly. On the
    NumPy kernels (under Numba this network would take the compiled chunk, one call per group)."""
    from chainrule.train import loop

    config = {
        "layers": lambda: [cr.Dense(3, 4, "tanh"), cr.Dense(4, 3, "softmax")],
        "optimizer": lambda: cr.SGD(lr=0.5, momentum=0.9),
        "fit": dict(epochs=5, batch_size=batch_size, shuffle=False),
    }
    monkeypatch.setattr(loop.Trainer, "steps_per_call", lambda self, left: min(left, 2))
    calls = []
    original = loop.Trainer.steps_forward
    monkeypatch.setattr(
        loop.Trainer, "steps_forward", lambda self, *args: calls.append(original(self, *args)) or calls[-1]
    )

    def uninterrupted(epochs):
        net, opt = cr.Network(config["layers"](), seed=3), config["optimizer"]()
        with cr.use_backend("numpy"):
            history = net.fit(*data(), loss="categorical_crossentropy", optimizer=opt,
                              **{**config["fit"], "epochs": epochs})  # fmt: skip
        return capture(net, opt), history

    reference = [uninterrupted(n)[0] for n in range(6)]
    reference[0] = capture(cr.Network(config["layers"](), seed=3), config["optimizer"]())
    full = uninterrupted(5)[1].history
    assert calls[-3:] == [2, 2, 1]  # the runs above were fast-forwarded, two epochs a call

    def interrupted(k):  # `run` without its recording callback, which would stop the fast-forward
        net, opt = cr.Network(config["layers"](), seed=3), config["optimizer"]()
        tracer, history, (X, y) = Interrupter(k), None, data()
        # the backend is set outside the traced lines: an interrupt inside `use_backend`'s own
        # lines would leave this thread's context on NumPy for every later test
        with warnings.catch_warnings(), cr.use_backend("numpy"):
            warnings.simplefilter("ignore")
            sys.settrace(tracer)
            try:
                history = net.fit(X, y, loss="categorical_crossentropy", optimizer=opt, **config["fit"])
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(None)
        return net, opt, history, tracer.count

    interrupted(0)  # warm-up, as above
    lines = interrupted(0)[3]
    seen = set()
    for k in range(1, lines + 1):
        net, opt, history, count = interrupted(k)
        assert count == k
        if history is None:  # raised out of fit, which returns no history: the state of some epoch
            n = next((n for n, state in enumerate(reference) if same_state(capture(net, opt), state)), None)
            assert n is not None, f"fast-forward, interrupt at line {k}: a state no epoch ended with"
            seen.add(n)
            continue
        n = history.epochs
        seen.add(n)
        truncated = {key: values[:n] for key, values in full.items() if n}
        assert_same_state(net, opt, history, reference[n], truncated, f"fast-forward, interrupt at line {k}")
    assert seen == {0, 2, 4, 5}  # a call's epochs commit together
