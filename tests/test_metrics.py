"""`chainrule.nn.metrics` (accuracy, mse, mae, default_metrics) and `class_indices` from
`chainrule.nn.losses`, against hand computations and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.losses import LOSSES, class_indices, get_loss
from chainrule.nn.metrics import METRICS, accuracy, default_metrics, get_metric, mae, mse

sklearn_metrics = pytest.importorskip("sklearn.metrics")


# ------------------------------------------------------------------------------ accuracy
def test_binary_accuracy_thresholds_at_one_half():
    out = np.array([[0.2], [0.7], [0.5], [0.51], [0.49], [0.9]])
    y = np.array([[0.0], [1.0], [1.0], [0.0], [0.0], [1.0]])
    # right: 0.2->0, 0.7->1, 0.49->0, 0.9->1; wrong: 0.5 is not above the threshold, 0.51 is
    assert accuracy(y, out) == 4 / 6


def test_binary_accuracy_matches_scikit_learn(rng):
    out = rng.uniform(size=(50, 1))
    y = rng.integers(0, 2, size=(50, 1)).astype(float)
    expected = sklearn_metrics.accuracy_score(y.ravel().astype(int), (out.ravel() > 0.5).astype(int))
    assert accuracy(y, out) == pytest.approx(expected, rel=1e-15)


def test_one_hot_accuracy_takes_the_argmax():
    out = np.array([[0.1, 0.7, 0.2], [0.4, 0.35, 0.25], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]])
    y = np.array([[0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)
    # argmax 1, 0, 2, 2 against labels 1, 1, 2, 0: two right
    assert accuracy(y, out) == 0.5


def test_one_hot_accuracy_matches_scikit_learn(rng):
    out = rng.dirichlet(np.ones(4), size=60)
    labels = rng.integers(0, 4, size=60)
    y = np.eye(4)[labels]
    assert accuracy(y, out) == pytest.approx(
        sklearn_metrics.accuracy_score(labels, out.argmax(axis=1)), rel=1e-15
    )


def test_soft_one_hot_targets_count_as_one_hot():
    y = np.array([[0.99, 0.01, 0.01], [0.01, 0.01, 0.99]])
    out = np.array([[0.4, 0.3, 0.3], [0.45, 0.1, 0.45]])
    # the argmax rule: row 0 right; row 1 ties at 0.45, argmax takes the first: wrong
    assert accuracy(y, out) == 0.5


def test_multi_label_accuracy_is_per_entry():
    y = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 1]], dtype=float)  # not one label per row
    out = np.array([[0.9, 0.2, 0.1], [0.6, 0.4, 0.3], [0.8, 0.1, 0.7]])
    # entries right: row 0: 1, 0, 1 -> 2; row 1: 0, 1, 1 -> 2; row 2: 3 -> 7 of 9
    assert accuracy(y, out) == pytest.approx(7 / 9, rel=1e-15)


def test_multi_label_accuracy_is_one_minus_hamming_loss(rng):
    y = rng.integers(0, 2, size=(40, 5)).astype(float)
    y[0] = [1, 1, 0, 0, 0]  # surely not one-hot
    out = rng.uniform(size=(40, 5))
    expected = 1.0 - sklearn_metrics.hamming_loss(y.astype(int), (out > 0.5).astype(int))
    assert accuracy(y, out) == pytest.approx(expected, rel=1e-15)


# ------------------------------------------------------------------------------ mse / mae
def test_mse_and_mae_by_hand():
    y = np.array([[1.0, 2.0], [3.0, -1.0]])
    out = np.array([[1.5, 2.0], [1.0, 0.0]])
    # differences 0.5, 0, -2, 1
    assert mse(y, out) == pytest.approx((0.25 + 0 + 4 + 1) / 4, rel=1e-15)
    assert mae(y, out) == pytest.approx((0.5 + 0 + 2 + 1) / 4, rel=1e-15)


@pytest.mark.parametrize("k", [1, 3])
def test_mse_and_mae_match_scikit_learn(k, rng):
    y, out = rng.normal(size=(30, k)), rng.normal(size=(30, k))
    assert mse(y, out) == pytest.approx(sklearn_metrics.mean_squared_error(y, out), rel=1e-13)
    assert mae(y, out) == pytest.approx(sklearn_metrics.mean_absolute_error(y, out), rel=1e-13)


@pytest.mark.parametrize("name", list(METRICS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_metrics_return_python_floats(name, dtype, rng):
    y = rng.integers(0, 2, size=(6, 1)).astype(dtype)
    value = get_metric(name)(y, rng.uniform(size=(6, 1)).astype(dtype))
    assert type(value) is float


def test_perfect_predictions():
    y = np.eye(3)
    assert accuracy(y, y) == 1.0 and mse(y, y) == 0.0 and mae(y, y) == 0.0


def test_unknown_metric_names_the_choices():
    with pytest.raises(ValueError, match="accuracy, mse, mae"):
        get_metric("f1")


# ------------------------------------------------------------------------ default_metrics
DEFAULTS = {
    "binary_crossentropy": ["accuracy"],
    "categorical_crossentropy": ["accuracy"],
    "mse": ["mae"],
    "mae": ["mse"],
    "sse": ["mse", "mae"],
    "half_sse": ["mse", "mae"],
    "half_mse": ["mse", "mae"],
}


@pytest.mark.parametrize(("loss", "expected"), DEFAULTS.items())
def test_default_metrics(loss, expected):
    assert default_metrics(get_loss(loss)) == expected


def test_default_metrics_are_checked_for_every_loss():
    assert set(DEFAULTS) == set(LOSSES)


# -------------------------------------------------------------------------- class_indices
def test_class_indices_of_several_columns_is_the_argmax():
    values = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.0, 0.0, 1.0], [0.4, 0.4, 0.2]])
    np.testing.assert_array_equal(class_indices(values), [1, 0, 2, 0])  # a tie takes the first


def test_class_indices_of_one_column_thresholds_at_one_half():
    values = np.array([[0.2], [0.5], [0.50001], [1.0], [0.0]])
    result = class_indices(values)
    np.testing.assert_array_equal(result, [0, 0, 1, 1, 0])
    assert result.dtype == np.int64


def test_class_indices_of_a_1d_array_thresholds_too():
    np.testing.assert_array_equal(class_indices(np.array([0.9, 0.1, 0.6])), [1, 0, 1])


def test_class_indices_round_trips_one_hot_labels(rng):
    labels = rng.integers(0, 5, size=20)
    np.testing.assert_array_equal(class_indices(np.eye(5)[labels]), labels)


def test_class_indices_accepts_lists():
    np.testing.assert_array_equal(class_indices([[0.0], [1.0]]), [0, 1])
