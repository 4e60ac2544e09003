"""The README's examples run and say what they claim (docstring examples: tests/test_doctests.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import chainrule

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)
    printed = capsys.readouterr().out
    assert float(re.search(r"\[([0-9.]+)\]", printed).group(1)) > 0.99
    assert "Backward pass" in printed and "update: sgd, lr = 1\n" in printed  # the training rate
    saved = chainrule.load(tmp_path / "truth_table.npz")
    assert saved.sizes == [3, 4, 1]
    trained = names["net"].predict(names["X"])  # the trace left the trained model as it was
    np.testing.assert_array_equal(saved.predict(names["X"]), trained)
    assert names["history"].loss[-1] == names["history"]["loss"][-1]


@pytest.mark.slow
def test_readme_real_table_commands_run_on_the_raw_files(tmp_path):
    from tests.conftest import run

    root = README.parent
    lines = [
        line for line in README.read_text().splitlines() if line.startswith("chainrule train benchmarks/")
    ]
    assert len(lines) == 2
    for line in lines:
        args = [str(root / a) if a.startswith("benchmarks/") else a for a in line.split()[1:]]
        result = run(*args, cwd=tmp_path)
        assert "model saved to" in result.stdout and "left out" in result.stderr
