"""`chainrule.train.callbacks`: Monitor, EarlyStopping, ReduceLROnPlateau, LambdaCallback,
ProgressLogger, driven by hand (scripted logs) and inside `fit`."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.train.callbacks import Monitor
from tests.training_scenarios import linear_data, rise_then_fall
from tests.training_scenarios import same_weights as weights_equal


# ------------------------------------------------------------------------------- helpers
def drive(callback: cr.Callback, values, key="loss", network=None, optimizer=None):
    """Run the hooks by hand on scripted logs; return the epochs after which training stopped."""
    callback.network = network if network is not None else cr.Network([1, 1], seed=0)
    callback.optimizer = optimizer if optimizer is not None else cr.SGD(lr=1.0)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {key: value})
        if callback.network.stop_training:
            callback.network.stop_training = False
            return [epoch]
    return []


# ------------------------------------------------------------------------------- Monitor
@pytest.mark.parametrize(
    ("key", "maximizes"),
    [
        ("loss", False),
        ("val_loss", False),
        ("mse", False),
        ("val_mae", False),
        ("accuracy", True),
        ("val_accuracy", True),
        ("acc", True),
        ("val_r2", True),
        ("auc", True),
        ("val_precision", True),
        ("recall", True),
        ("f1", True),
        ("score", True),
    ],
)
def test_monitor_auto_mode_direction(key, maximizes):
    assert Monitor(key, 0.0, "auto").maximizes(key) is maximizes


@pytest.mark.parametrize("key", ["loss", "val_accuracy"])
def test_monitor_explicit_mode_overrides_the_key(key):
    assert Monitor(key, 0.0, "max").maximizes(key) is True
    assert Monitor(key, 0.0, "min").maximizes(key) is False


def test_monitor_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        Monitor(None, 0.0, "maximum")


def test_monitor_default_key_is_val_loss_when_logged_else_loss():
    monitor = Monitor(None, 0.0)
    assert monitor.key({"loss": 1.0, "val_loss": 2.0}) == "val_loss"
    assert monitor.key({"loss": 1.0, "accuracy": 0.5}) == "loss"


def test_monitor_of_a_missing_key_names_what_is_logged():
    with pytest.raises(KeyError, match=r"val_accuracy.*'loss'"):
        Monitor("val_accuracy", 0.0).improved({"loss": 1.0})


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("min", [3.0, 2.0, 2.0, 2.5, 1.0], [True, True, False, False, True]),
        ("max", [3.0, 2.0, 4.0, 4.0, 5.0], [True, False, True, False, True]),
    ],
)
def test_monitor_improved_is_strict_and_records_the_best(mode, values, expected):
    monitor = Monitor("x", 0.0, mode)
    got = [monitor.improved({"x": v}) for v in values]
    assert got == expected
    assert monitor.best == (min(values) if mode == "min" else max(values))


@pytest.mark.parametrize("min_delta", [0.5, -0.5])  # the sign does not matter
def test_monitor_min_delta_is_the_least_improvement(min_delta):
    monitor = Monitor("loss", min_delta, "min")
    assert [monitor.improved({"loss": v}) for v in [10.0, 9.6, 9.4, 9.0, 8.8]] == [
        True,  # first value
        False,  # 0.4 better: not enough
        True,  # 0.6 better than 10
        False,  # 0.4 better than 9.4
        True,  # 0.6 better
    ]
    assert monitor.best == 8.8


def test_monitor_never_records_a_non_finite_value():
    monitor = Monitor("loss", 0.0, "min")
    assert monitor.improved({"loss": math.nan}) is False
    assert monitor.best is None
    assert monitor.improved({"loss": 2.0}) is True
    assert monitor.improved({"loss": -math.inf}) is False
    assert monitor.best == 2.0
    monitor.reset()
    assert monitor.best is None


# ------------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize(
    ("patience", "values", "stop"),
    [
        (1, [1.0, 0.9, 0.95], 2),
        (3, [1.0, 0.9, 0.95, 0.95, 0.95, 0.8], 4),
        (3, [1.0, 0.9, 0.95, 0.95, 0.85, 0.9, 0.9, 0.9], 7),  # an improvement resets the count
        (2, [1.0, 0.9, 0.8, 0.7], None),
    ],
)
def test_early_stopping_waits_patience_epochs_without_improvement(patience, values, stop):
    stopper = cr.EarlyStopping(patience=patience)
    stops = drive(stopper, values)
    assert stops == ([] if stop is None else [stop])
    assert stopper.stopped_epoch == stop
    best = min(range(len(values) if stop is None else stop + 1), key=values.__getitem__)
    assert stopper.best_epoch == best


def test_early_stopping_min_delta_ignores_small_improvements():
    values = [1.0, 0.99, 0.98, 0.97, 0.96]
    assert drive(cr.EarlyStopping(patience=2, min_delta=0.05), values) == [2]
    assert drive(cr.EarlyStopping(patience=2, min_delta=0.0), values) == []


def test_early_stopping_in_fit_stops_patience_epochs_after_the_best():
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    stopper = cr.EarlyStopping(patience=3, monitor="val_accuracy")
    history = net.fit(
        rise_then_fall(),
        None,
        loss="binary_crossentropy",
        optimizer=cr.SGD(lr=2.0),
        epochs=30,
        validation_data=linear_data(100, seed=1),
        callbacks=[stopper],
    )
    accuracy = history["val_accuracy"]
    best = int(np.argmax(accuracy))
    assert stopper.best_epoch == best
    assert stopper.stopped_epoch == best + 3
    assert history.epochs == best + 4 < 30


@pytest.mark.parametrize(
    ("monitor", "mode", "pick"),
    [
        ("val_accuracy", "auto", np.argmax),
        ("val_accuracy", "max", np.argmax),
        ("val_accuracy", "min", np.argmin),
        ("val_loss", "auto", np.argmin),
        ("val_loss", "min", np.argmin),
    ],
)
def test_restore_best_weights_follows_the_mode(monitor, mode, pick):
    """Accuracy rises then falls: the restored weights are those captured at the epoch that
    is best in the monitor's direction (the old bug restored the lowest accuracy)."""
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    snapshots = {}
    record = cr.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.__setitem__(e, net.get_weights()))
    stopper = cr.EarlyStopping(patience=100, monitor=monitor, mode=mode, restore_best_weights=True)
    X_val, y_val = linear_data(100, seed=1)
    history = net.fit(
        rise_then_fall(),
        None,
        loss="binary_crossentropy",
        optimizer=cr.SGD(lr=2.0),
        epochs=14,
        validation_data=(X_val, y_val),
        callbacks=[record, stopper],
    )
    values = history[monitor]
    assert np.any(np.diff(values) > 0) and np.any(np.diff(values) < 0)  # up and down
    best = int(pick(values))
    assert stopper.best_epoch == best < 13
    assert not weights_equal(snapshots[best], snapshots[13])
    assert weights_equal(net.get_weights(), snapshots[best])
    assert net.evaluate(X_val, y_val)[monitor.removeprefix("val_")] == pytest.approx(values[best])


def test_restore_best_weights_on_val_accuracy_ends_with_the_highest_accuracy():
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    X_val, y_val = linear_data(100, seed=1)
    stopper = cr.EarlyStopping(patience=3, monitor="val_accuracy", restore_best_weights=True)
    history = net.fit(
        rise_then_fall(),
        None,
        loss="binary_crossentropy",
        optimizer=cr.SGD(lr=2.0),
        epochs=30,
        validation_data=(X_val, y_val),
        callbacks=[stopper],
    )
    accuracy = history["val_accuracy"]
    assert stopper.stopped_epoch is not None and accuracy[-1] < max(accuracy)  # the last was worse
    assert net.evaluate(X_val, y_val)["accuracy"] == max(accuracy) > 0.9  # ... and not kept


def test_without_restore_best_weights_the_last_weights_stay():
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    last = {}
    record = cr.LambdaCallback(on_epoch_end=lambda e, logs: last.__setitem__("w", net.get_weights()))
    net.fit(
        rise_then_fall(),
        None,
        loss="binary_crossentropy",
        optimizer=cr.SGD(lr=2.0),
        epochs=10,
        validation_data=linear_data(100, seed=1),
        callbacks=[record, cr.EarlyStopping(patience=100, monitor="val_accuracy")],
    )
    assert weights_equal(net.get_weights(), last["w"])


def test_early_stopping_starts_afresh_on_each_fit():
    stopper = cr.EarlyStopping(patience=2)
    assert drive(stopper, [1.0, 2.0, 3.0]) == [2]
    assert drive(stopper, [5.0, 4.0, 3.0]) == []  # the best of the first run is forgotten
    assert stopper.stopped_epoch is None and stopper.best_epoch == 2


# --------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_drops_by_factor_after_patience_then_waits_again():
    optimizer = cr.SGD(lr=1.0)
    plateau = cr.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0)
    plateau.network, plateau.optimizer = cr.Network([1, 1], seed=0), optimizer
    plateau.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8]):
        plateau.on_epoch_end(epoch, {"loss": loss})
        rates.append(optimizer.lr)
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]


def test_reduce_lr_never_goes_below_min_lr():
    optimizer = cr.SGD(lr=1.0)
    drive(cr.ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.003), [1.0] * 6, optimizer=optimizer)
    assert optimizer.lr == 0.003


def test_reduce_lr_in_max_mode_follows_accuracy():
    rising, falling = cr.SGD(lr=1.0), cr.SGD(lr=1.0)
    for values, optimizer in [([0.5, 0.6, 0.7, 0.8], rising), ([0.8, 0.7, 0.6, 0.5], falling)]:
        plateau = cr.ReduceLROnPlateau(patience=1, monitor="val_accuracy")
        drive(plateau, values, key="val_accuracy", optimizer=optimizer)
    assert rising.lr == 1.0  # auto mode: higher accuracy is an improvement
    assert falling.lr == pytest.approx(1e-3)
    forced = cr.SGD(lr=1.0)
    plateau = cr.ReduceLROnPlateau(patience=1, monitor="acc", mode="min")
    drive(plateau, [0.5, 0.6, 0.7, 0.8], key="acc", optimizer=forced)
    assert forced.lr == pytest.approx(1e-3)


def test_reduce_lr_in_fit_shows_in_the_history():
    X, y = linear_data(40)
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    plateau = cr.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=100.0)  # nothing counts
    history = net.fit(X, y, optimizer=cr.SGD(lr=0.8), epochs=7, callbacks=[plateau])
    # epoch 0 improves (first value); the rate drops after epochs 2 and 4, seen from the next epoch
    assert history["lr"] == [0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2]


def test_reduce_lr_refuses_a_schedule():
    X, y = linear_data(20)
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    with pytest.raises(ValueError, match="schedule"):
        net.fit(X, y, optimizer=cr.SGD(lr=cr.StepDecay(0.1)), callbacks=[cr.ReduceLROnPlateau()])


@pytest.mark.parametrize("factor", [0.0, 1.0, 1.5, -0.5])
def test_reduce_lr_factor_must_be_in_0_1(factor):
    with pytest.raises(ValueError, match="factor"):
        cr.ReduceLROnPlateau(factor=factor)


# ------------------------------------------------------------------------ LambdaCallback
def test_lambda_callback_hooks_run_in_order_with_the_epoch_logs():
    X, y = linear_data(20)
    events = []
    callback = cr.LambdaCallback(
        on_train_begin=lambda: events.append(("train_begin",)),
        on_epoch_begin=lambda e: events.append(("epoch_begin", e)),
        on_epoch_end=lambda e, logs: events.append(("epoch_end", e, dict(logs))),
        on_train_end=lambda logs: events.append(("train_end", dict(logs))),
    )
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    history = net.fit(X, y, epochs=3, callbacks=[callback])
    names = [event[:1] if event[0].startswith("train") else event[:2] for event in events]
    assert names == [
        ("train_begin",),
        ("epoch_begin", 0),
        ("epoch_end", 0),
        ("epoch_begin", 1),
        ("epoch_end", 1),
        ("epoch_begin", 2),
        ("epoch_end", 2),
        ("train_end",),
    ]
    for epoch in range(3):
        logs = events[2 + 2 * epoch][2]
        assert logs == {key: history[key][epoch] for key in history.history}
    assert events[-1][1] == events[-2][2]  # train_end gets the last epoch's logs


def test_callbacks_run_in_list_order_each_epoch():
    X, y = linear_data(20)
    order = []
    first = cr.LambdaCallback(on_epoch_end=lambda e, logs: order.append(("first", e)))
    second = cr.LambdaCallback(on_epoch_begin=lambda e: order.append(("second-begin", e)))
    cr.Network([2, 1], seed=0).fit(X, y, epochs=2, callbacks=[first, second])
    assert order == [("second-begin", 0), ("first", 0), ("second-begin", 1), ("first", 1)]


def test_lambda_callback_with_no_hooks_does_nothing():
    X, y = linear_data(20)
    history = cr.Network([2, 1], seed=0).fit(X, y, epochs=2, callbacks=[cr.LambdaCallback()])
    assert history.epochs == 2


# ------------------------------------------------------------------------ ProgressLogger
LINE = re.compile(r"^epoch +(\d+)/(\d+)  (.*)  \((\d+\.\d)s\)$")


def test_progress_logger_prints_every_nth_epoch_and_the_last():
    X, y = linear_data(20)
    stream = io.StringIO()
    history = cr.Network([2, 1], activation="sigmoid", seed=0).fit(
        X, y, epochs=10, validation_data=(X, y), callbacks=[cr.ProgressLogger(10, every=3, stream=stream)]
    )
    lines = stream.getvalue().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [int(m.group(1)) for m in matches] == [3, 6, 9, 10]
    assert all(m.group(2) == "10" for m in matches)
    assert lines[0].startswith("epoch  3/10")  # right-aligned to the width of the total
    for m in matches:
        epoch = int(m.group(1)) - 1
        expected = "  ".join(f"{key} {history[key][epoch]:.6g}" for key in history.history)
        assert m.group(3) == expected


@pytest.mark.parametrize(("epochs", "every"), [(100, 5), (10, 1), (45, 2)])
def test_progress_logger_default_prints_about_twenty_lines(epochs, every):
    assert cr.ProgressLogger(epochs).every == every


def test_verbose_prints_progress_to_stderr(capsys):
    X, y = linear_data(20)
    cr.Network([2, 1], seed=0).fit(X, y, epochs=4, verbose=2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert [LINE.match(line).group(1) for line in captured.err.splitlines()] == ["1", "2", "3", "4"]


def test_stop_training_set_during_an_epoch_drops_that_epoch():
    """Set while an epoch runs (as the playground's pause does from another thread), ``stop_training``
    is seen at the next batch: that epoch is dropped, and the network, the optimizer and the
    history are those of a run that ended with the epoch before."""
    X, y = linear_data(200)

    def run(epochs, callbacks=()):
        layers = [cr.Dense(2, 6, "tanh"), cr.Dropout(0.2), cr.Dense(6, 1, "sigmoid")]
        net = cr.Network(layers, seed=0)
        optimizer = cr.Adam(lr=0.01)
        history = net.fit(
            X, y, epochs=epochs, batch_size=8, optimizer=optimizer, seed=3, callbacks=list(callbacks)
        )
        return net, optimizer, history

    def stop_in_epoch_2(epoch):
        if epoch == 2:
            callback.network.stop_training = True

    callback = cr.LambdaCallback(on_epoch_begin=stop_in_epoch_2)
    stopped, stopped_optimizer, history = run(5, [callback])
    reference, reference_optimizer, expected = run(2)
    assert history.epochs == 2 and history.history == expected.history
    assert weights_equal(stopped.get_weights(), reference.get_weights())
    assert stopped_optimizer.iterations == reference_optimizer.iterations == 2 * 25
    for key, value in reference_optimizer.state_arrays().items():
        assert np.array_equal(stopped_optimizer.state_arrays()[key], value), key


@pytest.mark.slow
def test_stop_training_set_during_a_compiled_epoch_drops_that_epoch():
    """The same with Numba's compiled chunk (one call per epoch): seen when the call returns."""
    from chainrule.nn import kernels

    if not kernels.numba_installed():
        pytest.skip("numba absent")
    X, y = linear_data(200)

    def run(epochs, callbacks=()):
        net = cr.Network([2, 6, 1], activation="tanh", output_activation="sigmoid", seed=0)
        optimizer = cr.SGD(lr=0.1, momentum=0.5)
        with cr.use_backend("numba"):
            history = net.fit(
                X, y, epochs=epochs, batch_size=8, optimizer=optimizer, seed=3, callbacks=list(callbacks)
            )
        assert history.backend == "numba"
        return net, optimizer, history

    def stop_in_epoch_2(epoch):
        if epoch == 2:
            callback.network.stop_training = True

    callback = cr.LambdaCallback(on_epoch_begin=stop_in_epoch_2)
    stopped, stopped_optimizer, history = run(5, [callback])
    reference, reference_optimizer, expected = run(2)
    assert history.epochs == 2 and history.history == expected.history
    assert weights_equal(stopped.get_weights(), reference.get_weights())
    assert stopped_optimizer.iterations == reference_optimizer.iterations == 2 * 25
    for key, value in reference_optimizer.state_arrays().items():
        assert np.array_equal(stopped_optimizer.state_arrays()[key], value), key
