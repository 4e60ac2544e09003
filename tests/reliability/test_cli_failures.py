"""Guarantee 6: every CLI failure exits non-zero with one line and leaves no partial output."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from chainrule.datasets import admissions_path
from tests.conftest import run

pytest.importorskip("pandas")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("gre,rank\n600,2\n", "column 'gpa' is missing"),
        (
            "gre,gpa,rank\n600,3.5,2\nabc,3.1,1\n",
            "column 'gre': 1 cell is not a finite number (line 3 'abc')",
        ),
        ("gre,gpa,rank\n600,,2\n", "1 cell is missing: 'gpa' 1 (line 2)"),
    ],
    ids=["missing-column", "non-numeric", "missing-value"],
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
        (["predict", "binary.csv", "binary.csv"], "binary.csv is a CSV table, not a chainrule model; usage:"),
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


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
TRAIN = ["train", "binary.csv", "--target", "admit", "--epochs", "2", "--quiet"]

# Each case: extra files to create, the command, the one line it must print. Every new error
# message of the command line has a row here; none may leave the model file m2.npz behind.
CASES = {
    # output paths, checked before the data is read (issue 11: a bad path never costs a run)
    "out-folder-missing": (
        {},
        [*TRAIN, "--out", "nodir/m2.npz"],
        "--out nodir/m2.npz: there is no folder nodir",
    ),
    "out-not-npz": ({}, [*TRAIN, "--out", "m2.txt"], "--out m2.txt: the file must end in .npz"),
    "out-is-folder": ({"d.npz/": None}, [*TRAIN, "--out", "d.npz"], "--out d.npz is a folder"),
    "plot-jpg": ({}, [*TRAIN, "--out", "m2.npz", "--plot", "loss.jpg"], "must end in .png, .svg or .pdf"),
    "plot-folder": ({}, [*TRAIN, "--out", "m2.npz", "--plot", "no/loss.png"], "there is no folder no"),
    "history-ext": ({}, [*TRAIN, "--out", "m2.npz", "--history", "h.txt"], "--history h.txt: the file must"),
    # collisions (issue 10 item 6): an output that is an input or another output
    "out-is-data": (
        {},
        [*TRAIN[:-1], "--out", "binary.csv"],
        "--out binary.csv is the same file as the data",
    ),
    "history-is-data": (
        {},
        [*TRAIN, "--out", "m2.npz", "--history", "binary.csv"],
        "--history binary.csv is the same file as the data file",
    ),
    "history-via-dots": (
        {"sub/": None},
        [*TRAIN, "--out", "m2.npz", "--history", "sub/../binary.csv"],
        "is the same file as the data file",
    ),
    "plot-is-history": (
        {},
        [*TRAIN, "--out", "m2.npz", "--history", "h.csv", "--plot", "h.csv"],
        "--plot h.csv is the same file as --history",
    ),
    "predict-out-is-model": (
        {},
        ["predict", "m.npz", "binary.csv", "--out", "m.npz"],
        "the same file as the model",
    ),
    "predict-out-is-data": (
        {},
        ["predict", "m.npz", "binary.csv", "--out", "binary.csv"],
        "--out binary.csv is the same file as the data file",
    ),
    "plot-out-is-model": ({}, ["plot", "steps", "m.npz", "--out", "m.npz"], "the same file as the model"),
    "export-out-is-model": ({}, ["export", "m.npz", "m.npz"], "OUT m.npz is the same file as the model"),
    # what a file is, by its content (issue 11 item 4)
    "png-as-data": (
        {"img.csv": PNG},
        ["train", "img.csv", "--target", "y", "--out", "m2.npz"],
        "img.csv is a PNG image",
    ),
    "png-as-model": (
        {"img.npz": PNG},
        ["predict", "img.npz", "binary.csv"],
        "img.npz is a PNG image, not a chainrule",
    ),
    "model-as-data": (
        {},
        ["predict", "m.npz", "m.npz"],
        "m.npz is a chainrule model, not a data table; usage:",
    ),
    "csv-as-model-info": ({}, ["info", "binary.csv"], "binary.csv is a CSV table, not a chainrule model"),
    "csv-as-model-plot": (
        {},
        ["plot", "steps", "binary.csv", "--out", "p.png"],
        "is a CSV table, not a chainrule",
    ),
    "xlsx-as-data": (
        {"book.csv": b"PK\x03\x04"},
        ["train", "book.csv", "--target", "y", "--out", "m2.npz"],
        "book.csv is a damaged or truncated ZIP archive",
    ),
    "binary-as-data": (
        {"b.csv": b"a,b\x00\x01\x02"},
        ["train", "b.csv", "--target", "y", "--out", "m2.npz"],
        "b.csv is a binary file",
    ),
    "empty-data": ({"e.csv": b""}, ["train", "e.csv", "--target", "y", "--out", "m2.npz"], "e.csv is empty"),
    # cells (issue 11 item 1)
    "bad-cell-in-training": (
        {"c.csv": b'x,y\n1.5,a\n2.5,b\n"5,1",a\n3.5,b\n'},
        ["train", "c.csv", "--target", "y", "--out", "m2.npz"],
        "column 'x' looks numeric but 1 cell is not a number: line 4 '5,1'; fix those cells, or pass "
        "--categorical x",
    ),
    "missing-cells-counted": (
        {"c.csv": b"x,z,y\n1,,a\n,2,b\n3,,a\n4,5,b\n"},
        ["train", "c.csv", "--target", "y", "--out", "m2.npz"],
        "3 cells are missing: 'x' 1 of 4 rows (line 3); 'z' 2 of 4 rows (lines 2, 4).",
    ),
    # options refused at parse time (issue 11 item 6)
    "epochs-zero": ({}, [*TRAIN, "--out", "m2.npz", "--epochs", "0"], "--epochs: must be at least 1, got 0"),
    "lr-nan": ({}, [*TRAIN, "--out", "m2.npz", "--lr", "nan"], "--lr: must be a finite number"),
    "split-one": (
        {},
        [*TRAIN, "--out", "m2.npz", "--validation-split", "1"],
        "must be at least 0 and below 1",
    ),
    "layers-text": ({}, [*TRAIN, "--out", "m2.npz", "--layers", "8,x"], "--layers needs whole numbers"),
    "plot-extra-file": (
        {},
        ["plot", "steps", "m.npz", "binary.csv", "--out", "p.png"],
        "plot steps takes [MODEL], got 2 file(s)",
    ),
    "plot-history-no-file": (
        {},
        ["plot", "history", "--out", "p.png"],
        "plot history takes HISTORY.csv, got 0",
    ),
    "explain-seed003": (
        {},
        ["explain", "seed003"],
        "seed003: seed 003's step is error backpropagation alone",
    ),
    "demo-out-wrong-demo": ({}, ["demo", "001", "--out", "m2.npz"], "--out applies to demo 002 only"),
}


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    """A folder with binary.csv and a quick CLI model m.npz, trained once for the whole table."""
    folder = tmp_path_factory.mktemp("cli")
    shutil.copy(admissions_path(), folder / "binary.csv")
    run(*TRAIN, "--categorical", "rank", "--out", "m.npz", cwd=folder)
    return folder


@pytest.fixture
def trained_copy(trained_once, tmp_path):
    for name in ("binary.csv", "m.npz"):
        shutil.copy(trained_once / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(("files", "args", "message"), list(CASES.values()), ids=list(CASES))
def test_refusals_are_one_line_and_write_nothing(trained_copy, files, args, message):
    trained = trained_copy
    for name, content in files.items():
        if name.endswith("/"):
            (trained / name).mkdir()
        else:
            (trained / name).write_bytes(content)
    before = {p.name: p.stat().st_mtime_ns for p in trained.iterdir()}
    result = run(*args, cwd=trained, ok=False)
    assert result.returncode in (1, 2)
    assert message in result.stderr, result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("chainrule")]
    assert len(said) == 1 and said[0] == result.stderr.strip().splitlines()[-1], result.stderr
    assert "Traceback" not in result.stderr and "allow_pickle" not in result.stderr
    assert not (trained / "m2.npz").exists()
    assert {p.name: p.stat().st_mtime_ns for p in trained.iterdir()} == before  # nothing written


def test_bad_output_path_fails_before_the_data_is_read(trained):
    # a data file that does not exist is not even looked at: the path check comes first
    result = run("train", "nope.csv", "--target", "y", "--out", "nodir/m.npz", cwd=trained, ok=False)
    assert "there is no folder nodir" in result.stderr


def test_damaged_metadata_is_one_line(trained):
    import json

    import numpy as np

    import chainrule as cr
    from chainrule.io.model_file import HEADER_KEY

    with np.load(trained / "m.npz") as archive:  # written with NumPy: save refuses such a file
        arrays = dict(archive)
    header = json.loads(arrays[HEADER_KEY].tobytes())
    header["metadata"]["preprocessing"] = {"target": "admit"}
    header["metadata"]["training"] = {"optimizer": "adam", "metrics": [1, 2]}
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(trained / "damaged.npz", **arrays)
    with pytest.raises(cr.ModelFileError, match="preprocessing is damaged"):
        cr.save(cr.load(trained / "m.npz").network, trained / "never.npz", {"preprocessing": {"target": "a"}})
    result = run("predict", "damaged.npz", "binary.csv", cwd=trained, ok=False)
    assert "damaged.npz: its stored preprocessing is damaged" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    info = run("info", "damaged.npz", cwd=trained, ok=False)
    assert "Traceback" not in info.stderr and len(info.stderr.strip().splitlines()) <= 1


def test_out_of_memory_is_one_line(trained):
    resource = pytest.importorskip("resource")
    limit = 1500 * 2**20

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from tests.conftest import COMMAND

    result = subprocess.run(
        [str(COMMAND), *TRAIN, "--out", "m2.npz", "--layers", "20000,20000"],
        cwd=trained,
        capture_output=True,
        text=True,
        preexec_fn=cap,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "chainrule: error: out of memory; use fewer rows, --dtype float32, "
        "or a smaller --batch-size or network"
    )
    assert not (trained / "m2.npz").exists()
