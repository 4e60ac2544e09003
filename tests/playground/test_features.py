"""Issue 23, part 7 on the server: engineered features, L1 and refused settings (no browser)."""

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
    mean, std = _raw(plane).mean(axis=0), _raw(plane).std(axis=0)  # standard scaling of the table
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
    from chainrule.live.features import FEATURES

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
    # the saved model predicts from the feature columns, computed from raw x1, x2 as the formulas say
    frame = builtin_frame("xor", 300, 0.1, 0)
    a, b = frame["x1"].to_numpy(), frame["x2"].to_numpy()
    table = pd.DataFrame({"x1": a, "x1^2": a**2, "x1*x2": a * b, "sin(x2)": np.sin(b)})
    session = playground.session
    expected = session.net.predict(session.data.X)[:, 0]
    np.testing.assert_allclose(model.predict_proba(table)[:, 1], expected, rtol=1e-6)
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
