"""The ``coprod-sim`` command line.

Subcommands register themselves through ``SUBCOMMANDS`` (name → (add_arguments,
handler)); each handler returns an exit code. A ConfigError (or any other
user-facing :class:`UserError`) is printed as plain lines on stderr with exit
code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .config import load_config, parameters_markdown, registry
from .errors import ConfigError, UserError

DEFAULT_CONFIG = "configs/baseline.yaml"


# ------------------------------------------------------------------ run
def _add_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="scenario YAML file (e.g. configs/baseline.yaml)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--steps", type=int, default=None, help="override run.steps")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter by dotted key, e.g. --set incentive.assessment_weight=0.1")
    p.add_argument("--out", default=None, help="output folder (default results/<config name>)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def _run(args: argparse.Namespace) -> int:
    from .runner import RunAborted, run_model, write_partial, write_run

    overrides = list(args.overrides)
    if args.steps is not None:
        overrides.append(f"run.steps={args.steps}")
    cfg = load_config(args.config, overrides)
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    try:
        result = run_model(cfg, seed=args.seed, progress=True)
    except KeyboardInterrupt as stop:
        kept = write_partial(stop.partial, out, args.config) if hasattr(stop, "partial") else None
        raise UserError("interrupted" + (f"; the months computed are in {kept}" if kept else "")) from None
    except RunAborted as aborted:
        kept = write_partial(aborted, out, args.config)
        where = f"; the months computed are in {kept}" if kept else ""
        raise UserError(f"the run failed, {aborted}{where}") from aborted
    write_run(result, out, args.config, plots=not args.no_plots)
    s = result.summary
    print(f"wrote {out}/ (summary.json, timeseries.parquet, manifest.json, plots)")
    print(f"  needs met {s['quality.needs_met_share']:.2f}  satisfaction {s['quality.satisfaction_mean']:.2f}/5  "
          f"centre−periphery gap {s['equity.center_periphery_gap']:+.3f}  "
          f"public spending {s['cost.public_spending']:,.0f} yuan/month")
    return 0


# ------------------------------------------------------------------ validate
def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="+", help="YAML file(s) to check")


def _validate(args: argparse.Namespace) -> int:
    problems: list[str] = []
    for path in args.config:
        try:
            load_config(path)
            print(f"{path}: valid")
        except ConfigError as err:
            problems += err.problems
    if problems:
        raise ConfigError(problems)
    return 0


# ------------------------------------------------------------------ params
def _add_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--markdown", action="store_true", help="the docs/parameters.md table")


def _params(args: argparse.Namespace) -> int:
    if args.json:
        rows = [{"key": p.key, "type": p.type, "unit": p.unit, "default": p.default, "range": p.range,
                 "choices": list(p.choices), "source": p.source, "description": p.description}
                for p in registry().values()]
        print(json.dumps(rows, indent=1, ensure_ascii=False))
    elif args.markdown:
        print(parameters_markdown(), end="")
    else:
        for p in registry().values():
            print(f"{p.key:<45} {p.unit:<22} default={json.dumps(p.default, ensure_ascii=False):<14} "
                  f"range={p.range_text()}")
            print(f"{'':<45} {p.description} [source: {p.source}]")
    return 0


SUBCOMMANDS: dict[str, tuple[str, Callable, Callable]] = {
    "run": ("run one scenario and write its results", _add_run, _run),
    "validate": ("check config files against the schema", _add_validate, _validate),
    "params": ("list every parameter with unit, default, range and source", _add_params, _params),
}


def _register_optional() -> None:
    """Subcommands that live in their own modules (sweeps, sensitivity, app)."""
    import importlib

    for module in ("sweep", "viz"):
        try:
            mod = importlib.import_module(f"coprod_sim.{module}")
        except ImportError as exc:  # a module that is not there yet adds nothing
            if exc.name != f"coprod_sim.{module}":
                raise
            continue
        SUBCOMMANDS.update(getattr(mod, "CLI_COMMANDS", {}))


def build_parser() -> argparse.ArgumentParser:
    _register_optional()
    parser = argparse.ArgumentParser(prog="coprod-sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add, handler) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add(p)
        p.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as err:
        for line in err.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
