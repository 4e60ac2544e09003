"""`chainrule.train.schedules`: each formula against hand-written expressions, and schedules
applied by `fit`."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import chainrule as cr

EPOCHS = [0, 1, 3, 10, 11, 100]


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize(("lr", "factor", "every"), [(0.1, 0.5, 10), (1.0, 0.1, 1), (0.3, 0.9, 3)])
def test_step_decay(lr, factor, every, epoch):
    drops = math.floor(epoch / every)
    assert cr.StepDecay(lr, factor, every)(epoch) == pytest.approx(lr * factor**drops, rel=1e-15)


def test_step_decay_is_flat_between_drops():
    schedule = cr.StepDecay(0.8, 0.5, every=3)
    assert [schedule(e) for e in range(8)] == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2]


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize(("lr", "rate"), [(0.1, 0.96), (2.0, 0.5), (0.01, 1.0)])
def test_exponential_decay(lr, rate, epoch):
    assert cr.ExponentialDecay(lr, rate)(epoch) == pytest.approx(
        lr * math.exp(epoch * math.log(rate)), rel=1e-13
    )


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize(("lr", "decay"), [(0.1, 0.01), (1.0, 0.5), (0.5, 0.0)])
def test_inverse_time_decay(lr, decay, epoch):
    assert cr.InverseTimeDecay(lr, decay)(epoch) == pytest.approx(lr / (1.0 + decay * epoch), rel=1e-15)


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize(("lr", "epochs", "min_lr"), [(0.1, 10, 0.0), (1.0, 25, 0.1), (0.5, 4, 0.05)])
def test_cosine_decay(lr, epochs, min_lr, epoch):
    t = min(epoch, epochs) / epochs
    expected = min_lr + (lr - min_lr) * (1.0 + math.cos(math.pi * t)) / 2.0
    assert cr.CosineDecay(lr, epochs, min_lr)(epoch) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_cosine_decay_landmarks():
    schedule = cr.CosineDecay(1.0, epochs=10, min_lr=0.2)
    assert schedule(0) == 1.0
    assert schedule(5) == pytest.approx(0.6)  # halfway: the mean of both ends
    assert schedule(10) == pytest.approx(0.2)
    assert schedule(50) == pytest.approx(0.2)  # stays at min_lr after the last epoch
    values = [schedule(e) for e in range(11)]
    assert all(a > b for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("every", [0, -1])
def test_step_decay_needs_every_at_least_one(every):
    with pytest.raises(ValueError, match="every"):
        cr.StepDecay(0.1, 0.5, every=every)


def test_cosine_decay_needs_at_least_one_epoch():
    with pytest.raises(ValueError, match="epochs"):
        cr.CosineDecay(0.1, epochs=0)


@pytest.mark.parametrize(
    "schedule",
    [
        cr.StepDecay(0.4, 0.5, every=2),
        cr.ExponentialDecay(0.4, 0.8),
        cr.InverseTimeDecay(0.4, 0.3),
        cr.CosineDecay(0.4, epochs=4, min_lr=0.05),
    ],
    ids=["step", "exponential", "inverse_time", "cosine"],
)
@pytest.mark.parametrize("make", [cr.SGD, cr.Adam, cr.RMSprop], ids=["sgd", "adam", "rmsprop"])
def test_fit_applies_the_schedule_each_epoch_and_logs_it(schedule, make):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    net = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    optimizer = make(lr=schedule)
    history = net.fit(X, y, loss="mse", optimizer=optimizer, epochs=6, batch_size=4)
    assert history["lr"] == [schedule(e) for e in range(6)]
    assert optimizer.lr == schedule(5)


def test_a_schedule_changes_the_steps_as_fixed_rates_would(rng):
    """Full-batch SGD with a schedule equals epoch-by-epoch fits with the scheduled fixed rates."""
    X, y = rng.normal(size=(12, 2)), rng.normal(size=(12, 1))
    schedule = cr.StepDecay(0.5, 0.1, every=2)
    scheduled = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    stepwise = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    scheduled.fit(X, y, loss="mse", optimizer=cr.SGD(lr=schedule), epochs=5)
    for epoch in range(5):
        stepwise.fit(X, y, loss="mse", optimizer=cr.SGD(lr=schedule(epoch)), epochs=1)
    for a, b in zip(scheduled.get_weights(), stepwise.get_weights(), strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    constant = cr.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    constant.fit(X, y, loss="mse", optimizer=cr.SGD(lr=0.5), epochs=5)
    assert not np.array_equal(constant.get_weights()[0]["W"], scheduled.get_weights()[0]["W"])


def test_lr_by_name_accepts_a_schedule():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    net = cr.Network([2, 1], activation="identity", seed=0)
    history = net.fit(X, y, loss="mse", optimizer="sgd", lr=cr.ExponentialDecay(0.1, 0.5), epochs=3)
    assert history["lr"] == [0.1, 0.05, 0.025]
