"""`chainrule.io.checkpoints`: ModelCheckpoint (every n epochs, best only in either direction)
and the save_checkpoint / restore_checkpoint round trip."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.io.checkpoints import ModelCheckpoint, restore_checkpoint, save_checkpoint
from chainrule.train.history import History, TrainingRun
from tests.training_scenarios import linear_data, rise_then_fall, same_weights


class Capture(cr.Callback):
    """Keeps what fit hands to callbacks, and every epoch's weights."""

    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, epoch, logs):
        self.weights[epoch] = self.network.get_weights()


@pytest.mark.parametrize(("mode", "pick"), [("auto", np.argmax), ("max", np.argmax), ("min", np.argmin)])
def test_save_best_only_keeps_the_best_epoch_in_the_modes_direction(mode, pick, tmp_path):
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    path = tmp_path / "best.npz"
    capture = Capture()
    history = net.fit(
        rise_then_fall(),
        None,
        loss="binary_crossentropy",
        optimizer=cr.SGD(lr=2.0),
        epochs=14,
        validation_data=linear_data(100, seed=1),
        callbacks=[capture, ModelCheckpoint(path, save_best_only=True, monitor="val_accuracy", mode=mode)],
    )
    accuracy = history["val_accuracy"]
    assert np.any(np.diff(accuracy) > 0) and np.any(np.diff(accuracy) < 0)
    best = int(pick(accuracy))
    assert best < 13
    saved = cr.load(path)
    assert saved.metadata["epoch"] == best
    assert saved.metadata["logs"]["val_accuracy"] == accuracy[best]
    assert same_weights(saved.get_weights(), capture.weights[best])
    assert not same_weights(saved.get_weights(), net.get_weights())


def test_every_saves_each_nth_epoch_to_its_own_file(tmp_path):
    X, y = linear_data(20, seed=0)
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    capture = Capture()
    net.fit(X, y, epochs=5, callbacks=[capture, ModelCheckpoint(tmp_path / "e{epoch}.npz", every=2)])
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["e1.npz", "e3.npz"]
    for epoch in (1, 3):
        assert same_weights(cr.load(tmp_path / f"e{epoch}.npz").get_weights(), capture.weights[epoch])


def test_save_best_only_defaults_to_val_loss_when_there_is_validation(tmp_path):
    X, y = linear_data(40, seed=0)
    net = cr.Network([2, 1], activation="sigmoid", seed=0)
    path = tmp_path / "best.npz"
    history = net.fit(
        X,
        y,
        optimizer=cr.SGD(lr=0.5),
        epochs=6,
        validation_data=linear_data(20, seed=3),
        callbacks=[ModelCheckpoint(path, save_best_only=True)],
    )
    assert cr.load(path).metadata["epoch"] == int(np.argmin(history["val_loss"]))


# ------------------------------------------------------------- save / restore round trip
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make_optimizer", [lambda: cr.Adam(lr=0.01), lambda: cr.SGD(lr=0.1, momentum=0.9)])
def test_save_and_restore_checkpoint_round_trip(make_optimizer, dtype, tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    net = cr.Network([3, 5, 2], activation="tanh", output_activation="identity", seed=1, dtype=dtype)
    optimizer = make_optimizer()
    history = net.fit(X, y, loss="mse", optimizer=optimizer, epochs=3, batch_size=8)
    run = TrainingRun(987654321, history)
    path = tmp_path / "c.npz"
    save_checkpoint(path, net, optimizer, run)

    fresh = cr.Network([3, 5, 2], activation="tanh", output_activation="identity", seed=2, dtype=dtype)
    assert not same_weights(fresh.get_weights(), net.get_weights())
    fresh_optimizer = make_optimizer()
    restored = restore_checkpoint(path, fresh, fresh_optimizer)

    assert same_weights(fresh.get_weights(), net.get_weights())
    assert all(p.dtype == np.dtype(dtype) for layer in fresh.get_weights() for p in layer.values())
    state, fresh_state = optimizer.state_arrays(), fresh_optimizer.state_arrays()
    assert state and sorted(state) == sorted(fresh_state)
    for key in state:
        np.testing.assert_array_equal(fresh_state[key], state[key])
    assert fresh_optimizer.iterations == optimizer.iterations == 12  # 4 batches x 3 epochs
    assert fresh_optimizer.lr == optimizer.lr
    assert restored.run_seed == 987654321
    assert restored.history.history == history.history
    assert restored.epochs_done == 3


def test_a_checkpoint_loads_as_a_plain_model(tmp_path):
    net = cr.Network([2, 3, 1], seed=0)
    save_checkpoint(tmp_path / "c.npz", net, cr.Adam(), TrainingRun(1, History()))
    assert same_weights(cr.load(tmp_path / "c.npz").get_weights(), net.get_weights())


def test_restore_refuses_mismatches(tmp_path):
    net = cr.Network([2, 3, 1], seed=0)
    save_checkpoint(tmp_path / "c.npz", net, cr.Adam(), TrainingRun(1, History()))
    cr.save(net, tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="without training state"):
        restore_checkpoint(tmp_path / "plain.npz", cr.Network([2, 3, 1], seed=0), cr.Adam())
    with pytest.raises(ModelFileError, match="different network"):
        restore_checkpoint(tmp_path / "c.npz", cr.Network([2, 4, 1], seed=0), cr.Adam())
    with pytest.raises(ModelFileError, match="float64"):
        restore_checkpoint(tmp_path / "c.npz", cr.Network([2, 3, 1], seed=0, dtype="float32"), cr.Adam())
    with pytest.raises(ModelFileError, match="same optimizer"):
        restore_checkpoint(tmp_path / "c.npz", cr.Network([2, 3, 1], seed=0), cr.SGD())
