"""Guarantee 1: bad input at every entry point raises `InputError` naming the problem and the fix.

`InputError` subclasses `ValueError`, so code that catches ``ValueError`` keeps working.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

pd = pytest.importorskip("pandas")

GOOD_X, GOOD_Y = np.ones((4, 3)), np.array([0.0, 1.0, 0.0, 1.0])

# (what is wrong, X, y, loss, message the error must contain)
FIT_CASES = [
    ("NaN in X", np.array([[1.0, np.nan, 0.0]] * 4), GOOD_Y, "mse", "NaN or infinite.*row 0, column 1"),
    ("inf in X", np.array([[1.0, 0.0, np.inf]] * 4), GOOD_Y, "mse", "NaN or infinite.*row 0, column 2"),
    ("NaN in y", GOOD_X, np.array([0.0, np.nan, 1.0, 0.0]), "mse", "y contains NaN.*row 1"),
    ("wrong feature count", np.ones((4, 2)), GOOD_Y, "mse", "2 columns but the network expects 3"),
    ("1-D X for 3 features", np.ones(12), np.ones(4), "mse", r"1-D with 12 values.*reshape\(-1, 3\) for 4"),
    ("3-D X", np.ones((4, 3, 1)), GOOD_Y, "mse", "must be 1-D or 2-D"),
    ("empty X", np.ones((0, 3)), np.ones(0), "mse", "empty"),
    ("mismatched lengths", GOOD_X, np.ones(5), "mse", "4 rows but y has 5"),
    ("y as a row vector", GOOD_X, GOOD_Y[None, :], "mse", r"one row of 4 targets.*y\.T"),
    ("text in X", np.array([["a", "b", "c"]] * 4), GOOD_Y, "mse", "must be numeric"),
    ("object X with text", np.array([[1, "x", 2]] * 4, dtype=object), GOOD_Y, "mse", "must be numeric"),
    ("ragged X", [[1, 2, 3], [1, 2]], [0, 1], "mse", "cannot be read as a numeric array"),
    ("BCE targets outside [0, 1]", GOOD_X, np.full(4, 2.0), "binary_crossentropy", r"targets in \[0, 1\]"),
    ("a single class", GOOD_X, np.zeros(4), "binary_crossentropy", "single class"),
    (
        "DataFrame with a missing value",
        pd.DataFrame({"a": [1.0, None, 2, 3], "b": 1.0, "c": 2.0}),
        GOOD_Y,
        "mse",
        "NaN or infinite.*row 1, column 0",
    ),
    (
        "DataFrame with <NA>",
        pd.DataFrame({"a": pd.array([1, None, 2, 3], dtype="Int64"), "b": 1, "c": 2}),
        GOOD_Y,
        "mse",
        "NaN or infinite.*row 1, column 0",
    ),
    (
        "DataFrame with a text column",
        pd.DataFrame({"a": ["x", "y", "z", "w"], "b": 1.0, "c": 2.0}),
        GOOD_Y,
        "mse",
        "non-numeric values.*columns a",
    ),
]


@pytest.mark.parametrize(
    ("X", "y", "loss", "message"), [c[1:] for c in FIT_CASES], ids=[c[0] for c in FIT_CASES]
)
def test_fit_rejects(X, y, loss, message):
    net = cr.Network([3, 1], seed=0)
    with pytest.raises(cr.InputError, match=message):
        net.fit(X, y, loss=loss)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda net: net.predict(np.ones((2, 4))), "4 columns but the network expects 3"),
        (lambda net: net.predict(np.ones(5)), "1-D with 5 values"),
        (lambda net: net.predict([[1.0, np.inf, 0.0]]), "NaN or infinite"),
        (lambda net: net.predict_proba(np.ones((0, 3))), "empty"),
        (lambda net: net.evaluate(np.ones((2, 3)), np.ones(3)), "2 rows but y has 3"),
        (
            lambda net: net.gradients(np.ones((2, 3)), np.ones((2, 2)), loss="mse"),
            "2 columns but the network has 1",
        ),
        (lambda net: net.gradients(np.full((2, 3), np.nan), np.ones(2), loss="mse"), "NaN"),
        (lambda net: cr.trace_step(net, np.ones((2, 2)), np.ones(2)), "2 columns but the network expects 3"),
    ],
    ids=[
        "predict-width",
        "predict-1d",
        "predict-inf",
        "proba-empty",
        "evaluate-lengths",
        "gradients-outputs",
        "gradients-nan",
        "trace-width",
    ],
)
def test_other_entry_points_reject(call, message):
    net = cr.Network([3, 1], seed=0)
    with pytest.raises(cr.InputError, match=message):
        call(net)


def test_the_error_is_a_value_error_too():
    with pytest.raises(ValueError):
        cr.Network([3, 1], seed=0).predict(np.ones((2, 4)))


def test_class_labels_for_a_softmax_network_are_integers_in_range_or_one_hot():
    """Keras' sparse labels work; anything that is not a class index is refused, naming the fix."""
    X = np.random.default_rng(0).normal(size=(4, 2))
    sparse, dense = (
        cr.Network([2, 3], activation="softmax", seed=0),
        cr.Network([2, 3], activation="softmax", seed=0),
    )
    sparse.fit(X, [0, 1, 2, 1], epochs=2)
    dense.fit(X, cr.one_hot([0, 1, 2, 1]), epochs=2)
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X))
    for bad in ([0, 1, 3, 1], [0, 1, 0.5, 1], [-1, 0, 1, 2]):
        with pytest.raises(cr.InputError, match=r"integer class labels 0\.\.2"):
            cr.Network([2, 3], activation="softmax", seed=0).fit(X, bad)
    with pytest.raises(cr.InputError, match="one_hot"):  # several sigmoid outputs: labels are ambiguous
        cr.Network([2, 3], activation="sigmoid", seed=0).fit(X, [0, 1, 2, 1])


def test_booleans_and_integers_are_accepted_as_numbers():
    net = cr.Network([2, 1], seed=0)
    net.fit(np.array([[True, False], [False, True]]), np.array([1, 0]), epochs=1)
    assert net.predict(np.array([[1, 0]])).dtype == np.float64


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda est: est.fit(np.array([[1.0, np.nan]] * 6), [0, 1] * 3), "NaN"),
        (lambda est: est.fit(np.array([[1.0, np.inf]] * 6), [0, 1] * 3), "infinity"),
        (lambda est: est.fit(np.ones((6, 2)), [0, 1] * 2), "inconsistent numbers of samples"),
        (lambda est: est.fit(np.ones((0, 2)), []), "0 sample"),
        (lambda est: est.fit(np.ones((6, 2)), [0, 1] * 3).predict(np.ones((2, 3))), "3 features"),
        (lambda est: est.fit(np.ones((6, 2)), [0, 1] * 3, sample_weight=np.ones(4)), "sample_weight"),
    ],
    ids=["nan", "inf", "lengths", "empty", "features-at-predict", "sample-weight-length"],
)
def test_estimators_reject_with_scikit_learns_value_errors(call, message):
    sklearn_estimators = pytest.importorskip("chainrule.sklearn")
    with pytest.raises(ValueError, match=message):
        call(sklearn_estimators.NeuralNetClassifier(max_iter=2, random_state=0))
