"""Guarantee 3: Ctrl-C keeps the last completed epoch; checkpoints resume runs bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_keyboard_interrupt_keeps_the_last_completed_epoch(rng):
    X, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    net = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    after = {}

    class Interrupt(cr.Callback):
        def on_epoch_end(self, epoch, logs):
            after[epoch] = self.network.get_weights()

        def on_epoch_begin(self, epoch):
            if epoch == 3:
                # change the weights mid-epoch, then interrupt, as Ctrl-C between steps would
                self.network.layers[0].params["W"] += 1.0
                raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted in epoch 3"):
        history = net.fit(X, y, loss="mse", optimizer=cr.SGD(0.1), epochs=10, callbacks=[Interrupt()])
    assert history.interrupted and history.epochs == 3
    np.testing.assert_array_equal(net.get_weights()[0]["W"], after[2][0]["W"])


class InterruptAt(cr.Callback):
    """Raise KeyboardInterrupt at the start of one epoch, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def make_network(seed=0):
    return cr.Network(
        [cr.Dense(4, 16, "relu"), cr.Dropout(0.25), cr.Dense(16, 8, "tanh"), cr.Dense(8, 3, "softmax")],
        seed=seed,
    )


SETTINGS = {
    "full-batch sgd": dict(optimizer=lambda: cr.SGD(lr=0.5)),
    "mini-batch momentum": dict(optimizer=lambda: cr.SGD(lr=0.1, momentum=0.9, nesterov=True), batch_size=16),
    "adam with validation split": dict(
        optimizer=lambda: cr.Adam(lr=0.01, weight_decay=1e-3), batch_size=10, validation_split=0.2
    ),
    "rmsprop with a schedule": dict(
        optimizer=lambda: cr.RMSprop(lr=cr.StepDecay(0.01, 0.5, every=3)), batch_size=32
    ),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_interrupted_and_resumed_run_is_bit_identical(name, tmp_path, rng):
    X = rng.normal(size=(120, 4))
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    y = cr.one_hot(labels, 3)
    settings = dict(SETTINGS[name])
    make_optimizer = settings.pop("optimizer")
    epochs = 9

    straight = make_network()
    expected = straight.fit(X, y, optimizer=make_optimizer(), epochs=epochs, **settings)

    checkpoint = tmp_path / "run.npz"
    interrupted = make_network()
    with pytest.warns(RuntimeWarning, match="interrupted in epoch 6"):
        partial = interrupted.fit(
            X,
            y,
            optimizer=make_optimizer(),
            epochs=epochs,
            **settings,
            callbacks=[cr.ModelCheckpoint(checkpoint), InterruptAt(6)],
        )
    assert partial.interrupted and partial.epochs == 6

    resumed = make_network(seed=123)  # a fresh process would start from other weights
    history = resumed.fit(X, y, optimizer=make_optimizer(), epochs=epochs, **settings, resume_from=checkpoint)

    for got, want in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    assert history.history == expected.history


def test_checkpoints_every_n_epochs_and_the_best(tmp_path, rng):
    X, y = rng.normal(size=(40, 4)), cr.one_hot(rng.integers(0, 3, 40), 3)
    net = make_network()
    net.fit(
        X,
        y,
        optimizer=cr.SGD(lr=0.1),
        epochs=6,
        validation_split=0.25,
        callbacks=[
            cr.ModelCheckpoint(tmp_path / "every2-{epoch}.npz", every=2),
            cr.ModelCheckpoint(tmp_path / "best.npz", save_best_only=True),
        ],
    )
    assert sorted(p.name for p in tmp_path.glob("every2-*")) == [
        "every2-1.npz",
        "every2-3.npz",
        "every2-5.npz",
    ]
    best = cr.load(tmp_path / "best.npz")
    history = best.metadata["logs"]
    assert best.metadata["epoch"] in range(6) and "val_loss" in history


def test_resuming_needs_a_checkpoint_of_the_same_network_and_optimizer(tmp_path, rng):
    X, y = rng.normal(size=(20, 4)), cr.one_hot(rng.integers(0, 3, 20), 3)
    net = make_network()
    cr.save(net, tmp_path / "plain.npz")
    with pytest.raises(cr.ModelFileError, match="without training state"):
        make_network().fit(X, y, epochs=2, resume_from=tmp_path / "plain.npz")
    net.fit(X, y, optimizer="adam", epochs=1, callbacks=[cr.ModelCheckpoint(tmp_path / "c.npz")])
    with pytest.raises(cr.ModelFileError, match="same optimizer"):
        make_network().fit(X, y, optimizer="sgd", epochs=2, resume_from=tmp_path / "c.npz")
    other = cr.Network([4, 5, 3], activation="softmax", seed=0)
    with pytest.raises(cr.ModelFileError, match="different network"):
        other.fit(X, y, optimizer="adam", epochs=2, resume_from=tmp_path / "c.npz")


def test_a_checkpoint_is_also_a_plain_model(tmp_path, rng):
    X, y = rng.normal(size=(20, 4)), cr.one_hot(rng.integers(0, 3, 20), 3)
    net = make_network()
    net.fit(X, y, optimizer="adam", epochs=2, callbacks=[cr.ModelCheckpoint(tmp_path / "c.npz")])
    np.testing.assert_array_equal(cr.load(tmp_path / "c.npz").predict(X), net.predict(X))
