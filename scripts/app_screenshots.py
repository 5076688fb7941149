"""Regenerate the screenshots in docs/img/ used by docs/app.md.

Starts ``coprod-sim viz`` on a free loopback port, drives Debian's Chromium
(never ``playwright install``) at 1280×720, a projector's size, following docs/app.md's steps (the
overview at month 60, the map coloured by unmet need, exercise 3's leading group against the baseline),
and a phone (390×844). Run from the repo root: ``.venv/bin/python scripts/app_screenshots.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from coprod_sim.app.driver import launch_chromium, serve

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"


def _run_to(page, month: int) -> None:
    page.get_by_label("Target month").fill(str(month))
    page.get_by_role("button", name="Run to month", exact=True).click()
    page.get_by_text(f"Month: {month}", exact=True).wait_for(timeout=180_000)
    page.get_by_role("status", name="busy").wait_for(state="detached", timeout=60_000)
    page.wait_for_timeout(1500)


def _reset(page) -> None:
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Month: 0", exact=True).wait_for(timeout=60_000)
    page.get_by_role("status", name="busy").wait_for(state="detached", timeout=60_000)


def build_parser() -> argparse.ArgumentParser:
    """No options (``--help`` only); read by tests/test_docs.py to check the documented command."""
    return argparse.ArgumentParser(description=__doc__.splitlines()[0])


def main() -> int:
    build_parser().parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with serve([], ROOT) as (url, _), sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url)
        page.get_by_text("Month: 0", exact=True).wait_for(timeout=60_000)
        _run_to(page, 60)
        page.screenshot(path=str(OUT / "app-overview.png"))
        page.get_by_role("button", name="Unmet need").click()
        page.wait_for_timeout(1500)
        page.locator(".coprod-map").screenshot(path=str(OUT / "app-map-unmet-need.png"))
        page.get_by_role("button", name="Satisfaction").click()
        # exercise 3, steps 1-2: the baseline kept as reference, the leading group at authority 0.8
        page.get_by_role("button", name="Keep as reference", exact=True).click()
        page.locator(".v-input", has_text="Leading group (in)").locator("input").first.check(force=True)
        box = page.get_by_label("Leading-group authority (in), value", exact=True)
        box.fill("0.8")
        box.press("Enter")
        _reset(page)
        _run_to(page, 60)
        page.screenshot(path=str(OUT / "app-leading-group.png"))
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(url)
        phone.get_by_text("month 0 of 60").wait_for(timeout=60_000)
        phone.wait_for_timeout(1500)
        phone.screenshot(path=str(OUT / "app-phone.png"))
        browser.close()
    print(f"wrote {OUT}/app-overview.png, app-map-unmet-need.png, app-leading-group.png, app-phone.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
