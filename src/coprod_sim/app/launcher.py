"""Starting the students' browser app (``coprod_sim.app.page``) with Solara, as ``coprod-sim viz`` does.

The app must work with no internet (classrooms behind firewalls): Solara serves
its front-end from ``sys.prefix/share/solara/cdn/<package>@<version>/`` and only
falls back to a public CDN when a file is missing there. The PyPI package
``solara-assets`` fills that folder; we check for it before starting so a
missing asset is a clear message here, not a blank page in the browser.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..config import ConfigError, load_config, shipped_scenarios
from ..errors import UserError

# How the launcher tells the app (a separate solara process) what to load. Defined here, not in
# the session module, so starting the app does not import the model in the launcher's process.
CONFIGS_DIR_ENV = "COPROD_VIZ_CONFIGS_DIR"
CONFIG_ENV = "COPROD_VIZ_CONFIG"
LAUNCHER_PID_ENV = "COPROD_VIZ_LAUNCHER_PID"
ALLOWED_HOSTS_ENV = "COPROD_VIZ_ALLOWED_HOSTS"  # Host names the server answers (app/guard.py checks each request)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
PAGE_MODULE = "coprod_sim.app.page"

# Front-end packages the page loads (checked with a real browser: tests/test_app_browser.py).
REQUIRED_ASSETS = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
)
DEFAULT_PORT = 8765
KERNEL_CULL_TIMEOUT = "30m"  # long enough to survive a laptop lid closed for a lesson's break


def cdn_cache_dir() -> Path:
    """Where Solara looks for front-end assets before trying the CDN."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def missing_assets(root: Path | None = None) -> list[str]:
    """Asset folders the page needs that are absent (empty list = the app can run offline)."""
    root = root or cdn_cache_dir()
    return [name for name in REQUIRED_ASSETS if not (root / name).is_dir() or not any((root / name).iterdir())]


# The server pings every browser at uvicorn's default interval, so one that vanished (a closed laptop, lost
# Wi-Fi) is noticed and its model freed, but waits up to two minutes for the answer instead of uvicorn's 20 s.
# While a class opens the page the server is busy rendering every tab's first page (about 0.4 s of CPU each);
# on a machine short of CPU, at 20 s it dropped the connections whose answers it had not yet read, each tab
# reconnected and was rendered again, and some of 30 tabs opened at once never opened; at 120 s all 30 did,
# with no connection dropped (benchmarks/bench_app.py --sessions 30 --together --watch; docs/performance.md).
WS_PING_INTERVAL_S = 20
WS_PING_TIMEOUT_S = 120


def server_command(host: str, port: int) -> list[str]:
    """The app's server: Solara's Starlette app on uvicorn, as Solara documents self-hosting (the page module in
    ``SOLARA_APP``, production mode by default), so that we set the websocket keepalive ourselves (``solara
    run`` keeps uvicorn's; see ``WS_PING_TIMEOUT_S``)."""
    return [sys.executable, "-m", "uvicorn", "solara.server.starlette:app", "--host", host, "--port", str(port),
            "--ws-ping-interval", str(WS_PING_INTERVAL_S), "--ws-ping-timeout", str(WS_PING_TIMEOUT_S),
            "--log-level", "error"]


def scenario_file(scenario: str) -> Path:
    """The YAML file of a scenario given as a path or as a shipped scenario's name."""
    path = Path(scenario)
    if path.is_file():
        return path
    shipped = shipped_scenarios()
    if scenario in shipped:
        return shipped[scenario]
    raise UserError(f"{scenario}: no such scenario file, and not a shipped scenario ({', '.join(shipped)})")


def scenarios_folder(scenario: str | None, configs_dir: str | None) -> Path:
    """The folder the scenario picker lists: ``--configs-dir``, else the scenario's own folder, else the shipped ones."""
    if configs_dir:
        folder = Path(configs_dir)
    elif scenario:
        folder = scenario_file(scenario).parent
    else:
        folder = next(iter(shipped_scenarios().values())).parent
    if not folder.is_dir() or not any(folder.glob("*.y*ml")):
        raise UserError(f"no scenario files (*.yaml) in {folder}/: pass a scenario or --configs-dir")
    return folder


def allowed_hosts(host: str, extra: list[str] | None = None) -> list[str]:
    """The Host header values the server answers: the loopback names, the bound address and, when bound to
    every interface (0.0.0.0), this computer's names and addresses, plus any the teacher adds. Anything else
    (a DNS-rebinding page in a student's browser naming its own domain) gets 400."""
    names = {*LOOPBACK, "[::1]", host, *(extra or [])}
    if host in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname(), socket.getfqdn()}
        with contextlib.suppress(OSError):
            names |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
        names |= {_primary_address()} - {""}
    return sorted(n for n in names if n)


def _primary_address() -> str:
    """The address other computers on the network reach us at (no packet is sent: a UDP socket only picks
    the route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
    except OSError:
        return ""


def check_scenario(scenario: str | None) -> None:
    """Validate the scenario given on the command line before starting anything, so a bad file is reported
    here, in the terminal (file, key path, expected and found), not only later in a browser."""
    if scenario is None:
        return
    try:
        load_config(scenario_file(scenario))
    except ConfigError as err:
        raise UserError(f"{scenario}: not a valid scenario, the app was not started:\n       "
                        + "\n       ".join(err.problems)) from None


def app_environment(scenario: str | None, configs_dir: str | None, hosts: list[str] | None = None) -> dict[str, str]:
    """Environment for the server: where scenarios are, which to open, the Host names it answers, no
    telemetry (offline), and one BLAS thread (many tabs share the cores: a tab's numpy calls spawning
    threads of their own made every Step slower, 155 → 30 ms of server CPU per Step measured) and
    reacton's fast renderer."""
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("REACTON_FAST", "1")
    env[ALLOWED_HOSTS_ENV] = ",".join(hosts or LOOPBACK)
    env["SOLARA_THEME_SHOW_BANNER"] = "false"  # its corner badge covered chart labels (and links to the internet)
    env[LAUNCHER_PID_ENV] = str(os.getpid())  # the server ends with us, even after kill -9 (app/guard.py)
    # a closed tab's model is freed after this long (Solara keeps it 24 h by default, for reconnects)
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", KERNEL_CULL_TIMEOUT)
    env["SOLARA_APP"] = PAGE_MODULE
    env[CONFIGS_DIR_ENV] = str(scenarios_folder(scenario, configs_dir).resolve())
    if scenario:
        env[CONFIG_ENV] = str(scenario_file(scenario).resolve())
    return env


def launch(scenario: str | None = None, configs_dir: str | None = None, host: str = "127.0.0.1",
           port: int = DEFAULT_PORT, servers: int = 1, allow_hosts: list[str] | None = None) -> int:
    """Check the scenario and that the app can run offline, start ``servers`` servers on consecutive ports
    (a big class spreads its tabs over them: each server is one process, so one core), and wait until they
    stop (Ctrl+C or SIGTERM stop them all)."""
    if servers < 1:
        raise UserError(f"--servers must be 1 or more (found {servers})")
    last_port = 65535 - (servers - 1)  # the servers take consecutive ports from --port
    if not 0 <= port <= last_port:
        raise UserError(f"--port: expected a port from 0 to {last_port}"
                        f"{f' (for {servers} servers on consecutive ports)' if servers > 1 else ''}, found {port}")
    check_scenario(scenario)
    missing = missing_assets()
    if missing:
        raise UserError(
            "the app's front-end files are missing from " f"{cdn_cache_dir()}: {', '.join(missing)}.\n"
            "       Without them the page stays blank offline. Fix: run scripts/setup.sh, or "
            f"'{sys.executable} -m pip install solara-assets'."
        )
    env = app_environment(scenario, configs_dir, allowed_hosts(host, allow_hosts))
    if not _has_server():
        raise UserError("solara or uvicorn is not installed in this environment; run scripts/setup.sh")
    ports = list(range(port, port + servers))
    shown = host if host not in ("0.0.0.0", "::") else "<this computer's address>"
    print("coprod-sim app: open " + ", ".join(f"http://{shown}:{p}/" for p in ports) + " in your browser"
          + (" (spread the class over these addresses)" if servers > 1 else "") + "; Ctrl+C stops it", flush=True)
    if host not in LOOPBACK:
        print(f"warning: bound to {host}; other computers on the network can open the app", flush=True)
    procs = [subprocess.Popen(server_command(host, p), env=env) for p in ports]

    def stop(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    # stopping us (Ctrl+C or SIGTERM from a test or a service manager) must also stop the servers
    signal.signal(signal.SIGTERM, stop)
    try:
        codes = [proc.wait() for proc in procs]
        return max(codes, key=abs)
    except KeyboardInterrupt:
        stop()
        for proc in procs:
            proc.wait(timeout=10)
        return 0


def _has_server() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("solara", "uvicorn"))
