"""`TableModel` and `train_table`: the Python API under ``chainrule train``/``predict``/``evaluate``.

A model trained on a table predicts on raw rows from Python exactly what the command line
writes (checked against the command's own CSV output, read back exactly), and `train_table`
with the command's options gives the command's weights bit for bit.
"""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import admissions_path
from tests.conftest import run

pd = pytest.importorskip("pandas")


def read_exactly(path, numbers):
    """A CSV written by pandas, the ``numbers`` columns parsed back to the very same doubles.

    pandas writes a float as its shortest repr; Python's ``float`` of that text is the double again.
    """
    frame = pd.read_csv(path, dtype=str)
    return {c: np.array([float(v) for v in frame[c]]) for c in numbers} | {"frame": frame}


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    """The iris table as a CSV, and the model `chainrule train` makes of it with every default."""
    datasets = pytest.importorskip("sklearn.datasets")
    folder = tmp_path_factory.mktemp("iris")
    data = datasets.load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = np.asarray(data.target_names)[frame.pop("target")]
    frame.to_csv(folder / "iris.csv", index=False)
    run("train", "iris.csv", "--target", "species", "--out", "m.npz", "--quiet", cwd=folder)
    return folder


@pytest.fixture(scope="module")
def prices(tmp_path_factory):
    """A regression table with a numeric and a text column, and its model from `chainrule train`."""
    folder = tmp_path_factory.mktemp("prices")
    rng = np.random.default_rng(7)
    size = rng.uniform(30, 150, 120)
    city = rng.choice(["Bern", "Chur", "Genf"], 120)
    price = 3000 * size + np.where(city == "Genf", 90_000, 0) + rng.normal(0, 5000, 120)
    pd.DataFrame({"size": size, "city": city, "price": price}).to_csv(folder / "p.csv", index=False)
    run("train", "p.csv", "--target", "price", "--out", "m.npz", "--epochs", "40", "--quiet", cwd=folder)
    return folder


def test_load_of_a_trained_table_predicts_what_chainrule_predict_writes(iris):
    run("predict", "m.npz", "iris.csv", "--proba", "--out", "p.csv", cwd=iris)
    model = cr.load(iris / "m.npz")
    assert isinstance(model, cr.TableModel) and model.task == "classification"
    columns = [f"proba_{c}" for c in model.classes_]
    cli = read_exactly(iris / "p.csv", columns)
    frame = pd.read_csv(iris / "iris.csv")
    np.testing.assert_array_equal(model.predict(frame), cli["frame"]["predicted_species"].to_numpy())
    proba = np.column_stack([cli[c] for c in columns])
    np.testing.assert_array_equal(model.predict_proba(frame), proba)  # bit for bit


def test_iris_accuracy_through_load_is_the_commands(iris):
    frame = pd.read_csv(iris / "iris.csv")
    model = cr.load(iris / "m.npz")
    accuracy = float(np.mean(model.predict(frame) == frame["species"].to_numpy()))
    printed = run("evaluate", "m.npz", "iris.csv", cwd=iris).stdout
    assert accuracy == pytest.approx(float(re.search(r"accuracy: ([0-9.]+)", printed).group(1)), abs=1e-6)
    assert accuracy > 0.9  # not the third of the rows that raw, unscaled inputs gave
    assert model.score(frame) == accuracy == model.evaluate(frame)["accuracy"]
    confusion = model.evaluate(frame)["confusion"]
    truth = pd.Categorical(frame["species"], categories=model.classes_)
    guess = pd.Categorical(model.predict(frame), categories=model.classes_)
    np.testing.assert_array_equal(confusion, pd.crosstab(truth, guess, dropna=False).to_numpy())


def test_regression_predictions_equal_the_commands_in_the_targets_units(prices):
    run("predict", "m.npz", "p.csv", "--out", "out.csv", cwd=prices)
    cli = read_exactly(prices / "out.csv", ["predicted_price"])["predicted_price"]
    model = cr.load(prices / "m.npz")
    frame = pd.read_csv(prices / "p.csv")
    predicted = model.predict(frame)
    np.testing.assert_array_equal(predicted, cli)
    # independently: the network on hand-made inputs, scaled back to the target's units
    prep = model.preprocessor
    city = frame["city"].to_numpy()[:, None] == np.array(prep.categorical["city"])
    X = np.column_stack([(frame[["size"]] - prep.scaler.offset) / prep.scaler.scale, city])
    by_hand = model.network.predict(X)[:, 0] * prep.target_scaler.scale[0] + prep.target_scaler.offset[0]
    np.testing.assert_allclose(predicted, by_hand, rtol=1e-12)
    with pytest.raises(cr.InputError, match="classification"):
        model.predict_proba(frame)


def weights_equal(a, b):
    return len(a) == len(b) and all(
        set(x) == set(y) and all(np.array_equal(x[k], y[k]) for k in x) for x, y in zip(a, b, strict=True)
    )


def test_train_table_with_the_defaults_gives_the_commands_weights(iris):
    cli = cr.load(iris / "m.npz")
    model = cr.train_table(pd.read_csv(iris / "iris.csv"), target="species")
    assert weights_equal(model.network.get_weights(), cli.network.get_weights())
    assert model.preprocessor.to_dict() == cli.preprocessor.to_dict()
    assert model.metadata["training"]["metrics"] == cli.metadata["training"]["metrics"]
    assert model.history is not None and model.history.epochs == cli.metadata["training"]["epochs_run"]


def test_train_table_with_the_commands_options_gives_its_weights(tmp_path):
    options = ["--categorical", "rank", "--layers", "8,4", "--activation", "tanh", "--optimizer", "sgd"]
    options += ["--lr", "0.05", "--epochs", "15", "--batch-size", "32", "--seed", "3", "--scale", "minmax"]
    options += ["--validation-split", "0.2", "--patience", "3", "--dtype", "float32"]
    run("train", admissions_path(), "--target", "admit", "--out", "m.npz", "--quiet", *options, cwd=tmp_path)
    cli = cr.load(tmp_path / "m.npz")
    model = cr.train_table(
        pd.read_csv(admissions_path()),
        target="admit",
        categorical=["rank"],
        layers=[8, 4],
        activation="tanh",
        optimizer="sgd",
        lr=0.05,
        epochs=15,
        batch_size=32,
        seed=3,
        scale="minmax",
        validation_split=0.2,
        patience=3,
        dtype="float32",
    )
    assert model.network.sizes == cli.network.sizes == [6, 8, 4, 1]
    assert weights_equal(model.network.get_weights(), cli.network.get_weights())
    assert model.network.dtype == np.float32
    # integer classes come back as integers, as the command's CSV holds them
    frame = pd.read_csv(admissions_path())
    assert model.classes_.tolist() == [0, 1] and set(model.predict(frame)) <= {0, 1}


def test_every_form_of_rows_gives_the_same_predictions(prices):
    model = cr.load(prices / "m.npz")
    frame = pd.read_csv(prices / "p.csv").head(12)
    expected = model.predict(frame)
    forms = {
        "dict of columns": {c: frame[c].tolist() for c in frame.columns},
        "dict of arrays": {c: frame[c].to_numpy() for c in frame.columns},
        "list of dicts": frame.to_dict(orient="records"),
        "extra column": frame.assign(note="ignored", more=1.0),
        "reordered columns": frame[["city", "price", "size"]],
        "no target column": frame.drop(columns="price"),
    }
    if importlib.util.find_spec("polars"):
        import polars

        forms["polars"] = polars.DataFrame({c: frame[c].tolist() for c in frame.columns})
    for name, rows in forms.items():
        np.testing.assert_allclose(
            model.predict(rows), expected, rtol=1e-15, err_msg=name
        )  # a form may round a value
    one = model.predict({"size": float(frame["size"][0]), "city": frame["city"][0]})
    np.testing.assert_allclose(one, expected[:1], rtol=1e-15)  # a dict of scalars is one row


def test_a_missing_column_is_named(prices):
    model = cr.load(prices / "m.npz")
    rows = pd.read_csv(prices / "p.csv").drop(columns="city")
    with pytest.raises(cr.InputError, match=r"column 'city' is missing .*needs: size, city"):
        model.predict(rows)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "evaluate"])
def test_arrays_are_refused_with_a_pointer_to_the_network(iris, method):
    model = cr.load(iris / "m.npz")
    X = model.transform(pd.read_csv(iris / "iris.csv"))
    for rows in (X, X.tolist()):
        with pytest.raises(cr.InputError, match=rf"TableModel\.{method} takes raw rows") as error:
            getattr(model, method)(rows)
        assert "model.network.predict(X)" in str(error.value) and "sepal_length" in str(error.value)


def test_save_and_load_keep_a_table_model_and_a_plain_network_apart(iris, tmp_path):
    model = cr.load(iris / "m.npz")
    frame = pd.read_csv(iris / "iris.csv")
    model.save(tmp_path / "a.npz")
    cr.save(model, tmp_path / "b.npz")
    for name in ("a.npz", "b.npz"):
        again = cr.load(tmp_path / name)
        assert isinstance(again, cr.TableModel)
        assert again.preprocessor.to_dict() == model.preprocessor.to_dict()
        assert again.metadata["training"] == model.metadata["training"]
        np.testing.assert_array_equal(again.predict_proba(frame), model.predict_proba(frame))
        assert "preprocessing" not in again.network.metadata  # one home: the preprocessor
    model.network.save(tmp_path / "net.npz")  # the network alone takes prepared arrays
    net = cr.load(tmp_path / "net.npz")
    assert type(net) is cr.Network
    np.testing.assert_array_equal(net.predict(model.transform(frame)), model.predict_proba(frame))


def test_a_network_and_preprocessing_that_do_not_fit_are_refused(iris):
    model = cr.load(iris / "m.npz")
    with pytest.raises(ValueError, match="the network takes 4 inputs"):
        cr.TableModel(cr.Network([4, 2]), model.preprocessor)


def test_onnx_of_a_table_model_takes_unscaled_columns(prices, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = cr.load(prices / "m.npz")
    frame = pd.read_csv(prices / "p.csv")
    X = model.transform(frame)
    n = len(model.preprocessor.numeric)
    raw = np.column_stack([frame[model.preprocessor.numeric].to_numpy(float), X[:, n:]])
    cr.export_onnx(model, tmp_path / "m.onnx", dtype="float64")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    got = session.run(None, {"input": raw})[0][:, 0]
    np.testing.assert_allclose(got, model.predict(frame), rtol=1e-9)
    cr.export_onnx(model.network, tmp_path / "net.onnx", dtype="float64")  # prepared inputs
    session = ort.InferenceSession(str(tmp_path / "net.onnx"))
    np.testing.assert_allclose(session.run(None, {"input": X})[0], model.network.predict(X), rtol=1e-9)


def test_the_task_is_inferred_with_its_reason_and_can_be_forced():
    rows = {"x": [float((i * 7) % 11) for i in range(40)], "y": [i % 3 for i in range(40)]}  # not an index
    lines = []
    model = cr.train_table(rows, target="y", epochs=2, validation_split=0, log=lines.append)
    assert model.task == "classification" and model.classes_.tolist() == [0, 1, 2]
    reason = model.metadata["training"]["task_reason"]
    task_line = next(line for line in lines if line.startswith("task:"))
    assert reason == "the target has 3 distinct whole numbers in 40 rows" and reason in task_line
    forced = cr.train_table(rows, target="y", task="regression", epochs=2, validation_split=0)
    assert forced.task == "regression" and forced.predict(rows).dtype == np.float64


def test_train_table_refuses_an_array():
    with pytest.raises(cr.InputError, match="train_table takes a table with named columns"):
        cr.train_table(np.zeros((4, 2)), target="y")


def test_the_readme_python_example_runs(iris, tmp_path, monkeypatch):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Your own data, from Python")[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    frame = pd.read_csv(iris / "iris.csv")
    frame.to_csv(tmp_path / "iris.csv", index=False)
    frame.drop(columns="species").to_csv(tmp_path / "new_rows.csv", index=False)
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    model = namespace["model"]
    assert isinstance(model, cr.TableModel) and model.score(frame) > 0.9


def test_without_pandas_the_table_api_names_the_install_command(iris):
    from tests.test_optional_dependencies import python

    code = (
        "import chainrule as cr\n"
        "for call in (lambda: cr.train_table({'a': [1, 2], 'b': [0, 1]}, target='b'),\n"
        f"             lambda: cr.load(r'{iris / 'm.npz'}').predict([{{'a': 1}}])):\n"
        "    try:\n"
        "        call()\n"
        "    except cr.InputError as exc:\n"
        "        print(exc)\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and all('pip install "chainrule[cli]"' in line for line in lines)
