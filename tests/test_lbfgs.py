"""Full-batch L-BFGS: the estimators' ``solver="lbfgs"`` follows scikit-learn's MLP with lbfgs from
the same initial weights (to 1e-8), and ``fit(optimizer="lbfgs")`` keeps fit's guarantees.

The reference is scikit-learn itself (its ``_fit_lbfgs`` through SciPy's L-BFGS-B): both start
from scikit-learn's weights, copied into the chainrule network, and run the same iterations.
Rounding differences between the two losses grow with the iteration count (about 1e-13 after
20 iterations, 1e-11 after 40, 1e-7 after 60 on a non-converged run), so the runs here are
short or converge. BLAS runs on one thread here: with two, OpenBLAS splits each product
differently for the two libraries' shapes, the rounding differs from the first iteration, and a
converged run can take a different number of iterations (33 on one thread, 74 on two, measured).
scikit-learn's starting weights come from a fixed ``random_state``: drawn from NumPy's global
generator as the full suite leaves it, one start gave a converged gap of 2.5e-8; random_state 0-7
give 3e-14 to 1.1e-9 (measured).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

import itertools

from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import chainrule as cr
from chainrule.errors import DivergenceError
from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor

X_CLS, Y_CLS = make_classification(n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=0)
X_REG, Y_REG = make_regression(n_samples=150, n_features=4, noise=5.0, random_state=0)
Y_REG = Y_REG / Y_REG.std()
WEIGHTS = np.random.default_rng(1).uniform(0.5, 2.0, 150)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Both libraries' products summed in one order (see the module's docstring)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


def from_the_same_weights(theirs, ours, X, y):
    """Fit both one iteration, then give chainrule scikit-learn's weights; both warm-start."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for estimator in (theirs, ours):
            estimator.set_params(max_iter=1, warm_start=True).fit(X, y)
    ours.coefs_, ours.intercepts_ = theirs.coefs_, theirs.intercepts_


def fit_both(theirs, ours, X, y, max_iter, sample_weight=None):
    from_the_same_weights(theirs, ours, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for estimator in (theirs, ours):
            estimator.set_params(max_iter=max_iter).fit(X, y, sample_weight=sample_weight)


def largest_difference(theirs, ours):
    pairs = [
        *zip(theirs.coefs_, ours.coefs_, strict=True),
        *zip(theirs.intercepts_, ours.intercepts_, strict=True),
    ]
    return max(float(np.abs(a - b).max()) for a, b in pairs)


CASES = {
    "softmax-tanh": ("cls", Y_CLS, {"activation": "tanh"}, None),
    "softmax-relu-two-layers-weighted": ("cls", Y_CLS, {"hidden_layer_sizes": (6, 4)}, WEIGHTS),
    "binary-logistic": ("cls", Y_CLS == 1, {"activation": "logistic"}, None),
    "regression-relu": ("reg", Y_REG, {}, WEIGHTS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_lbfgs_follows_scikit_learn_from_the_same_weights(case):
    kind, y, params, weights = CASES[case]
    params = {
        "solver": "lbfgs",
        "hidden_layer_sizes": (7,),
        "alpha": 0.01,
        "tol": 0.0,
        "random_state": 0,
    } | params
    if kind == "cls":
        X, theirs, ours = X_CLS, MLPClassifier(**params), NeuralNetClassifier(**params)
    else:
        X, theirs, ours = X_REG, MLPRegressor(**params), NeuralNetRegressor(target_scaling=False, **params)
    fit_both(theirs, ours, X, y, 25, weights)
    assert ours.n_iter_ == theirs.n_iter_ == 25
    assert largest_difference(theirs, ours) < 1e-8
    assert abs(ours.loss_ - theirs.loss_) < 1e-10


def test_lbfgs_stops_at_scikit_learns_tolerance_with_the_same_weights():
    params = {
        "solver": "lbfgs",
        "hidden_layer_sizes": (5,),
        "alpha": 0.1,
        "tol": 1e-3,
        "activation": "tanh",
        "random_state": 0,
    }
    theirs, ours = MLPRegressor(**params), NeuralNetRegressor(target_scaling=False, **params)
    fit_both(theirs, ours, X_REG, Y_REG, 2000)
    assert ours.n_iter_ == theirs.n_iter_ < 2000  # converged: the projected gradient is below tol
    assert largest_difference(theirs, ours) < 1e-8


def test_lbfgs_warns_when_it_stops_at_max_iter_as_scikit_learn_does():
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        NeuralNetClassifier(solver="lbfgs", hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(
            X_CLS, Y_CLS
        )


def test_max_fun_bounds_the_evaluations():
    net = cr.Network([5, 4, 3], activation="tanh", output_activation="softmax", seed=0)
    history = net.fit(X_CLS, Y_CLS, optimizer=cr.LBFGS(max_fun=7), epochs=100)
    assert history.result["nfev"] <= 8 and not history.result["success"]  # SciPy may finish a line search


def test_fit_records_one_history_entry_per_iteration():
    net = cr.Network([5, 4, 3], activation="tanh", output_activation="softmax", seed=0)
    history = net.fit(X_CLS, Y_CLS, optimizer="lbfgs", epochs=12)
    assert history.epochs == history.result["nit"] == 12
    losses = history["loss"]
    assert all(b <= a for a, b in itertools.pairwise(losses))  # L-BFGS descends
    assert losses[-1] == pytest.approx(net.evaluate(X_CLS, Y_CLS)["loss"], rel=1e-12)


@pytest.mark.parametrize(
    "option",
    [{"batch_size": 10}, {"lr": 0.1}, {"validation_split": 0.2}, {"callbacks": [lambda e, logs: None]},
     {"metrics": ["accuracy"]}, {"resume_from": "x.npz"}, {"epochs": 0}],
)  # fmt: skip
def test_lbfgs_refuses_step_options_before_any_change(option):
    net = cr.Network([5, 4, 3], activation="tanh", output_activation="softmax", seed=0)
    before = net.get_weights()
    with pytest.raises(ValueError, match="lbfgs"):
        net.fit(X_CLS, Y_CLS, optimizer="lbfgs", **({"epochs": 3} | option))
    for old, new in zip(before, net.get_weights(), strict=True):
        assert all(np.array_equal(old[k], new[k]) for k in old)


def test_lbfgs_refuses_dropout_and_partial_fit():
    net = cr.Network([cr.Dense(5, 4, "tanh"), cr.Dropout(0.2), cr.Dense(4, 3, "softmax")], seed=0)
    with pytest.raises(ValueError, match="Dropout"):
        net.fit(X_CLS, Y_CLS, optimizer="lbfgs")
    with pytest.raises((ValueError, AttributeError), match="partial_fit"):  # absent, as in scikit-learn
        NeuralNetRegressor(solver="lbfgs").partial_fit(X_REG, Y_REG)


def test_a_non_finite_loss_restores_the_starting_weights():
    net = cr.Network([2, 3, 1], activation="relu", output_activation="identity", seed=0)
    before = net.get_weights()
    X = np.full((4, 2), 1e200)
    with pytest.raises(DivergenceError, match="L-BFGS"):
        net.fit(X, np.ones(4), optimizer="lbfgs", epochs=5)
    for old, new in zip(before, net.get_weights(), strict=True):
        assert all(np.array_equal(old[k], new[k]) for k in old)


def test_float32_network_trains_with_float64_lbfgs():
    net = cr.Network([5, 4, 3], activation="tanh", output_activation="softmax", seed=0, dtype="float32")
    history = net.fit(X_CLS.astype(np.float32), Y_CLS, optimizer="lbfgs", epochs=10)
    assert net.dtype == np.float32 and history["loss"][-1] < history["loss"][0]
