"""On a Dask LocalCluster with two worker processes: data-parallel L-BFGS equals the single-process
fit, and dask-ml's Incremental, IncrementalSearchCV and HyperbandSearchCV drive the estimators.

One cluster serves the whole module (2 processes, 1 thread each, NumPy kernels so that no worker
spends its time compiling). Marked ``cluster``: ``pytest -m cluster`` runs only these.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")
da = pytest.importorskip("dask.array")

import dask  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.dask import fit_lbfgs  # noqa: E402
from chainrule.sklearn import NeuralNetClassifier  # noqa: E402

pytestmark = pytest.mark.cluster

X, LABELS = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=3, random_state=0)
Y = np.eye(3)[LABELS]
WEIGHTS = np.random.default_rng(0).uniform(0.5, 2.0, 400)


@pytest.fixture(scope="module")
def client():
    previous = os.environ.get("CHAINRULE_BACKEND")
    os.environ["CHAINRULE_BACKEND"] = "numpy"  # inherited by the worker processes
    try:
        with (
            # Dask's memory manager drops extra replicas of data no task waits for (every 2 s by
            # default); run it every 20 ms so a fit that relied on broadcast copies would show it
            dask.config.set({"distributed.scheduler.active-memory-manager.interval": "20ms"}),
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
    finally:
        if previous is None:
            os.environ.pop("CHAINRULE_BACKEND", None)
        else:
            os.environ["CHAINRULE_BACKEND"] = previous


def network():
    return cr.Network([6, 8, 3], activation="tanh", output_activation="softmax", seed=0)


def assert_same_weights(a, b, atol):
    for left, right in zip(a.get_weights(), b.get_weights(), strict=True):
        for key in left:
            np.testing.assert_allclose(right[key], left[key], rtol=0, atol=atol)


@pytest.mark.parametrize("weighted", [False, True])
def test_data_parallel_lbfgs_equals_the_single_process_fit(client, weighted):
    weights = WEIGHTS if weighted else None
    single = network()
    expected = single.fit(X, Y, optimizer=cr.LBFGS(l2=1e-3), epochs=20, sample_weight=weights)
    spread = network()
    chunks = (100, 120, 80, 100)  # four blocks of different sizes, on two workers
    with distributed.get_task_stream(client) as stream:
        history = fit_lbfgs(
            spread,
            da.from_array(X, chunks=(chunks, 6)),
            da.from_array(Y, chunks=(chunks, 3)),
            max_iter=20,
            l2=1e-3,
            sample_weight=None if weights is None else da.from_array(weights, chunks=(chunks,)),
        )
    assert_same_weights(single, spread, atol=1e-10)
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-12)
    assert history.result["nit"] == 20 and history.result["blocks"] == 4 and history.result["workers"] == 2
    evaluations = [task for task in stream.data if "block_loss" in str(task["key"])]
    assert len({task["worker"] for task in evaluations}) == 2  # both workers computed gradients


def test_blocks_stay_on_their_workers(client):
    """Each evaluation runs where its block lives: only the weights (sent to every worker
    beforehand) and the gradients travel, so no evaluation waits for a transfer."""
    with distributed.get_task_stream(client) as stream:
        fit_lbfgs(network(), da.from_array(X, chunks=100), da.from_array(Y, chunks=(100, 3)), max_iter=3)
    evaluations = [task for task in stream.data if "block_loss" in str(task["key"])]
    assert len(evaluations) >= 4 * 3
    for task in evaluations:
        assert not [step for step in task["startstops"] if step["action"] == "transfer"]


def test_dask_ml_incremental_trains_the_classifier_block_by_block(client):
    from dask_ml.wrappers import Incremental

    Xd, yd = da.from_array(X[:300], chunks=60), da.from_array(LABELS[:300], chunks=60)
    model = Incremental(
        NeuralNetClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.02, batch_size=20, random_state=0),
        scoring="accuracy",
    )
    for _ in range(3):
        model.partial_fit(Xd, yd, classes=[0, 1, 2])
    assert model.estimator_.n_iter_ == 15  # 3 passes over 5 blocks: one epoch per block
    assert model.score(da.from_array(X[300:], chunks=50), da.from_array(LABELS[300:], chunks=50)) > 0.7


def test_dask_ml_searches_run_on_the_cluster(client):
    from dask_ml.model_selection import HyperbandSearchCV, IncrementalSearchCV

    Xd, yd = da.from_array(X[:300], chunks=60), da.from_array(LABELS[:300], chunks=60)
    params = {"learning_rate_init": [0.003, 0.03], "hidden_layer_sizes": [(4,), (16,)]}
    estimator = NeuralNetClassifier(batch_size=20, random_state=0)
    with warnings.catch_warnings(), dask.config.set(scheduler=client.get):
        # dask-ml 2025.1 calls dask.persist inside its asynchronous loop; with the current
        # dask that raises "asynchronous Client in a synchronous context" unless the
        # scheduler is given as the client's get (docs/guides/scaling.md)
        warnings.simplefilter("ignore", ConvergenceWarning)
        incremental = IncrementalSearchCV(
            estimator, params, n_initial_parameters=4, max_iter=4, random_state=0
        )
        incremental.fit(Xd, yd, classes=[0, 1, 2])
        hyperband = HyperbandSearchCV(estimator, params, max_iter=4, random_state=0)
        hyperband.fit(Xd, yd, classes=[0, 1, 2])
    held_out = da.from_array(X[300:], chunks=50), da.from_array(LABELS[300:], chunks=50)
    for search in (incremental, hyperband):
        assert search.best_params_ in [
            dict(zip(params, v, strict=True))
            for v in [(a, b) for a in params["learning_rate_init"] for b in params["hidden_layer_sizes"]]
        ]
        assert search.score(*held_out) > 0.6
    assert hyperband.metadata_["partial_fit_calls"] > 0


def test_cli_scheduler_reads_the_blocks_on_the_workers(client, tmp_path, capsys):
    import pandas as pd

    from chainrule.cli.main import main

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)]).assign(label=LABELS)
    (tmp_path / "data").mkdir()
    for i in range(4):
        frame.iloc[i * 100 : (i + 1) * 100].to_parquet(tmp_path / "data" / f"part{i}.parquet")
    options = ["train", str(tmp_path / "data" / "*.parquet"), "--target", "label", "--epochs", "3", "--quiet"]
    assert main([*options, "--out", str(tmp_path / "local.npz")]) == 0
    with distributed.get_task_stream(client) as tasks:
        address = client.scheduler.address
        assert main([*options, "--out", str(tmp_path / "cluster.npz"), "--scheduler", address]) == 0
    assert "trained 3 epochs on 400 rows" in capsys.readouterr().out
    ran = {task["key"][0] if isinstance(task["key"], tuple) else task["key"] for task in tasks.data}
    assert any("summary" in str(key).lower() or "of-" in str(key) for key in ran), sorted(map(str, ran))[:10]
    local, remote = cr.load(tmp_path / "local.npz"), cr.load(tmp_path / "cluster.npz")
    assert_same_weights(local.network, remote.network, atol=0)
    failed = main([*options, "--out", str(tmp_path / "x.npz"), "--scheduler", "tcp://127.0.0.1:9"])
    assert failed == 1 and "cannot reach a Dask scheduler" in capsys.readouterr().err


@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_estimator_with_a_client_evaluates_on_the_workers(client, weighted):
    weights = WEIGHTS if weighted else None
    options = {"solver": "lbfgs", "hidden_layer_sizes": (8,), "max_iter": 30, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = NeuralNetClassifier(**options).fit(X, LABELS, sample_weight=weights)
        spread = NeuralNetClassifier(**options).fit(
            da.from_array(X, chunks=100),
            da.from_array(LABELS, chunks=100),
            sample_weight=None if weights is None else da.from_array(weights, chunks=100),
        )
    assert spread.history_.result["workers"] == 2 and spread.history_.result["blocks"] == 4
    assert spread.n_iter_ == local.n_iter_
    for left, right in zip(local.coefs_ + local.intercepts_, spread.coefs_ + spread.intercepts_, strict=True):
        np.testing.assert_allclose(right, left, rtol=0, atol=1e-10)
