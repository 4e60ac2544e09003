"""Guarantee 4: saving is atomic, and loading refuses bad files without executing anything."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.io.model_file import FORMAT_VERSION, HEADER_KEY


@pytest.fixture
def net():
    net = cr.Network([cr.Dense(3, 5, "tanh"), cr.Dropout(0.2), cr.Dense(5, 2, "softmax", bias=False)], seed=0)
    net.loss = cr.get_loss("categorical_crossentropy")
    return net


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


def test_a_write_that_dies_half_way_leaves_the_old_file_and_no_temp_file(tmp_path, net, monkeypatch):
    path = tmp_path / "m.npz"
    cr.save(net, path)
    original = path.read_bytes()
    real_savez = np.savez

    def write_half_then_die(stream, **arrays):
        real_savez(stream, **arrays)
        stream.truncate(stream.tell() // 2)
        raise KeyboardInterrupt  # Ctrl-C mid-save

    monkeypatch.setattr(np, "savez", write_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        cr.save(net, path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "valid.npz"
    net = cr.Network([cr.Dense(3, 4, "relu"), cr.Dense(4, 2, "softmax")], seed=0)
    cr.save(net, path, metadata={"note": "fuzz"})
    return path.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mutations_load_as_a_valid_network_or_raise_model_file_error(valid_bytes, tmp_path, data):
    mutated = bytearray(valid_bytes)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        kind = data.draw(st.sampled_from(["flip", "set", "truncate", "insert"]), label="kind")
        at = data.draw(st.integers(0, max(0, len(mutated) - 1)), label="at")
        if kind == "flip" and mutated:
            mutated[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set" and mutated:
            mutated[at] = data.draw(st.integers(0, 255))
        elif kind == "truncate":
            del mutated[at:]
        else:
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    path = tmp_path / "mutated.npz"
    path.write_bytes(bytes(mutated))
    try:
        loaded = cr.load(path)
    except cr.ModelFileError:
        return
    # it loaded: then it must be a usable network
    out = loaded.predict(np.ones((2, loaded.n_inputs)))
    assert out.shape == (2, loaded.n_outputs)


def valid_file(tmp_path, net):
    path = tmp_path / "m.npz"
    cr.save(net, path)
    return path, path.read_bytes()


def set_param(layer, key, value):
    def change(net):
        net.layers[layer].params[key] = value

    return change


# (what is wrong with the network, how to break it, what the message must contain)
UNSAVABLE = [
    ("NaN weight", lambda net: net.layers[0].params["W"].__setitem__((0, 0), np.nan), "NaN"),
    ("inf bias", lambda net: net.layers[0].params["b"].__setitem__(0, np.inf), "NaN or infinite"),
    ("text weights", set_param(0, "W", np.full((3, 5), "x")), "dtype"),
    ("object weights", set_param(0, "W", np.full((3, 5), None, dtype=object)), "dtype"),
    ("wrong shape", set_param(0, "W", np.zeros((5, 3))), "shape"),
    ("0-d bias", set_param(0, "b", np.float64(0.0)), "shape"),
    ("mixed dtype", set_param(0, "W", np.zeros((3, 5), np.float32)), "dtype"),
    ("an extra parameter", set_param(0, "gamma", np.zeros(5)), "belong to no layer"),
    ("a missing parameter", lambda net: net.layers[0].params.pop("b"), "missing"),
    ("a metadata object", lambda net: net.metadata.update(when=object()), "JSON"),
]


@pytest.mark.parametrize(("breaks", "message"), [c[1:] for c in UNSAVABLE], ids=[c[0] for c in UNSAVABLE])
def test_save_refuses_what_load_would_refuse_and_keeps_the_old_file(tmp_path, net, breaks, message):
    path, original = valid_file(tmp_path, net)
    breaks(net)
    with pytest.raises((cr.ModelFileError, TypeError), match=message):
        cr.save(net, path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_what_save_accepts_load_reads(tmp_path, net):
    """The other direction: nothing `save` writes is refused (float32, dropout, checkpoints)."""
    for dtype in ("float32", "float64"):
        model = cr.Network(
            [cr.Dense(3, 4, "relu"), cr.Dropout(0.5), cr.Dense(4, 2, "softmax")], dtype=dtype, seed=0
        )
        path = tmp_path / f"{dtype}.npz"
        model.fit(
            np.ones((4, 3)),
            np.eye(2)[[0, 1, 0, 1]],
            optimizer="adam",
            epochs=1,
            callbacks=[cr.ModelCheckpoint(path)],
        )
        assert cr.load(path).dtype == np.dtype(dtype)
