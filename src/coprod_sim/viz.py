"""``coprod-sim viz``: start the students' browser app (``coprod_sim.app``) with Solara.

The app must work with no internet (classrooms behind firewalls): Solara serves
its front-end from ``sys.prefix/share/solara/cdn/<package>@<version>/`` and only
falls back to a public CDN when a file is missing there. The PyPI package
``solara-assets`` fills that folder; we check for it before starting so a
missing asset is a clear message here, not a blank page in the browser.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

# How the launcher tells the app (a separate solara process) what to load. Defined here, not in
# app_session, so `coprod-sim` can list its commands without importing the model.
CONFIGS_DIR_ENV = "COPROD_VIZ_CONFIGS_DIR"
CONFIG_ENV = "COPROD_VIZ_CONFIG"
DEFAULT_CONFIGS_DIR = "configs"

# Front-end packages the page loads (checked with a real browser: tests/test_app_browser.py).
REQUIRED_ASSETS = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
)
DEFAULT_PORT = 8765


def cdn_cache_dir() -> Path:
    """Where Solara looks for front-end assets before trying the CDN."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def missing_assets(root: Path | None = None) -> list[str]:
    """Asset folders the page needs that are absent (empty list = the app can run offline)."""
    root = root or cdn_cache_dir()
    return [name for name in REQUIRED_ASSETS if not (root / name).is_dir() or not any((root / name).iterdir())]


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the app module (``--no-open``: the user opens the address)."""
    exe = Path(sys.executable).with_name("solara")
    runner = [str(exe)] if exe.exists() else [sys.executable, "-m", "solara"]
    return [*runner, "run", "coprod_sim.app", "--host", host, "--port", str(port), "--no-open",
            "--production"]


def app_environment(config: str | None, configs_dir: str | None) -> dict[str, str]:
    """Environment for the server: where scenarios are, which to open, and no telemetry (offline)."""
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    if configs_dir:
        env[CONFIGS_DIR_ENV] = str(Path(configs_dir).resolve())
    elif config:
        env.setdefault(CONFIGS_DIR_ENV, str(Path(config).resolve().parent))
    else:
        env.setdefault(CONFIGS_DIR_ENV, str(Path(DEFAULT_CONFIGS_DIR).resolve()))
    if config:
        env[CONFIG_ENV] = str(Path(config).resolve())
    return env


def _add_viz(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", default=None,
                   help="scenario to open first (default configs/baseline.yaml); its folder feeds the picker")
    p.add_argument("--configs-dir", default=None, help="folder of scenario YAML files for the picker")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this computer only; 0.0.0.0 exposes the app)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")


def _viz(args: argparse.Namespace) -> int:
    from .errors import UserError

    missing = missing_assets()
    if missing:
        raise UserError(
            "the app's front-end files are missing from " f"{cdn_cache_dir()}: {', '.join(missing)}.\n"
            "       Without them the page stays blank offline. Fix: run scripts/setup.sh, or "
            f"'{sys.executable} -m pip install solara-assets'."
        )
    if args.config and not Path(args.config).is_file():
        raise UserError(f"{args.config}: no such scenario file")
    folder = Path(args.configs_dir or (Path(args.config).parent if args.config else DEFAULT_CONFIGS_DIR))
    if not folder.is_dir() or not any(folder.glob("*.y*ml")):
        raise UserError(f"no scenario files (*.yaml) in {folder}/: run from the project folder, "
                        "or pass a CONFIG file or --configs-dir")
    if shutil.which("solara", path=str(Path(sys.executable).parent)) is None and not _has_solara():
        raise UserError("solara is not installed in this environment; run scripts/setup.sh")
    print(f"coprod-sim app: open http://{args.host}:{args.port}/ in your browser (Ctrl+C stops it)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: bound to {args.host}; other computers on the network can open the app", flush=True)
    proc = subprocess.Popen(solara_command(args.host, args.port), env=app_environment(args.config, args.configs_dir))
    # stopping us (Ctrl+C or SIGTERM from a test or a service manager) must also stop the server
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        return 0


def _has_solara() -> bool:
    import importlib.util

    return importlib.util.find_spec("solara") is not None


CLI_COMMANDS = {"viz": ("start the browser app for students (Solara, works offline)", _add_viz, _viz)}
