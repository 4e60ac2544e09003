"""Derived input features (x1², x1·x2, sin x1) as a step of the stored table preprocessing.

A `TableModel` built on them predicts from the raw columns, its file stores the formulas by
name (an unknown name is refused), its ONNX graph computes them, and C export refuses with the
alternative. The playground's use of them is tested in tests/playground/test_features.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InputError
from chainrule.io.derived import PLAYGROUND, Derived, FormulaError, derive, from_data, sources
from chainrule.io.preprocessing import TablePreprocessor

pd = pytest.importorskip("pandas")

STEPS = [
    Derived("a^2", "square", ("a",)),
    Derived("a*b", "product", ("a", "b")),
    Derived("sin(b)", "sin", ("b",)),
]


@pytest.fixture
def table():
    rng = np.random.default_rng(5)
    n = 60
    a, b = rng.normal(1, 2, n), rng.uniform(-3, 3, n)
    colour = rng.choice(["red", "green", "blue"], n)
    y = (a * a + np.sin(b) + (colour == "red") > 3).astype(int)
    return pd.DataFrame({"a": a, "colour": colour, "b": b, "note": "x", "y": y})


@pytest.fixture
def model(table):
    prep = TablePreprocessor.fit(
        table, "y", features=["b", "a^2", "a*b", "sin(b)", "colour"], derived=STEPS, rows=np.arange(40)
    )
    net = cr.Network([len(prep.feature_names), 5, 1], activation="tanh", output_activation="sigmoid", seed=1)
    return cr.TableModel(net, prep)


def by_hand(frame, rows=slice(0, 40)):
    """The network's inputs computed here: b, a², a·b, sin b scaled by the first 40 rows, then one-hot."""
    a, b = frame["a"].to_numpy(float), frame["b"].to_numpy(float)
    numeric = np.column_stack([b, a * a, a * b, np.sin(b)])
    train = numeric[rows]
    scaled = (numeric - train.mean(axis=0)) / train.std(axis=0)
    colours = frame["colour"].to_numpy()
    return np.column_stack([scaled, *[(colours == c).astype(float) for c in ("blue", "green", "red")]])


def test_a_model_with_derived_features_predicts_from_raw_rows(model, table):
    assert model.feature_names == ["b", "a", "colour"]  # the raw columns: numeric ones first
    assert model.preprocessor.feature_names == [
        "b",
        "a^2",
        "a*b",
        "sin(b)",
        "colour=blue",
        "colour=green",
        "colour=red",
    ]
    np.testing.assert_allclose(model.transform(table), by_hand(table), rtol=1e-12, atol=1e-12)
    expected = model.network.predict(by_hand(table))[:, 0]
    np.testing.assert_allclose(model.predict_proba(table[["b", "colour", "a"]])[:, 1], expected, rtol=1e-12)
    with pytest.raises(
        InputError, match=r"column 'b' is missing from the data \(the model needs: b, a, colour\)"
    ):
        model.predict(table[["a", "colour"]])
    with pytest.raises(InputError, match=r"column 'a'.*not a finite number"):
        model.predict(table.assign(a=["oops", *table["a"].iloc[1:]]))


def test_derived_features_survive_save_and_load_as_names(model, table, tmp_path):
    model.save(tmp_path / "m.npz")
    again = cr.load(tmp_path / "m.npz")
    assert again.preprocessor.derived == STEPS
    assert again.preprocessor.to_dict()["derived"][1] == {
        "name": "a*b",
        "formula": "product",
        "of": ["a", "b"],
    }
    np.testing.assert_array_equal(again.predict_proba(table), model.predict_proba(table))


@pytest.mark.parametrize(
    "stored,message",
    [
        ([{"name": "c", "formula": "exec", "of": ["a"]}], "'c' uses the formula 'exec'.*never holds code"),
        ([{"name": "c", "formula": "product", "of": ["a"]}], r"'c' \(product\) needs 2 column name"),
        ({"name": "c"}, "must be a list"),
        (["c"], "must be {name, formula, of}"),
    ],
)
def test_bad_stored_formulas_are_refused(stored, message):
    with pytest.raises(FormulaError, match=message):
        from_data(stored)


def test_saving_an_unknown_formula_is_refused_before_writing(model, tmp_path):
    model.preprocessor.derived[0] = Derived("a^2", "cube", ("a",))
    with pytest.raises(cr.ModelFileError, match="'cube'"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_derive_and_sources():
    frame = pd.DataFrame({"x1": [1.0, -2.0], "x2": ["0.5", "3"]})  # numbers as text are read as numbers
    out = derive(frame, [PLAYGROUND[name][1] for name in ("x1^2", "x1*x2", "sin(x2)")])
    np.testing.assert_array_equal(out["x1^2"], [1.0, 4.0])
    np.testing.assert_array_equal(out["x1*x2"], [0.5, -6.0])
    np.testing.assert_array_equal(out["sin(x2)"], np.sin([0.5, 3.0]))
    assert list(frame.columns) == ["x1", "x2"]  # the caller's frame is not changed
    assert sources(["x2^2", "sin(x1)", "x2"], [PLAYGROUND["x2^2"][1], PLAYGROUND["sin(x1)"][1]]) == [
        "x2",
        "x1",
    ]


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_onnx_computes_the_derived_features_from_raw_columns(model, table, tmp_path, dtype, rtol):
    ort = pytest.importorskip("onnxruntime")
    graph = cr.export_onnx(model, tmp_path / "m.onnx", dtype=dtype)
    ops = {node.op_type for node in graph.graph.node}
    assert {"Mul", "Sin", "Gather", "Concat"} <= ops
    metadata = {p.key: p.value for p in graph.metadata_props}
    assert metadata["feature_names"] == "b,a,colour=blue,colour=green,colour=red"
    colours = table["colour"].to_numpy()
    rows = np.column_stack(
        [table["b"], table["a"], *[(colours == c).astype(float) for c in ("blue", "green", "red")]]
    ).astype(dtype)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    out = session.run(None, {"input": rows})[0][:, 0]
    expected = model.network.predict(by_hand(table))[:, 0]
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


@pytest.mark.toolchain
@pytest.mark.parametrize("compiler", ["gcc", "g++"])
def test_the_c_header_computes_the_derived_features_from_raw_columns(model, table, tmp_path, compiler):
    from chainrule.io.c_export import write_test_program
    from tests.test_c_export import STRICT_C, STRICT_CXX, build_and_run, need

    need(compiler)
    export = cr.export_c(model, tmp_path / "m.h", name="m")
    assert export.spec.input_names == ["b", "a", "colour"]  # raw columns, then the category's index
    header = (tmp_path / "m.h").read_text()
    assert "features[1] = (inputs[1] * inputs[1] - " in header and "(float)sinf(inputs[0])" in header
    write_test_program(export, tmp_path / "prog", table)
    rows = build_and_run(tmp_path / "prog", compiler, STRICT_C if compiler == "gcc" else STRICT_CXX)
    outputs = np.array([row["out"] for row in rows])[:, 0]
    expected = model.network.predict(by_hand(table))[:, 0]  # float64, features computed here
    assert np.max(np.abs(outputs - expected)) < 1e-5
    # the NumPy reference of the header (float64) computes the same features from the same inputs
    np.testing.assert_allclose(export.spec.predict(export.inputs(table))[:, 0], expected, rtol=1e-12)
