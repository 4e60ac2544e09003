"""Screenshots of the built site at desktop and phone width, with the network blocked.

    python docs/_ext/site_screenshots.py [docs/_build/html]

writes ``docs/images/site-{home,tutorial,api}-{1280,375}.png`` (the top of each page, as a
reader first sees it). It drives Debian's headless Chromium through Playwright, as the page
tests do, and aborts every request that is not a file of the site.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHAINRULE_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell"))
PAGES = {
    "home": "index.html",
    "tutorial": "guides/backprop_step.html",
    "api": "api/network.html",
}
WIDTHS = {1280: 900, 375: 812}  # width: height (a desktop window, a phone)


def _local_only(route) -> None:
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        route.abort()


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    site = Path(argv[0]) if argv else ROOT / "docs" / "_build" / "html"
    out = ROOT / "docs" / "images"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        for width, height in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
            context.route("**/*", _local_only)
            tab = context.new_page()
            for name, page in PAGES.items():
                tab.goto((site / page).resolve().as_uri(), wait_until="load")
                tab.evaluate("document.fonts.ready.then(() => true)")
                path = out / f"site-{name}-{width}.png"
                tab.screenshot(path=str(path))
                print(path.relative_to(ROOT))
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
