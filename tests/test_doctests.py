"""Every ``>>>`` example in chainrule's docstrings runs and prints what it shows.

The same examples run under ``python -m pytest --doctest-modules src/chainrule`` (with the option
flags of ``[tool.pytest.ini_options] doctest_optionflags`` in pyproject.toml, read here too); this
test is what CI's plain ``python -m pytest`` runs. A module that needs an extra which is not
installed is skipped, naming the extra's missing package.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest

import chainrule

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
FLAGS = tomllib.loads(PYPROJECT.read_text())["tool"]["pytest"]["ini_options"]["doctest_optionflags"]
OPTIONS = 0
for flag in FLAGS.split():
    OPTIONS |= doctest.OPTIONFLAGS_BY_NAME[flag]

# the seed examples are scripts (tests/test_seeds.py runs them), not modules with docstring examples
SUBMODULES = [info.name for info in pkgutil.walk_packages(chainrule.__path__, "chainrule.")]
MODULES = ["chainrule", *sorted(name for name in SUBMODULES if ".examples" not in name)]


def import_or_skip(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("chainrule"):
            pytest.skip(f"{name} needs {exc.name}, which is not installed")
        raise


def run_examples(module, name: str) -> tuple[doctest.TestResults, str]:
    """Run a module's docstring examples; the counts and doctest's report of each failure."""
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report: list[str] = []  # not print: doctest swaps sys.stdout for its own while an example runs
    with np.printoptions(legacy=False):
        for test in doctest.DocTestFinder().find(module, name):
            if test.examples:
                runner.run(test, out=report.append)
    return runner.summarize(verbose=False), "".join(report)


def test_a_wrong_example_fails():
    module = types.ModuleType("planted")
    module.__doc__ = ">>> 1 + 1\n3\n"
    result, report = run_examples(module, "planted")
    assert (result.failed, result.attempted) == (1, 1) and "Expected:\n    3\nGot:\n    2" in report


def test_the_walk_finds_the_modules_with_examples():
    assert {"chainrule.network", "chainrule.nn.inputs", "chainrule.train.optimizers"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    module = import_or_skip(name)
    monkeypatch.chdir(tmp_path)  # an example that writes a file by mistake leaves nothing behind
    result, report = run_examples(module, name)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed:\n{report}"
    assert not os.listdir(tmp_path), f"the examples of {name} left files behind: {os.listdir(tmp_path)}"
