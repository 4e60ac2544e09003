"""Save/load: round trips, atomic writes, and files that must be refused without running code."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.io.model_file import FORMAT_VERSION, HEADER_KEY


@pytest.fixture
def net():
    net = cr.Network(
        [
            cr.Dense(3, 5, "tanh"),
            cr.Dropout(0.2),
            cr.Dense(5, 4, {"name": "leaky_relu", "alpha": 0.1}),
            cr.Dense(4, 2, "softmax", bias=False),
        ],
        seed=0,
    )
    net.loss = cr.get_loss("categorical_crossentropy")
    return net


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_predictions_identical(tmp_path, rng, dtype):
    net = cr.Network([4, 6, 3], activation="relu", output_activation="softmax", seed=1, dtype=dtype)
    path = tmp_path / "model.npz"
    cr.save(net, path, metadata={"note": "hello", "scale": np.arange(3)})
    loaded = cr.load(path)
    X = rng.normal(size=(10, 4))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.metadata == {"note": "hello", "scale": [0, 1, 2]}
    assert [repr(a) for a in loaded.layers] == [repr(b) for b in net.layers]


def test_round_trip_keeps_layers_activations_and_loss(tmp_path, net):
    path = tmp_path / "m.npz"
    net.save(path)
    loaded = cr.load(path)
    assert repr(loaded) == repr(net)
    assert loaded.loss.name == "categorical_crossentropy"
    assert loaded.layers[2].activation.alpha == 0.1


def test_header_is_plain_json_with_versions(tmp_path, net):
    path = tmp_path / "m.npz"
    cr.save(net, path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive[HEADER_KEY].tobytes())
    assert header["format_version"] == FORMAT_VERSION
    assert header["library_version"] == cr.__version__
    assert header["dtype"] == "float64" and header["loss"] == "categorical_crossentropy"
    assert [layer["type"] for layer in header["layers"]] == ["Dense", "Dropout", "Dense", "Dense"]
