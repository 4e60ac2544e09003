"""One source for every table and rule that both the README and the documentation site state.

The rows live in ``docs/tables/*.toml`` (the guarantees, the Keras habits, the estimators next to
scikit-learn's, the CLI defaults' rows) and the values in the code (``chainrule.table.DEFAULTS``,
the estimators' signatures, the task rule's constants in ``chainrule.io.preprocessing``). This
module renders each for two places:

- the README, between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->``;
  ``python docs/_ext/shared_tables.py`` rewrites those sections (``--check`` only reports), and
  ``tests/test_docs_tables.py`` fails while the README differs from what this module renders;
- the site, as ``docs/_generated/NAME.md`` fragments that the guides include, written when the
  site is built.

Links differ by place: the README links a test file, the site (which has no page for it) names it.
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
import tomllib
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
TABLES = DOCS / "tables"
README = ROOT / "README.md"
SECTION = re.compile(r"(<!-- generated: (\S+) -->\n)(.*?)(<!-- end generated: \2 -->)", re.S)
FRACTIONS = {2: "half", 3: "a third", 4: "a quarter", 5: "a fifth", 10: "a tenth"}


def _load(name: str) -> dict:
    with open(TABLES / f"{name}.toml", "rb") as file:
        return tomllib.load(file)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _test_file(path: str, place: str) -> str:
    return f"[`{Path(path).name}`]({path})" if place == "readme" else f"`{path}`"


def guarantees(place: str) -> str:
    """The guarantees and the test files that prove them."""
    rows = [
        [row["text"], ", ".join(_test_file(path, place) for path in row["tests"])]
        for row in _load("guarantees")["guarantee"]
    ]
    return _table(["guarantee", "tests"], rows)


def keras(place: str) -> str:
    """Keras habits that work on `Network`, each with its test."""
    rows = [[r["keras"], r["chainrule"], r["test"]] for r in _load("keras")["habit"]]
    return _table(["Keras", "chainrule", "test"], rows)


def sklearn(place: str) -> str:
    """The estimators next to MLPClassifier / MLPRegressor, each row with its test."""
    rows = [[r["feature"], r["scikit_learn"], r["chainrule"], r["test"]] for r in _load("sklearn")["feature"]]
    return _table(["feature", "MLPClassifier / MLPRegressor", "chainrule estimators", "test"], rows)


def _cli_value(value) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _py(value) -> str:
    """A default as Python source, strings in double quotes (the README's style)."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _constants() -> dict:
    from chainrule.table import stopping, training

    defaults = training.DEFAULTS
    return {
        "AUTO_DECAY": training.AUTO_DECAY,
        "AUTO_BATCH": training.AUTO_BATCH,
        "AUTO_VALIDATION": stopping.AUTO_VALIDATION,
        "MIN_VALIDATION_ROWS": stopping.MIN_VALIDATION_ROWS,
        "decay_330": training.weight_decay("auto", 330),
        "layers_units": _cli_value(defaults["layers"]),
        **defaults,
    }


def defaults(place: str) -> str:
    """`chainrule train`'s defaults beside the estimators', every value read from the code."""
    from chainrule.sklearn import NeuralNetClassifier
    from chainrule.table.training import DEFAULTS

    signature = inspect.signature(NeuralNetClassifier).parameters
    constants = _constants()
    rows = []
    for row in _load("defaults")["row"]:
        cli = ", ".join(f"`{flag}` `{_cli_value(DEFAULTS[key])}`" for flag, key in row["cli"])
        if "estimator" in row:
            estimator = ", ".join(f"`{name}={_py(signature[name].default)}`" for name in row["estimator"])
        else:
            estimator = row["estimator_text"]
        rows.append([row["setting"], cli, estimator, row["meaning"].format(**constants)])
    return _table(["setting", "`chainrule train`", "estimators", "meaning"], rows)


def task_rule(place: str) -> str:
    """How `chainrule train` and `train_table` infer the task, from the rule's own constants."""
    import numpy as np
    import pandas as pd

    from chainrule.io import preprocessing as rule

    share = FRACTIONS.get(rule.ROWS_PER_CLASS, f"1/{rule.ROWS_PER_CLASS}")

    def task(distinct: int, rows: int) -> str:
        column = pd.Series(np.arange(rows) % distinct)
        return "classes" if rule.infer_task(column) == "classification" else "regression"

    n = rule.CLASS_MAX_DISTINCT
    small, large = n * rule.ROWS_PER_CLASS - 1, n * rule.ROWS_PER_CLASS
    return (
        textwrap.fill(
            "The task is inferred from the target, and `train` says which rule decided: text or "
            "booleans are classes; a number column is regression if it has fractional values, more "
            f"than {n} distinct values, or more distinct values than {share} of its rows (any "
            f"{rule.CLASS_MIN_DISTINCT} distinct whole numbers are always classes); otherwise classes. "
            f"So {n} distinct integers in {small} rows are {task(n, small)}, in {large} rows "
            f"{task(n, large)} (a {n}-row sample of prices is not {n} classes). `--task` overrides it.",
            width=100,
            break_on_hyphens=False,
        )
        + "\n"
    )


RENDERERS = {
    "guarantees": guarantees,
    "keras": keras,
    "sklearn": sklearn,
    "defaults": defaults,
    "task_rule": task_rule,
}


def readme_text(text: str) -> str:
    """``text`` (the README) with every generated section rendered anew."""

    def render(match: re.Match) -> str:
        name = match.group(2)
        if name not in RENDERERS:
            raise KeyError(f"README has a generated section {name!r} that shared_tables.py cannot render")
        return match.group(1) + RENDERERS[name]("readme") + match.group(4)

    return SECTION.sub(render, text)


def readme_sections(text: str) -> list[str]:
    return [match.group(2) for match in SECTION.finditer(text)]


def write_fragments(target: Path) -> None:
    """Write ``NAME.md`` for every table into ``target`` (the site's ``_generated/``)."""
    target.mkdir(exist_ok=True)
    for name, render in RENDERERS.items():
        path = target / f"{name}.md"
        text = render("docs")
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def main(argv: list[str]) -> int:
    old = README.read_text()
    new = readme_text(old)
    if new == old:
        print("README.md: every generated section is up to date")
        return 0
    if "--check" in argv:
        print("README.md is stale: run `python docs/_ext/shared_tables.py`", file=sys.stderr)
        return 1
    README.write_text(new)
    print("README.md: generated sections rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
