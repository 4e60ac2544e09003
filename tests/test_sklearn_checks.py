"""Issue 21, 5: the estimators check their settings as scikit-learn does, and never stay
half-fitted: constraints through scikit-learn's ``validate_params``, unfitted after a failed fit,
warm_start that refits a changed architecture, MLPClassifier's ``partial_fit`` signature."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import chainrule as cr
from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor

BAD = [
    ("alpha", -1),
    ("tol", -0.5),
    ("n_iter_no_change", 0),
    ("validation_fraction", 1.0),
    ("momentum", 2.0),
    ("beta_1", 1.0),
    ("epsilon", 0.0),
    ("max_iter", 2.5),
    ("batch_size", 0),
    ("learning_rate", "sometimes"),
]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.mark.parametrize(("name", "value"), BAD, ids=[name for name, _ in BAD])
def test_settings_scikit_learn_refuses_are_refused_naming_them(data, name, value):
    X, y = data
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        MLPClassifier(**{name: value}).fit(X, y)  # scikit-learn refuses it...
    for estimator in (NeuralNetClassifier(**{name: value}), NeuralNetRegressor(**{name: value})):
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of {type(estimator).__name__}"):
            estimator.fit(X, y)  # ...and so does chainrule, with scikit-learn's message
        assert not hasattr(estimator, "network_")


def test_constraints_cover_every_parameter_and_fractional_widths_are_refused(data):
    X, y = data
    for estimator, mlp in ((NeuralNetClassifier(), MLPClassifier()), (NeuralNetRegressor(), MLPRegressor())):
        assert set(estimator._parameter_constraints) == set(estimator.get_params())
        assert set(mlp._parameter_constraints) <= set(estimator._parameter_constraints)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must be positive integers, got \(10.7,\)"):
        NeuralNetClassifier(hidden_layer_sizes=(10.7,)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        NeuralNetRegressor(max_iter=2.5).fit(X, y)  # it named "epochs" before


def huge(n=10):
    rng = np.random.RandomState(0)
    return np.finfo(np.float64).max * rng.uniform(size=(n, 2)), rng.standard_normal(size=n)


def test_a_fit_that_diverges_leaves_the_estimator_unfitted():
    X, y = huge()
    regressor = NeuralNetRegressor(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Solver produced non-finite parameter weights") as caught:
            regressor.fit(X, y)
    assert isinstance(caught.value, cr.DivergenceError)  # and chainrule's own error
    with pytest.raises(NotFittedError):
        check_is_fitted(regressor)
    with pytest.raises(NotFittedError):
        regressor.predict(X)  # it predicted 1e82-1e146 before


def test_a_refused_fit_of_a_fitted_estimator_changes_nothing(data):
    X, y = data
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError):
        clf.fit(X[:, :2], np.array(["a"] * 60, dtype=object)[:, None].repeat(2, axis=1))
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_divergence_with_a_best_validation_epoch_warns_and_keeps_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X @ rng.normal(size=4)
    reg = NeuralNetRegressor(
        hidden_layer_sizes=100,
        activation="identity",
        solver="sgd",
        learning_rate_init=1,
        max_iter=20,
        early_stopping=True,
        target_scaling=False,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(X, y)
    assert any("training diverged" in str(w.message) for w in caught)
    assert np.isnan(reg.validation_scores_[-1])
    assert np.isfinite(reg.predict(X)).all()


def test_warm_start_with_a_new_architecture_refits_from_scratch_with_a_warning(data):
    X, y = data
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        clf.set_params(hidden_layer_sizes=(7, 5))
        with pytest.warns(
            UserWarning,
            match=r"hidden_layer_sizes changed since the network was built \(\[4\] -> \[7, 5\]\).* scratch",
        ):
            clf.fit(X, y)
    assert clf.network_.sizes == [3, 7, 5, 1] and [c.shape[1] for c in clf.coefs_] == [7, 5, 1]
    assert clf.get_params()["hidden_layer_sizes"] == (7, 5)


def test_partial_fit_has_mlp_classifiers_signature(data):
    X, y = data
    assert list(inspect.signature(NeuralNetClassifier.partial_fit).parameters) == [
        "self",
        "X",
        "y",
        "sample_weight",
        "classes",
    ]
    assert list(inspect.signature(NeuralNetRegressor.partial_fit).parameters) == [
        "self",
        "X",
        "y",
        "sample_weight",
    ]
    w = np.linspace(0.5, 2.0, len(y))
    one = NeuralNetClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, w, classes=[0, 1])
    two = NeuralNetClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(
        X, y, sample_weight=w, classes=[0, 1]
    )
    np.testing.assert_array_equal(one.coefs_[0], two.coefs_[0])  # the third argument is sample_weight


def test_a_partial_fit_batch_may_hold_some_of_the_classes_or_one(data):
    X, y = data
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), random_state=0)
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1])  # one class of two
    clf.partial_fit(X[y == 1], y[y == 1])
    assert clf.classes_.tolist() == [0, 1] and clf.n_iter_ == 2
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[1, 2])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        NeuralNetClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    assert not hasattr(NeuralNetClassifier(solver="lbfgs"), "partial_fit")
    with pytest.warns(ConvergenceWarning):  # lbfgs is a solver now (tests/test_lbfgs.py), full batch
        assert NeuralNetClassifier(solver="lbfgs", max_iter=2).fit(X, y).n_iter_ == 2


def test_weights_assigned_before_fit_are_the_starting_weights_and_float32_stays(data):
    X, y = data
    clf = NeuralNetClassifier(hidden_layer_sizes=2, solver="sgd", max_iter=1, random_state=0)
    clf.coefs_ = [0] * 2
    clf.coefs_[0] = np.full((3, 2), 0.1)
    clf.coefs_[1] = np.full((2, 1), 0.2)
    clf.intercepts_ = [np.zeros(2), np.zeros(1)]
    clf.partial_fit(X[:1], y[:1], classes=[0, 1])
    assert np.abs(clf.coefs_[0] - 0.1).max() < 0.01  # one small step from the given weights
    reg = NeuralNetRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X.astype(np.float32), y)
    assert {a.dtype for a in reg.coefs_ + reg.intercepts_} == {np.dtype(np.float32)}
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_verbose_prints_scikit_learns_iteration_lines(data, capsys):
    X, y = data
    clf = NeuralNetClassifier(hidden_layer_sizes=(3,), max_iter=2, verbose=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf.partial_fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 3, loss = " in out


def test_a_single_class_is_learned_as_mlp_classifier_learns_it():
    """One class (it was refused; MLPClassifier fits it, and scikit-learn's test_mlp.py relies on it)."""
    X = np.random.default_rng(0).normal(size=(10, 2))
    ours = NeuralNetClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, ["only"] * 10)
        theirs = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, ["only"] * 10)
    assert ours.predict(X).tolist() == theirs.predict(X).tolist() == ["only"] * 10
