"""Fixtures for the playground: a server on a free port, a real browser that reaches nothing else."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path(os.environ.get("CHAINRULE_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell"))


@pytest.fixture
def playground():
    """A running playground on a free port (no browser opened), stopped afterwards."""
    pytest.importorskip("pandas")
    from chainrule.live import playground as start

    handle = start(open_browser=False, port=0)
    yield handle
    handle.stop()


def request(handle, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one request to the playground, with its own Host (and for a
    POST the session's token, as the page sends it) unless ``headers`` says otherwise."""
    host, port = handle.server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    sent = {"Host": f"{host}:{port}", **(headers or {})}
    if method == "POST":
        sent.setdefault("X-Chainrule-Token", getattr(handle.server, "token", ""))
    sent = {key: value for key, value in sent.items() if value is not None}
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    connection.request(method, path, body=body, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def api(handle, method, path, body=None, headers=None):
    status, _, data = request(handle, method, path, body, headers)
    return status, json.loads(data)


def multiclass_csv(path: Path, n: int = 120) -> Path:
    """Three species told apart by size and weight, with a text column to one-hot encode."""
    rng = np.random.default_rng(0)
    lines = ["size,colour,weight,species"]
    for i in range(n):
        k = i % 3
        colour = ["red", "green", "blue"][(i // 3) % 3]
        lines.append(
            f"{rng.normal(2 * k, 0.6):.4f},{colour},{rng.normal(5 - k, 0.7):.4f},{'ant bee cat'.split()[k]}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync driver keeps an event loop running (and its own greenlet
    context) while open, which would leak into every later test of the session.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"no browser at {CHROMIUM}: apt-get install -y --no-install-recommends "
            "chromium-headless-shell fonts-dejavu-core (the page tests need it)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the page tests need: pip install playwright"
    )
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def page(browser, playground):
    """A page on the playground; every request not to 127.0.0.1 is aborted; page errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    refused: list[str] = []

    def only_local(route):
        url = route.request.url
        if url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", only_local)
    tab.goto(playground.url)
    tab.wait_for_function("window.playground && window.playground.stats.drawn > 0")
    yield tab
    context.close()
    assert not errors, f"errors in the page: {errors}"
    assert not refused, f"the page tried to reach outside 127.0.0.1: {refused}"


def pytest_collection_modifyitems(config, items):
    """Tests that drive Chromium carry the ``browser`` marker (``-m "not browser"`` skips them)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
