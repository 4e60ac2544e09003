"""Issue 21, 3: nothing unusable is written. A statistic that overflows is refused at train time,
naming the column and the fix; a file holding one is refused at load; and every model the test
suite saves is loaded and used (`tests/conftest.py:saved_models_are_usable`)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.io.model_file import HEADER_KEY
from tests.conftest import run

pd = pytest.importorskip("pandas")


def huge_table(column="a", n=60):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = frame["a"] + frame["b"]
    frame[column] = rng.choice([1e308, -1e308], n) if column != "y" else rng.uniform(-1, 1, n) * 1e308
    return frame


@pytest.mark.parametrize("scale", ["standard", "minmax"])
def test_a_feature_whose_scaling_overflows_is_refused_naming_it_and_the_fix(scale):
    with pytest.raises(cr.InputError) as caught:
        cr.train_table(huge_table(), target="y", scale=scale, epochs=1)
    message = str(caught.value)
    assert "column 'a'" in message and f"scale={scale!r}" in message
    assert "--scale maxabs" in message and "power of ten" in message
    model = cr.train_table(huge_table(), target="y", scale="maxabs", epochs=1)  # the fix works
    assert np.isfinite(model.predict(huge_table())).all()


def test_a_target_whose_scaling_overflows_is_refused():
    with pytest.raises(cr.InputError, match=r"column 'y' .*--target-scale maxabs"):
        cr.train_table(huge_table("y"), target="y", task="regression", epochs=1)


def test_the_command_refuses_it_and_writes_no_model(tmp_path):
    huge_table().to_csv(tmp_path / "huge.csv", index=False)
    result = run("train", "huge.csv", "--target", "y", "--out", "m.npz", "--quiet", cwd=tmp_path, ok=False)
    assert result.returncode == 1 and "column 'a'" in result.stderr and "unexpected" not in result.stderr
    assert not (tmp_path / "m.npz").exists()


def with_infinite_scale(good, path):
    """A copy of a model file whose first stored scale is the string "inf" (as 5785191 wrote
    after training on +/-1e308), written with NumPy directly (save refuses it now)."""
    with np.load(good) as archive:
        arrays = dict(archive)
    header = json.loads(arrays[HEADER_KEY].tobytes())
    header["metadata"]["preprocessing"]["scaler"]["scale"][0] = "inf"
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    return path


def test_a_file_with_an_infinite_statistic_is_refused_at_load_and_never_saved(tmp_path):
    model = cr.train_table(huge_table().assign(a=1.0), target="y", epochs=1)
    model.save(tmp_path / "good.npz")
    bad = with_infinite_scale(tmp_path / "good.npz", tmp_path / "bad.npz")
    with pytest.raises(cr.ModelFileError, match="scaling statistic is not finite"):
        cr.load(bad)
    model.preprocessor.scaler.scale[0] = float("inf")
    with pytest.raises(cr.ModelFileError, match=r"cannot save .* not finite"):
        model.save(tmp_path / "never.npz")
    assert not (tmp_path / "never.npz").exists()


def test_every_save_is_recorded_here_and_in_commands(saved_models_log, tmp_path):
    """The check of every saved model sees saves in this process and in the commands a test runs."""
    before = saved_models_log.read_text().splitlines()
    cr.Network([2, 1], seed=0).save(tmp_path / "here.npz")
    code = "import chainrule as cr, sys; cr.Network([3, 1], seed=0).save(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there.npz")], check=True, timeout=120)
    new = saved_models_log.read_text().splitlines()[len(before) :]
    assert [line.split("\t")[1] for line in new] == [str(tmp_path / "here.npz"), str(tmp_path / "there.npz")]
