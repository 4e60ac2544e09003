"""Guarantee 1 (settings): every setting is checked before it is used, scikit-learn style.

A rate, count, width, probability or flag of the wrong kind or out of range raises a
`ValueError` (a `TypeError` for the wrong kind of value) that names the parameter, before any
weight changes. (The scikit-learn estimators' own ``_parameter_constraints`` are tested in
``tests/test_sklearn_checks.py``.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr

NAN, INF = math.nan, math.inf

# (what, a call that must fail, the parameter's name the message must contain)
CONSTRUCTOR_CASES = [
    ("SGD lr NaN", lambda: cr.SGD(lr=NAN), "lr"),
    ("SGD lr inf", lambda: cr.SGD(lr=INF), "lr"),
    ("SGD lr negative", lambda: cr.SGD(lr=-0.1), "lr"),
    ("SGD lr text", lambda: cr.SGD(lr="0.1"), "lr"),
    ("SGD lr bool", lambda: cr.SGD(lr=True), "lr"),
    ("momentum NaN", lambda: cr.SGD(momentum=NAN), "momentum"),
    ("momentum 1", lambda: cr.SGD(momentum=1.0), "momentum"),
    ("nesterov text", lambda: cr.SGD(momentum=0.9, nesterov="yes"), "nesterov"),
    ("weight_decay inf", lambda: cr.SGD(weight_decay=INF), "weight_decay"),
    ("weight_decay negative", lambda: cr.Adam(weight_decay=-1e-3), "weight_decay"),
    ("Adam beta1 1", lambda: cr.Adam(beta1=1.0), "beta1"),
    ("Adam beta2 negative", lambda: cr.Adam(beta2=-0.1), "beta2"),
    ("Adam eps 0", lambda: cr.Adam(eps=0.0), "eps"),
    ("Adam eps NaN", lambda: cr.Adam(eps=NAN), "eps"),
    ("RMSprop rho NaN", lambda: cr.RMSprop(rho=NAN), "rho"),
    ("RMSprop eps negative", lambda: cr.RMSprop(eps=-1e-8), "eps"),
    ("optimizer by name, lr NaN", lambda: cr.get_optimizer("adam", NAN), "lr"),
    ("a schedule starting at NaN", lambda: cr.SGD(lr=lambda epoch: NAN), "schedule"),
    ("StepDecay lr NaN", lambda: cr.StepDecay(NAN), "lr"),
    ("StepDecay factor 0", lambda: cr.StepDecay(0.1, factor=0.0), "factor"),
    ("StepDecay every 0", lambda: cr.StepDecay(0.1, every=0), "every"),
    ("StepDecay every 2.5", lambda: cr.StepDecay(0.1, every=2.5), "every"),
    ("ExponentialDecay rate inf", lambda: cr.ExponentialDecay(0.1, rate=INF), "rate"),
    ("InverseTimeDecay decay negative", lambda: cr.InverseTimeDecay(0.1, decay=-1.0), "decay"),
    ("CosineDecay min_lr above lr", lambda: cr.CosineDecay(0.1, epochs=10, min_lr=0.5), "min_lr"),
    ("CosineDecay epochs 0", lambda: cr.CosineDecay(0.1, epochs=0), "epochs"),
    ("width True", lambda: cr.Network([10, True, 1]), "layers[1]"),
    ("width 2.5", lambda: cr.Network([10, 2.5, 1]), "layers[1]"),
    ("width 0", lambda: cr.Network([10, 0, 1]), "layers[1]"),
    ("width text", lambda: cr.Network([10, "4", 1]), "layers[1]"),
    ("Dense n_out bool", lambda: cr.Dense(3, True), "n_out"),
    ("Dense n_in float", lambda: cr.Dense(3.5, 2), "n_in"),
    ("Dense bias text", lambda: cr.Dense(3, 2, bias="no"), "bias"),
    ("Dense weights NaN", lambda: cr.Dense(2, 1, weights=[[NAN], [1.0]]), "weights"),
    ("Dense weights text", lambda: cr.Dense(2, 1, weights=[["a"], ["b"]]), "weights"),
    ("Dropout rate NaN", lambda: cr.Dropout(NAN), "dropout rate"),
    ("Dropout rate 1", lambda: cr.Dropout(1.0), "dropout rate"),
    (
        "init, wrong shape",
        lambda: cr.Network([3, 2], init=lambda shape, rng: np.zeros((2, 3))),
        "initializer",
    ),
    ("init, NaN", lambda: cr.Network([3, 2], init=lambda shape, rng: np.full(shape, NAN)), "initializer"),
    ("init, text", lambda: cr.Network([3, 2], init=lambda shape, rng: np.full(shape, "x")), "initializer"),
    ("EarlyStopping patience -1", lambda: cr.EarlyStopping(patience=-1), "patience"),
    ("EarlyStopping patience 2.5", lambda: cr.EarlyStopping(patience=2.5), "patience"),
    ("EarlyStopping min_delta NaN", lambda: cr.EarlyStopping(min_delta=NAN), "min_delta"),
    (
        "EarlyStopping min_delta NaN",
        lambda: cr.EarlyStopping(min_delta=float("nan")),
        "min_delta",
    ),  # its sign is ignored (Keras)
    (
        "EarlyStopping restore text",
        lambda: cr.EarlyStopping(restore_best_weights="yes"),
        "restore_best_weights",
    ),
    ("EarlyStopping monitor number", lambda: cr.EarlyStopping(monitor=3), "monitor"),
    ("EarlyStopping mode", lambda: cr.EarlyStopping(mode="up"), "mode"),
    ("ReduceLROnPlateau factor 1", lambda: cr.ReduceLROnPlateau(factor=1.0), "factor"),
    ("ReduceLROnPlateau factor NaN", lambda: cr.ReduceLROnPlateau(factor=NAN), "factor"),
    ("ReduceLROnPlateau min_lr inf", lambda: cr.ReduceLROnPlateau(min_lr=INF), "min_lr"),
    ("ReduceLROnPlateau patience None", lambda: cr.ReduceLROnPlateau(patience=None), "patience"),
    ("ModelCheckpoint every 0", lambda: cr.ModelCheckpoint("m.npz", every=0), "every"),
    ("ModelCheckpoint path None", lambda: cr.ModelCheckpoint(None), "path"),
    (
        "ModelCheckpoint save_best_only text",
        lambda: cr.ModelCheckpoint("m.npz", save_best_only="y"),
        "save_best_only",
    ),
    ("ProgressLogger every 0", lambda: cr.ProgressLogger(10, every=0), "every"),
    ("LambdaCallback hook not callable", lambda: cr.LambdaCallback(on_epoch_end=3), "on_epoch_end"),
]


@pytest.mark.parametrize(
    ("make", "name"), [c[1:] for c in CONSTRUCTOR_CASES], ids=[c[0] for c in CONSTRUCTOR_CASES]
)
def test_constructors_refuse_bad_settings(make, name):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert name in str(info.value)


def test_valid_settings_are_accepted():
    """The checks must not refuse the edges of the valid ranges."""
    cr.SGD(lr=0.0, momentum=0.0)
    cr.SGD(lr=np.float32(0.1), momentum=np.float64(0.99), nesterov=np.bool_(True))
    cr.Adam(lr=np.array(1e-3), beta1=0.0, beta2=0.0)
    cr.Network([np.int64(3), 2, 1])
    cr.Dropout(0.0)
    cr.EarlyStopping(patience=0)
    cr.CosineDecay(0.1, epochs=1, min_lr=0.1)


X, Y = np.random.default_rng(0).normal(size=(12, 3)), np.random.default_rng(1).normal(size=(12, 1))

# (what, fit's keyword arguments, the parameter's name the message must contain)
FIT_CASES = [
    ("epochs -1", dict(epochs=-1), "epochs"),
    ("epochs 2.5", dict(epochs=2.5), "epochs"),
    ("epochs True", dict(epochs=True), "epochs"),
    ("batch_size 0", dict(batch_size=0), "batch_size"),
    ("batch_size 4.0", dict(batch_size=4.0), "batch_size"),
    ("batch_size True", dict(batch_size=True), "batch_size"),
    ("shuffle text", dict(shuffle="no"), "shuffle"),
    ("verbose -1", dict(verbose=-1), "verbose"),
    ("validation_split NaN", dict(validation_split=NAN), "validation_split"),
    ("validation_split 1", dict(validation_split=1.0), "validation_split"),
    ("validation_split -0.1", dict(validation_split=-0.1), "validation_split"),
    ("validation_data not a pair", dict(validation_data=X), "validation_data"),
    ("seed negative", dict(seed=-1), "seed"),
    ("lr NaN", dict(optimizer="sgd", lr=NAN), "lr"),
    (
        "a schedule reaching inf",
        dict(optimizer=cr.SGD(lr=cr.ExponentialDecay(1.0, rate=1e3)), epochs=200),
        "schedule",
    ),
    (
        "a schedule turning NaN at epoch 3",
        dict(optimizer=cr.SGD(lr=lambda e: 0.1 if e < 3 else NAN), epochs=5),
        "epoch 3",
    ),
    ("callbacks not a list", dict(callbacks=cr.EarlyStopping()), "callbacks"),
    ("a callback that is not callable", dict(callbacks=[3]), "callbacks[0]"),
]


@pytest.mark.parametrize(("kwargs", "name"), [c[1:] for c in FIT_CASES], ids=[c[0] for c in FIT_CASES])
def test_fit_refuses_bad_settings_before_any_weight_changes(kwargs, name):
    net = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    before = net.get_weights()
    with pytest.raises((ValueError, TypeError)) as info:
        net.fit(X, Y, loss="mse", **{"epochs": 2, **kwargs})
    assert name in str(info.value)
    for got, want in zip(net.get_weights(), before, strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


def test_a_rate_a_callback_breaks_is_refused_at_the_next_epoch_with_the_last_epochs_weights():
    net = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    ends = {}

    def sabotage(epoch, logs):
        ends[epoch] = net.get_weights()
        if epoch == 1:
            opt.lr = NAN

    opt = cr.SGD(lr=0.1)
    with pytest.raises(ValueError, match=r"lr must be a finite number.*epoch 2"):
        net.fit(X, Y, loss="mse", optimizer=opt, epochs=5, callbacks=[sabotage])
    for got, want in zip(net.get_weights(), ends[1], strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
