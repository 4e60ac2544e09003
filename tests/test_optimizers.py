"""Each optimizer's update against the formula computed by hand, step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.names import normalized
from chainrule.train.optimizers import Slot


def run(optimizer, grads, p0, decay=False):
    """Apply ``optimizer`` to one parameter for the given sequence of gradients."""
    param = np.array(p0, dtype=float)
    grad = np.zeros_like(param)
    slot = Slot("0.W", param, grad, decay=decay)
    for g in grads:
        grad[...] = g
        optimizer.step([slot])
    return param


P0 = [0.5, -1.0, 2.0]
GRADS = [[0.1, -0.2, 0.3], [0.4, 0.0, -0.5], [-0.3, 0.2, 0.1]]


def test_sgd():
    p = np.array(P0)
    for g in GRADS:
        p = p - 0.1 * np.array(g)
    np.testing.assert_allclose(run(cr.SGD(lr=0.1), GRADS, P0), p, rtol=1e-15)


def test_sgd_momentum_and_nesterov():
    mu, lr = 0.9, 0.1
    for nesterov in (False, True):
        p, v = np.array(P0), np.zeros(3)
        for g in map(np.array, GRADS):
            v = mu * v + g
            p = p - lr * (g + mu * v if nesterov else v)
        got = run(cr.SGD(lr=lr, momentum=mu, nesterov=nesterov), GRADS, P0)
        np.testing.assert_allclose(got, p, rtol=1e-14)


def test_adam():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p, m, v = np.array(P0), np.zeros(3), np.zeros(3)
    for t, g in enumerate(map(np.array, GRADS), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(run(cr.Adam(lr=lr), GRADS, P0), p, rtol=1e-12)


def test_rmsprop():
    lr, rho, eps = 0.01, 0.9, 1e-8
    p, v = np.array(P0), np.zeros(3)
    for g in map(np.array, GRADS):
        v = rho * v + (1 - rho) * g * g
        p = p - lr * g / (np.sqrt(v) + eps)
    np.testing.assert_allclose(run(cr.RMSprop(lr=lr), GRADS, P0), p, rtol=1e-13)


def test_weight_decay_adds_l2_gradient_to_weights_only():
    wd, lr = 0.1, 0.5
    p = np.array(P0)
    for g in map(np.array, GRADS):
        p = p - lr * (g + wd * p)
    np.testing.assert_allclose(run(cr.SGD(lr=lr, weight_decay=wd), GRADS, P0, decay=True), p, rtol=1e-14)
    # a bias slot (decay=False) is not decayed
    plain = run(cr.SGD(lr=lr), GRADS, P0)
    np.testing.assert_array_equal(run(cr.SGD(lr=lr, weight_decay=wd), GRADS, P0, decay=False), plain)


def test_gradients_are_left_untouched_by_the_step():
    grad = np.array([0.1, 0.2])
    slot = Slot("0.W", np.array([1.0, 1.0]), grad, decay=True)
    cr.Adam(lr=0.1, weight_decay=0.1).step([slot])
    np.testing.assert_array_equal(grad, [0.1, 0.2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [lambda: cr.SGD(0.1, momentum=0.9), lambda: cr.Adam(), lambda: cr.RMSprop()])
def test_updates_keep_the_parameter_dtype(dtype, make):
    param = np.ones(3, dtype=dtype)
    slot = Slot("0.W", param, np.full(3, 0.5, dtype=dtype), decay=True)
    make().step([slot])
    assert param.dtype == dtype


def test_schedules():
    assert [cr.StepDecay(1.0, 0.5, every=2)(e) for e in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert cr.ExponentialDecay(2.0, 0.9)(3) == pytest.approx(2.0 * 0.9**3)
    assert cr.InverseTimeDecay(1.0, 0.5)(4) == pytest.approx(1.0 / 3.0)
    cosine = cr.CosineDecay(1.0, epochs=10, min_lr=0.1)
    assert cosine(0) == 1.0 and cosine(10) == pytest.approx(0.1) and cosine(20) == pytest.approx(0.1)
    assert cosine(5) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi / 2)))


def test_schedule_sets_the_learning_rate_each_epoch(rng):
    net = cr.Network([2, 1], activation="identity", seed=0)
    history = net.fit(
        rng.normal(size=(8, 2)),
        rng.normal(size=(8, 1)),
        loss="mse",
        optimizer=cr.SGD(lr=cr.StepDecay(0.1, 0.5, every=2)),
        epochs=5,
    )
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_reduce_lr_on_plateau_lowers_the_rate_when_the_loss_stalls(rng):
    net = cr.Network([2, 1], activation="identity", seed=0)
    X, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    plateau = cr.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=10.0)  # never "improves" by 10
    history = net.fit(X, y, loss="mse", optimizer=cr.SGD(lr=0.1), epochs=6, callbacks=[plateau])
    # epoch 0 sets the first best; epochs 1, 2 wait -> halve after epoch 2; 3, 4 -> halve after 4
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_optimizer_names_and_errors():
    assert isinstance(cr.get_optimizer("adam"), cr.Adam)
    momentum = cr.get_optimizer("momentum", lr=0.2)
    assert momentum.momentum == 0.9 and momentum.lr == 0.2
    with pytest.raises(ValueError, match="unknown optimizer"):
        cr.get_optimizer("adamw")
    with pytest.raises(ValueError, match="nesterov"):
        cr.SGD(nesterov=True)


@pytest.mark.parametrize("name", ["Adam", "ADAM", "sgd", "SGD", "RMSprop", "rms_prop", "Momentum"])
def test_optimizer_names_in_any_case(name):
    opt = cr.get_optimizer(name, 0.05)
    assert opt.lr == 0.05
    assert opt.name == normalized(name).replace("momentum", "sgd").replace("rmsprop", "rmsprop")


@pytest.mark.parametrize("cls", [cr.SGD, cr.Adam, cr.RMSprop])
def test_the_keras_learning_rate_keyword(cls):
    assert cls(learning_rate=0.123).lr == 0.123
