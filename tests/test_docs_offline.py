"""The built site reads offline: formulas rendered, and no page asks for anything outside the site.

Run after building the site (``.ci/run`` does, pointing ``CHAINRULE_DOCS_HTML`` at the build):

    python -m sphinx -W --keep-going -q -b html docs docs/_build/html
    CHAINRULE_DOCS_HTML=docs/_build/html python -m pytest -q tests/test_docs_offline.py

Without ``CHAINRULE_DOCS_HTML`` the tests look at ``docs/_build/html`` and skip, saying how to
build it, when it is not there; with it, a missing site is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("CHAINRULE_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell"))
BUILD = "python -m sphinx -W --keep-going -q -b html docs docs/_build/html"

# Pages with formulas, and how many each shows at least (the one-step tutorial has 24).
PAGES = {
    "guides/backprop_step.html": 20,
    "guides/from_the_tutorials.html": 8,
    "auto_gallery/seeds/plot_seed_000_truth_table.html": 1,
    "auto_gallery/seeds/plot_seed_001_admissions.html": 1,
    "auto_gallery/learn/plot_1_backprop_chain_rule.html": 30,
    "auto_gallery/learn/plot_2_softmax_cross_entropy.html": 20,
    "auto_gallery/learn/plot_3_vanishing_gradients.html": 20,
    "auto_gallery/learn/plot_4_checking_gradients.html": 8,
}
OUTSIDE_CSS = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)|@import\s+['\"]?https?:")
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\partial")


@pytest.fixture(scope="module")
def site() -> Path:
    given = os.environ.get("CHAINRULE_DOCS_HTML")
    html = Path(given) if given else ROOT / "docs" / "_build" / "html"
    if not html.is_absolute():
        html = ROOT / html
    if not (html / "index.html").exists():
        if given:
            pytest.fail(f"CHAINRULE_DOCS_HTML={given} holds no built site (no index.html)")
        pytest.skip(f"the site is not built: run `{BUILD}` first")
    return html


def test_no_built_page_loads_a_script_stylesheet_or_font_from_outside(site):
    outside = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
    offenders = {}
    for page in site.rglob("*.html"):
        found = outside.findall(page.read_text(errors="replace"))
        if found:
            offenders[str(page.relative_to(site))] = found[:3]
    for css in site.rglob("*.css"):
        found = OUTSIDE_CSS.findall(css.read_text(errors="replace"))
        if found:
            offenders[str(css.relative_to(site))] = found[:3]
    assert not offenders, f"pages that load something from outside the site: {offenders}"


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright (module-scoped: see tests/playground/conftest.py)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium-headless-shell")
    sync_api = pytest.importorskip("playwright.sync_api", reason="this test needs: pip install playwright")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


def open_offline(browser, url: str):
    """Open ``url`` with every request that is not a local file aborted; return what was refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    refused: list[str] = []
    failed: list[str] = []

    def local_only(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    tab = context.new_page()
    tab.on("requestfailed", lambda request: failed.append(request.url))
    tab.goto(url, wait_until="load")
    tab.evaluate("document.fonts.ready.then(() => true)")
    return context, tab, refused, failed


@pytest.mark.browser
@pytest.mark.parametrize("path", sorted(PAGES))
def test_formulas_render_offline(site, browser, path):
    context, tab, refused, failed = open_offline(browser, (site / path).as_uri())
    try:
        text = tab.inner_text("article")
        formulas = tab.locator(".katex").count()
        mathml_hidden = tab.evaluate(
            "() => { const m = document.querySelector('.katex .katex-mathml');"
            " return m ? getComputedStyle(m).position === 'absolute' : false; }"
        )
        font_loaded = tab.evaluate("() => document.fonts.check('16px KaTeX_Main')")
        katex_fonts = tab.evaluate(
            "() => [...document.fonts]"
            ".filter(f => f.family.includes('KaTeX') && f.status === 'loaded').length"
        )
    finally:
        context.close()
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(text)})
    assert not raw, f"{path} shows TeX source instead of formulas: {raw}"
    assert formulas >= PAGES[path], f"{path}: {formulas} rendered formulas, expected at least {PAGES[path]}"
    assert mathml_hidden, f"{path}: KaTeX's stylesheet is not applied (its MathML copy is visible)"
    assert font_loaded and katex_fonts > 0, f"{path}: KaTeX's fonts did not load from the site"
    assert not refused, f"{path} asked for something outside the site: {refused}"
    assert not failed, f"{path}: requests that failed (missing files in the site?): {failed}"


# --- layout: what a reader sees on a phone and a desktop ------------------------------------------

PHONE_PAGES = [
    "index.html",
    "guides/backprop_step.html",
    "guides/microcontroller.html",
    "api/network.html",
    "auto_gallery/seeds/plot_seed_003_matrix_backprop.html",
]


@pytest.mark.browser
@pytest.mark.parametrize("path", PHONE_PAGES)
def test_nothing_runs_off_a_phone_screen(site, browser, path):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    tab = context.new_page()
    try:
        tab.goto((site / path).as_uri(), wait_until="load")
        page_width = tab.evaluate("document.documentElement.scrollWidth")
        title = tab.evaluate(
            "(() => { const h = document.querySelector('article h1');"
            " return [h.scrollWidth, h.clientWidth, h.getBoundingClientRect().right]; })()"
        )
    finally:
        context.close()
    assert page_width <= 375, f"{path} is {page_width} px wide at a 375 px screen"
    assert title[0] <= title[1] and title[2] <= 375, f"{path}: the title overflows on a phone: {title}"


@pytest.mark.browser
def test_guides_have_no_empty_section_navigation(site, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    try:
        tab.goto((site / "guides/cli.html").as_uri(), wait_until="load")
        sidebar = tab.evaluate(
            "(() => { const s = document.querySelector('.bd-sidebar-primary');"
            " return s ? [s.getBoundingClientRect().width, s.innerText.trim()] : [0, ''] })()"
        )
        article = tab.evaluate("document.querySelector('article').getBoundingClientRect().width")
    finally:
        context.close()
    width, text = sidebar
    assert width == 0 or "Section Navigation" not in text or len(text) > len("Section Navigation"), (
        f"guides/cli.html shows an empty 'Section Navigation' column ({width:.0f} px)"
    )
    assert article > 700, f"the guide's text column is only {article:.0f} px wide at 1280 px"


def test_the_tutorials_contents_list_its_sections_not_the_traces_headings(site):
    page = (site / "guides/backprop_step.html").read_text()
    toc = page[page.find('id="pst-page-navigation-heading') :]
    toc = toc[: toc.find("</nav>")]
    entries = re.findall(r'class="reference internal nav-link" href="#', toc)
    assert 0 < len(entries) <= 15, f"the page's contents has {len(entries)} entries"
    assert "Backward pass" not in toc and "layer 1 (hidden" not in toc


def test_gallery_pages_print_no_scratch_path_and_no_stray_value(site):
    seed_002 = (site / "auto_gallery/seeds/plot_seed_002_xor.html").read_text()
    assert "/tmp" not in seed_002
    assert "python -m chainrule.examples.seed_002_xor_predict xor_model.npz" in seed_002
    numba = (site / "auto_gallery/practice/plot_numba_backend.html").read_text()
    script_out = r'class="sphx-glr-script-out[^"]*"><div class="highlight"><pre>(.*?)</pre>'
    outputs = re.findall(script_out, numba, re.S)
    outputs = [re.sub(r"<[^>]+>", "", out).strip() for out in outputs]
    assert outputs and not any(out in {"&#39;numpy&#39;", "'numpy'"} for out in outputs), outputs


def test_a_build_without_katex_says_how_to_get_it(tmp_path, monkeypatch):
    import sys

    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import offline_math
    from sphinx.errors import ConfigError

    monkeypatch.setenv("CHAINRULE_KATEX_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="apt-get install libjs-katex fonts-katex"):
        offline_math.katex_sources()
