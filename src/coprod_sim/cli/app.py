"""The ``viz`` command: start the students' browser app (docs/app.md)."""

from __future__ import annotations

import argparse

from ..app.launcher import DEFAULT_PORT, launch
from ..errors import require
from .runs import SCENARIO_HELP


def _add_viz(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", default=None, metavar="scenario",
                   help=f"scenario to open first, {SCENARIO_HELP} (default: baseline); its folder feeds the picker")
    p.add_argument("--configs-dir", default=None, help="folder of scenario YAML files for the picker")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this computer only; 0.0.0.0 exposes the app)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--servers", type=int, default=1,
                   help="start this many servers on consecutive ports from --port (a big class: one per 15 students)")
    p.add_argument("--allow-host", action="append", default=None, metavar="NAME",
                   help="another Host name the app answers (e.g. the teacher computer's DNS name); repeatable")


def _viz(args: argparse.Namespace) -> int:
    require("solara", "coprod-sim[viz]", "the browser app (coprod-sim viz)")
    return launch(args.config, args.configs_dir, args.host, args.port, args.servers, args.allow_host)


COMMANDS = {"viz": ("start the browser app for students (Solara, works offline)", _add_viz, _viz)}
