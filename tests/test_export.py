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


def estimator_cases():
    """Fitted estimators of each kind, with the data they were fitted on."""
    pytest.importorskip("sklearn")
    from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor

    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 4))
    kinds = {
        "binary-integer-labels": (NeuralNetClassifier, np.where(X[:, 0] > 0, 7, 3)),
        "string-classes": (
            NeuralNetClassifier,
            np.array(["setosa", "versicolor", "virginica"])[X[:, :3].argmax(1)],
        ),
        "multilabel": (NeuralNetClassifier, np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)),
        "regressor-target-scaling": (NeuralNetRegressor, 500.0 + 80.0 * X[:, 0] - 30.0 * X[:, 1]),
        "regressor-two-targets": (NeuralNetRegressor, np.column_stack([X[:, 0], 1000.0 * X[:, 1]])),
    }
    cases = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (kind, y) in kinds.items():
            cases[name] = (kind(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y), X)
    return cases


def expected_outputs(model, X):
    if hasattr(model, "classes_"):
        return {"label": model.predict(X), "probabilities": model.predict_proba(X)}
    return {"output": model.predict(X).reshape(len(X), -1)}


def assert_outputs_match(got, expected):
    assert set(got) == set(expected)
    for name, value in expected.items():
        if name == "label":
            np.testing.assert_array_equal(got[name].astype(value.dtype), value)
        else:  # float32 graph: relative to the size of the numbers
            np.testing.assert_allclose(got[name], value, rtol=2e-5, atol=2e-5 * np.abs(value).max())


@pytest.mark.parametrize(
    "case",
    [
        "binary-integer-labels",
        "string-classes",
        "multilabel",
        "regressor-target-scaling",
        "regressor-two-targets",
    ],
)
def test_scikit_learn_estimator_exports(case, tmp_path):
    model, X = estimator_cases()[case]
    exported = cr.export_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    got = dict(zip(names, session.run(None, {"input": X.astype(np.float32)}), strict=True))
    assert_outputs_match(got, expected_outputs(model, X))
    if hasattr(model, "classes_"):
        props = {p.key: p.value for p in exported.metadata_props}
        assert props["classes"].split(",") == [str(c) for c in model.classes_]


def test_files_use_what_the_oldest_allowed_onnxruntime_reads(tmp_path):
    """onnxruntime 1.17 (the extra's floor) reads IR version <= 9 and opset <= 20.

    Its release notes list ONNX 1.15 support, which onnx's own table maps to IR 9, opset 20;
    tests/test_onnx_runtime_floor.py loads the files in that runtime itself.
    """
    model = cr.export_onnx(cr.Network([3, 4, 2], output_activation="softmax", seed=0), tmp_path / "n.onnx")
    ir_floor, opset_floor = next((ir, op) for v, ir, op, *_ in onnx.helper.VERSION_TABLE if v == "1.15.0")
    assert (ir_floor, opset_floor) == (9, 20)
    assert model.ir_version <= ir_floor and model.opset_import[0].version <= opset_floor
    assert model.ir_version == onnx.helper.find_min_ir_version_for(list(model.opset_import))


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
    model = cr.load(folder / "m.npz")
    net, prep = model.network, model.preprocessor
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


@pytest.mark.parametrize("case", ["binary-integer-labels", "string-classes", "regressor-two-targets"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_skl2onnx_converts_pipelines_ending_in_an_estimator(case, dtype):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model, X = estimator_cases()[case]
    X = X * 10 + 3  # the scaler in the pipeline has work to do
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), clone(model)).fit(X, model.predict(X / 10 - 0.3))
    options = {"zipmap": False} if hasattr(model, "classes_") else None
    onx = skl2onnx.to_onnx(pipe, X[:1].astype(dtype), options=options)
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})
    expected = expected_outputs(pipe, X)
    assert_outputs_match(dict(zip(expected, got, strict=True)), expected)
