"""Issue 21 (hostile input, round three), 8: messages that named the wrong problem, each now naming
the real one, where it is (line, row, column, field) and the fix; nothing leaks or changes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.io.model_file import HEADER_KEY
from tests.conftest import run


# --------------------------------------------------------- an infinite target, at its real line
def test_an_infinite_target_is_named_at_its_line_and_column(tmp_path):
    """It was "row 0, column 0" (or "overflow float64 in its statistics") after NumPy warnings."""
    pytest.importorskip("pandas")
    rows = [f"{i},{2 * i},{0.5 + i}" for i in range(1, 9)]
    rows[3] = "4,8,inf"  # line 5 of the file (the header is line 1)
    (tmp_path / "t.csv").write_text("a,b,price\n" + "\n".join(rows) + "\n")
    result = run(
        "train", "t.csv", "--target", "price", "--out", "m.npz", cwd=tmp_path, ok=False
    )  # fmt: skip
    assert result.returncode == 1
    assert "column 'price': 1 cell is not a finite number (line 5 inf)" in result.stderr, result.stderr
    assert "fix or drop" in result.stderr
    assert "Warning" not in result.stderr and "row 0" not in result.stderr and "overflow" not in result.stderr
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("target_scale", ["standard", "maxabs", "none"])
def test_an_infinite_target_in_python_raises_without_warnings(target_scale):
    """With every target scaling (maxabs advised itself; none said "row 3, column 0")."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": np.arange(8.0), "y": [0.5, 1.5, 2.5, 3.5, -np.inf, 5.5, 6.5, 7.5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cr.InputError, match=r"column 'y': 1 cell is not a finite number \(row 5 -inf\)"):
            cr.train_table(frame, "y", epochs=1, target_scale=target_scale)


# --------------------------------------------------------------------- 0-d arrays as X or y
@pytest.mark.parametrize("where", ["X", "y"])
def test_a_0d_array_says_how_to_reshape(where):
    """It was "unexpected TypeError" in the CLI and named no fix in Python."""
    net = cr.Network([1, 1], output_activation="identity", seed=0)
    X, y = (np.array(3.0), np.ones((1, 1))) if where == "X" else (np.ones((1, 1)), np.array(3.0))
    expected = r"X must be 1-D or 2-D \(rows x features\)" if where == "X" else r"y must be 1-D or 2-D"
    with pytest.raises(cr.InputError, match=expected + r".*single number.*reshape"):
        net.fit(X, y, loss="mse", epochs=1)
    if where == "X":
        with pytest.raises(cr.InputError, match=expected + r".*np\.reshape\(X, \(1, -1\)\)"):
            net.predict(X)


def test_a_0d_array_in_a_data_file_is_named(tmp_path):
    pytest.importorskip("pandas")
    from chainrule.io.tables import read_table

    np.save(tmp_path / "x.npy", np.array(3.0))
    result = run("train", "x.npy", "--target", "y", "--out", "m.npz", cwd=tmp_path, ok=False)
    assert result.returncode == 1 and "unexpected" not in result.stderr, result.stderr
    assert "x.npy: the array is a single number (a 0-d array)" in result.stderr
    assert "np.save(path, x.reshape(1, -1))" in result.stderr
    np.savez(tmp_path / "x0.npz", X=np.array(3.0), y=np.array([1.0]))
    with pytest.raises(
        cr.InputError, match=r"x0.npz: X is a single number \(a 0-d array\).*X.reshape\(1, -1\)"
    ):
        read_table(str(tmp_path / "x0.npz"))
    np.savez(tmp_path / "y0.npz", X=np.ones((3, 2)), y=np.array(1.0))
    with pytest.raises(cr.InputError, match=r"y0.npz: y is a single number \(a 0-d array\).*y.reshape\(-1\)"):
        read_table(str(tmp_path / "y0.npz"))


# ------------------------------------------------------------------------- a truncated .npy
def test_a_truncated_npy_is_called_truncated_not_out_of_memory(tmp_path):
    pytest.importorskip("pandas")
    from chainrule.io.tables import read_table

    with open(tmp_path / "big.npy", "wb") as stream:  # declares 320 GB, holds 96 bytes
        np.lib.format.write_array_header_1_0(
            stream, {"descr": "<f8", "fortran_order": False, "shape": (200_000, 200_000)}
        )
        header = stream.tell()
        stream.write(np.zeros((4, 3)).tobytes())
    expected = "big.npy is truncated or corrupt: its header declares a 200000x200000 float64 array "
    expected += (
        f"({200_000 * 200_000 * 8} bytes of data after its {header}-byte header), but only 96 bytes follow"
    )
    for command in (("train", "big.npy", "--target", "x1", "--out", "m.npz"),):
        result = run(*command, cwd=tmp_path, ok=False)
        assert result.returncode == 1 and "out of memory" not in result.stderr
        assert expected in result.stderr, result.stderr
    np.save(tmp_path / "whole.npy", np.arange(12.0).reshape(4, 3))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "whole.npy").read_bytes()[:-8])
    with pytest.raises(cr.InputError, match=r"cut.npy is truncated or corrupt: .* but only 88 bytes follow"):
        read_table(str(tmp_path / "cut.npy"))


# ------------------------------------------------------------- a table with only the target
def test_a_table_with_only_the_target_names_the_fix(tmp_path):
    pd = pytest.importorskip("pandas")
    (tmp_path / "only.csv").write_text("y\n1\n2\n3\n4\n5\n6\n")
    result = run("train", "only.csv", "--target", "y", "--out", "m.npz", cwd=tmp_path, ok=False)
    assert result.returncode == 1 and "layers[0]" not in result.stderr
    assert "the table has no input columns: its only column is the target 'y'" in result.stderr, result.stderr
    assert "add the columns to learn from" in result.stderr
    frame = pd.DataFrame({"a": [1, 3, 5], "y": [2, 4, 6]})
    with pytest.raises(cr.InputError, match=r"no input columns are left .*--drop leaves out a\): drop fewer"):
        cr.train_table(frame, "y", drop=["a"])


# --------------------------------------------------------------- invalid values in a checkpoint
def _checkpoint(tmp_path, change):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    net = cr.Network([2, 3, 1], output_activation="identity", seed=0)
    path = tmp_path / "c.npz"
    net.fit(
        X, y, loss="mse", optimizer=cr.Adam(lr=0.01), epochs=2, seed=1, callbacks=[cr.ModelCheckpoint(path)]
    )
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays[HEADER_KEY].tobytes())
    change(header["checkpoint"])
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    return path, X, y


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(run_seed=-1), r"run_seed must be in \[0, \d+\], got -1"),
        (lambda c: c.update(run_seed=2**64), r"run_seed must be in \[0, \d+\], got 18446744073709551616"),
        (lambda c: c.update(run_seed="seven"), r"run_seed must be an integer.*'seven'"),
        (lambda c: c.update(run_seed=1.5), r"run_seed must be an integer.*1.5"),
        (lambda c: c.pop("run_seed"), r"the field 'run_seed' is missing"),
        (lambda c: c["history"].update(loss=["x", 1.0]), r"history\['loss'\] must hold numbers"),
    ],
    ids=["negative", "too-large", "text", "fraction", "missing", "history-text"],
)
def test_a_checkpoint_with_an_invalid_stored_value_is_refused_naming_the_field(tmp_path, change, message):
    """``run_seed`` -1 raised a raw ValueError after the checkpoint's weights were loaded."""
    path, X, y = _checkpoint(tmp_path, change)
    net = cr.Network([2, 3, 1], output_activation="identity", seed=5)
    before = [value.copy() for layer in net.get_weights() for value in layer.values()]
    with pytest.raises(cr.ModelFileError, match=message):
        net.fit(X, y, loss="mse", optimizer=cr.Adam(lr=0.01), epochs=4, seed=1, resume_from=path)
    after = [value for layer in net.get_weights() for value in layer.values()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


# ------------------------------------------------------------------------------------- ONNX
def test_onnx_export_of_a_custom_activation_names_it_and_the_exportable_ones(tmp_path):
    pytest.importorskip("onnx")
    from chainrule.nn.activations import Activation

    class Swish(Activation):
        name = "swish"

        def forward(self, z, out=None):
            return z / (1 + np.exp(-z))

        def derivative(self, a):
            return np.ones_like(a)

    net = cr.Network([cr.Dense(2, 3, "tanh"), cr.Dense(3, 3, Swish()), cr.Dense(3, 1, "sigmoid")], seed=0)
    with pytest.raises(ValueError, match=r"layer 2's activation 'swish' has no ONNX form") as caught:
        cr.export_onnx(net, tmp_path / "m.onnx")
    for name in ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"):
        assert name in str(caught.value)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("opset", [1, 7, 12, 10_000])
def test_onnx_export_refuses_an_opset_outside_the_supported_range(tmp_path, opset):
    onnx = pytest.importorskip("onnx")
    newest = onnx.defs.onnx_opset_version()
    net = cr.Network([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match=rf"opset {opset}: supported: 13 to {newest}"):
        cr.export_onnx(net, tmp_path / "m.onnx", opset=opset)
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(TypeError, match="opset must be an integer"):
        cr.export_onnx(net, tmp_path / "m.onnx", opset=13.0)
    assert cr.export_onnx(net, tmp_path / "m.onnx", opset=newest).opset_import[0].version == newest
