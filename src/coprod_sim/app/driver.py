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


def free_port(consecutive: int = 1) -> int:
    """A loopback port that is free, with the ``consecutive - 1`` ports after it free too."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if all(port_is_free(port + i) for i in range(1, consecutive)):
            return port


def port_is_free(port: int) -> bool:
    """Nothing listens on this loopback port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def server_urls(url: str, servers: int) -> list[str]:
    """The addresses of ``coprod-sim viz --servers N`` started by :func:`serve` at ``url``."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    return [f"http://127.0.0.1:{port + i}/" for i in range(servers)]


@contextmanager
def serve(viz_args: list[str], cwd: Path, log: IO | int = subprocess.DEVNULL,
          timeout: float = 60, servers: int = 1) -> Iterator[tuple[str, int]]:
    """``coprod-sim viz *viz_args`` on a free loopback port (``servers`` of them: consecutive ports), in its
    own process group; yields (URL of the first, group id) once every server answers, and stops the CLI and
    its Solara servers on exit."""
    port = free_port(servers)
    proc = subprocess.Popen([sys.executable, "-m", "coprod_sim", "viz", *viz_args, "--port", str(port),
                             "--servers", str(servers)], cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for address in server_urls(url, servers):
            _wait_http(address, proc, timeout)
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


def group_cpu_s(pgid: int) -> float:
    """CPU seconds used so far by the server's processes (its process group: the CLI and its servers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
