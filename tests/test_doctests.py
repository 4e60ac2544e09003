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


class Runner(doctest.DocTestRunner):
    """A doctest runner that also notes the optional packages an example found missing."""

    def __init__(self) -> None:
        super().__init__(optionflags=OPTIONS)
        self.missing: set[str] = set()

    def report_unexpected_exception(self, out, test, example, exc_info) -> None:
        error = exc_info[1]
        if isinstance(error, ModuleNotFoundError) and error.name and not error.name.startswith("chainrule"):
            self.missing.add(error.name)
        super().report_unexpected_exception(out, test, example, exc_info)


def run_examples(module, name: str) -> tuple[doctest.TestResults, str, set[str]]:
    """Run a module's examples: the counts, doctest's report of each failure, missing packages."""
    runner = Runner()
    report: list[str] = []  # not print: doctest swaps sys.stdout for its own while an example runs
    with np.printoptions(legacy=False):
        for test in doctest.DocTestFinder().find(module, name):
            if test.examples:
                runner.run(test, out=report.append)
    return runner.summarize(verbose=False), "".join(report), runner.missing


def test_a_wrong_example_fails():
    module = types.ModuleType("planted")
    module.__doc__ = ">>> 1 + 1\n3\n"
    result, report, missing = run_examples(module, "planted")
    assert (result.failed, result.attempted) == (1, 1) and "Expected:\n    3\nGot:\n    2" in report
    assert not missing


def test_an_example_needing_a_missing_package_names_it():
    module = types.ModuleType("needs_extra")
    module.__doc__ = ">>> import no_such_extra_package_for_chainrule\n"
    result, _, missing = run_examples(module, "needs_extra")
    assert result.failed == 1 and missing == {"no_such_extra_package_for_chainrule"}


def test_the_walk_finds_the_modules_with_examples():
    assert {"chainrule.network", "chainrule.nn.inputs", "chainrule.train.optimizers"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    module = import_or_skip(name)
    monkeypatch.chdir(tmp_path)  # an example that writes a file by mistake leaves nothing behind
    result, report, missing = run_examples(module, name)
    if result.failed and missing:  # an extra's example where the extra is not installed
        pytest.skip(f"examples in {name} need {', '.join(sorted(missing))}, which is not installed")
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed:\n{report}"
    assert not os.listdir(tmp_path), f"the examples of {name} left files behind: {os.listdir(tmp_path)}"
