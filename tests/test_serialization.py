"""Save/load: round trips, atomic writes, and files that must be refused without running code."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import FORMAT_VERSION, HEADER_KEY


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


def test_failed_save_leaves_the_previous_file_intact(tmp_path, net, monkeypatch):
    path = tmp_path / "m.npz"
    cr.save(net, path)
    original = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="No space"):
        cr.save(net, path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left behind


def write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def header_bytes(**changes):
    header = {
        "format": "chainrule-model",
        "format_version": 1,
        "library_version": "0",
        "dtype": "float64",
        "loss": None,
        "metadata": {},
        "layers": [
            {
                "type": "Dense",
                "n_in": 2,
                "n_out": 1,
                "activation": {"name": "sigmoid"},
                "bias": True,
                "init": "zeros",
            }
        ],
    }
    header.update(changes)
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


GOOD = {"layer0.W": np.zeros((2, 1)), "layer0.b": np.zeros(1)}


def test_a_hand_written_valid_file_loads(tmp_path):
    path = tmp_path / "ok.npz"
    write_npz(path, **{HEADER_KEY: header_bytes()}, **GOOD)
    assert cr.load(path).predict([[1.0, 2.0]]).item() == 0.5


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (dict(GOOD), "no header"),
        ({HEADER_KEY: header_bytes(format_version=FORMAT_VERSION + 1), **GOOD}, "newer"),
        ({HEADER_KEY: header_bytes(format="other"), **GOOD}, "not a chainrule model"),
        ({HEADER_KEY: np.frombuffer(b"{not json", dtype=np.uint8), **GOOD}, "not valid JSON"),
        ({HEADER_KEY: header_bytes(), "layer0.W": np.zeros((3, 1)), "layer0.b": np.zeros(1)}, "shape"),
        ({HEADER_KEY: header_bytes(), "layer0.W": np.zeros((2, 1))}, "needs"),
        ({HEADER_KEY: header_bytes(), **GOOD, "layer1.W": np.zeros(2)}, "belong to no layer"),
        (
            {HEADER_KEY: header_bytes(), "layer0.W": np.zeros((2, 1), np.float32), "layer0.b": np.zeros(1)},
            "dtype",
        ),
        ({HEADER_KEY: header_bytes(), "layer0.W": np.full((2, 1), np.nan), "layer0.b": np.zeros(1)}, "NaN"),
        ({HEADER_KEY: header_bytes(dtype="complex128"), **GOOD}, "dtype"),
        ({HEADER_KEY: header_bytes(layers=[{"type": "Lambda"}]), **GOOD}, "valid network"),
    ],
    ids=[
        "no-header",
        "newer",
        "foreign",
        "bad-json",
        "shape",
        "missing-bias",
        "extra",
        "dtype",
        "nan",
        "bad-dtype",
        "unknown-layer",
    ],
)
def test_bad_files_raise_model_file_error(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    write_npz(path, **arrays)
    with pytest.raises(cr.ModelFileError, match=message):
        cr.load(path)


def test_object_arrays_and_pickles_are_refused_without_running_code(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle code ran')",))

    path = tmp_path / "evil.npz"
    write_npz(path, **{HEADER_KEY: header_bytes(), **GOOD, "layer0.x": np.array([Boom()], dtype=object)})
    with pytest.raises(cr.ModelFileError):
        cr.load(path)
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(cr.ModelFileError):
        cr.load(raw)


def test_truncated_and_foreign_files(tmp_path, net):
    path = tmp_path / "m.npz"
    cr.save(net, path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        broken = tmp_path / f"cut{cut}.npz"
        broken.write_bytes(data[:cut])
        with pytest.raises(cr.ModelFileError):
            cr.load(broken)
    text = tmp_path / "weights.txt"
    text.write_text("0.1 0.2 0.3\n")
    with pytest.raises(cr.ModelFileError):
        cr.load(text)
    other_zip = tmp_path / "other.npz"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(cr.ModelFileError):
        cr.load(other_zip)
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "missing.npz")
