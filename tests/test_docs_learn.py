"""The learner's chapters and practitioner pages: listed in a toctree, and their code runs.

Each chapter in ``docs/gallery/learn`` checks its own claims with ``assert`` (the chain rule
against `Network.gradients` and finite differences, the fused delta against the Jacobian, the
planted bugs caught by `gradcheck`, seed 000 bit for bit), so running it here is the test of
what the page says; the site build runs them again and prints their output on the page.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
LEARN = DOCS / "gallery" / "learn"
CHAPTERS = sorted(LEARN.glob("plot_*.py"))
SLOW = {"plot_3_vanishing_gradients.py"}  # trains four deep networks: about 10 s


def toctree_entries(page: Path) -> list[str]:
    entries = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), flags=re.S):
        entries += [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(":")]
    return entries


def test_every_chapter_is_in_the_learn_toctree_and_nothing_else():
    listed = toctree_entries(DOCS / "learn" / "index.md")
    assert listed == [f"/auto_gallery/learn/{path.stem}" for path in CHAPTERS]
    assert len(CHAPTERS) == 5
    assert (LEARN / "README.txt").exists()  # sphinx-gallery needs one per subsection


def test_learn_index_and_new_guides_are_reachable_from_the_home_page():
    home = toctree_entries(DOCS / "index.md")
    for page in ["learn/index", "guides/install", "guides/user_guide", "guides/faq", "guides/table_model"]:
        assert page in home, page
        assert (DOCS / f"{page}.md").exists()


def test_toctree_entries_reads_entries_not_options(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("x\n\n```{toctree}\n:maxdepth: 1\n\na/b\n/c\n```\n")
    assert toctree_entries(page) == ["a/b", "/c"]


@pytest.mark.parametrize(
    "chapter",
    [pytest.param(path, marks=pytest.mark.slow) if path.name in SLOW else path for path in CHAPTERS],
    ids=lambda path: path.stem,
)
def test_chapter_runs_and_its_claims_hold(chapter, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        runpy.run_path(str(chapter), run_name="__main__")  # each chapter asserts its own claims
    finally:
        plt.close("all")
    assert capsys.readouterr().out.strip()  # it printed what the page shows


@pytest.mark.slow
def test_table_model_example_runs(capsys):
    pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    runpy.run_path(str(DOCS / "gallery" / "practice" / "plot_table_model.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "same weights as train_table's, bit for bit: True" in out
    assert "model saved to model.npz" in out  # a short relative path, no temporary folder
