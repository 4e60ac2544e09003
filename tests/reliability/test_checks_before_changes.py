"""`fit` checks everything before it changes anything; its one early change, the dtype cast, is atomic.

A network made with ``dtype=None`` takes its first training data's dtype. The cast is all
layers or none, and a `fit` that fails (or is interrupted) before its first epoch puts the exact
previous arrays back. A tracer raises KeyboardInterrupt at every line chainrule executes from
the start of such a `fit` until training starts, and after each the network must be whole:
one dtype in every layer, the very arrays it had, and a later `fit` that works.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.reliability.test_interrupt_sweep import Interrupter


def float32_data(n=16):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, cr.one_hot(rng.integers(0, 3, n), 3).astype(np.float32)


def fresh():
    return cr.Network([3, 5, 4, 3], activation="tanh", output_activation="softmax", seed=1)


def arrays(net):
    return [(key, value) for layer in net.layers for key, value in layer.params.items()]


def assert_untouched(net, before):
    assert net.dtype == np.float64 and net.dtype_from_data
    for (key, was), (key_now, now) in zip(before, arrays(net), strict=True):
        assert key == key_now and now is was  # the very same arrays, not a cast back
    for layer in net.layers:
        for grad in layer.grads.values():
            assert grad.dtype == np.float64


@pytest.mark.parametrize(
    "bad",
    [
        dict(epochs=-1),
        dict(batch_size=0),
        dict(optimizer="nope"),
        dict(metrics=["no_such_metric"]),
        dict(validation_split=1.5),
        dict(unknown_option=1),
    ],
    ids=lambda bad: next(iter(bad)),
)
def test_a_bad_setting_leaves_a_float64_network_as_it_was(bad):
    X, y = float32_data()
    net = fresh()
    before = arrays(net)
    with pytest.raises((ValueError, TypeError, KeyError)):
        net.fit(X, y, **bad)
    assert_untouched(net, before)


def test_bad_data_after_the_cast_puts_the_exact_arrays_back():
    X, y = float32_data()
    X[5, 1] = np.nan
    net = fresh()
    before = arrays(net)
    with pytest.raises(cr.InputError, match="NaN"):
        net.fit(X, y, epochs=1)
    assert_untouched(net, before)
    X[5, 1] = 0.0
    net.fit(X, y, epochs=1)  # then the cast happens, once
    assert net.dtype == np.float32 and not net.dtype_from_data
    assert all(value.dtype == np.float32 for _, value in arrays(net))


def test_a_bad_checkpoint_to_resume_from_changes_nothing(tmp_path):
    X, y = float32_data()
    other = cr.Network([3, 6, 3], activation="tanh", output_activation="softmax", seed=1)
    other.fit(X, y, epochs=1, callbacks=[cr.ModelCheckpoint(str(tmp_path / "c.npz"))])
    net = fresh()
    before = arrays(net)
    with pytest.raises(cr.ModelFileError):
        net.fit(X, y, epochs=2, resume_from=tmp_path / "c.npz")
    assert_untouched(net, before)


def sweep_points():
    """How many chainrule lines run from the start of `fit` until the first epoch begins."""
    X, y = float32_data()
    net = fresh()
    counter = Interrupter(k=-1)
    seen = {}

    class Stop(cr.Callback):
        def on_train_begin(self):
            seen["lines"] = counter.count
            raise RuntimeError("stop")

    sys.settrace(counter)
    try:
        with pytest.raises(RuntimeError):
            net.fit(X, y, epochs=1, callbacks=[Stop()])
    finally:
        sys.settrace(None)
    return seen["lines"]


def test_ctrl_c_on_any_line_before_training_leaves_a_whole_network():
    """Before the trainer's guard the interrupt propagates and the cast is undone; inside it,
    `fit` returns an interrupted run of a whole float32 network at its (cast) start weights."""
    X, y = float32_data()
    lines = sweep_points()
    assert lines > 50  # the settings, the cast, the data checks, the trainer's set-up
    outcomes = set()
    for k in range(1, lines + 1):
        net = fresh()
        before = arrays(net)
        sys.settrace(Interrupter(k))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                history = net.fit(X, y, epochs=1)
        except KeyboardInterrupt:
            history = None
        finally:
            sys.settrace(None)
        if history is None:
            assert_untouched(net, before)
            outcomes.add("propagated")
        else:
            assert history.interrupted and history.epochs == 0, k
            assert any("interrupted" in str(w.message) for w in caught), k
            assert net.dtype == np.float32 and not net.dtype_from_data, k
            for (_, was), (_, now) in zip(before, arrays(net), strict=True):
                assert now.dtype == np.float32 and np.array_equal(now, was.astype(np.float32)), k
            outcomes.add("rolled back")
        history = net.fit(X, y, epochs=1)  # usable: the next fit casts (if needed) and trains
        assert history.epochs == 1 and net.dtype == np.float32, k
        assert {value.dtype for _, value in arrays(net)} == {np.dtype(np.float32)}, k
    assert outcomes == {"propagated", "rolled back"}


def test_targets_from_a_batch_function_get_the_checks_arrays_get():
    """Rows that do not sum to 1 would make the fused (out - y)/n delta the gradient of no loss."""
    X, y = float32_data()
    net = fresh()
    bad = y * 0.8  # probability rows summing to 0.8

    with pytest.raises(cr.InputError, match="summing to 1"):
        net.fit(lambda: [(X[:8], bad[:8]), (X[8:], bad[8:])], None, epochs=1)
    with pytest.raises(cr.InputError, match="summing to 1"):
        net.fit(X, y, validation_data=(X, bad), epochs=1)
    # a batch holding one class is fine: only the whole training set needs two
    one_class = cr.one_hot(np.zeros(8, dtype=int), 3)
    net.fit(lambda: [(X[:8], one_class), (X[8:], y[8:])], None, epochs=1)
