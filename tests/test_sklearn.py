"""The scikit-learn estimators: scikit-learn's own conformance checks, and each feature they add."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

RANDOM_MASKS = (
    "dropout masks and the validation split are random draws, so a weight of 2 cannot equal a "
    "repeated row (and removing rows changes which rows are held out)"
)
NO_PARTIAL_FIT_WITH_EARLY_STOPPING = (
    "partial_fit refuses early_stopping=True, as MLPClassifier's and MLPRegressor's do (scikit-learn "
    "1.9 raises the same ValueError); the check calls partial_fit"
)
PARTIAL_FIT_CHECKS = {
    name: NO_PARTIAL_FIT_WITH_EARLY_STOPPING
    for name in (
        "check_estimators_partial_fit_n_features",
        "check_fit_score_takes_y",
        "check_n_features_in_after_fitting",
    )
}
EARLY_STOP_ON_TINY_DATA = (
    "the check trains on a small data set and asks for high recall of the up-weighted class; "
    "early stopping on a 10% hold-out stops before that class is learned (it passes without "
    "early stopping, as the plain classifier's run shows)"
)


@pytest.mark.parametrize(
    ("estimator", "expected_failures"),
    [
        (NeuralNetClassifier(random_state=0), {}),
        (NeuralNetRegressor(random_state=0), {}),
        (
            NeuralNetClassifier(
                hidden_layer_sizes=(16, 8),
                activation=["leaky_relu", "tanh"],
                dropout=0.2,
                early_stopping=True,
                random_state=0,
            ),
            {
                "check_sample_weight_equivalence_on_dense_data": RANDOM_MASKS,
                "check_class_weight_classifiers": EARLY_STOP_ON_TINY_DATA,
                **PARTIAL_FIT_CHECKS,
            },
        ),
        (
            NeuralNetRegressor(
                loss="mae", solver="rmsprop", dropout=0.1, early_stopping=True, random_state=0
            ),
            {"check_sample_weight_equivalence_on_dense_data": RANDOM_MASKS, **PARTIAL_FIT_CHECKS},
        ),
    ],
    ids=["classifier", "regressor", "classifier-dropout-early-stopping", "regressor-mae-rmsprop-dropout"],
)
def test_passes_scikit_learns_estimator_checks(estimator, expected_failures):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = check_estimator(estimator, expected_failed_checks=expected_failures, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:300] for r in results if r["status"] == "failed"}
    assert failed == {}
    assert {r["check_name"] for r in results if r["status"] == "xfail"} == set(expected_failures)


@pytest.fixture
def blobs():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y


def test_string_labels_probabilities_and_score(blobs):
    X, y = blobs
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = NeuralNetClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0).fit(
        X, labels
    )
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) > 0.85


def test_multilabel_and_multioutput_targets():
    X, y = make_classification(n_samples=200, n_features=5, random_state=1)
    Y = np.column_stack([y, 1 - y, X[:, 0] > 0]).astype(int)
    clf = NeuralNetClassifier(
        hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=150, random_state=0
    ).fit(X, Y)
    assert clf.predict(X).shape == (200, 3) and clf.predict_proba(X).shape == (200, 3)
    assert (clf.predict(X) == Y).mean() > 0.85
    Xr, yr = make_regression(n_samples=200, n_features=4, n_targets=2, noise=0.1, random_state=0)
    reg = NeuralNetRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300, random_state=0)
    reg.fit(Xr, yr / yr.std())
    assert reg.predict(Xr).shape == (200, 2) and reg.score(Xr, yr / yr.std()) > 0.9


def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = make_pipeline(
        StandardScaler(), NeuralNetClassifier(learning_rate_init=0.01, max_iter=60, random_state=0)
    )
    search = GridSearchCV(pipe, {"neuralnetclassifier__hidden_layer_sizes": [(8,), (32,)]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_["neuralnetclassifier__hidden_layer_sizes"] in [(8,), (32,)]
    assert search.score(X, y) > 0.75  # chance is 0.33


def test_pickle_round_trip_and_chainrules_own_format(blobs, tmp_path):
    X, y = blobs
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    cr.save(clf.network_, tmp_path / "net.npz")  # the safe format: the network itself
    np.testing.assert_array_equal(cr.load(tmp_path / "net.npz").predict(X), clf.predict_proba(X)[:, :])


def test_dataframes_give_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=80, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NeuralNetClassifier(max_iter=5, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c"] and clf.n_features_in_ == 3


# ------------------------------------------------------------------ beyond MLPClassifier
# One test per row of the README's table of what the estimators add.


def test_per_layer_activations_and_leaky_relu(blobs):
    X, y = blobs
    clf = NeuralNetClassifier(
        hidden_layer_sizes=(16, 8), activation=["leaky_relu", "tanh"], max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    dense = clf.network_.dense_layers
    assert [layer.activation.name for layer in dense] == ["leaky_relu", "tanh", "softmax"]
    with pytest.raises(ValueError, match="one per hidden layer"):
        NeuralNetClassifier(hidden_layer_sizes=(4, 4), activation=["relu"]).fit(X, y)


def test_dropout_layers_are_active_in_training_only(blobs):
    X, y = blobs
    clf = NeuralNetClassifier(hidden_layer_sizes=(32,), dropout=0.5, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert any(isinstance(layer, cr.Dropout) for layer in clf.network_.layers)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))  # no masks at inference


def test_any_chainrule_loss_mae_for_regression():
    X, y = make_regression(n_samples=200, n_features=3, noise=0.1, random_state=0)
    y = y / y.std()
    y[:10] += 50  # outliers: MAE resists them, MSE does not
    maes = {}
    for loss in ("mse", "mae"):
        reg = NeuralNetRegressor(
            hidden_layer_sizes=(16,), loss=loss, learning_rate_init=0.01, max_iter=300, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X, y)
        assert reg.network_.loss.name == loss
        maes[loss] = np.median(np.abs(reg.predict(X[10:]) - y[10:]))
    assert maes["mae"] < maes["mse"]


def test_class_weight_shifts_the_decision_toward_the_rare_class():
    X, y = make_classification(n_samples=400, n_features=4, weights=[0.9, 0.1], class_sep=0.5, random_state=0)
    recall = {}
    for weight in (None, "balanced"):
        clf = NeuralNetClassifier(hidden_layer_sizes=(16,), max_iter=100, class_weight=weight, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        recall[weight] = (clf.predict(X[y == 1]) == 1).mean()
    assert recall["balanced"] > recall[None]


def test_sample_weight_equals_repeated_rows():
    X, y = make_classification(n_samples=40, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    w = np.random.default_rng(0).integers(1, 4, 40)
    a = NeuralNetClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0, n_iter_no_change=100)
    b = NeuralNetClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0, n_iter_no_change=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y, sample_weight=w)
        # both full-batch: 40 weighted rows, and the same rows repeated
        b.set_params(batch_size=int(w.sum())).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6)


def test_early_stopping_restores_the_best_validation_weights(blobs):
    X, y = blobs
    snapshots = []
    snapshot = cr.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(clf.network_.get_weights()))
    clf = NeuralNetClassifier(
        hidden_layer_sizes=(64,),
        learning_rate_init=0.05,
        early_stopping=True,
        n_iter_no_change=5,
        max_iter=300,
        random_state=0,
        callbacks=[snapshot],
    )
    clf.fit(X, y)
    scores = clf.validation_scores_  # scikit-learn's rule: the held-out accuracy
    assert len(scores) == len(clf.validation_loss_curve_) == len(clf.loss_curve_) == clf.n_iter_
    assert clf.n_iter_ == len(snapshots) < 300 and clf.best_loss_ is None
    best = int(np.argmax(scores))
    assert clf.best_validation_score_ == scores[best]
    assert best < len(scores) - 1  # it went on past the best epoch, then stopped...
    for got, kept in zip(clf.network_.get_weights(), snapshots[best], strict=True):  # ...and kept the best
        for key in kept:
            np.testing.assert_array_equal(got[key], kept[key])


def test_callbacks_and_verbose_progress(blobs, capsys):
    X, y = blobs
    seen = []
    clf = NeuralNetClassifier(
        hidden_layer_sizes=(8,),
        max_iter=10,
        verbose=2,
        random_state=0,
        callbacks=[cr.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert seen == list(range(10))
    printed = capsys.readouterr()
    assert "Iteration 10, loss = " in printed.out  # scikit-learn's lines (verbose=1 and more)
    assert "10/10" in printed.err  # verbose=2: a tqdm bar, or "epoch 10/10" lines without tqdm


def test_optimizers_and_partial_fit_and_warm_start(blobs):
    X, y = blobs
    for optimizer in ("sgd", "adam", "rmsprop"):
        clf = NeuralNetClassifier(
            hidden_layer_sizes=(16,), solver=optimizer, learning_rate_init=0.01, random_state=0
        )
        for _ in range(3):
            clf.partial_fit(X, y, classes=np.unique(y))
        assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
        assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    warm = NeuralNetClassifier(hidden_layer_sizes=(16,), max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X, y)
        first = warm.network_.get_weights()[0]["W"].copy()
        warm.fit(X, y)
    # as in scikit-learn: n_iter_ counts this fit's epochs, loss_curve_ goes on from the last fit
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 10
    assert not np.array_equal(first, warm.network_.get_weights()[0]["W"])


def test_the_mlp_comparison_is_like_for_like(blobs):
    """Sanity: on the same problem both reach similar accuracy, so the extras are extras."""
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = (
            NeuralNetClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X, y).score(X, y)
        )
        theirs = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X, y).score(X, y)
    assert abs(ours - theirs) < 0.05
