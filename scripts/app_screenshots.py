"""Regenerate the screenshots in docs/img/ used by docs/app.md.

Starts ``coprod-sim viz`` on a free loopback port, drives Debian's Chromium
(never ``playwright install``) and saves three pictures. Run from the repo root:
``.venv/bin/python scripts/app_screenshots.py``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"app did not start at {url}")


def _steps(page, n: int, start: int) -> None:
    for month in range(start + 1, start + n + 1):
        page.get_by_role("button", name="Step", exact=True).click()
        page.get_by_text(f"Month: {month}", exact=True).wait_for()
    page.wait_for_timeout(1500)


def build_parser() -> argparse.ArgumentParser:
    """No options (``--help`` only); read by tests/test_docs.py to check the documented command."""
    return argparse.ArgumentParser(description=__doc__.splitlines()[0])


def main() -> int:
    build_parser().parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "coprod_sim", "viz", "--port", str(port)], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1150})
            page.goto(url)
            page.get_by_text("Month: 0", exact=True).wait_for(timeout=45_000)
            _steps(page, 12, 0)
            page.screenshot(path=str(OUT / "app-overview.png"))
            page.get_by_role("button", name="Unmet need").click()
            page.wait_for_timeout(1500)
            page.locator("img").first.screenshot(path=str(OUT / "app-map-unmet-need.png"))
            page.get_by_role("button", name="Satisfaction").click()
            page.locator(".v-input", has_text="Leading group (in)").locator("input").first.check(force=True)
            page.get_by_role("button", name="Reset", exact=True).click()
            page.get_by_text("Month: 0", exact=True).wait_for()
            _steps(page, 12, 0)
            page.screenshot(path=str(OUT / "app-leading-group.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    print(f"wrote {OUT}/app-overview.png, app-map-unmet-need.png, app-leading-group.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
