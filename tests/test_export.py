"""ONNX export: the graph passes onnx.checker and onnxruntime reproduces chainrule's predictions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import chainrule as cr  # noqa: E402
from tests.conftest import run  # noqa: E402


def run_onnx(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": X.astype(np.float32)})[0]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
def test_every_activation_matches_onnxruntime(activation, output, tmp_path, rng):
    layers = [
        cr.Dense(5, 7, activation if activation != "leaky_relu" else {"name": "leaky_relu", "alpha": 0.2}),
        cr.Dropout(0.3),
        cr.Dense(7, 6, activation, bias=False),
        cr.Dense(6, 3, output),
    ]
    net = cr.Network(layers, seed=1, dtype="float32")
    path = tmp_path / "net.onnx"
    model = cr.export_onnx(net, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert {n.op_type for n in model.graph.node} >= {"MatMul", "Add"}
    X = rng.normal(size=(64, 5)).astype(np.float32) * 3
    assert np.max(np.abs(run_onnx(path, X) - net.predict(X))) < 1e-5


def test_float64_networks_export_as_float32(tmp_path, rng):
    net = cr.Network([4, 8, 2], activation="tanh", output_activation="softmax", seed=0)
    cr.export_onnx(net, tmp_path / "n.onnx")
    X = rng.normal(size=(20, 4))
    assert np.max(np.abs(run_onnx(tmp_path / "n.onnx", X) - net.predict(X))) < 1e-5


def test_scikit_learn_estimator_exports(tmp_path, rng):
    pytest.importorskip("sklearn")
    from chainrule.sklearn import NeuralNetClassifier

    X = rng.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = NeuralNetClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    cr.export_onnx(clf, tmp_path / "clf.onnx")
    np.testing.assert_allclose(
        run_onnx(tmp_path / "clf.onnx", X)[:, 0], clf.predict_proba(X)[:, 1], atol=1e-5
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_cli_export_carries_the_stored_scaling(kind, folder):
    pd = pytest.importorskip("pandas")
    if kind == "classification":
        data, target, extra = "binary.csv", "admit", ["--categorical", "rank"]
    else:
        data, target, extra = "hours.csv", "score", []
    run("train", data, "--target", target, "--out", "m.npz", "--epochs", "20", "--quiet", *extra, cwd=folder)
    run("export", "m.npz", "m.onnx", cwd=folder)
    frame = pd.read_csv(folder / data)
    net = cr.load(folder / "m.npz")
    from chainrule.io.preprocessing import TablePreprocessor

    prep = TablePreprocessor.from_dict(net.metadata["preprocessing"])
    X_net = prep.transform(frame)
    raw = np.column_stack([frame[prep.numeric].to_numpy(float), X_net[:, len(prep.numeric) :]])
    expected = net.predict(X_net)
    if kind == "regression":
        expected = prep.decode(expected)[:, None]
    got = run_onnx(folder / "m.onnx", raw)
    assert np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))) < 1e-5
    model = onnx.load(folder / "m.onnx")
    props = {p.key: p.value for p in model.metadata_props}
    assert props["feature_names"].split(",") == prep.feature_names


def test_missing_onnx_names_the_install_command(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[onnx\]"'):
        cr.export_onnx(cr.Network([2, 1], seed=0), tmp_path / "x.onnx")
