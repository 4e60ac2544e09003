"""The playground's frame rate and pause latency, measured in headless Chromium (run by hand).

    python benchmarks/playground.py            # three cases, about a minute
    python benchmarks/playground.py --seconds 10

Each case opens the page in a fresh tab (its own session), plays, and counts the frames the page
drew and the epochs the server trained over ``--seconds`` after a one-second warm-up; then it
clicks pause and times until the page shows the run paused and the server's epoch count stops.
Cases: the default setup (spiral, 300 points, 2x8 tanh, Adam), 1,000 points through one layer of
64 units, and an uploaded 100,000-row CSV. Needs Playwright and Debian's chromium-headless-shell
(``/usr/lib/chromium/chromium-headless-shell``; never ``playwright install``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

from chainrule.live import playground

CHROMIUM = "/usr/lib/chromium/chromium-headless-shell"
DRAWN = "window.playground && window.playground.stats.drawn > 0"


def big_csv(folder: Path, rows: int = 100_000) -> Path:
    """Two inputs and a quadrant label: a table too big for a frame per epoch."""
    X = np.random.default_rng(0).normal(size=(rows, 2))
    path = folder / "big.csv"
    np.savetxt(path, np.column_stack([X, X[:, 0] * X[:, 1] > 0]), fmt=["%.3f", "%.3f", "%d"],
               delimiter=",", header="a,b,label", comments="")  # fmt: skip
    return path


def session_of(handle, before: set) -> object:
    """The session the newest tab opened (each tab has its own)."""
    new = [session for key, session in handle.sessions.by_id.items() if key not in before]
    return new[-1] if new else handle.session


def measure(browser, handle, label: str, seconds: float, config=None, upload: Path | None = None) -> dict:
    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    before = set(handle.sessions.by_id)
    hash_ = "#config=" + urllib.parse.quote(json.dumps(config)) if config else ""
    tab.goto(handle.url + hash_)
    tab.wait_for_function(DRAWN)
    session = session_of(handle, before)
    if config:
        tab.wait_for_function(f"window.playground.state.frame.config.n === {config.get('n', 300)}")
    if upload is not None:
        tab.get_by_test_id("upload").set_input_files(str(upload))
        tab.wait_for_function(
            "document.querySelector('[data-testid=message]').textContent.includes('rows')", timeout=180_000
        )
    tab.get_by_test_id("play").click()
    tab.wait_for_timeout(1000)
    drawn, epoch, began = tab.evaluate("window.playground.stats.drawn"), session.epoch, time.perf_counter()
    tab.wait_for_timeout(seconds * 1000)
    elapsed = time.perf_counter() - began
    frames, epochs = tab.evaluate("window.playground.stats.drawn") - drawn, session.epoch - epoch
    clicked = time.perf_counter()
    tab.get_by_test_id("play").click()
    tab.wait_for_selector("[data-testid=play][data-playing=false]", timeout=60_000)
    shown = time.perf_counter() - clicked
    stopped = session.epoch
    tab.wait_for_timeout(500)
    tab.context.close()
    return {
        "case": label,
        "frames/s": frames / elapsed,
        "epochs/s": epochs / elapsed,
        "pause shown (ms)": shown * 1000,
        "epochs after pause": session.epoch - stopped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds counted per case")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()[0]
    handle = playground(open_browser=False, port=0)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM)
            wide = {"n": 1000, "layers": [{"units": 64, "activation": "tanh", "dropout": 0.0}]}
            default = "default (spiral, 300 points, 2x8 tanh, Adam)"
            rows.append(measure(browser, handle, default, args.seconds))
            rows.append(measure(browser, handle, "1,000 points x 64 units", args.seconds, config=wide))
            upload = big_csv(Path(folder))
            rows.append(measure(browser, handle, "100,000-row CSV", max(args.seconds, 8.0), upload=upload))
            browser.close()
    finally:
        handle.stop()
    print(f"load average {load:.1f} at the start, {os.cpu_count()} cores; {args.seconds} s counted per case")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()
