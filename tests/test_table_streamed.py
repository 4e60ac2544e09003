"""Tables read in blocks: `train_table` on a Dask DataFrame and ``chainrule train 'files/*'``.

The preprocessing of a table read in blocks is built from merged block summaries by the code
that builds it for a table in memory, so one block gives the in-memory model weight for weight;
several blocks give the whole table's statistics (checked against NumPy on the whole table).
A subprocess shows the command line training on CSV files several times larger than the memory
it grows by, and a saved streamed model predicts with ``chainrule predict`` like an in-memory one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import chainrule as cr  # noqa: E402
from chainrule.cli.main import main  # noqa: E402
from chainrule.errors import InputError  # noqa: E402
from chainrule.io.preprocessing import TablePreprocessor  # noqa: E402
from chainrule.io.summary import TableSummary  # noqa: E402
from tests.conftest import run  # noqa: E402

RNG = np.random.default_rng(3)
N = 600
TABLE = pd.DataFrame(
    {
        "a": RNG.normal(size=N) * 4 + 2,
        "b": RNG.uniform(-1, 5, size=N),
        "colour": RNG.choice(["red", "green", "blue"], N),
    }
)
TABLE["label"] = np.where(TABLE.a / 4 + TABLE.b / 3 + (TABLE.colour == "red") > 1.2, "yes", "no")
TABLE["amount"] = TABLE.a * 1.5 - TABLE.b + np.where(TABLE.colour == "blue", 2.0, 0.0)
OPTIONS = {"epochs": 4, "validation_split": 0, "seed": 2, "layers": (8,)}


def fit_quietly(frame, target, **options):
    with pytest.warns(cr.TrainingWarning, match="not converged"):
        return cr.train_table(frame, target, **{**OPTIONS, **options})


def assert_same_weights(a, b):
    for left, right in zip(a.network.get_weights(), b.network.get_weights(), strict=True):
        for key in left:
            np.testing.assert_array_equal(left[key], right[key])


@pytest.mark.parametrize("target", ["label", "amount"])
def test_one_block_is_the_in_memory_model(target):
    frame = TABLE.drop(columns=["amount" if target == "label" else "label"])
    memory = fit_quietly(frame, target)
    streamed = fit_quietly(dd.from_pandas(frame, npartitions=1), target)
    assert streamed.preprocessor == memory.preprocessor
    assert_same_weights(streamed, memory)
    assert streamed.history.history["loss"] == memory.history.history["loss"]
    for name, value in memory.metadata["training"]["metrics"]["train"].items():
        assert streamed.metadata["training"]["metrics"]["train"][name] == pytest.approx(value, rel=1e-12)


def test_blocks_merge_to_the_whole_tables_statistics():
    parts = [TABLE.iloc[i : i + 97] for i in range(0, N, 97)]
    merged = parts[0]
    summaries = [TableSummary.of(p, "amount", ["a", "b", "colour"], []) for p in parts]
    merged = summaries[0]
    for summary in summaries[1:]:
        merged = merged.merge(summary)
    prep = TablePreprocessor.from_summary(merged, task="regression")
    values = TABLE[["a", "b"]].to_numpy()
    np.testing.assert_allclose(prep.scaler.offset, values.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(prep.scaler.scale, values.std(axis=0), rtol=1e-13)
    np.testing.assert_allclose(prep.target_scaler.scale, [TABLE.amount.std(ddof=0)], rtol=1e-13)
    assert prep.categorical == {"colour": ["blue", "green", "red"]}
    minmax = TablePreprocessor.from_summary(merged, task="regression", scale="minmax")
    np.testing.assert_array_equal(minmax.scaler.offset, values.min(axis=0))
    np.testing.assert_allclose(minmax.scaler.scale, np.ptp(values, axis=0), rtol=1e-15)


def test_several_blocks_train_and_score_as_the_whole_table():
    frame = TABLE.drop(columns=["amount"])
    model = fit_quietly(dd.from_pandas(frame, npartitions=5), "label")
    assert model.classes_.tolist() == ["no", "yes"]
    reported = model.metadata["training"]["metrics"]["train"]
    predicted = model.predict(frame)
    assert reported["accuracy"] == pytest.approx(np.mean(predicted == frame.label.to_numpy()), abs=1e-12)
    p_yes = model.predict_proba(frame)[:, 1]
    truth = frame.label.to_numpy() == "yes"
    log_loss = -np.mean(np.log(np.clip(np.where(truth, p_yes, 1 - p_yes), 1e-15, 1)))
    assert reported["log_loss"] == pytest.approx(log_loss, rel=1e-9)
    assert model.metadata["training"]["train_rows"] == N


def test_streamed_options_that_need_the_whole_table_are_refused():
    blocks = dd.from_pandas(TABLE.drop(columns=["amount"]), npartitions=3)
    with pytest.raises(InputError, match="--missing refuse or --missing drop"):
        cr.train_table(blocks, "label", missing="mean")
    with pytest.raises(InputError, match="--validation-split 0 or auto"):
        cr.train_table(blocks, "label", validation_split=0.2, epochs=1)
    with pytest.raises(InputError, match="no target column 'nope'"):
        cr.train_table(blocks, "nope")


def test_missing_rows_are_dropped_block_by_block():
    frame = TABLE.drop(columns=["amount"]).copy()
    frame.loc[[5, 300, 301], "a"] = np.nan
    streamed = fit_quietly(dd.from_pandas(frame, npartitions=3), "label", missing="drop")
    assert streamed.metadata["training"]["train_rows"] == N - 3
    frame.loc[:199, "b"] = np.nan  # the whole first block: a block with no rows left
    streamed = fit_quietly(dd.from_pandas(frame, npartitions=3), "label", missing="drop")
    assert streamed.metadata["training"]["train_rows"] == N - 202
    accuracy = streamed.metadata["training"]["metrics"]["train"]["accuracy"]
    assert accuracy == pytest.approx(streamed.evaluate(frame.dropna())["accuracy"], abs=1e-12)
    with pytest.raises(InputError, match="missing"):
        cr.train_table(dd.from_pandas(frame, npartitions=3), "label")


def write_csv_parts(folder, frame, parts):
    folder.mkdir()
    size = -(-len(frame) // parts)
    for i in range(parts):
        frame.iloc[i * size : (i + 1) * size].to_csv(folder / f"part{i}.csv", index=False)


def cli(capsys, *args):
    """``chainrule ARGS`` in this process (no interpreter start-up): its exit code and stdout."""
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    print(captured.err, end="", file=sys.stderr)  # left for the caller to read
    return code, captured.out


def test_cli_trains_on_a_glob_and_predicts_like_an_in_memory_model(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = TABLE.drop(columns=["label"])
    frame.to_csv("whole.csv", index=False)
    frame.to_parquet("whole.parquet")
    write_csv_parts(tmp_path / "one", frame, 1)
    write_csv_parts(tmp_path / "three", frame, 3)
    options = ["--target", "amount", "--epochs", "3", "--layers", "8", "--quiet"]
    predictions = {}
    for name, data in [("memory", "whole.csv"), ("one", "one/*.csv"), ("parquet", "whole.parquet")]:
        assert cli(capsys, "train", data, "--out", f"{name}.npz", *options)[0] == 0
        code, predictions[name] = cli(capsys, "predict", f"{name}.npz", "whole.csv")
        assert code == 0
    assert predictions["one"] == predictions["memory"]
    assert predictions["parquet"] == predictions["memory"]
    code, out = cli(capsys, "train", "three/*.csv", "--out", "three.npz", *options)
    assert code == 0 and f"trained 3 epochs on {N} rows" in out
    three = run("predict", "three.npz", "whole.csv", cwd=tmp_path).stdout.splitlines()
    assert three[0].endswith("predicted_amount") and len(three) == N + 1


def test_cli_names_a_glob_that_matches_nothing_or_mixed_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = ["--target", "y", "--out", "m.npz"]
    assert cli(capsys, "train", "nothing/*.csv", *options)[0] == 1
    assert "no files match 'nothing/*.csv'" in capsys.readouterr().err
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.parquet").write_bytes(b"PAR1")
    assert cli(capsys, "train", "*", *options)[0] == 1
    assert "only Parquet" in capsys.readouterr().err and not (tmp_path / "m.npz").exists()
    (tmp_path / "b.parquet").unlink()
    (tmp_path / "c.csv").write_text("x,y\n1,0\noops,1\n")
    assert cli(capsys, "train", "*.csv", *options)[0] == 1
    err = capsys.readouterr().err
    assert "holds numbers in the first block of the files and text in another" in err
    assert "'oops'" in err and not (tmp_path / "m.npz").exists()


PROBE = textwrap.dedent(
    """
    import glob, os, sys
    import dask
    import pandas as pd
    from chainrule.cli.main import main

    dask.config.set(num_workers=2)  # blocks in flight at once: the growth is a few of them

    folder = sys.argv[1]

    def peak_mib():  # VmHWM, the peak resident set since the last reset_peak()
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024

    def reset_peak():  # Linux >= 4.0: the peak starts again from the current resident set
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")

    options = ["--target", "y", "--epochs", "1", "--quiet", "--block-size", "1MB"]
    main(["train", f"{folder}/warm/*.csv", "--out", f"{folder}/warm.npz", *options])  # imports, buffers
    reset_peak()
    before = peak_mib()
    main(["train", f"{folder}/data/*.csv", "--out", f"{folder}/model.npz", *options])
    print("GROWTH", peak_mib() - before)
    print("FILES", sum(os.path.getsize(f) for f in glob.glob(f"{folder}/data/*.csv")) / 2**20)
    reset_peak()
    before = peak_mib()
    whole = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(f"{folder}/data/*.csv"))])
    print("CONTROL", peak_mib() - before, len(whole))
    """
)


@pytest.mark.slow
def test_cli_trains_on_files_several_times_larger_than_the_memory_it_uses(tmp_path):
    rows = 20_000
    X = RNG.normal(size=(rows, 8))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)]).assign(y=X[:, 0] - 2 * X[:, 1])
    (tmp_path / "warm").mkdir()
    frame.head(500).to_csv(tmp_path / "warm" / "a.csv", index=False)
    write_csv_parts(tmp_path / "data", frame, 1)
    for i in range(1, 24):  # 24 copies: about 80 MiB of CSV, 480,000 rows
        shutil.copy(tmp_path / "data" / "part0.csv", tmp_path / "data" / f"part{i}.csv")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CHAINRULE_BACKEND": "numpy"},
    )
    assert result.returncode == 0, result.stderr
    numbers = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    growth, files = float(numbers["GROWTH"][0]), float(numbers["FILES"][0])
    control, whole_rows = float(numbers["CONTROL"][0]), int(numbers["CONTROL"][1])
    assert whole_rows == 24 * rows
    assert files > 3 * growth, f"{files:.0f} MiB of CSV grew the peak by {growth:.1f} MiB"
    assert control > 2 * growth, (
        f"reading the files whole grew it by {control:.1f} MiB, streaming {growth:.1f}"
    )
    model = cr.load(tmp_path / "model.npz")
    assert model.metadata["training"]["train_rows"] == 24 * rows
    assert model.score(frame.head(2000)) > 0.9
