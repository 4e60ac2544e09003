"""The examples in docstrings and in the README run and say what they claim."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import chainrule
import chainrule.network
import chainrule.nn.inputs
import chainrule.table.model
import chainrule.table.training
import chainrule.teaching.trace

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize(
    "module",
    [
        chainrule,
        chainrule.network,
        chainrule.nn.inputs,
        chainrule.table.model,
        chainrule.table.training,
        chainrule.teaching.trace,
    ],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_readme_usage_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert float(re.search(r"\[([0-9.]+)\]", printed).group(1)) > 0.99
    assert "Backward pass" in printed
    assert chainrule.load(tmp_path / "truth_table.npz").sizes == [3, 4, 1]
