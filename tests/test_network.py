"""Building networks, predicting, weights, and the errors users hit first."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_sizes_shorthand_builds_dense_layers():
    net = cr.Network([3, 4, 5, 2], activation="relu", output_activation="softmax", bias=False, seed=0)
    assert [repr(layer) for layer in net.layers] == [
        "Dense(3, 4, relu, bias=False)",
        "Dense(4, 5, relu, bias=False)",
        "Dense(5, 2, softmax, bias=False)",
    ]
    assert net.sizes == [3, 4, 5, 2] and net.n_inputs == 3 and net.n_outputs == 2


def test_predict_single_sample_and_batch(rng):
    net = cr.Network([3, 4, 2], seed=0)
    X = rng.normal(size=(5, 3))
    batch = net.predict(X)
    assert batch.shape == (5, 2)
    np.testing.assert_array_equal(net.predict(X[1]), batch[1])
    assert net.predict(X[1]).shape == (2,)
    W1, b1 = net.layers[0].params["W"], net.layers[0].params["b"]
    W2, b2 = net.layers[1].params["W"], net.layers[1].params["b"]
    expected = 1 / (1 + np.exp(-((1 / (1 + np.exp(-(X @ W1 + b1)))) @ W2 + b2)))
    np.testing.assert_allclose(batch, expected, rtol=1e-14)


def test_predict_is_not_overwritten_by_later_calls(rng):
    net = cr.Network([3, 2], seed=0)
    first = net.predict(rng.normal(size=(4, 3)))
    kept = first.copy()
    net.predict(rng.normal(size=(4, 3)))
    net.fit(rng.normal(size=(4, 3)), rng.uniform(size=(4, 2)), epochs=2)
    np.testing.assert_array_equal(first, kept)


def test_class_predictions_and_probabilities(rng):
    net = cr.Network([2, 3], activation="softmax", seed=0)
    proba = net.predict_proba(rng.normal(size=(6, 2)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    binary = cr.Network([2, 1], activation="sigmoid", seed=0)
    X = rng.normal(size=(6, 2))
    p = binary.predict(X)[:, 0]
    np.testing.assert_allclose(binary.predict_proba(X), np.column_stack([1 - p, p]))
    np.testing.assert_array_equal(binary.predict_classes(X), (p > 0.5).astype(int))


def test_evaluate_reports_loss_and_metrics(rng):
    net = cr.Network([2, 3], activation="softmax", seed=0)
    X, labels = rng.normal(size=(10, 2)), rng.integers(0, 3, 10)
    scores = net.evaluate(X, cr.one_hot(labels, 3))
    p = net.predict(X)
    assert scores["loss"] == pytest.approx(-np.mean(np.log(p[np.arange(10), labels])))
    assert scores["accuracy"] == pytest.approx(np.mean(p.argmax(1) == labels))


def test_set_weights_copies_in_place_and_checks_shapes():
    net = cr.Network([2, 2, 1], seed=0)
    W = net.layers[0].params["W"]
    weights = net.get_weights()
    weights[0]["W"][...] = 7.0
    net.set_weights(weights)
    assert net.layers[0].params["W"] is W and (W == 7.0).all()
    weights[0]["W"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match="shape"):
        net.set_weights(weights)


def test_layer_widths_must_chain():
    with pytest.raises(ValueError, match="do not chain"):
        cr.Network([cr.Dense(3, 4), cr.Dense(5, 1)])


def test_explicit_weights_are_used_and_checked():
    layer = cr.Dense(2, 1, "identity", bias=False, weights=[[2.0], [3.0]])
    assert cr.Network([layer]).predict([[1.0, 1.0]]).item() == 5.0
    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        cr.Dense(2, 1, weights=[[1.0, 2.0]])


def test_a_lone_dense_without_weights_says_what_to_do():
    with pytest.raises(cr.NotInitializedError, match="Network"):
        cr.Dense(2, 3).forward(np.ones((1, 2)))


def test_keras_habits_len_indexing_count_params_and_summary(capsys):
    net = cr.Network([cr.Dense(4, 8, "relu"), cr.Dropout(0.2), cr.Dense(8, 3, "softmax")], seed=0)
    assert len(net) == 3 and net[1].rate == 0.2 and net[-1].n_out == 3
    assert net.count_params() == (4 * 8 + 8) + (8 * 3 + 3) == sum(layer.count_params() for layer in net)
    assert [w.shape for w in net[0].weights] == [(4, 8), (8,)]
    net.summary()
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].split()[-1] == "40" and printed[2].split()[-1] == "0" and printed[3].split()[-1] == "27"
    assert printed[-1] == "total: 67 parameters, float64"
    assert "<table>" in net._repr_html_() and "Dense(8, 3, softmax)" in net._repr_html_()


def test_history_displays_as_a_table_with_sparklines(rng):
    net = cr.Network([2, 3, 1], seed=0)
    history = net.fit(rng.normal(size=(8, 2)), rng.uniform(size=(8, 1)), loss="mse", epochs=5)
    html = history._repr_html_()
    assert "5 epochs" in html and html.count("<polyline") == len(history.history)
    assert f"{history['loss'][-1]:.4g}" in html


@pytest.mark.parametrize(("data_dtype", "expected"), [(np.float32, np.float32), (np.float64, np.float64)])
def test_dtype_follows_the_training_data_unless_given(data_dtype, expected, rng):
    X = rng.normal(size=(16, 3)).astype(data_dtype)
    y = rng.normal(size=(16, 1)).astype(data_dtype)
    net = cr.Network([3, 4, 1], output_activation="identity", seed=0)
    net.fit(X, y, loss="mse", epochs=2)
    assert net.dtype == expected and all(p.dtype == expected for layer in net for p in layer.weights)
    assert net.predict(X).dtype == expected
    given = cr.Network([3, 4, 1], output_activation="identity", seed=0, dtype="float64")
    given.fit(X, y, loss="mse", epochs=1)
    assert given.dtype == np.float64  # a dtype given is kept


def test_float32_data_is_not_copied_by_fit(rng):
    """as_inputs hands a float32 C-contiguous array through: no upcast copy of the data."""
    X = rng.normal(size=(64, 3)).astype(np.float32)
    net = cr.Network([3, 2, 1], seed=0).astype("float32")
    assert net.as_inputs(X) is X


@pytest.mark.parametrize(
    ("sizes", "activation", "output"),
    [
        ([4, 16, 3], "relu", "softmax"),
        ([3, 8, 8, 1], "tanh", "sigmoid"),
        ([2, 5, 2], "leaky_relu", "identity"),
    ],
)
def test_the_one_row_predictor_gives_predicts_bits(sizes, activation, output):
    rng = np.random.default_rng(3)
    for dtype in ("float64", "float32"):
        net = cr.Network(sizes, activation=activation, output_activation=output, dtype=dtype, seed=1)
        net.layers.insert(1, cr.Dropout(0.5))  # the identity at inference
        predictor = net.predictor()
        for row in rng.normal(size=(25, sizes[0])) * 3:
            assert np.array_equal(predictor(row), net.predict(row))
            assert np.array_equal(predictor(row[None]), net.predict(row[None]))
            assert np.array_equal(predictor(list(row)), net.predict(list(row)))
        assert predictor(row).dtype == np.dtype(dtype)


def test_the_one_row_predictor_fails_as_predict_does():
    net = cr.Network([3, 4, 2], output_activation="softmax", seed=0)
    predictor = net.predictor()
    assert np.array_equal(predictor(np.ones((2, 3))), net.predict(np.ones((2, 3))))  # predict's own
    for bad in ([1.0, np.nan, 0.0], [1.0, 2.0], [[1.0, np.inf, 0.0]], "abc"):
        with pytest.raises(cr.InputError) as expected:
            net.predict(bad)
        with pytest.raises(cr.InputError) as got:
            predictor(bad)
        assert str(got.value) == str(expected.value)
