"""Every table and rule that the README and the site both state comes from one source.

``docs/_ext/shared_tables.py`` renders them from ``docs/tables/*.toml`` and the code; these tests
fail while the README's copy is stale, when a guide stops including the rendered fragment, when
a row names a test that does not exist, and when the task rule's sentence misstates the rule.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import shared_tables  # noqa: E402

README = ROOT / "README.md"
ELSEWHERE = {"test_mlp.py"}  # scikit-learn's own suite, run by tests/test_sklearn_mlp_suite.py
INCLUDED_BY = {
    "guarantees": "guides/guarantees.md",
    "defaults": "guides/cli.md",
    "task_rule": "guides/cli.md",
    "keras": "guides/coming_from_keras_sklearn.md",
    "sklearn": "guides/coming_from_keras_sklearn.md",
}


def test_readme_generated_sections_are_up_to_date():
    text = README.read_text()
    assert sorted(shared_tables.readme_sections(text)) == sorted(shared_tables.RENDERERS)
    assert shared_tables.readme_text(text) == text, (
        "README.md differs from docs/tables/ and the code: run `python docs/_ext/shared_tables.py`"
    )


def test_a_stale_readme_is_caught():
    text = README.read_text().replace(
        "| hidden layers | `--layers` `100`", "| hidden layers | `--layers` `64`"
    )
    assert shared_tables.readme_text(text) != text


@pytest.mark.parametrize("name", sorted(INCLUDED_BY))
def test_the_site_includes_the_rendered_fragment(name):
    page = (ROOT / "docs" / INCLUDED_BY[name]).read_text()
    assert f"```{{include}} ../_generated/{name}.md\n```" in page


def _all_test_names() -> dict[str, set[str]]:
    names = {}
    for path in ROOT.glob("tests/**/*.py"):
        names[str(path.relative_to(ROOT))] = set(re.findall(r"^\s*def (test_\w+)", path.read_text(), re.M))
    return names


def _cited(cell: str) -> list[str]:
    return re.findall(r"`([^`]*test[^`]*)`", cell)


def test_every_test_a_table_cites_exists():
    tests = _all_test_names()
    everything = set().union(*tests.values())
    cells = [row["test"] for row in shared_tables._load("keras")["habit"]]
    cells += [row["test"] for row in shared_tables._load("sklearn")["feature"]]
    missing = []
    for cell in cells:
        for cite in _cited(cell):
            file, _, name = cite.partition("::")
            if file in ELSEWHERE:
                continue
            if file.endswith(".py"):
                matches = [f for f in tests if f.endswith(file)]
                if not matches:
                    missing.append(cite)
                    continue
                pool = set().union(*(tests[f] for f in matches))
            else:
                name, pool = file, everything
            if name and not name.startswith("test_") and "..." not in name:
                continue  # a code span that is not a test name
            pattern = re.compile(re.escape(name).replace(re.escape("..."), ".*") + "$") if name else None
            if pattern and not any(pattern.match(candidate) for candidate in pool):
                missing.append(cite)
    for row in shared_tables._load("guarantees")["guarantee"]:
        missing += [path for path in row["tests"] if not (ROOT / path).exists()]
    assert not missing, f"tables cite tests that do not exist: {missing}"


def test_the_defaults_table_names_real_options_with_their_defaults():
    from chainrule.cli.main import build_parser

    parser = build_parser()
    train = next(
        action.choices["train"] for action in parser._subparsers._group_actions if hasattr(action, "choices")
    )
    flags = {flag for action in train._actions for flag in action.option_strings}
    table = shared_tables.defaults("docs")
    cited = set(re.findall(r"`(--[a-z-]+)`", table))
    assert cited and cited <= flags, f"not options of `chainrule train`: {sorted(cited - flags)}"
    assert "`--epochs` `2000`" in table and "`max_iter=200`" in table  # written by hand, as the test compares


@pytest.mark.parametrize(
    ("distinct", "rows", "task"),
    [
        (10, 30, "regression"),
        (10, 50, "classification"),
        (11, 1000, "regression"),
        (2, 3, "classification"),
        (3, 10, "regression"),
        (3, 15, "classification"),
    ],
)
def test_the_task_rule_sentence_matches_the_rule(distinct, rows, task):
    """Hand-worked cases of the stated rule (the issue's: 10 distinct integers in 30 rows are regression)."""
    pd = pytest.importorskip("pandas")
    from chainrule.io.preprocessing import infer_task

    assert infer_task(pd.Series([i % distinct for i in range(rows)])) == task
    sentence = " ".join(shared_tables.task_rule("docs").split())
    assert "more than 10 distinct values" in sentence and "a fifth of its rows" in sentence
    assert "10 distinct integers in 49 rows are regression, in 50 rows classes" in sentence
