"""Reading tables from the command line: delimiters, file kinds, bad and missing cells, the task.

Issue 11 items 1, 4 and 5; each test runs the installed ``chainrule`` in a subprocess.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import run

pd = pytest.importorskip("pandas")


def iris_like(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"length": np.round(rng.uniform(4, 8, n), 1), "width": np.round(rng.uniform(2, 4.5, n), 1)}
    )
    frame["species"] = np.where(frame["length"] > 6, "big", "small")
    return frame


TRAIN = ["--target", "species", "--out", "m.npz", "--epochs", "2"]


@pytest.mark.parametrize(
    ("separator", "decimal", "said"),
    [
        (";", ".", "semicolon-separated"),
        ("\t", ".", "tab-separated"),
        ("|", ".", "pipe-separated"),
        (";", ",", "semicolon-separated, decimal comma"),
    ],
    ids=["semicolon", "tab", "pipe", "decimal-comma"],
)
def test_delimiters_are_detected_and_reported(tmp_path, separator, decimal, said):
    iris_like().to_csv(tmp_path / "t.csv", sep=separator, decimal=decimal, index=False)
    result = run("train", "t.csv", *TRAIN, cwd=tmp_path)
    assert f"data: t.csv: 60 rows, 3 columns, {said}" in result.stderr
    assert "inputs: 2 columns (length, width)" in result.stderr  # numbers, not one text column
    prep = cr.load(tmp_path / "m.npz").preprocessor.to_dict()
    assert prep["numeric"] == ["length", "width"]
    predicted = run("predict", "m.npz", "t.csv", cwd=tmp_path)
    assert f"read t.csv as {said}" in predicted.stderr


def test_one_bad_cell_is_an_error_naming_it_not_a_new_encoding(tmp_path):
    frame = iris_like().astype({"length": object})
    frame.loc[4, "length"] = "5,1"
    frame.loc[9, "length"] = "n/a?"
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = run("train", "t.csv", *TRAIN, cwd=tmp_path, ok=False)
    assert result.returncode == 1
    assert (
        "column 'length' looks numeric but 2 cells are not a number: line 6 '5,1', line 11 'n/a?'; "
        "fix those cells, or pass --categorical length"
    ) in result.stderr
    assert not (tmp_path / "m.npz").exists()
    # the way out the message names works
    run("train", "t.csv", *TRAIN, "--categorical", "length", "--quiet", cwd=tmp_path)


def test_predict_names_every_bad_cell_by_its_line(tmp_path):
    iris_like().to_csv(tmp_path / "t.csv", index=False)
    run("train", "t.csv", *TRAIN, "--quiet", cwd=tmp_path)
    (tmp_path / "new.csv").write_text("length,width\n5.1,3.0\n\n5,1,3.0\n6.0,x\n")
    # line 4 has an extra field: the parser's own line number
    result = run("predict", "m.npz", "new.csv", cwd=tmp_path, ok=False)
    assert "line 4" in result.stderr
    (tmp_path / "new.csv").write_text('length,width\n5.1,3.0\n\n"5,1",3.0\n6.0,x\n')
    result = run("predict", "m.npz", "new.csv", cwd=tmp_path, ok=False)
    assert "column 'length': 1 cell is not a finite number (line 4 '5,1')" in result.stderr


def test_every_missing_cell_is_counted(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,y\n1,,x\n,2,z\n3,,x\n4,5,z\n5,6,x\n,,z\n")
    result = run("train", "t.csv", "--target", "y", "--out", "m.npz", cwd=tmp_path, ok=False)
    assert (
        "5 cells are missing: 'a' 2 of 6 rows (lines 3, 7); 'b' 3 of 6 rows (lines 2, 4, 7)." in result.stderr
    )
    assert "--drop a" in result.stderr and "--missing mean, median or most_frequent" in result.stderr


def test_a_non_utf8_table_is_read_with_a_warning(tmp_path):
    (tmp_path / "t.csv").write_bytes(
        "city,n,y\nZürich,1,a\nGenève,2,b\nBern,3,a\nChur,4,b\n".encode("cp1252")
    )
    result = run("train", "t.csv", "--target", "y", "--out", "m.npz", "--epochs", "1", cwd=tmp_path)
    warning = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and warning[0].startswith("chainrule: warning: t.csv is not UTF-8 text")
    categories = cr.load(tmp_path / "m.npz").preprocessor.categorical["city"]
    assert "Zürich" in categories


@pytest.mark.parametrize(
    ("target", "task", "rule"),
    [
        (
            [120500, 98000, 143000, 87500, 110000, 99000, 250000, 175000, 132000, 101000],
            "regression",
            "10 rows",
        ),
        ([1.5, 2.0, 2.5, 1.0, 3.0, 2.0, 1.5, 2.5, 1.0, 3.0], "regression", "fractional values"),
        ([0, 1, 1, 0, 1, 0, 0, 1, 1, 0], "classification", "2 distinct whole numbers in 10 rows"),
        (["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"], "classification", "holds text"),
    ],
    ids=["prices", "fractions", "binary", "text"],
)
def test_task_inference_holds_up_and_says_its_rule(tmp_path, target, task, rule):
    frame = pd.DataFrame({"rooms": [3, 2, 4, 1, 3, 2, 5, 4, 3, 2], "y": target})
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = run("train", "t.csv", "--target", "y", "--out", "m.npz", "--epochs", "1", cwd=tmp_path)
    line = next(line for line in result.stderr.splitlines() if line.startswith("task: "))
    assert line.startswith(f"task: {task}") and rule in line and "override with --task" in line


def test_numpy_archive_given_as_model_is_named(tmp_path):
    np.savez(tmp_path / "data.npz", X=np.zeros((3, 2)), y=np.zeros(3))
    result = run("info", "data.npz", cwd=tmp_path, ok=False)
    assert "data.npz is a NumPy .npz archive (arrays X, y), not a chainrule model" in result.stderr
