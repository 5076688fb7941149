"""How fast the browser app answers, measured in Debian's Chromium (issue 11's targets).

* **click → updated page**: from clicking Step until the month counter, the map and the charts all
  show the new month (median of ``--clicks`` clicks); target ≤ 0.5 s;
* **Play**: months advanced per second of wall clock while playing, at the default speed and "as fast
  as possible" (over ``--seconds`` seconds each); target ≥ 3 months/s;
* **Run to month 60** and **page ready** (first load, model with its spin-up built), in seconds;
* the server-side cost of one frame (model step, SVG map, SVG charts), for the record.

All at the default scenario size (the baseline), 1280×720. The machine's load moves these numbers:
run it on an idle machine and state the figures with the command.

    .venv/bin/python benchmarks/bench_app.py [--clicks 10] [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTH_JS = "() => Number((document.body.innerText.match(/Month: (\\d+)/) || [0, -1])[1])"
FRAME_JS = """(m) => document.body.innerText.includes('Month: ' + m)
  && document.querySelector('.coprod-map svg').getAttribute('aria-label').includes('at month ' + m + ',')
  && [...document.querySelectorAll('svg[aria-label^="Chart"]')].length > 0"""


def server_frame_costs(months: int = 5) -> dict[str, float]:
    """Median seconds of a model step, the SVG map and the SVG charts, in this process."""
    from coprod_sim.app import svg
    from coprod_sim.app.session import Session

    s = Session(ROOT / "configs" / "baseline.yaml")
    s.reset()
    limits = svg.Limits()
    cost: dict[str, list[float]] = {"step_s": [], "map_s": [], "charts_s": []}
    for _ in range(months):
        t0 = time.perf_counter()
        s.step()
        t1 = time.perf_counter()
        svg.map_svg(s.model)
        t2 = time.perf_counter()
        svg.charts_html(s.history(), None, 60, s.window(), limits)
        t3 = time.perf_counter()
        for key, dt in zip(cost, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            cost[key].append(dt)
    return {k: round(statistics.median(v), 3) for k, v in cost.items()}


def _pick_speed(page, label: str) -> None:
    page.get_by_label("Play speed", exact=True).select_option(label)


def play_rate(page, seconds: float) -> float:
    """Months per second while playing (the tab stays open and watched)."""
    page.get_by_role("button", name="Play", exact=True).click()
    time.sleep(1.0)  # let it start
    m0, t0 = page.evaluate(MONTH_JS), time.monotonic()
    time.sleep(seconds)
    m1, t1 = page.evaluate(MONTH_JS), time.monotonic()
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for()
    return (m1 - m0) / (t1 - t0)


def browser_timings(clicks: int, seconds: float) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    from coprod_sim.app.driver import launch_chromium, serve

    with serve([], ROOT) as (url, _), sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        t0 = time.monotonic()
        page.goto(url)
        page.get_by_text("Month: 0", exact=True).wait_for(timeout=60_000)
        page.locator(".coprod-map svg").wait_for()
        ready = time.monotonic() - t0
        step_s = []
        for month in range(1, clicks + 1):
            t0 = time.monotonic()
            page.get_by_role("button", name="Step", exact=True).click()
            page.wait_for_function(FRAME_JS, arg=month, polling="raf")
            step_s.append(time.monotonic() - t0)
        rates = {}
        for label in ("4 months/s", "as fast as possible"):
            _pick_speed(page, label)
            rates[label] = round(play_rate(page, seconds), 2)
        page.get_by_role("button", name="Reset", exact=True).click()
        page.get_by_text("Month: 0", exact=True).wait_for(timeout=60_000)
        page.get_by_role("status", name="busy").wait_for(state="detached", timeout=60_000)
        page.get_by_label("Target month").fill("60")
        t0 = time.monotonic()
        page.get_by_role("button", name="Run to month", exact=True).click()
        page.wait_for_function(FRAME_JS, arg=60, polling="raf", timeout=180_000)
        run60 = time.monotonic() - t0
        browser.close()
    return {"page_ready_s": round(ready, 2), "click_to_update_s_median": round(statistics.median(step_s), 3),
            "click_to_update_s_max": round(max(step_s), 3), "play_months_per_s": rates,
            "run_to_month_60_s": round(run60, 2)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10, help="Step clicks timed (default 10)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of Play timed per speed (default 8)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    result = {"server_frame": server_frame_costs(), **browser_timings(args.clicks, args.seconds)}
    print(json.dumps(result, indent=2))
    ok = result["click_to_update_s_median"] <= 0.5 and min(result["play_months_per_s"].values()) >= 3
    print("targets (click ≤ 0.5 s, Play ≥ 3 months/s):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
