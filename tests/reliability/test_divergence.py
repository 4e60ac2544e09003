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


@pytest.mark.parametrize("batch_size", [None, 4])
def test_the_last_update_is_checked_too(batch_size, rng):
    """One epoch at lr=1e308: no later loss ever sees the bad weights, the epoch-end check does."""
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    net = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    start = net.get_weights()
    opt = cr.SGD(lr=1e308)
    # full batch: only the check after the epoch sees it; mini-batch: the next batch's loss does
    became = "weights became NaN or infinite" if batch_size is None else "loss became"
    with pytest.raises(cr.DivergenceError, match=f"{became}.* in epoch 0") as info:
        net.fit(X, y, loss="mse", optimizer=opt, epochs=1, batch_size=batch_size)
    assert info.value.history.epochs == 0 and opt.iterations == 0
    for got, want in zip(net.get_weights(), start, strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


def test_weights_that_go_bad_in_the_last_epoch_of_many_are_rolled_back(rng):
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1)) * 1e3
    net = cr.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    ends = {}

    def blow_up_at_the_end(epoch, logs):
        ends[epoch] = net.get_weights()
        if epoch == 3:
            opt.lr = 1e308  # the last epoch's steps overflow the weights

    opt = cr.SGD(lr=0.01)
    with pytest.raises(cr.DivergenceError, match="epoch 4") as info:
        net.fit(X, y, loss="mse", optimizer=opt, epochs=5, callbacks=[blow_up_at_the_end])
    assert info.value.history.epochs == 4
    for got, want in zip(net.get_weights(), ends[3], strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    # the network can be saved, loaded and exported: its weights are the finite ones kept
    assert all(np.isfinite(v).all() for layer in net.get_weights() for v in layer.values())


def test_divergence_rolls_the_optimizer_back_with_the_weights(rng):
    X, y = rng.normal(size=(16, 3)) * 50, rng.normal(size=(16, 1)) * 50
    net = cr.Network([3, 8, 1], activation="relu", output_activation="identity", seed=1)
    opt = cr.SGD(lr=1.0, momentum=0.9)
    states = {}
    record = cr.LambdaCallback(
        on_epoch_end=lambda epoch, logs: states.update(
            {epoch + 1: ({k: v.copy() for k, v in opt.state_arrays().items()}, opt.iterations)}
        )
    )
    with pytest.raises(cr.DivergenceError) as info:
        net.fit(X, y, loss="mse", optimizer=opt, epochs=200, batch_size=4, callbacks=[record])
    kept = info.value.history.epochs
    want_state, want_iterations = states.get(kept, ({}, 0))
    assert opt.iterations == want_iterations and sorted(opt.state_arrays()) == sorted(want_state)
    for name, value in want_state.items():
        np.testing.assert_array_equal(opt.state_arrays()[name], value)


def test_export_refuses_non_finite_weights(tmp_path):
    pytest.importorskip("onnx")
    net = cr.Network([3, 2, 1], seed=0)
    net.layers[0].params["W"][0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        cr.export_onnx(net, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(
    ("value", "finite"), [(1e200, True), (-1e200, True), (np.nan, False), (np.inf, False), (-np.inf, False)]
)
def test_the_epoch_end_check_tells_huge_from_non_finite(value, finite):
    """Its shortcut (a sum of squares) overflows for 1e200: that must not count as divergence."""
    from chainrule.train.diagnostics import RollBack
    from chainrule.train.optimizers import Slot

    for dtype, huge in ((np.float32, 1e30), (np.float64, 1e200)):  # squares overflow in each
        param = np.zeros((3, 2), dtype)
        param[1, 1] = np.copysign(huge, value) if np.isfinite(value) else value
        slot = Slot("0.W", param, np.zeros_like(param), decay=True)
        with np.errstate(over="ignore", invalid="ignore"):  # as in fit, which checks after each epoch
            assert RollBack([slot], cr.SGD(), cr.History()).params_finite() is finite
