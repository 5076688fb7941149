"""How fast the browser app answers, measured in Debian's Chromium (issue 11's targets).

* **click → updated page**: from clicking Step until the month counter, the map and the charts all
  show the new month (median of ``--clicks`` clicks); target ≤ 0.5 s;
* **Play**: months advanced per second of wall clock while playing, at the default speed and "as fast
  as possible" (over ``--seconds`` seconds each); target ≥ 3 months/s;
* **Run to month 60** and **page ready** (first load, model with its spin-up built), in seconds;
* the server-side cost of one frame (model step, SVG map, SVG charts), for the record;
* with ``--sessions N`` (issue 20: a class of 25–30), instead: N Chromium tabs open at once on one
  ``coprod-sim viz`` (``--servers K``: K servers, tabs spread over them; opened one after the other, each
  in its own browser profile, its first render timed), each a student who clicks Step,
  waits for the new month, reads for a while (``--think`` seconds, uniform, seeded) and clicks again, for
  ``--seconds``; reported: median and 90th percentile of click → updated page over all clicks, months
  stepped, first render of the tabs, and any error (page errors, failed requests, error text in a page).
  Target: median ≤ 1 s and no errors with 30 sessions. ``--together`` opens every tab at once (a class
  told "open the address now") and also reports the page's connections to the server and how many dropped;
  ``--watch`` then reads every tab once a second until it is ready, a stress on the machine.

All at the default scenario size (the baseline), 1280×720. The machine's load moves these numbers:
run it on an idle machine and state the figures with the command.

    .venv/bin/python benchmarks/bench_app.py [--clicks 10] [--seconds 8]
    .venv/bin/python benchmarks/bench_app.py --sessions 30 [--servers 1] [--seconds 60] [--think 2 6] [--together [--watch]]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # as coprod-sim viz runs its server
    os.environ.setdefault(_var, "1")

from coprod_sim.cli.runs import whole_number_option  # noqa: E402

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


def play_rate(page, seconds: float, last_month: int = 60) -> float:
    """Months per second while playing from month 0 (the tab stays open and watched), over ``seconds`` or
    until Play stops by itself at the scenario's last month, whichever comes first."""
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Month: 0", exact=True).wait_for(timeout=60_000)
    page.get_by_role("status", name="busy").wait_for(state="detached", timeout=60_000)
    page.get_by_role("button", name="Play", exact=True).click()
    time.sleep(1.0)  # let it start
    m0, t0 = page.evaluate(MONTH_JS), time.monotonic()
    m1, t1 = m0, t0
    while t1 - t0 < seconds and m1 < last_month:
        time.sleep(0.1)
        m1, t1 = page.evaluate(MONTH_JS), time.monotonic()
    if m1 < last_month:
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


# One student, run inside the tab (so 30 tabs step independently and the timing is the page's own): click
# Step, wait until the counter, the map and the charts show the new month, record the time, think, repeat.
STUDENT_JS = """([thinkLo, thinkHi, seed]) => {
  let rnd = seed;  // a small seeded generator: the same think times on every run of the benchmark
  const random = () => { rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd / 2147483648; };
  const month = () => Number((document.body.innerText.match(/Month: (\\d+)/) || [0, -1])[1]);
  const drawn = (m) => month() === m
    && document.querySelector('.coprod-map svg').getAttribute('aria-label').includes('at month ' + m + ',');
  window.coprodLatencies = [];
  window.coprodStop = false;
  const step = () => {
    if (window.coprodStop) return;
    const button = [...document.querySelectorAll('button')].find(
      b => b.innerText.trim().toLowerCase() === 'step' && b.offsetParent !== null && !b.disabled);
    if (!button) { setTimeout(step, 200); return; }
    const target = month() + 1;
    const start = performance.now();
    const observer = new MutationObserver(() => {
      if (!drawn(target)) return;
      observer.disconnect();
      window.coprodLatencies.push((performance.now() - start) / 1000);
      setTimeout(step, 1000 * (thinkLo + (thinkHi - thinkLo) * random()));
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    button.click();
  };
  setTimeout(step, 1000 * thinkHi * random());  // students do not all start at the same instant
}"""
BROKEN_JS = """() => ['Traceback', 'could not be shown', 'Something went wrong'].filter(t => document.body.innerText.includes(t))"""


def watch_ready(pages: list, ready: list[float], problems: list[str], since: float, deadline: float) -> None:
    """Read every tab's text once a second until each shows month 0 or ``deadline`` passes: a stress on the
    machine (30 page reads a second) under which a busy server answers late (``--watch``)."""
    waiting = set(range(len(pages)))
    while waiting and time.monotonic() < deadline:
        for i in sorted(waiting):
            with contextlib.suppress(Exception):  # a page mid-reload cannot be read this second
                if "Month: 0" in pages[i].inner_text("body", timeout=2000):
                    ready.append(time.monotonic() - since)
                    waiting.discard(i)
        time.sleep(1)
    problems += [f"tab {i} not ready 180 s after the last tab was opened" for i in sorted(waiting)]


def sessions_timings(sessions: int, servers: int, seconds: float, think: tuple[float, float],
                     together: bool = False, watch: bool = False) -> dict[str, object]:
    """``sessions`` tabs stepping like students on ``servers`` servers (see the module docstring); ``together``:
    every tab is opened without waiting for the one before to be ready; ``watch``: then watched by reading
    every tab once a second (``watch_ready``)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from coprod_sim.app.driver import group_cpu_s, launch_chromium, serve, server_urls

    problems: list[str] = []
    with serve([], ROOT, servers=servers, timeout=120) as (url, pgid), sync_playwright() as p:
        browser = launch_chromium(p)
        urls = server_urls(url, servers)
        pages = []
        cpu0 = group_cpu_s(pgid)
        t0 = time.monotonic()
        # the tabs open one after the other (a class arrives within a minute or two, not in the same
        # millisecond), each in its own browser profile, as on the students' own computers
        ready, connections, dropped = [], [0], [0]

        def count(socket) -> None:  # the page's connections to its server; a dropped one is reconnected
            connections[0] += 1
            socket.on("close", lambda _: dropped.__setitem__(0, dropped[0] + 1))

        def wait_ready(i: int, page, since: float, deadline: float) -> None:
            """Until the tab shows month 0 (its time counted from ``since``), giving up at ``deadline``."""
            try:
                page.get_by_text("Month: 0", exact=True).wait_for(timeout=max(1.0, deadline - time.monotonic()) * 1000)
                ready.append(time.monotonic() - since)
            except PlaywrightTimeout:
                problems.append(f"tab {i} not ready 180 s after it was opened: {page.inner_text('body')[:300]!r}")

        for i in range(sessions):
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.on("websocket", count)
            opened = time.monotonic()
            page.goto(urls[i % servers], wait_until="commit" if together else "load")
            if not together:
                wait_ready(i, page, opened, opened + 180)
            pages.append(page)
        deadline = time.monotonic() + 180  # together: every tab has until 180 s after the last was opened
        if together and watch:
            watch_ready(pages, ready, problems, t0, deadline)
        for i, page in enumerate(pages if together and not watch else []):  # times from the first tab's opening
            wait_ready(i, page, t0, deadline)
        all_ready = time.monotonic() - t0
        cpu_ready = group_cpu_s(pgid)
        for i, page in enumerate(pages):
            page.evaluate(STUDENT_JS, [think[0], think[1], 1 + i])
        time.sleep(seconds)
        for page in pages:
            page.evaluate("() => { window.coprodStop = true; }")
        time.sleep(think[1] + 2)  # let the last clicks finish
        cpu_end = group_cpu_s(pgid)
        latencies = [x for page in pages for x in page.evaluate("() => window.coprodLatencies")]
        months = [int(page.evaluate("() => window.coprodLatencies.length")) for page in pages]
        problems += [f"tab {i}: {t}" for i, page in enumerate(pages) for t in page.evaluate(BROKEN_JS)]
        dropped_while_open = dropped[0]  # closing the browser closes the rest
        browser.close()
    latencies.sort() if latencies else latencies.append(float("nan"))
    ready = ready or [float("nan")]
    return {"sessions": sessions, "servers": servers, "seconds": seconds, "think_s": list(think),
            "clicks": len(latencies), "click_to_update_s_median": round(statistics.median(latencies), 3),
            "click_to_update_s_p90": round(latencies[int(0.9 * (len(latencies) - 1))], 3),
            "click_to_update_s_max": round(latencies[-1], 3), "months_per_session_min": min(months),
            "all_tabs_open_s": round(all_ready, 1), "tab_ready_s_median": round(statistics.median(ready), 1),
            "tab_ready_s_max": round(max(ready), 1),
            "opened": ("together" + (", watched" if watch else "")) if together else "one after the other",
            "connections": connections[0], "connections_dropped": dropped_while_open,
            "server_cpu_s_opening_tabs": round(cpu_ready - cpu0, 1),
            "server_cpu_s_per_click": round((cpu_end - cpu_ready) / max(len(latencies), 1), 3),
            "errors": problems}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=whole_number_option(1), default=10, help="Step clicks timed (default 10)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="seconds of Play timed per speed (default 8); with --sessions, seconds of stepping (default 60)")
    parser.add_argument("--sessions", type=whole_number_option(0), default=0,
                        help="instead: this many tabs stepping at once (issue 20)")
    parser.add_argument("--servers", type=whole_number_option(1), default=1, help="with --sessions: servers the tabs are spread over")
    parser.add_argument("--together", action="store_true",
                        help="with --sessions: open every tab at once instead of one after the other")
    parser.add_argument("--watch", action="store_true",
                        help="with --together: read every tab once a second until it is ready (a stress)")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 6.0), metavar=("LO", "HI"),
                        help="with --sessions: seconds a student reads between clicks, uniform (default 2 6)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.sessions:
        many = sessions_timings(args.sessions, args.servers, args.seconds or 60.0, tuple(args.think), args.together,
                                args.watch)
        print(json.dumps(many, indent=2))
        ok = many["click_to_update_s_median"] <= 1.0 and not many["errors"]
        print(f"target ({args.sessions} sessions: median click → update ≤ 1 s, no errors):", "met" if ok else "NOT met")
        return 0
    result = {"server_frame": server_frame_costs(), **browser_timings(args.clicks, args.seconds or 8.0)}
    print(json.dumps(result, indent=2))
    ok = result["click_to_update_s_median"] <= 0.5 and min(result["play_months_per_s"].values()) >= 3
    print("targets (click ≤ 0.5 s, Play ≥ 3 months/s):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
