"""Issue 23, part 7 on the server: engineered features, L1 and refused settings (no browser).

The features are derived columns of the table preprocessing (`chainrule.io.derived`), so a
downloaded model predicts from the raw x1, x2 as the page does.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.live.data import builtin_frame
from tests.conftest import run
from tests.playground.conftest import api, request

CHOSEN = ["x1", "x1^2", "x1*x2", "sin(x2)"]


def _configure(handle, **changes):
    return api(handle, "POST", "/api/command", {"cmd": "config", "config": changes})


def _training_rows(n: int, ratio: float = 0.5, seed: int = 0) -> np.ndarray:
    """The page's training rows, drawn here as its split is documented (seeded permutation)."""
    order = np.random.default_rng([seed, 11]).permutation(n)
    return np.sort(order[: round(n * ratio)])


def _raw(plane: np.ndarray) -> np.ndarray:
    """The four CHOSEN features of raw points, computed here by hand."""
    a, b = plane[:, 0], plane[:, 1]
    return np.column_stack([a, a * a, a * b, np.sin(b)])


def test_chosen_features_are_the_network_inputs_computed_from_the_raw_plane(playground):
    status, _ = _configure(playground, dataset="circle", features=["sin(x2)", "x1*x2", "x1", "x1^2"])
    assert status == 200
    session = playground.session
    assert session.config["features"] == CHOSEN  # kept in the listing's order
    assert session.net.sizes[0] == 4 and session.data.features == CHOSEN
    plane = builtin_frame("circle", 300, 0.1, 0)[["x1", "x2"]].to_numpy()
    train = _training_rows(300)
    np.testing.assert_array_equal(session.data.train, train)
    features = _raw(plane)[train]  # standard scaling, statistics of the training rows only
    mean, std = features.mean(axis=0), features.std(axis=0)
    assert not np.allclose(mean, _raw(plane).mean(axis=0), atol=1e-3)  # the test rows would change it
    np.testing.assert_allclose(session.data.X, (_raw(plane) - mean) / std, rtol=1e-10, atol=1e-12)
    # the view stays the raw plane; every grid point's inputs are its own features, scaled alike
    data = api(playground, "GET", "/api/data")[1]
    assert data["plane"] and data["axes"] == ["x1", "x2"] and data["held"] is None
    np.testing.assert_allclose(data["points"]["x"][:5], np.round(plane[:5, 0], 5))
    x0, x1, y0, y1 = session.data.domain()
    corners = np.array([[x0, y1], [x1, y1], [x0, y0], [x1, y0]])  # the grid's rows run from the top
    expected = (_raw(corners) - mean) / std
    np.testing.assert_allclose(session.data.grid_inputs(2), expected, rtol=1e-10, atol=1e-12)


def test_the_features_are_listed_from_their_one_home(playground):
    from chainrule.io.derived import PLAYGROUND
    from chainrule.live.features import FEATURES

    assert FEATURES == list(PLAYGROUND)
    options = api(playground, "GET", "/api/state")[1]["options"]
    assert [f["name"] for f in options["features"]] == list(FEATURES)
    assert {"x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"} <= set(FEATURES)


def test_a_downloaded_model_keeps_its_features_and_info_prints_its_date(playground, tmp_path):
    pd = pytest.importorskip("pandas")
    _configure(playground, dataset="xor", features=CHOSEN, l1=0.001)
    for _ in range(3):
        api(playground, "POST", "/api/command", {"cmd": "step"})
    status, _, body = request(playground, "GET", "/api/model")
    assert status == 200
    (tmp_path / "model.npz").write_bytes(body)
    model = cr.load(tmp_path / "model.npz")
    training = model.metadata["training"]
    assert training["features"] == {"x1": "x1", "x1^2": "x1 ** 2", "x1*x2": "x1 * x2", "sin(x2)": "sin(x2)"}
    assert training["optimizer"]["l1"] == 0.001
    assert model.feature_names == ["x1", "x2"]  # the raw columns: the features are derived from them
    # the saved model predicts from raw x1, x2 (its stored preprocessing computes the features)
    frame = builtin_frame("xor", 300, 0.1, 0)
    raw = frame[["x1", "x2"]]
    session = playground.session
    expected = session.net.predict(session.data.X)[:, 0]  # the page's own outputs
    # ... equal to the network on features computed here by hand, scaled by the training rows
    hand = _raw(raw.to_numpy())
    train = _training_rows(300)
    mean, std = hand[train].mean(axis=0), hand[train].std(axis=0)
    np.testing.assert_allclose(session.net.predict((hand - mean) / std)[:, 0], expected, rtol=1e-12)
    np.testing.assert_array_equal(model.predict_proba(raw)[:, 1], expected)  # bit for bit
    np.testing.assert_array_equal(model.predict(raw), (expected > 0.5).astype(int))
    # chainrule predict on a CSV of raw x1, x2 writes the same numbers
    raw.to_csv(tmp_path / "rows.csv", index=False)
    run("predict", "model.npz", "rows.csv", "--proba", "--out", "out.csv", cwd=tmp_path)
    written = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(written["proba_1"].to_numpy(), expected, rtol=1e-12)
    # rows without a raw column are refused, naming it and the columns the model needs
    with pytest.raises(cr.InputError, match=r"column 'x2' is missing from the data \(the model needs: x1"):
        model.predict(raw[["x1"]])
    result = run("info", "model.npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert " at ?" not in result.stdout and "at 20" in result.stdout
    assert "x1^2 = x1 ** 2" in result.stdout and "train: loss" in result.stdout


NONSENSE = [
    ({"lr": 0}, "lr must be greater than 0"),
    ({"lr": -0.1}, "lr must be greater than 0"),
    ({"lr": "NaN"}, "lr must be greater than 0"),
    ({"batch_size": 151}, "batch size 151 is larger than the 150 training rows"),
    ({"layers": [{"units": 0}]}, "layer 1 units must be between 1"),
    ({"layers": [{"units": 2}] * 13}, "at most 12 hidden layers"),
    ({"features": []}, "choose at least one input feature"),
    ({"features": ["x3"]}, "unknown feature(s) x3"),
    ({"l1": -1}, "l1 must be between 0"),
    ({"n": 50, "batch_size": 30}, "batch size 30 is larger than the 25 training rows"),
    ({"output": "softmax"}, "softmax over one output unit is always 1"),
    ({"loss": "categorical_crossentropy"}, "needs one output unit per class"),
    ({"output": "identity", "loss": "binary_crossentropy"}, "needs outputs between 0 and 1"),
    ({"dataset": "surface", "loss": "binary_crossentropy"}, "this target is a number (regression)"),
]


@pytest.mark.parametrize("changes,message", NONSENSE, ids=[str(c) for c, _ in NONSENSE])
def test_nonsense_settings_get_a_400_naming_the_fix_and_change_nothing(playground, changes, message):
    api(playground, "POST", "/api/command", {"cmd": "step"})
    session = playground.session
    before = (dict(session.config), session.epoch, session.net.layers[0].params["W"].copy(), session.data)
    status, reply = _configure(playground, **changes)
    assert status == 400 and message in reply["error"], reply
    assert session.config == before[0] and session.epoch == before[1] == 1 and session.data is before[3]
    np.testing.assert_array_equal(session.net.layers[0].params["W"], before[2])


def test_evaluate_explain_and_info_of_a_page_model_take_raw_columns(playground, tmp_path):
    _configure(playground, dataset="xor", features=["x1^2", "x1*x2", "sin(x2)"])
    api(playground, "POST", "/api/command", {"cmd": "step"})
    (tmp_path / "model.npz").write_bytes(request(playground, "GET", "/api/model")[2])
    frame = builtin_frame("xor", 300, 0.1, 0)
    frame.to_csv(tmp_path / "rows.csv", index=False)  # x1, x2, label: raw columns only
    session = playground.session
    page = (session.net.predict(session.data.X)[:, 0] > 0.5).astype(int)
    accuracy = float(np.mean(page == frame["label"].to_numpy()))
    out = run("evaluate", "model.npz", "rows.csv", cwd=tmp_path).stdout
    assert f"accuracy: {accuracy:.6g}" in out, out
    # explain one raw row: each feature computed from x1 = 1.5, x2 = -2, then scaled as in training
    out = run("explain", "model.npz", "--input", "1.5,-2", "--target", "1", cwd=tmp_path).stdout
    hand = np.array([1.5**2, 1.5 * -2, np.sin(-2.0)])
    raw = frame[["x1", "x2"]].to_numpy()[_training_rows(300)]
    features = np.column_stack([raw[:, 0] ** 2, raw[:, 0] * raw[:, 1], np.sin(raw[:, 1])])
    scaled = (hand - features.mean(axis=0)) / features.std(axis=0)
    for name, text, value, net_input in zip(
        ["x1^2", "x1*x2", "sin(x2)"], ["x1 ** 2", "x1 * x2", "sin(x2)"], hand, scaled, strict=True
    ):
        assert f"  {name} = {text}: {value} -> {net_input:.8g} (standard scaling)" in out, out
    out = run("info", "model.npz", cwd=tmp_path).stdout
    assert "computed from the raw columns x1, x2: x1^2 = x1 ** 2, x1*x2 = x1 * x2, sin(x2) = sin(x2)" in out


def test_the_pages_onnx_download_computes_the_features_from_raw_x1_x2(playground, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    _configure(playground, dataset="circle", features=["x2", "x1^2", "x2^2", "sin(x1)"])
    api(playground, "POST", "/api/command", {"cmd": "step"})
    status, _, body = request(playground, "GET", "/api/model.onnx")
    assert status == 200
    (tmp_path / "model.onnx").write_bytes(body)
    session = playground.session
    expected = session.net.predict(session.data.X)[:, 0]
    raw = builtin_frame("circle", 300, 0.1, 0)[["x1", "x2"]].to_numpy(dtype=np.float32)
    graph = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert graph.get_modelmeta().custom_metadata_map["feature_names"] == "x2,x1"
    out = graph.run(None, {"input": raw[:, [1, 0]]})[0][:, 0]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_a_model_file_with_an_unknown_formula_is_refused(playground, tmp_path):
    import json

    from chainrule.io.model_file import HEADER_KEY

    _configure(playground, dataset="circle", features=["x1^2", "x2^2"])
    (tmp_path / "model.npz").write_bytes(request(playground, "GET", "/api/model")[2])
    assert cr.load(tmp_path / "model.npz").preprocessor.derived[0].formula == "square"
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays[HEADER_KEY].tobytes())
    stored = header["metadata"]["preprocessing"]["derived"]
    assert stored[0] == {"name": "x1^2", "formula": "square", "of": ["x1"]}  # data, never code
    stored[0]["formula"] = "cube"
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    refused = r"bad.npz: .*'x1\^2' uses the formula 'cube'.*never holds code"
    with pytest.raises(cr.ModelFileError, match=refused):
        cr.load(tmp_path / "bad.npz")
    pd = pytest.importorskip("pandas")
    pd.DataFrame({"x1": [1.0], "x2": [2.0]}).to_csv(tmp_path / "rows.csv", index=False)
    result = run("predict", "bad.npz", "rows.csv", cwd=tmp_path, ok=False)
    assert result.returncode != 0 and "'cube'" in result.stderr, result.stderr


def test_a_table_is_scaled_by_its_training_rows_only():
    pd = pytest.importorskip("pandas")
    from chainrule.live.data import prepare

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(5, 2, 40), "b": rng.uniform(0, 9, 40), "y": rng.normal(0, 1, 40)})
    train = _training_rows(40, 0.6, 4)
    held_out = sorted(set(range(40)) - set(train.tolist()))[0]
    frame.loc[held_out, "a"] = 1000.0  # one outlier in a test row: it must not move the scaling
    prepared = prepare(frame, "y", train_ratio=0.6, seed=4)
    np.testing.assert_array_equal(prepared.train, train)
    values = frame[["a", "b"]].to_numpy()[train]
    np.testing.assert_allclose(prepared.prep.scaler.offset, values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(prepared.prep.scaler.scale, values.std(axis=0), rtol=1e-12)
    y = frame["y"].to_numpy()[train]
    np.testing.assert_allclose(prepared.prep.target_scaler.offset, [y.mean()], rtol=1e-12)
    np.testing.assert_allclose(prepared.X[train].mean(axis=0), 0.0, atol=1e-12)


def test_missing_cells_are_filled_from_the_training_rows_only():
    pd = pytest.importorskip("pandas")
    from chainrule.live.data import prepare

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(5, 2, 40), "b": rng.uniform(0, 9, 40), "y": rng.normal(0, 1, 40)})
    train = _training_rows(40, 0.6, 4)
    test = sorted(set(range(40)) - set(train.tolist()))
    frame.loc[test[0], "a"] = 1000.0  # an outlier in a test row must not move the fill value
    frame.loc[[int(train[0]), test[1]], "a"] = np.nan  # one missing cell in each part
    for strategy, statistic in (("mean", np.mean), ("median", np.median)):
        prepared = prepare(frame, "y", train_ratio=0.6, seed=4, missing=strategy)
        present = frame["a"].to_numpy()[train]
        expected = statistic(present[~np.isnan(present)])
        assert prepared.prep.fill["a"] == pytest.approx(expected, rel=1e-12)
        assert prepared.frame.loc[test[1], "a"] == pytest.approx(expected, rel=1e-12)


def test_switching_data_set_resets_the_task_to_the_sets_own(playground):
    status, reply = _configure(playground, dataset="circle", task="regression")
    assert status == 200, reply
    session = playground.session
    assert session.data.task == "regression"
    status, reply = _configure(playground, dataset="blobs3")
    assert status == 200, reply
    assert session.config["task"] == "auto" and session.data.task == "classification"
    assert session.net.sizes[-1] == 3  # one output per blob, not a regression's one
    status, reply = _configure(playground, dataset="gauss", task="regression")  # asked with the switch: kept
    assert status == 200 and session.data.task == "regression", reply
