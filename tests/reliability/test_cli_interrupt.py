"""Ctrl-C during ``chainrule train``: a real SIGINT to a real subprocess (issue 10 item 6).

The command exits 130 and says after how many epochs; the model is written only with
``--keep-interrupted``, then marked interrupted in its header and shown so by ``info``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import COMMAND, run

pd = pytest.importorskip("pandas")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]


@pytest.fixture
def big(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(2000, 4)), columns=list("abcd"))
    frame["y"] = (frame["a"] + frame["b"] > 0).astype(int)
    frame.to_csv(tmp_path / "big.csv", index=False)
    return tmp_path


def interrupt(folder, *extra, wait_for: str) -> subprocess.CompletedProcess:
    """Start a long `chainrule train`, send SIGINT once stderr shows ``wait_for``, collect the result."""
    args = [str(COMMAND), "train", "big.csv", "--target", "y", "--out", "m.npz", "--epochs", "5000"]
    process = subprocess.Popen(
        [*args, "--no-early-stopping", *extra],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job inherits SIGINT ignored; give the child Python's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = []
    deadline = time.monotonic() + 120
    for line in process.stderr:
        seen.append(line)
        if wait_for in line or time.monotonic() > deadline:
            break
    assert any(wait_for in line for line in seen), "".join(seen)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(args, process.returncode, out, "".join(seen) + err)


def test_ctrl_c_exits_130_and_writes_no_model(big):
    result = interrupt(big, wait_for="training:")
    assert result.returncode == 130, result.stderr
    assert "chainrule: interrupted after " in result.stderr and " epochs" in result.stderr
    assert "no model written (pass --keep-interrupted to keep it)" in result.stderr
    assert "model saved" not in result.stdout and "Traceback" not in result.stderr
    assert sorted(p.name for p in big.iterdir()) == ["big.csv"]  # no model, no temporary file


def test_keep_interrupted_saves_a_model_marked_interrupted(big):
    result = interrupt(big, "--keep-interrupted", wait_for="epoch  500/5000")
    assert result.returncode == 130, result.stderr
    done = int(result.stderr.split("interrupted after ")[1].split()[0])
    # "epoch 500" is printed by a callback before the epoch is committed: a Ctrl-C right after
    # the line rolls back to epoch 499, which is what the model then holds.
    assert 499 <= done < 5000
    assert f"kept the model of epoch {done}, marked interrupted" in result.stderr
    net = cr.load(big / "m.npz")
    assert net.metadata["training"]["interrupted"] is True
    assert net.metadata["training"]["epochs_run"] == done
    info = run("info", "m.npz", cwd=big).stdout
    assert f"INTERRUPTED: training was stopped by Ctrl-C after {done} epochs" in info


def test_a_finished_run_is_not_marked_interrupted(big):
    run("train", "big.csv", "--target", "y", "--out", "m.npz", "--epochs", "2", "--quiet", cwd=big)
    assert cr.load(big / "m.npz").metadata["training"]["interrupted"] is False
    assert "INTERRUPTED" not in run("info", "m.npz", cwd=big).stdout
