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


def test_the_walk_finds_the_modules_with_examples():
    assert {"chainrule.network", "chainrule.nn.inputs", "chainrule.train.optimizers"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    module = import_or_skip(name)
    monkeypatch.chdir(tmp_path)  # an example that writes a file by mistake leaves nothing behind
    tests = doctest.DocTestFinder().find(module, name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    with np.printoptions(legacy=False):
        for test in tests:
            if test.examples:
                runner.run(test, out=lambda text: print(text, end=""))
    result = runner.summarize(verbose=False)
    failed = f"{result.failed} of {result.attempted} examples in {name} failed (printed above)"
    assert result.failed == 0, failed
    assert not os.listdir(tmp_path), f"the examples of {name} left files behind: {os.listdir(tmp_path)}"
