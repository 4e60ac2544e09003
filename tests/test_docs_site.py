"""Every public symbol has an API entry, and no link inside the built site is dead.

The API check reads the sources (``docs/api/*.rst``) and runs anywhere. The link check reads the
built site: run it after the build (``.ci/run`` does, with ``CHAINRULE_DOCS_HTML``); without a
build it skips, saying how to make one (see tests/test_docs_offline.py for the ``site`` fixture).
"""

from __future__ import annotations

import html.parser
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.test_docs_offline import site  # noqa: F401  (the built site, or a skip)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import chainrule_docs  # noqa: E402


def test_every_public_symbol_has_an_api_entry():
    missing = chainrule_docs.undocumented()
    assert not missing, f"public symbols with no `.. auto...::` entry on a page of docs/api/: {missing}"


def test_the_api_check_sees_a_missing_entry(monkeypatch):
    entries = chainrule_docs.api_entries()
    assert "chainrule.set_backend" in entries
    monkeypatch.setattr(chainrule_docs, "api_entries", lambda: entries - {"chainrule.set_backend"})
    assert chainrule_docs.undocumented() == ["chainrule.set_backend"]


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag != "meta" else ():
            if attrs.get(key):
                self.ids.add(attrs[key])
        target = attrs.get("href") if tag in {"a", "link"} else None
        target = attrs.get("src") if tag in {"img", "script"} else target
        if target:
            self.links.append(target)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(errors="replace"))
    return parser


def dead_links(html_root: Path) -> list[str]:
    """Every internal href/src of the built site whose file, or anchor in it, does not exist."""
    parsed: dict[Path, _Links] = {}

    def get(page: Path) -> _Links:
        if page not in parsed:
            parsed[page] = _parse(page)
        return parsed[page]

    dead = []
    for page in sorted(html_root.rglob("*.html")):
        if page.relative_to(html_root).parts[0] == "_static":
            continue  # the theme's templates, not pages
        for link in get(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(html_root)}: {link}"
            if not target.exists():
                dead.append(where)
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in get(target).ids:
                    dead.append(where)
    return dead


def test_no_internal_link_of_the_built_site_is_dead(site):  # noqa: F811
    dead = dead_links(site)
    assert not dead, f"{len(dead)} dead links in the built site, first ones: {dead[:15]}"


def test_the_link_check_sees_a_dead_link_and_a_dead_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<p id="here"><a href="b.html">b</a> <a href="a.html#here">ok</a></p>')
    (tmp_path / "c.html").write_text('<a href="a.html#gone">x</a> <img src="img/x.png">')
    assert dead_links(tmp_path) == ["a.html: b.html", "c.html: a.html#gone", "c.html: img/x.png"]


def test_api_entries_link_the_gallery_examples_that_use_them(site):  # noqa: F811
    page = (site / "api" / "network.html").read_text()
    start = page.find("Examples using")
    assert start > 0, "api/network.html has no 'Examples using Network' (sphinx-gallery backreferences)"
    assert "auto_gallery/" in page[start : start + 5000]


def _github_slug(heading: str) -> str:
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@pytest.mark.parametrize("source", ["README.md", "docs/performance.md", "docs/architecture.md"])
def test_links_of_the_files_read_on_github_resolve(source):
    """The Markdown files people read on GitHub: every relative link's file and anchor exist."""
    path = ROOT / source
    dead = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            dead.append(target)
        elif anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            if anchor not in {_github_slug(h) for h in headings}:
                dead.append(target)
    assert not dead, f"{source} links to files or sections that do not exist: {dead}"
