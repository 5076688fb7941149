"""The students' app in a real browser: Debian's Chromium driven by Playwright.

Starts ``coprod-sim viz`` on a free loopback port with a scenario folder of two
files, then checks what issue 4 promises: the page loads with no page errors and
no failed requests (everything served offline), Step advances the month and
changes the map and the charts, Play/Pause runs, Reset with the same seed gives
a byte-identical first frame, a lever + Reset changes the model, the scenario
picker loads another config, and a second tab gets its own model.

Chromium missing is a failure, not a skip: install it with
``scripts/setup.sh --with-browser`` (or ``apt-get install chromium``). Never run
``playwright install`` (it downloads a browser).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VARIANT = """\
scenario:
  name: Test variant
  description: Browser-test scenario with a larger periphery.
space:
  periphery_share: 0.75
"""
# SHA-256 of every large image on the page (the map first, then the charts), computed in the browser
HASH_JS = """async () => Promise.all([...document.querySelectorAll('img')]
  .filter(img => img.naturalWidth > 300)
  .map(async img => {
    const buf = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', buf);
    return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('');
  }))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """``coprod-sim viz`` on a free port, serving a two-scenario folder; yields the URL."""
    configs = tmp_path_factory.mktemp("configs")
    shutil.copy(ROOT / "configs" / "baseline.yaml", configs / "baseline.yaml")
    (configs / "variant.yaml").write_text(VARIANT, encoding="utf-8")
    (configs / "broken.yaml").write_text("scenario: {name: Broken test}\ngovernment: {resistance: high}\n",
                                         encoding="utf-8")
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "coprod_sim", "viz", str(configs / "baseline.yaml"), "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, timeout=60)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group: the CLI and its solara child
        proc.wait(timeout=20)
        log.close()


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"coprod-sim viz exited with code {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"app did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium not found at /usr/bin/chromium: run scripts/setup.sh --with-browser "
                    "(or apt-get install chromium). Do not run 'playwright install'.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Tab:
    """One browser tab on the app, recording page errors and failed requests."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1500, "height": 1100})
        self.problems: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        start = time.monotonic()
        self.page.goto(url)
        self.wait_month(0, timeout=45_000)
        self.images(expect=2)
        self.ready_s = time.monotonic() - start

    def wait_month(self, month: int, timeout: float = 10_000) -> None:
        self.page.get_by_text(f"Month: {month}", exact=True).wait_for(timeout=timeout)

    def images(self, expect: int = 2, differ_from: list[str] | None = None, timeout: float = 10.0) -> list[str]:
        """Hashes of the map and charts images, waiting until they differ from ``differ_from``."""
        deadline = time.monotonic() + timeout
        while True:
            hashes = self.page.evaluate(HASH_JS)
            fresh = differ_from is None or all(h != d for h, d in zip(hashes, differ_from, strict=False))
            if len(hashes) == expect and fresh:
                return hashes
            if time.monotonic() > deadline:
                return hashes
            self.page.wait_for_timeout(100)

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def step(self, month: int, before: list[str]) -> tuple[list[str], float]:
        start = time.monotonic()
        self.click("Step")
        self.wait_month(month)
        after = self.images(differ_from=before)
        return after, time.monotonic() - start


def _move_slider_to_max(page, label: str) -> None:
    slider = page.locator(".v-input", has_text=label).locator("[role=slider]").first
    slider.focus()
    slider.press("End")


def _pick_scenario(page, name: str) -> None:
    page.locator(".v-select", has_text="Scenario").first.click()
    page.locator(".v-menu__content .v-list-item", has_text=name).first.click()


def test_app_in_chromium(server: str, browser, tmp_path: Path) -> None:
    tab = Tab(browser, server)
    page = tab.page
    first = tab.images()
    assert len(first) == 2, "expected the map and the charts as images"

    # Step advances the month and changes both the map and the charts
    after1, t1 = tab.step(1, first)
    assert after1[0] != first[0], "map did not change after Step"
    assert after1[1] != first[1], "charts did not change after Step"
    step_times = [t1]
    frame = after1
    for month in (2, 3):
        frame, dt = tab.step(month, frame)
        step_times.append(dt)

    # Reset with the same seed: identical first frame, and the same month 1
    tab.click("Reset")
    tab.wait_month(0)
    assert tab.images(differ_from=frame) == first, "Reset with the same seed did not reproduce the first frame"
    again1, _ = tab.step(1, first)
    assert again1 == after1, "same seed gave a different month 1"

    # Play runs by itself; Pause stops it
    tab.click("Play")
    tab.wait_month(3, timeout=15_000)
    tab.click("Pause")
    page.get_by_role("button", name="Step", exact=True).wait_for()

    # a lever + Reset changes the model: month 1 now differs from the baseline's month 1
    _move_slider_to_max(page, "Departmental resistance")
    page.get_by_text("Departmental resistance: 0.95").wait_for()
    page.get_by_text("press Reset").wait_for()
    tab.click("Reset")
    tab.wait_month(0)
    lever0 = tab.images(differ_from=after1)
    lever1, _ = tab.step(1, lever0)
    assert lever1[1] != after1[1], "raising departmental resistance changed nothing in month 1"
    assert "resistance 0.9" in page.inner_text("body"), "event log does not show the new resistance"

    # a second tab has its own model, at month 0, unaffected by this tab
    other = Tab(browser, server)
    assert other.page.get_by_text("Departmental resistance: 0.6").count() == 1
    tab.wait_month(1)

    # the scenario picker loads another config (different periphery → different first map)
    _pick_scenario(page, "Test variant")
    page.get_by_text("Browser-test scenario with a larger periphery.").wait_for()
    tab.wait_month(0)
    variant = tab.images(differ_from=lever1)
    assert variant[0] != first[0], "scenario picker did not change the map"

    # an invalid scenario file is reported on the page; the current run stays
    _pick_scenario(page, "Broken test")
    page.get_by_text("Could not start this run").wait_for()
    tab.wait_month(0)
    page.get_by_text("Browser-test scenario with a larger periphery.").wait_for()

    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("COPROD_DOCS_SCREENSHOTS"):
        shutil.copy(shot, ROOT / "docs" / "img" / "app-test.png")

    problems = tab.problems + other.problems
    assert not problems, "\n".join(problems)
    timing = {"page_ready_s": round(tab.ready_s, 2), "second_tab_ready_s": round(other.ready_s, 2),
              "step_update_s": [round(t, 2) for t in step_times]}
    print("timing:", json.dumps(timing))
    (tmp_path / "timing.json").write_text(json.dumps(timing))
    # ~0.9 s on an idle 2-core machine, ~2 s when other jobs load it; the bound catches regressions
    # (e.g. rebuilding the figures every step) without failing on a busy CI runner
    assert statistics.median(step_times) < 4.0, f"a step took too long to show: {timing}"
