"""End-to-end: the installed ``chainrule`` command, run in a subprocess in a temporary folder."""

from __future__ import annotations

import io

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import assert_image, run

pd = pytest.importorskip("pandas")


@pytest.mark.slow
def test_train_predict_evaluate_on_admissions(folder):
    result = run(
        "train",
        "binary.csv",
        "--target",
        "admit",
        "--categorical",
        "rank",
        "--out",
        "m.npz",
        "--epochs",
        "60",
        "--no-early-stopping",
        "--validation-split",
        "0.1",
        "--history",
        "h.csv",
        "--plot",
        "loss.png",
        cwd=folder,
    )
    assert "classification, 2 classes" in result.stderr and "binary_crossentropy" in result.stderr
    assert "data: binary.csv: 400 rows, 4 columns, comma-separated" in result.stderr
    assert "validation set: accuracy" in result.stdout
    history = pd.read_csv(folder / "h.csv")
    assert list(history.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert len(history) == 60
    assert_image(folder / "loss.png")

    model = cr.load(folder / "m.npz")
    assert isinstance(model, cr.TableModel)  # a table's model loads with its preprocessing
    net = model.network
    assert net.sizes == [6, 100, 1]  # the estimators' default hidden layer
    prep = model.preprocessor.to_dict()
    assert prep["categorical"] == {"rank": ["1", "2", "3", "4"]}
    data = pd.read_csv(folder / "binary.csv")
    # the stored scaler is the training data's: standardised gre and gpa
    np.testing.assert_allclose(prep["scaler"]["offset"], data[["gre", "gpa"]].mean(), rtol=1e-12)

    new = data.drop(columns="admit").head(5)
    new.to_csv(folder / "new.csv", index=False)
    run("predict", "m.npz", "new.csv", "--out", "pred.csv", "--proba", cwd=folder)
    predictions = pd.read_csv(folder / "pred.csv")
    assert set(predictions["predicted_admit"]) <= {0, 1}
    np.testing.assert_allclose(predictions["proba_0"] + predictions["proba_1"], 1.0)
    # the same numbers as the library, given the same preprocessing done by hand
    X = np.column_stack(
        [
            (new[["gre", "gpa"]] - prep["scaler"]["offset"]) / prep["scaler"]["scale"],
            (new["rank"].to_numpy()[:, None] == np.arange(1, 5)).astype(float),
        ]
    )
    np.testing.assert_allclose(predictions["proba_1"], net.predict(X)[:, 0], rtol=1e-12)

    evaluation = run("evaluate", "m.npz", "binary.csv", cwd=folder).stdout
    assert "accuracy:" in evaluation and "log_loss:" in evaluation and "confusion matrix" in evaluation
    info = run("info", "m.npz", cwd=folder).stdout
    assert "categorical input rank: one-hot over 1, 2, 3, 4" in info and "trained on binary.csv" in info


@pytest.mark.slow
def test_regression_predicts_in_original_units(folder):
    run(
        "train",
        "hours.csv",
        "--target",
        "score",
        "--out",
        "r.npz",
        "--layers",
        "8",
        "--epochs",
        "300",
        "--validation-split",
        "0",
        "--batch-size",
        "0",
        "--optimizer",
        "adam",
        "--lr",
        "0.05",
        "--quiet",
        cwd=folder,
    )
    data = pd.read_csv(folder / "hours.csv")
    printed = run("predict", "r.npz", "hours.csv", cwd=folder).stdout
    from io import StringIO

    predicted = pd.read_csv(StringIO(printed))["predicted_score"]
    assert np.sqrt(np.mean((predicted - data["score"]) ** 2)) < 3.0  # points, not scaled units
    evaluation = run("evaluate", "r.npz", "hours.csv", cwd=folder).stdout
    assert "mse:" in evaluation and "mae:" in evaluation and "r2:" in evaluation
    r2 = float(evaluation.split("r2:")[1].split()[0])
    assert r2 > 0.9


@pytest.mark.slow
def test_seed_004_scaling_by_training_maxima(folder):
    pd.DataFrame({"studied": [2, 1, 3], "slept": [9, 5, 6], "score": [92, 86, 89]}).to_csv(
        folder / "s.csv", index=False
    )
    run(
        "train",
        "s.csv",
        "--target",
        "score",
        "--task",
        "regression",
        "--scale",
        "maxabs",
        "--target-scale",
        "maxabs",
        "--layers",
        "3",
        "--activation",
        "sigmoid",
        "--optimizer",
        "sgd",
        "--lr",
        "1",
        "--batch-size",
        "0",
        "--validation-split",
        "0",
        "--epochs",
        "50",
        "--out",
        "s.npz",
        "--quiet",
        cwd=folder,
    )
    prep = cr.load(folder / "s.npz").preprocessor.to_dict()
    assert prep["scaler"]["scale"] == [3.0, 9.0] and prep["target_scaler"]["scale"] == [92.0]


@pytest.mark.slow
def test_explain_seed001_prints_the_tutorials_weight_changes(folder):
    out = run("explain", "seed001", cwd=folder).stdout
    assert "change in W2 = [[0.00804047]" in out and "[0.00555918]]" in out
    assert "[ 1.77005547e-04 -5.11178506e-04]" in out and "[-7.08022187e-05  2.04471402e-04]]" in out
    markdown = run("explain", "seed001", "--markdown", cwd=folder).stdout
    assert markdown.startswith("### One backpropagation step")


@pytest.mark.slow
def test_explain_a_cli_model_in_original_units(trained):
    out = run("explain", "m.npz", "--input", "600,3.5,2", "--target", "1", cwd=trained).stdout
    assert "6-100-1 network" in out and "fused sigmoid + binary_crossentropy" in out


@pytest.mark.slow
def test_plots(folder):
    run("train", "signs.csv", "--target", "label", "--out", "s.npz", "--epochs", "30", "--quiet", cwd=folder)
    run("plot", "boundary", "s.npz", "signs.csv", "--out", "boundary.png", cwd=folder)
    run("plot", "activations", "--out", "act.svg", cwd=folder)
    run("plot", "steps", "--out", "steps.png", cwd=folder)
    run("plot", "activations", "s.npz", "signs.csv", "--out", "hidden.png", cwd=folder)
    run("plot", "steps", "s.npz", "--out", "outputs.pdf", cwd=folder)
    for name in ("boundary.png", "act.svg", "steps.png", "hidden.png"):
        assert_image(folder / name)
    assert (folder / "outputs.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_demo_tour_and_named_demos(folder):
    tour = run("demo", cwd=folder).stdout
    assert "0.99619533" in tour and "test accuracy 0.725" in tour
    for seed in ("000", "001", "002", "003", "004"):
        assert f"\n{seed}  " in tour
    assert "Number of iterations to reach accuracy 0.99 is 1000" in run("demo", "000", cwd=folder).stdout
    xor = run("demo", "002", cwd=folder).stdout
    assert "1 XOR 1" in xor and (folder / "xor_model.npz").is_file()


def test_help_on_every_subcommand(tmp_path):
    for command in ("train", "predict", "evaluate", "explain", "plot", "demo", "info", "export"):
        assert "usage: chainrule " + command in run(command, "--help", cwd=tmp_path).stdout


@pytest.mark.slow
def test_numpy_files_train_and_predict(tmp_path, rng):
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    np.save(tmp_path / "rows.npy", np.column_stack([X, y]))
    run("train", "data.npz", "--target", "y", "--out", "a.npz", "--epochs", "40", "--quiet", cwd=tmp_path)
    run("train", "rows.npy", "--target", "x3", "--out", "b.npz", "--epochs", "40", "--quiet", cwd=tmp_path)
    for model in ("a.npz", "b.npz"):
        assert cr.load(tmp_path / model).preprocessor.numeric == ["x0", "x1", "x2"]
    out = run("predict", "a.npz", "data.npz", cwd=tmp_path).stdout
    predicted = pd.read_csv(io.StringIO(out))["predicted_y"].to_numpy()
    assert (predicted == y).mean() > 0.9
