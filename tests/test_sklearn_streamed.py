"""The estimators given Dask arrays and DataFrames: streamed block by block, never computed whole.

With one block, ``fit`` gives the weights of the same fit on NumPy arrays (every solver, with
and without sample weights); with several, no task of the run ever holds more than a block
(watched with a Dask callback on every task's result), and the checks scikit-learn's
``validate_data`` makes still hold.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

from dask.callbacks import Callback  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

RNG = np.random.default_rng(7)
X = RNG.normal(size=(300, 4))
LABELS = np.where(X[:, 0] + X[:, 1] > 0, "up", "down")
AMOUNTS = X @ [1.0, 2.0, -1.0, 0.5] + 3.0
WEIGHTS = RNG.uniform(0.5, 2.0, 300)


def estimator(kind, solver, **options):
    cls = NeuralNetClassifier if kind == "classifier" else NeuralNetRegressor
    return cls(hidden_layer_sizes=(5,), max_iter=6, random_state=0, solver=solver, **options)


def fitted(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def parameters(model):
    return [*model.coefs_, *model.intercepts_]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_block_gives_the_in_memory_weights(kind, solver, weighted):
    y = LABELS if kind == "classifier" else AMOUNTS
    weights = WEIGHTS if weighted else None
    memory = fitted(estimator(kind, solver), X, y, sample_weight=weights)
    streamed = fitted(
        estimator(kind, solver),
        da.from_array(X, chunks=-1),
        da.from_array(y, chunks=-1),
        sample_weight=None if weights is None else da.from_array(weights, chunks=-1),
    )
    for left, right in zip(parameters(memory), parameters(streamed), strict=True):
        np.testing.assert_array_equal(left, right)
    assert streamed.loss_curve_ == memory.loss_curve_
    np.testing.assert_array_equal(streamed.predict(X), memory.predict(X))


class LargestResult(Callback):
    """The most bytes any one task's result held (a whole-array compute would show it)."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.largest = max(self.largest, getattr(result, "nbytes", 0))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_several_blocks_are_never_computed_whole(kind):
    y = LABELS if kind == "classifier" else AMOUNTS
    with LargestResult() as watch:
        model = fitted(
            estimator(kind, "adam", batch_size=20, learning_rate_init=0.01),
            da.from_array(X, chunks=60),
            da.from_array(y, chunks=60),
        )
    assert watch.largest <= X[:60].nbytes, f"a task held {watch.largest} bytes; a block is {X[:60].nbytes}"
    assert model.n_iter_ == 6 and model.score(X, y) > 0.75  # in memory: 0.95 and 0.81


def test_dataframes_set_feature_names_and_partial_fit_continues():
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(label=LABELS)
    blocks = dd.from_pandas(frame, npartitions=3)
    model = NeuralNetClassifier(hidden_layer_sizes=(5,), random_state=0)
    model.partial_fit(blocks[["a", "b", "c", "d"]], blocks["label"], classes=["down", "up"])
    assert model.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    assert model.classes_.tolist() == ["down", "up"] and model.n_iter_ == 1
    model.partial_fit(blocks[["a", "b", "c", "d"]], blocks["label"])
    assert model.n_iter_ == 2
    with pytest.raises(ValueError, match="X has 3 features, but NeuralNetClassifier is expecting 4"):
        model.partial_fit(blocks[["a", "b", "c"]], blocks["label"])
    assert model.n_iter_ == 2


def test_what_needs_rows_in_memory_is_refused_and_changes_nothing():
    Xd, yd = da.from_array(X, chunks=100), da.from_array(LABELS, chunks=100)
    with pytest.raises(ValueError, match="early_stopping=False"):
        NeuralNetClassifier(early_stopping=True).fit(Xd, yd)
    model = NeuralNetClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="class_weight needs arrays in memory"):
        model.fit(Xd, yd)
    assert not hasattr(model, "n_features_in_")
    with pytest.raises(ValueError, match="one label per row"):
        NeuralNetClassifier().fit(Xd, da.from_array(np.eye(2)[(LABELS == "up").astype(int)], chunks=100))
