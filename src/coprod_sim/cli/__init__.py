"""The ``coprod-sim`` command line: a thin layer over the public Python API (``coprod_sim.run``, ``sweep``, ...).

Each subcommand module registers ``COMMANDS`` (name → (help, add_arguments,
handler)); a handler returns an exit code. Problems the user can fix
(:class:`~coprod_sim.errors.CoprodError`) are printed as ``error: …`` lines with
exit code 2, never as a traceback. Modules import the heavy layers (model,
sweeps, app) inside their handlers, so the command starts fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable

from ..errors import ConfigError, CoprodError
from . import app, explain, runs, sensitivity, sweeps

COMMANDS = {**runs.COMMANDS, **sweeps.COMMANDS, **sensitivity.COMMANDS, **explain.COMMANDS, **app.COMMANDS}
SIGPIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a program whose reader went away


class _VersionAction(argparse.Action):
    """``--version``: the package version and the git commit, looked up only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from ..runs.provenance import version_text

        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coprod-sim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=_VersionAction, help="print the version and git commit, then exit")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add, handler) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add(p)
        p.set_defaults(handler=handler)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (0 ok, 1 some runs failed, 2 bad input, 130 interrupted)."""
    main_thread = threading.current_thread() is threading.main_thread()
    # `kill PID` stops a command like Ctrl+C: worker processes ended, state saved
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        return _dispatch(argv)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(argv: list[str] | None) -> int:
    def command() -> int | None:
        args = build_parser().parse_args(argv)
        return args.handler(args)

    return guarded(command)


def guarded(call: Callable[[], int | None]) -> int:
    """Run ``call`` as the command line runs a command and return its exit code: what the user can fix is an
    ``error:`` line per problem (exit 2), an interrupt exit 130, never a traceback. The repository's experiment
    scripts run their ``main`` by it too, so a bad ``--set`` there reads as it does in ``coprod-sim``."""
    try:
        return int(call() or 0)
    except ConfigError as err:
        for line in err.shown:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except CoprodError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`coprod-sim params | head -1`): stop quietly, and keep Python's
        # final flush of stdout from failing again on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
