"""Issue 23, part 6 in a real browser: layout for any shape of data and network."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.playground.conftest import api

LABELS = "[...document.querySelectorAll('#network > text')].map((t) => t.textContent)"


def _csv(path, columns: list[str], rows: int = 60):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(rows, len(columns)))
    lines = [",".join([*columns, "label"])]
    lines += [",".join([*(f"{v:.3f}" for v in row), str(int(row[0] > 0))]) for row in values]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.slow
def test_a_thousand_columns_fold_and_the_page_stays_short(page, tmp_path):
    names = [f"col{i}" for i in range(1000)]
    page.get_by_test_id("upload").set_input_files(_csv(tmp_path / "wide.csv", names))
    page.wait_for_function("document.querySelector('[data-testid=message]').textContent.includes('60 rows')")
    held = page.get_by_test_id("held-note")
    fold = held.get_by_test_id("fold")
    assert fold.locator("summary").inner_text() == "and 990 more"  # 998 held: 8 shown, the rest folded
    assert page.evaluate("document.documentElement.scrollHeight") < 1300
    fold.locator("summary").click()  # opened, the rest scroll inside a box of their own
    box = fold.locator(".fold-body")
    assert "col999 = " in box.inner_text() and box.bounding_box()["height"] < 200
    assert page.evaluate(LABELS)[-1] == "+984 more"  # the diagram draws 16 inputs and says how many more
    page.get_by_test_id("explain-row").fill("3")
    page.get_by_test_id("explain-row").press("Enter")
    panel = page.get_by_test_id("explain-panel")
    panel.locator("[data-key=loss_after]").wait_for()
    assert panel.get_by_test_id("fold").first.locator("summary").inner_text() == "and 989 more"
    heights = panel.locator("td.formula .long").evaluate_all("es => es.map((e) => e.clientHeight)")
    assert heights and max(heights) < 120  # each 1,000-term sum scrolls in its cell, no term dropped
    terms = panel.locator("td.formula .long").first.locator(".term").count()
    assert terms == 1000


def test_twelve_layers_scroll_sideways_with_their_controls_aligned(page, playground):
    layers = [{"units": 6, "activation": "tanh", "dropout": 0}] * 12
    assert api(playground, "POST", "/api/command", {"cmd": "config", "config": {"layers": layers}})[0] == 200
    page.wait_for_function("document.querySelectorAll('#layer-settings .layer').length === 12")
    page.wait_for_function("document.querySelectorAll('#network rect[data-layer=\"12\"]').length === 6")
    assert page.get_by_test_id("scroll-hint").is_visible()
    scroller = page.get_by_test_id("net-scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
    centres = []
    for layer in range(1, 13):
        node = page.locator(f"#network rect[data-layer='{layer}']").first.bounding_box()
        control = page.locator("#layer-settings .layer").nth(layer - 1).bounding_box()
        centres.append(node["x"] + node["width"] / 2)
        assert abs(control["x"] + control["width"] / 2 - centres[-1]) < 3
        assert node["width"] >= 12
    assert min(np.diff(centres)) >= 70  # columns far enough apart to read their edges


def test_an_upload_as_wide_as_the_data_relabels_the_inputs(page, tmp_path):
    page.wait_for_function(f"{LABELS}.join() === 'x1,x2'")
    page.get_by_test_id("upload").set_input_files(_csv(tmp_path / "ab.csv", ["height", "weight"]))
    page.wait_for_function(f"{LABELS}.join() === 'height,weight'")


def test_ten_inputs_fit_the_diagram(page, tmp_path):
    page.get_by_test_id("upload").set_input_files(_csv(tmp_path / "ten.csv", [f"f{i}" for i in range(10)]))
    page.wait_for_function("document.querySelectorAll('#network rect[data-layer=\"0\"]').length === 10")
    svg = page.get_by_test_id("network").bounding_box()
    boxes = [page.locator("#network rect[data-layer='0']").nth(i).bounding_box() for i in range(10)]
    assert all(svg["y"] <= b["y"] and b["y"] + b["height"] <= svg["y"] + svg["height"] for b in boxes)
    assert all(b2["y"] - (b1["y"] + b1["height"]) > 2 for b1, b2 in itertools.pairwise(boxes))  # none overlap
    assert page.evaluate(LABELS) == [f"f{i}" for i in range(10)]
