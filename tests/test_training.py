"""The training loop against a second, plain-NumPy implementation, and its bookkeeping."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr


def reference_training(X, y, weights, epochs, batch_size, lr, seed):
    """A from-scratch tanh -> sigmoid network with biases on mse, mini-batch SGD."""
    W1, b1, W2, b2 = (np.array(w, dtype=float) for w in weights)
    # the documented scheme: one run seed drawn from `seed`, then one generator per epoch
    run_seed = int(np.random.default_rng(seed).integers(2**63))
    losses = []
    for epoch in range(epochs):
        order = np.random.default_rng([run_seed, 1, epoch]).permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = X[idx], y[idx]
            h = np.tanh(xb @ W1 + b1)
            out = 1 / (1 + np.exp(-(h @ W2 + b2)))
            total += np.mean((out - yb) ** 2) * len(idx)
            d2 = 2 * (out - yb) / out.size * out * (1 - out)
            d1 = (d2 @ W2.T) * (1 - h**2)
            gW2, gb2, gW1, gb1 = h.T @ d2, d2.sum(0), xb.T @ d1, d1.sum(0)
            W2 -= lr * gW2
            b2 -= lr * gb2
            W1 -= lr * gW1
            b1 -= lr * gb1
        losses.append(total / len(X))
    return [W1, b1, W2, b2], losses


@pytest.mark.parametrize("batch_size", [1, 5, 16, 40])
def test_minibatch_sgd_matches_a_plain_numpy_loop(batch_size, rng):
    X, y = rng.normal(size=(40, 3)), rng.uniform(size=(40, 2))
    net = cr.Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=1)
    start = [p for layer in net.get_weights() for p in layer.values()]
    history = net.fit(X, y, loss="mse", optimizer=cr.SGD(lr=0.5), epochs=3, batch_size=batch_size, seed=9)
    expected, losses = reference_training(X, y, start, 3, batch_size, 0.5, seed=9)
    got = [p for layer in net.get_weights() for p in layer.values()]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-12)


def test_full_batch_takes_one_step_per_epoch_in_data_order(rng):
    X, y = rng.normal(size=(10, 3)), rng.uniform(size=(10, 2))
    a = cr.Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=1)
    b = cr.Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=1)
    a.fit(X, y, loss="mse", optimizer=cr.SGD(lr=0.5), epochs=4)
    b.fit(X, y, loss="mse", optimizer=cr.SGD(lr=0.5), epochs=4, batch_size=10, shuffle=False)
    for la, lb in zip(a.get_weights(), b.get_weights(), strict=True):
        for key in la:
            np.testing.assert_array_equal(la[key], lb[key])


def test_same_seed_same_run_and_different_seed_different_run(rng):
    X, y = rng.normal(size=(30, 3)), rng.uniform(size=(30, 1))

    def train(seed):
        net = cr.Network([3, 5, 1], seed=seed)
        net.fit(X, y, loss="mse", optimizer="adam", epochs=3, batch_size=4)
        return net.get_weights()[0]["W"]

    np.testing.assert_array_equal(train(3), train(3))
    assert not np.array_equal(train(3), train(4))


def test_history_has_loss_metrics_validation_and_lr(rng):
    X = rng.normal(size=(50, 2))
    labels = (X[:, 0] > 0).astype(float)
    net = cr.Network([2, 4, 1], seed=0)
    history = net.fit(
        X, labels, loss="binary_crossentropy", optimizer=cr.SGD(lr=0.5), epochs=3, validation_split=0.2
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history.epochs == 3
    # the epoch's loss is the mean of its batch losses (here: the one full batch before the update)
    reg = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    before = reg.evaluate(X, labels, loss="mse")["loss"]
    h = reg.fit(X, labels, loss="mse", optimizer=cr.SGD(lr=0.1), epochs=1)
    assert set(h.history) == {"loss", "mae", "lr"}
    assert h["loss"][0] == pytest.approx(before, rel=1e-12)


def test_validation_split_is_stratified_and_disjoint(rng):
    from chainrule.train.batches import split_indices

    y = np.zeros((100, 1))
    y[:20] = 1.0
    train, val = split_indices(y, 0.25, stratify=True, rng=rng)
    assert len(val) == 25 and len(train) == 75
    assert y[val].sum() == 5  # a quarter of each class
    assert not set(train) & set(val)
    one_hot = cr.one_hot(np.repeat([0, 1, 2], [30, 60, 10]))
    _, val = split_indices(one_hot, 0.1, stratify=True, rng=rng)
    assert list(one_hot[val].sum(axis=0)) == [3, 6, 1]


def test_early_stopping_restores_the_best_weights(rng):
    X, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 1))
    X_val, y_val = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))
    net = cr.Network([2, 8, 1], activation="tanh", output_activation="identity", seed=0)
    snapshots = {}
    record = cr.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.__setitem__(e, net.get_weights()))
    stopper = cr.EarlyStopping(patience=3, restore_best_weights=True)
    history = net.fit(
        X,
        y,
        loss="mse",
        optimizer=cr.SGD(lr=0.3),
        epochs=200,
        validation_data=(X_val, y_val),
        callbacks=[record, stopper],
    )
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == best
    assert history.epochs == stopper.stopped_epoch + 1 < 200
    for layer, saved in zip(net.get_weights(), snapshots[best], strict=True):
        for key in layer:
            np.testing.assert_array_equal(layer[key], saved[key])
    assert net.evaluate(X_val, y_val)["loss"] == pytest.approx(min(history["val_loss"]))


def test_early_stopping_restores_even_when_all_epochs_run(rng):
    X, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    net = cr.Network([2, 4, 1], activation="tanh", output_activation="identity", seed=0)
    # lr so large that the loss rises after a while, but patience longer than the run
    stopper = cr.EarlyStopping(patience=1000, restore_best_weights=True, monitor="loss")
    history = net.fit(
        X, y, loss="mse", optimizer=cr.SGD(lr=0.9, momentum=0.9), epochs=30, callbacks=[stopper]
    )
    assert stopper.stopped_epoch is None
    best = int(np.argmin(history["loss"]))
    assert best < 29  # the run got worse, so restoring matters
    # the loss logged for epoch e was measured on the weights at the start of epoch e, i.e.
    # the weights after epoch e - 1; EarlyStopping keeps those of the epoch it judged best
    assert stopper.best_epoch == best


def test_model_checkpoint_saves_the_best_model(tmp_path, rng):
    X, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    net = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    path = tmp_path / "best.npz"
    net.fit(
        X,
        y,
        loss="mse",
        optimizer=cr.SGD(lr=0.1),
        epochs=5,
        callbacks=[cr.ModelCheckpoint(path, save_best_only=True)],
    )
    loaded = cr.load(path)
    assert loaded.metadata["epoch"] == 4  # the loss fell every epoch
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    net.fit(X, y, loss="mse", epochs=3, callbacks=[cr.ModelCheckpoint(tmp_path / "e{epoch}.npz")])
    assert sorted(p.name for p in tmp_path.glob("e*.npz")) == ["e0.npz", "e1.npz", "e2.npz"]


def test_callbacks_can_stop_training_and_plain_functions_are_called(rng):
    seen = []
    net = cr.Network([2, 1], seed=0)

    def stop_after_two(epoch, logs):
        seen.append((epoch, round(logs["loss"], 12)))
        if epoch == 1:
            net.stop_training = True

    history = net.fit(
        rng.normal(size=(5, 2)), rng.uniform(size=(5, 1)), epochs=10, callbacks=[stop_after_two]
    )
    assert history.epochs == 2 and [e for e, _ in seen] == [0, 1]


def test_float32_end_to_end(rng):
    X, y = rng.normal(size=(32, 4)), rng.uniform(size=(32, 2))
    net = cr.Network([4, 8, 2], activation="relu", output_activation="sigmoid", seed=0, dtype="float32")
    for optimizer in (cr.SGD(0.1, momentum=0.9), cr.Adam(), cr.RMSprop()):
        net.fit(X, y, loss="binary_crossentropy", optimizer=optimizer, epochs=2, batch_size=8)
        assert all(v.dtype == np.float32 for layer in net.get_weights() for v in layer.values())
        assert all(g.dtype == np.float32 for layer in net.layers for g in layer.grads.values())
    assert net.predict(X).dtype == np.float32
    assert net.predict(X.astype(np.float32)).dtype == np.float32


def test_float32_training_tracks_float64(rng):
    X, y = rng.normal(size=(64, 4)), rng.uniform(size=(64, 1))
    nets = [cr.Network([4, 8, 1], activation="tanh", seed=0, dtype=d) for d in ("float64", "float32")]
    for net in nets:
        net.fit(X, y, loss="mse", optimizer=cr.SGD(0.5), epochs=20, batch_size=16, seed=1)
    np.testing.assert_allclose(nets[1].predict(X), nets[0].predict(X), rtol=1e-4, atol=1e-5)


def test_verbose_prints_progress_lines_without_tqdm(rng, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    net = cr.Network([2, 1], seed=0)
    net.fit(rng.normal(size=(5, 2)), rng.uniform(size=(5, 1)), epochs=40, verbose=1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 20 and lines[-1].startswith("epoch 40/40") and "loss" in lines[-1]
    net.fit(rng.normal(size=(5, 2)), rng.uniform(size=(5, 1)), epochs=3, verbose=2)
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_verbose_1_shows_a_tqdm_bar_when_tqdm_is_installed(rng, capsys):
    pytest.importorskip("tqdm")
    net = cr.Network([2, 1], seed=0)
    net.fit(rng.normal(size=(5, 2)), rng.uniform(size=(5, 1)), epochs=40, verbose=1)
    err = capsys.readouterr().err
    assert "40/40" in err and "epoch" in err and "loss=" in err
    net.fit(rng.normal(size=(5, 2)), rng.uniform(size=(5, 1)), epochs=3)
    assert capsys.readouterr().err == ""  # quiet by default


@pytest.mark.parametrize("loss", ["mse", "sse", "binary_crossentropy"])
def test_integer_sample_weights_act_as_repeated_samples(loss, rng):
    X = rng.normal(size=(6, 3))
    y = rng.integers(0, 2, (6, 1)).astype(float)
    y[0] = 1 - y[1]  # both classes present
    counts = np.array([1, 2, 1, 3, 1, 2])
    weighted = cr.Network([3, 4, 1], activation="tanh", seed=0)
    repeated = cr.Network([3, 4, 1], activation="tanh", seed=0)
    for optimizer in (cr.SGD(0.1), cr.SGD(0.1, momentum=0.5)):
        h1 = weighted.fit(X, y, loss=loss, optimizer=optimizer, epochs=3, sample_weight=counts)
        h2 = repeated.fit(
            np.repeat(X, counts, axis=0),
            np.repeat(y, counts, axis=0),
            loss=loss,
            optimizer=type(optimizer)(0.1, momentum=optimizer.momentum),
            epochs=3,
        )
        np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-12)
    for a, b in zip(weighted.get_weights(), repeated.get_weights(), strict=True):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-11, atol=1e-14)


def test_sample_weights_in_mini_batches_weight_each_batch_mean(rng):
    X, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    w = rng.uniform(0.5, 2.0, 8)
    net = cr.Network([2, 1], activation="identity", seed=0)
    W0 = net.get_weights()
    net.fit(X, y, loss="mse", optimizer=cr.SGD(0.1), epochs=1, batch_size=4, shuffle=False, sample_weight=w)
    W, b = W0[0]["W"].copy(), W0[0]["b"].copy()
    for s in (0, 4):  # by hand: weighted mean squared error per batch
        xb, yb, wb = X[s : s + 4], y[s : s + 4], w[s : s + 4]
        r = xb @ W + b - yb
        g = 2 * r * (wb / wb.sum())[:, None]
        W, b = W - 0.1 * xb.T @ g, b - 0.1 * g.sum(axis=0)
    np.testing.assert_allclose(net.get_weights()[0]["W"], W, rtol=1e-12)
    np.testing.assert_allclose(net.get_weights()[0]["b"], b, rtol=1e-12)


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: cr.SGD(lr=0.1),
        lambda: cr.SGD(lr=0.1, momentum=0.9),
        lambda: cr.SGD(lr=0.1, momentum=0.9, nesterov=True),
        lambda: cr.SGD(lr=0.1, weight_decay=0.01),
        lambda: cr.Adam(lr=0.01),
        lambda: cr.RMSprop(lr=0.01),
    ],
    ids=["sgd", "momentum", "nesterov", "sgd-decay", "adam", "rmsprop"],
)
def test_a_learning_rate_set_to_zero_at_epoch_begin_freezes_that_epoch(optimizer, rng):
    """The optimizer reads lr when it steps: a callback's change takes effect at once, for all."""
    X, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    net = cr.Network([3, 5, 1], activation="tanh", output_activation="identity", seed=0)
    opt = optimizer()
    snapshots = {}

    def freeze_epoch_2(epoch):
        opt.lr = 0.0 if epoch == 2 else (0.1 if opt.name == "sgd" else 0.01)
        snapshots[("begin", epoch)] = net.get_weights()

    def record(epoch, logs):
        snapshots[("end", epoch)] = net.get_weights()

    hooks = cr.LambdaCallback(on_epoch_begin=freeze_epoch_2, on_epoch_end=record)
    history = net.fit(X, y, loss="mse", optimizer=opt, epochs=4, batch_size=8, callbacks=[hooks])
    assert history["lr"][2] == 0.0
    for key in snapshots[("begin", 2)][0]:
        for layer in range(2):
            np.testing.assert_array_equal(
                snapshots[("end", 2)][layer][key], snapshots[("begin", 2)][layer][key]
            )
    assert not np.array_equal(snapshots[("end", 3)][0]["W"], snapshots[("begin", 3)][0]["W"])
