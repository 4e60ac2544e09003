"""Guarantee 2: divergence stops with a clear error and finite weights; stuck layers are named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr


def test_divergence_raises_names_the_epoch_and_keeps_finite_weights(rng):
    X = rng.normal(size=(20, 3)) * 100
    y = rng.normal(size=(20, 1)) * 100
    net = cr.Network([3, 16, 1], activation="relu", output_activation="identity", seed=0)
    ends = {-1: net.get_weights()}  # the weights at the end of each epoch (-1: the start)
    record = cr.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.update({epoch: net.get_weights()}))
    with pytest.raises(cr.DivergenceError, match=r"in epoch \d+.*learning rate") as info:
        net.fit(X, y, loss="mse", optimizer=cr.SGD(lr=10.0), epochs=100, callbacks=[record])
    error = info.value
    # the weights kept are those at the end of the last epoch the history lists, as the message says
    kept = error.history.epochs
    assert error.epoch >= 1 and kept in (error.epoch, error.epoch - 1)
    assert f"from the start of epoch {kept}" in str(error)
    for got, want in zip(net.get_weights(), ends[kept - 1], strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    for layer in net.get_weights():
        for value in layer.values():
            assert np.isfinite(value).all()
    assert np.isfinite(net.evaluate(X, y)["loss"])


@pytest.mark.parametrize("batch_size", [None, 4])
def test_the_kept_weights_gave_a_finite_loss(batch_size, rng):
    """Replay the run by hand: the restored weights are ones the loop measured as finite."""
    X, y = rng.normal(size=(16, 3)) * 50, rng.normal(size=(16, 1)) * 50
    net = cr.Network([3, 8, 1], activation="relu", output_activation="identity", seed=1)
    with pytest.raises(cr.DivergenceError) as info:
        net.fit(X, y, loss="mse", optimizer=cr.SGD(lr=5.0), epochs=200, batch_size=batch_size)
    assert "epoch" in str(info.value) and np.isfinite(net.evaluate(X, y)["loss"])
    assert all(np.isfinite(v).all() for layer in net.get_weights() for v in layer.values())


def test_no_numpy_overflow_warnings_escape_a_diverging_run(rng):
    net = cr.Network([3, 4, 1], activation="sigmoid", output_activation="identity", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cr.DivergenceError):
            net.fit(
                rng.normal(size=(8, 3)) * 1e3,
                rng.normal(size=(8, 1)) * 1e3,
                loss="sse",
                optimizer=cr.SGD(lr=100.0),
                epochs=50,
            )


def test_a_saturated_sigmoid_layer_is_reported(rng):
    X = rng.normal(size=(32, 3)) * 1000  # unscaled inputs: every hidden unit pinned at 0 or 1
    net = cr.Network([3, 8, 1], activation="sigmoid", output_activation="identity", seed=0)
    with pytest.warns(cr.TrainingWarning, match="layer 1 \\(sigmoid\\) is saturated"):
        net.fit(X, rng.normal(size=(32, 1)), loss="mse", optimizer=cr.SGD(lr=0.01), epochs=2)


def test_dead_relus_are_reported(rng):
    net = cr.Network([3, 8, 1], activation="relu", output_activation="identity", seed=0)
    net.layers[0].params["b"][...] = -100.0  # every unit off for every input
    with pytest.warns(cr.TrainingWarning, match="layer 1 \\(relu\\) is dead"):
        net.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 1)), loss="mse", epochs=2)


def test_a_healthy_run_is_not_warned_about(rng):
    net = cr.Network([3, 8, 1], activation="tanh", output_activation="identity", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 1)), loss="mse", epochs=5)
