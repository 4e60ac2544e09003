"""Guarantee 6: every CLI failure exits non-zero with one line and leaves no partial output."""

from __future__ import annotations

import pytest

from tests.conftest import run

pytest.importorskip("pandas")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("gre,rank\n600,2\n", "column 'gpa' is missing"),
        ("gre,gpa,rank\n600,3.5,2\n700,3.1,7\n", "row 2, column 'rank': category '7' was not seen"),
        ("gre,gpa,rank\n600,3.5,2\nabc,3.1,1\n", "row 2, column 'gre': 'abc' is not a finite number"),
        ("gre,gpa,rank\n600,,2\n", "row 1, column 'gpa': missing value"),
    ],
    ids=["missing-column", "unseen-category", "non-numeric", "missing-value"],
)
def test_bad_prediction_input_fails_cleanly_and_writes_nothing(trained, rows, message):
    (trained / "bad.csv").write_text(rows)
    result = run("predict", "m.npz", "bad.csv", "--out", "out.csv", cwd=trained, ok=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (trained / "out.csv").exists()
    assert [p.name for p in trained.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "nope.csv", "--target", "y", "--out", "m2.npz"], "no such data file"),
        (["train", "binary.csv", "--target", "admitted", "--out", "m2.npz"], "no target column 'admitted'"),
        (["predict", "missing.npz", "binary.csv"], "no such model file"),
        (["predict", "binary.csv", "binary.csv"], "not a readable chainrule model"),
        (
            ["train", "binary.csv", "--target", "admit", "--out", "m2.npz", "--layers", "8,0"],
            "positive widths",
        ),
        (
            [
                "train",
                "binary.csv",
                "--target",
                "admit",
                "--out",
                "m2.npz",
                "--epochs",
                "3",
                "--optimizer",
                "sgd",
                "--lr",
                "1e6",
                "--task",
                "regression",
                "--quiet",
            ],
            "diverged",
        ),
    ],
    ids=["no-data", "no-target", "no-model", "not-a-model", "bad-layers", "divergence"],
)
def test_bad_commands_fail_with_one_line_and_no_model_file(trained, args, message):
    result = run(*args, cwd=trained, ok=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (trained / "m2.npz").exists()


def test_debug_shows_the_traceback(trained):
    result = run("--debug", "predict", "missing.npz", "binary.csv", cwd=trained, ok=False)
    assert "Traceback" in result.stderr
