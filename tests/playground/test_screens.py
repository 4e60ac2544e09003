"""Screenshots at projector and phone width, and of the animation mid-step (kept in the docs).

Set ``CHAINRULE_SCREENSHOTS=docs/images`` to write them there; otherwise they go to a temporary
folder. Either way the layout is checked: nothing wider than the window, the views in sight.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.playground.test_page import _explain_a_point, wait_epoch


def _folder(tmp_path: Path) -> Path:
    return Path(os.environ.get("CHAINRULE_SCREENSHOTS") or tmp_path)


@pytest.mark.parametrize("width,height", [(1920, 1080), (375, 812)])
def test_projector_and_phone_widths(browser, playground, tmp_path, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(playground.url)
    page.wait_for_function("window.playground && window.playground.stats.drawn > 0")
    for _ in range(60):
        page.get_by_test_id("step").click()
    wait_epoch(page, "e === 60")
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing clipped sideways
    view = page.get_by_test_id("boundary").bounding_box()
    if width >= 1600:
        assert view["width"] >= 500  # the output view uses the projector's width
        assert view["y"] + view["height"] <= height  # and is in sight without scrolling
    else:
        assert view["width"] >= 300 and view["x"] + view["width"] <= width
    page.screenshot(path=str(_folder(tmp_path) / f"playground-{width}.png"), full_page=width < 1000)
    context.close()


def test_the_animation_mid_step(browser, playground, tmp_path):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(playground.url)
    page.wait_for_function("window.playground && window.playground.stats.drawn > 0")
    _explain_a_point(page, playground)
    for _ in range(6):  # input, forward 1..3, loss, delta 3: the deltas start flowing back
        page.keyboard.press("ArrowRight")
    assert page.get_by_test_id("anim-bar").get_attribute("data-stage") == "delta:2"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(_folder(tmp_path) / "playground-animation.png"))
    context.close()


def test_engineered_features_and_discretized_output(browser, playground, tmp_path):
    """TF Playground's circle set learnt from x1² and x2² alone: the inputs show their own pattern."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(playground.url)
    page.wait_for_function("window.playground && window.playground.stats.drawn > 0")
    page.get_by_test_id("set-dataset").select_option("circle")
    page.wait_for_function("window.playground.state.frame.config.dataset === 'circle'")
    for name, on in (("x1^2", True), ("x2^2", True), ("x1", False), ("x2", False)):
        page.get_by_test_id(f"feature-{name}").set_checked(on)
        page.wait_for_function(
            f"window.playground.state.frame.config.features.includes('{name}') === {str(on).lower()}"
        )
    for _ in range(20):
        page.get_by_test_id("step").click()
    wait_epoch(page, "e === 20")
    page.get_by_test_id("discretize").check()
    assert page.evaluate("window.playground.colours()") == 2
    assert playground.session.history["val_metric"][-1] > 0.9  # a circle is a line in x1², x2²
    page.wait_for_timeout(300)
    page.screenshot(path=str(_folder(tmp_path) / "playground-features.png"))
    context.close()
