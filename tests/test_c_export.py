"""Export to C: the generated header compiled by gcc and g++, checked against chainrule itself.

float32 headers are compared with chainrule's own float64 predictions (``TableModel.predict``,
``Network.predict``); int8 headers with the NumPy integer reference of the same arithmetic
(`chainrule.io.c_export.quantize.predict_q`), bit for bit, and the int8 accuracy on held-out
rows with the float model's. Tests that need a compiler are marked ``toolchain`` and skip,
naming what is missing, where there is none.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_glyph_digits
from chainrule.examples import (
    seed_000_truth_table,
    seed_002_xor_train,
    seed_003_matrix_backprop,
    seed_004_study_hours,
)
from chainrule.io.c_export import export_c, write_test_program
from chainrule.io.c_export.harness import parse_output
from chainrule.io.c_export.quantize import (
    classes_q,
    dequantize,
    features32,
    predict_q,
    quantize_inputs,
    requantize_factors,
)

STRICT_C = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wdouble-promotion", "-O2"]
STRICT_CXX = ["-Wall", "-Wextra", "-Werror", "-O2"]

pd = pytest.importorskip("pandas")


def need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: apt-get install gcc g++ gcc-avr avr-libc simavr)")


def build_and_run(folder, compiler: str, flags: list[str]) -> list[dict[str, list[float]]]:
    """Compile the test program in ``folder`` (as C++ with g++) and parse what it prints."""
    sources = [p.name for p in sorted(folder.glob("*.c"))]
    if compiler == "g++":
        sources = [arg for source in sources for arg in ("-x", "c++", source)]
    exe = folder / f"run_{compiler.replace('+', 'x')}"
    build = subprocess.run(
        [compiler, *flags, *sources, "-o", exe.name, "-lm"], cwd=folder, capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=True)
    return parse_output(run.stdout)


def split(frame, held_out: float, seed: int = 0):
    order = np.random.default_rng(seed).permutation(len(frame))
    n = int(len(frame) * held_out)
    return frame.iloc[order[n:]].reset_index(drop=True), frame.iloc[order[:n]].reset_index(drop=True)


def iris_case():
    from sklearn import datasets

    data = datasets.load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["target"] = np.asarray(data.target_names)[frame["target"]]
    train, test = split(frame, 0.3)
    return cr.train_table(train, "target", layers=[16], lr=0.01, seed=0), train, test


def digits_case():
    from sklearn import datasets

    train, test = split(datasets.load_digits(as_frame=True).frame, 0.3)
    return cr.train_table(train, "target", layers=[32], seed=0), train, test


def regression_case():
    """A regression table with a categorical column whose categories and names need escaping."""
    rng = np.random.default_rng(1)
    n = 240
    school = np.array(['north "A"', "süd", "east??=", "west\\1"])[rng.integers(0, 4, n)]
    frame = pd.DataFrame({"studied": rng.uniform(0, 10, n), "slept": rng.uniform(4, 10, n), "school": school})
    bonus = pd.Series(school).map({'north "A"': 0.0, "süd": 5.0, "east??=": -3.0, "west\\1": 8.0})
    frame["score"] = 40 + 4 * frame["studied"] + 3 * frame["slept"] + bonus + rng.normal(0, 1, n)
    train, test = split(frame, 0.25)
    model = cr.train_table(train, "score", layers=[12], activation="tanh", lr=0.01, seed=0)
    return model, train, test


@pytest.fixture(scope="module")
def tables():
    pytest.importorskip("sklearn")
    return {"iris": iris_case(), "digits": digits_case(), "regression": regression_case()}


def seed_networks():
    """The seed tutorials' networks, trained as their examples train them, and inputs."""
    truth = seed_000_truth_table.build_network()
    truth.fit(
        seed_000_truth_table.X, seed_000_truth_table.y, loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=5000
    )
    xor_sigmoid, _ = seed_002_xor_train.train_sigmoid()
    xor_tanh, _ = seed_002_xor_train.train_tanh_with_biases()
    glyphs, _, _ = seed_003_matrix_backprop.train_digits(epochs=1)
    hours = seed_004_study_hours.build_network()
    x_max = seed_004_study_hours.X.max(axis=0)
    hours.fit(seed_004_study_hours.X / x_max, seed_004_study_hours.y / 100, loss="half_sse", epochs=1000)
    X = seed_002_xor_train.X
    images, _ = make_glyph_digits(50, noise=0.05, seed=7)
    return {
        "seed000": (truth, np.vstack([seed_000_truth_table.X, [[1, 0, 0]]])),
        "seed002-sigmoid": (xor_sigmoid, X),
        "seed002-tanh": (xor_tanh, X[:, :2]),
        "seed003": (glyphs, images),
        "seed004": (hours, np.array([[2, 9], [1, 5], [3, 6], [4, 8]]) / x_max),
    }


# ------------------------------------------------------------------------------ float32, host
@pytest.mark.toolchain
@pytest.mark.parametrize("compiler", ["gcc", "g++"])
def test_float_header_matches_chainrule_on_the_seeds(compiler, tmp_path):
    need(compiler)
    for key, (net, X) in seed_networks().items():
        export = export_c(net, tmp_path / "seed.h", name="seed")
        write_test_program(export, tmp_path / key, X)
        rows = build_and_run(tmp_path / key, compiler, STRICT_C if compiler == "gcc" else STRICT_CXX)
        outputs = np.array([row["out"] for row in rows])
        assert np.max(np.abs(outputs - net.predict(X))) < 1e-5, key
        if "class" in rows[0]:  # one sigmoid output: a classifier of 0/1
            assert [row["class"][0] for row in rows] == net.predict_classes(X).tolist(), key
            assert [row["second"][0] for row in rows] == net.predict_classes(X).tolist(), key
        else:
            assert [row["second"][0] for row in rows] == outputs[:, 0].tolist(), key


@pytest.mark.toolchain
@pytest.mark.parametrize("compiler", ["gcc", "g++"])
@pytest.mark.parametrize("case", ["iris", "digits", "regression"])
def test_float_header_matches_chainrule_on_tables(case, compiler, tables, tmp_path):
    need(compiler)
    model, _, test = tables[case]
    export = export_c(model, tmp_path / f"{case}.h", name=case)
    write_test_program(export, tmp_path / "prog", test)
    rows = build_and_run(tmp_path / "prog", compiler, STRICT_C if compiler == "gcc" else STRICT_CXX)
    outputs = np.array([row["out"] for row in rows])
    if model.task == "regression":
        # in the target's units: 1e-5 of the target's standard deviation (the network's units)
        scale = model.preprocessor.target_scaler.scale[0]
        assert np.max(np.abs(outputs[:, 0] - model.predict(test))) < 1e-5 * scale
        assert np.allclose([row["second"][0] for row in rows], outputs[:, 0], rtol=0, atol=0)
    else:
        assert np.max(np.abs(outputs - model.predict_proba(test))) < 1e-5
        labels = model.classes_[[int(row["class"][0]) for row in rows]]
        assert (labels == model.predict(test)).all()


# ------------------------------------------------------------------------------ int8, host
@pytest.mark.toolchain
@pytest.mark.parametrize("case", ["iris", "digits", "regression"])
def test_int8_header_is_bit_identical_to_the_numpy_integer_reference(case, tables, tmp_path):
    need("gcc", "g++")
    model, train, test = tables[case]
    export = export_c(model, tmp_path / f"{case}.h", name=case, quantize="int8", calibration=train)
    write_test_program(export, tmp_path / "prog", test)
    q = export.quantized
    q_in = quantize_inputs(q, features32(export.spec, export.inputs(test)))
    q_out = predict_q(q, q_in)
    for compiler, flags in (("gcc", STRICT_C), ("g++", STRICT_CXX)):
        rows = build_and_run(tmp_path / "prog", compiler, flags)
        assert np.array_equal(np.array([row["qin"] for row in rows]), q_in)
        assert np.array_equal(np.array([row["qout"] for row in rows]), q_out)
        outputs = np.array([row["out"] for row in rows], dtype=np.float32)
        assert np.array_equal(outputs, dequantize(export.spec, q, q_out))
        if model.task == "classification":
            assert [row["class"][0] for row in rows] == classes_q(q, q_out).tolist()


@pytest.mark.parametrize("case", ["iris", "digits"])
def test_int8_accuracy_drop_on_held_out_rows_is_at_most_one_point(case, tables, tmp_path):
    model, train, test = tables[case]
    export = export_c(model, tmp_path / "m.h", name=case, quantize="int8", calibration=train)
    q = export.quantized
    q_out = predict_q(q, quantize_inputs(q, features32(export.spec, export.inputs(test))))
    truth = test["target"].astype(str).to_numpy()
    float_accuracy = np.mean(model.predict(test).astype(str) == truth)
    int8_accuracy = np.mean(model.classes_[classes_q(q, q_out)].astype(str) == truth)
    print(f"{case}: float64 {float_accuracy:.4f}, int8 {int8_accuracy:.4f} on {len(test)} held-out rows")
    assert float_accuracy - int8_accuracy <= 0.01


def test_the_integer_reference_computes_the_network(tables, tmp_path):
    """The reference is not just self-consistent: dequantized, it is close to the float network."""
    model, train, test = tables["regression"]
    export = export_c(model, tmp_path / "m.h", name="r", quantize="int8", calibration=train)
    q = export.quantized
    q_out = predict_q(q, quantize_inputs(q, features32(export.spec, export.inputs(test))))
    error = np.abs(dequantize(export.spec, q, q_out)[:, 0] - model.predict(test))
    spread = train["score"].max() - train["score"].min()
    assert np.median(error) < 0.02 * spread


def test_requantization_factors_represent_the_multiplier():
    real = np.array([0.9, 0.5, 0.25, 1e-3, 3.7e-7, 1.5, 0.99999999999])
    m0, shift = requantize_factors(real)
    assert np.all((m0 >= 2**30) & (m0 < 2**31))
    assert np.allclose(m0 * 2.0 ** -shift.astype(float), real, rtol=2**-30)
