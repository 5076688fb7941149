"""Driving the app from scripts: start ``coprod-sim viz`` on a free port and find Debian's Chromium.

Shared by the browser tests, the screenshot script (scripts/app_screenshots.py) and the app benchmark
(benchmarks/bench_app.py), so all three start and stop the server the same way. Chromium is the
system one (``scripts/setup.sh --with-browser`` / ``apt-get install chromium``): never
``playwright install``, which downloads a browser.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(viz_args: list[str], cwd: Path, log: IO | int = subprocess.DEVNULL,
          timeout: float = 60) -> Iterator[tuple[str, int]]:
    """``coprod-sim viz *viz_args`` on a free loopback port, in its own process group; yields (URL, group id)
    once the page answers, and stops the CLI and its Solara server on exit."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "coprod_sim", "viz", *viz_args, "--port", str(port)], cwd=cwd,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, timeout)
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"coprod-sim viz exited with code {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"app did not answer at {url} within {timeout} s")


def launch_chromium(playwright):
    """Debian's Chromium under Playwright (a clear error if it is missing)."""
    if not CHROMIUM.exists():
        raise RuntimeError("Chromium not found at /usr/bin/chromium: run scripts/setup.sh --with-browser "
                           "(or apt-get install chromium). Do not run 'playwright install'.")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
