"""The estimators train as MLPClassifier/MLPRegressor do: same parameters, same numbers.

Each trajectory test starts chainrule and scikit-learn from the same weights (scikit-learn's,
copied into the chainrule network), trains both without shuffling in float64, and compares
every epoch's loss (penalty included) and the final weights. The reference is scikit-learn
itself, so a change in the penalty scaling, loss reduction, update formula or schedule fails.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def from_the_same_weights(theirs, ours, X, y):
    """Fit both one epoch, then give chainrule scikit-learn's weights; both warm-start from there."""
    for estimator in (theirs, ours):
        estimator.set_params(max_iter=1, warm_start=True, shuffle=False).fit(X, y)
    ours.coefs_ = theirs.coefs_
    ours.intercepts_ = theirs.intercepts_
    for mine, reference in zip(ours.coefs_, theirs.coefs_, strict=True):
        assert mine is not reference and np.array_equal(mine, reference)


def train_both(theirs, ours, X, y, epochs, sample_weight=None, **params):
    from_the_same_weights(theirs, ours, X, y)
    curves = []
    for estimator in (theirs, ours):
        done = len(estimator.loss_curve_)
        estimator.set_params(max_iter=epochs, **params).fit(X, y, sample_weight=sample_weight)
        curves.append(np.array(estimator.loss_curve_[done:]))
    return curves


def assert_same_weights(theirs, ours, atol=1e-12):
    for attribute in ("coefs_", "intercepts_"):
        for a, b in zip(getattr(theirs, attribute), getattr(ours, attribute), strict=True):
            np.testing.assert_allclose(b, a, rtol=0, atol=atol)


X_CLS, Y_CLS = make_classification(n_samples=230, n_features=6, n_informative=4, n_classes=3, random_state=0)
WEIGHTS = np.random.default_rng(1).uniform(0.5, 2.0, 230)
MULTILABEL = np.column_stack([Y_CLS == 0, Y_CLS == 1, X_CLS[:, 0] > 0]).astype(int)
X_REG, Y_REG = make_regression(n_samples=230, n_features=5, n_targets=2, noise=1.0, random_state=0)
Y_REG = Y_REG / Y_REG.std(axis=0)

CASES = {
    # the penalty (alpha = 0.01 with 50-row batches: 50x too strong before) shows in each case
    "softmax-sgd-nesterov": ("cls", Y_CLS, {"solver": "sgd", "activation": "tanh"}, None),
    "softmax-sgd-invscaling-classic-momentum": (
        "cls",
        Y_CLS,
        {"solver": "sgd", "learning_rate": "invscaling", "nesterovs_momentum": False, "power_t": 0.3},
        None,
    ),
    "softmax-adam-two-hidden-layers": ("cls", Y_CLS, {"solver": "adam", "hidden_layer_sizes": (7, 5)}, None),
    "binary-logistic-sgd": ("cls", Y_CLS == 1, {"solver": "sgd", "activation": "logistic"}, None),
    "multilabel-sample-weights": ("cls", MULTILABEL, {"solver": "adam", "activation": "relu"}, WEIGHTS),
    "regression-adam": ("reg", Y_REG[:, 0], {"solver": "adam"}, None),
    "regression-sgd-sample-weights": ("reg", Y_REG[:, 0], {"solver": "sgd", "momentum": 0.5}, WEIGHTS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_loss_curve_and_weights_follow_scikit_learn(case):
    kind, y, params, weights = CASES[case]
    params = {
        "hidden_layer_sizes": (8,),
        "learning_rate_init": 0.05,
        "alpha": 0.01,
        "batch_size": 50,
    } | params
    if kind == "cls":
        X, theirs, ours = X_CLS, MLPClassifier(**params), NeuralNetClassifier(**params)
    else:
        X, theirs, ours = X_REG, MLPRegressor(**params), NeuralNetRegressor(target_scaling=False, **params)
    reference, mine = train_both(theirs, ours, X, y, 6, weights, tol=0.0, n_iter_no_change=100)
    assert len(mine) == len(reference) == 6 and reference[-1] < reference[0]
    np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=0)
    assert_same_weights(theirs, ours)
    assert ours.loss_ == mine[-1] and ours.t_ == theirs.t_


def test_several_regression_targets_follow_scikit_learns_gradient():
    """scikit-learn reports the loss averaged over targets but follows the gradient of their sum."""
    params = {"hidden_layer_sizes": (8,), "learning_rate_init": 0.05, "alpha": 0.01, "batch_size": 50}
    theirs, ours = (
        MLPRegressor(solver="sgd", **params),
        NeuralNetRegressor(solver="sgd", target_scaling=False, **params),
    )
    reference, mine = train_both(theirs, ours, X_REG, Y_REG, 6, tol=0.0, n_iter_no_change=100)
    assert_same_weights(theirs, ours)
    # two targets: ours = 2 * data + penalty, theirs = data + penalty, so 2 * theirs - ours = penalty
    penalty = 2 * reference - mine
    assert np.all(penalty > 0) and np.all(penalty < 0.5 * reference)


def test_loss_curve_includes_the_l2_penalty():
    params = {"hidden_layer_sizes": (8,), "alpha": 5.0, "batch_size": 230, "max_iter": 1, "shuffle": False}
    clf = NeuralNetClassifier(random_state=0, **params).fit(X_CLS, Y_CLS)
    # one full batch: the recorded loss is the data loss of the starting weights plus the penalty
    # a step of 1e-300 changes no weight: the starting weights (scikit-learn refuses a rate of 0)
    before = NeuralNetClassifier(random_state=0, **{**params, "learning_rate_init": 1e-300}).fit(X_CLS, Y_CLS)
    proba = before.predict_proba(X_CLS)
    data = -np.mean(np.log(proba[np.arange(230), Y_CLS]))
    penalty = 0.5 * 5.0 * sum(float((w**2).sum()) for w in before.coefs_) / 230
    assert clf.loss_curve_[0] == pytest.approx(data + penalty, rel=1e-12)
    assert before.history_["loss"][0] == pytest.approx(data + penalty, rel=1e-12)


@pytest.mark.parametrize("schedule", ["adaptive", "constant"])
def test_stopping_rule_and_adaptive_rate_follow_scikit_learn(schedule):
    params = {
        "hidden_layer_sizes": (7,),
        "solver": "sgd",
        "learning_rate": schedule,
        "learning_rate_init": 0.3,
        "alpha": 0.01,
        "batch_size": 50,
        "activation": "tanh",
    }
    theirs, ours = MLPClassifier(**params), NeuralNetClassifier(**params)
    reference, mine = train_both(theirs, ours, X_CLS, Y_CLS, 400, tol=1e-3, n_iter_no_change=3)
    assert ours.n_iter_ == theirs.n_iter_ < 400  # stopped by the rule, in the same epoch
    np.testing.assert_allclose(mine, reference, rtol=1e-9)
    assert ours._optimizer.lr == pytest.approx(theirs._optimizer.learning_rate, rel=1e-12)
    if schedule == "adaptive":
        assert theirs._optimizer.learning_rate < 0.3 / 5**5  # the rate was divided several times


@pytest.mark.parametrize(
    ("ours", "theirs"), [(NeuralNetClassifier, MLPClassifier), (NeuralNetRegressor, MLPRegressor)]
)
def test_scikit_learns_parameters_and_attributes(ours, theirs):
    params = theirs().get_params()
    assert set(params) <= set(ours().get_params())
    X, y = (X_CLS, Y_CLS) if ours is NeuralNetClassifier else (X_REG, Y_REG[:, 0])
    params |= {"hidden_layer_sizes": (9, 4), "activation": "logistic", "max_iter": 3, "random_state": 0}
    a, b = ours(**params).fit(X, y), theirs(**params).fit(X, y)
    for attribute in (
        "n_layers_",
        "n_outputs_",
        "out_activation_",
        "n_iter_",
        "t_",
        "best_validation_score_",
    ):
        assert getattr(a, attribute) == getattr(b, attribute), attribute
    assert [w.shape for w in a.coefs_] == [w.shape for w in b.coefs_]
    assert [w.shape for w in a.intercepts_] == [w.shape for w in b.intercepts_]
    assert a.loss_ == a.loss_curve_[-1] == a.history_["loss"][-1] and a.best_loss_ == min(a.loss_curve_)
    assert [layer.activation.name for layer in a.network_.dense_layers[:-1]] == ["sigmoid", "sigmoid"]


def test_old_spellings_still_work_with_a_future_warning():
    params = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}
    new = NeuralNetClassifier(solver="sgd", learning_rate_init=0.02, **params).fit(X_CLS, Y_CLS)
    with pytest.warns(FutureWarning, match="learning_rate_init"):
        old = NeuralNetClassifier(solver="sgd", learning_rate=0.02, **params).fit(X_CLS, Y_CLS)
    with pytest.warns(FutureWarning, match="solver="):
        older = NeuralNetClassifier(optimizer="sgd", learning_rate_init=0.02, **params).fit(X_CLS, Y_CLS)
    for other in (old, older):
        np.testing.assert_array_equal(other.coefs_[0], new.coefs_[0])
    with pytest.raises(ValueError, match="'solver' parameter of NeuralNetClassifier"):  # lbfgs is one now
        NeuralNetClassifier(solver="newton").fit(X_CLS, Y_CLS)
    with pytest.raises(
        ValueError, match="'learning_rate' parameter of NeuralNetClassifier must be a str among"
    ):
        NeuralNetClassifier(learning_rate="cosine").fit(X_CLS, Y_CLS)


def test_sgd_is_nesterov_by_default_as_in_scikit_learn():
    clf = NeuralNetClassifier(solver="sgd", max_iter=1).fit(X_CLS, Y_CLS)
    assert clf._optimizer.nesterov and MLPClassifier().nesterovs_momentum


def test_target_scaling_is_undone_in_predict():
    y = 1000.0 + 300.0 * Y_REG[:, 0]
    reg = NeuralNetRegressor(hidden_layer_sizes=(32,), random_state=0).fit(X_REG, y)
    assert reg.network_.loss.name == "half_mse"
    assert reg.score(X_REG, y) > 0.9 and abs(reg.predict(X_REG).mean() - y.mean()) < 0.05 * y.std()
    assert abs(reg.network_.predict(X_REG).std() - 1) < 0.1  # the network itself works in standard units
    raw = NeuralNetRegressor(hidden_layer_sizes=(32,), random_state=0, target_scaling=False, max_iter=200)
    with pytest.warns(ConvergenceWarning):  # in 200 epochs the default rate cannot reach y ~ 1000
        assert raw.fit(X_REG, y).score(X_REG, y) < 0


def diabetes_r2(estimator):
    X, y = load_diabetes(return_X_y=True)
    return cross_val_score(make_pipeline(StandardScaler(), estimator), X, y, cv=5, scoring="r2").mean()


@pytest.mark.slow
def test_default_regressor_beats_mlp_regressor_on_diabetes():
    ours, theirs = diabetes_r2(NeuralNetRegressor(random_state=0)), diabetes_r2(MLPRegressor(random_state=0))
    print(f"diabetes, 5-fold CV R^2 with defaults: chainrule {ours:.3f}, MLPRegressor {theirs:.3f}")
    assert ours > 0.3 and ours > theirs + 0.5
