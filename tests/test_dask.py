"""Scale-out: a hyperparameter search over chainrule estimators on a Dask cluster (joblib's Dask
backend) gives the same result as the same search run locally."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")

import joblib  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from chainrule.sklearn import NeuralNetClassifier  # noqa: E402

GRID = {"hidden_layer_sizes": [(4,), (16,)], "learning_rate_init": [0.001, 0.01], "dropout": [0.0, 0.2]}


def search(n_jobs):
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=0)
    grid = GridSearchCV(NeuralNetClassifier(max_iter=40, random_state=0), GRID, cv=3, n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return grid.fit(X, y)


@pytest.mark.slow
def test_grid_search_on_a_two_worker_cluster_equals_the_local_search():
    local = search(n_jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask"),
    ):
        remote = search(n_jobs=-1)
    assert len({task["worker"] for task in stream.data}) == 2  # the fits ran on both worker processes
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=0, atol=1e-12
    )
    probe = np.eye(5)
    np.testing.assert_allclose(
        remote.best_estimator_.predict_proba(probe), local.best_estimator_.predict_proba(probe), rtol=1e-9
    )
