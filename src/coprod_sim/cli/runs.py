"""Commands about scenarios and single runs: ``run``, ``scenarios``, ``validate``, ``params``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import (
    ROLES,
    by_role,
    load_config,
    parameters_markdown,
    read_yaml,
    registry,
    shipped_examples,
    shipped_scenarios,
)
from ..errors import ConfigError, UserError

SCENARIO_HELP = "a shipped scenario's name (see `coprod-sim scenarios`) or a YAML file"


def print_json(data: Any) -> None:
    """``--json``: one JSON document on stdout (NaN, an undefined outcome, as null); messages stay on stderr."""
    print(json.dumps(_json_safe(data), indent=1, sort_keys=True, allow_nan=False, default=str))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def count_problem(value: int | None, low: int) -> str | None:
    """What is wrong with a whole-number option's value, or None: the one rule the command line and the
    repository's scripts (experiments, benchmarks) check their counts by."""
    return None if value is None or value >= low else f"expected a whole number ≥ {low}, found {value}"


def whole_number(option: str, value: int | None, low: int) -> None:
    """Options are checked before anything runs, and named in the message."""
    problem = count_problem(value, low)
    if problem:
        raise UserError(f"{option}: {problem}")


def whole_number_option(low: int) -> Callable[[str], int]:
    """An argparse ``type`` for a script's count option (seeds, replicates, workers, runs): a whole number ≥
    ``low``, refused while the arguments are parsed, before anything runs or writes, with argparse's usage line
    and exit status 2 instead of a traceback or a run of nothing."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number ≥ {low}, found {text!r}") from None
        problem = count_problem(value, low)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return parse


def commit_option(checkout: Path) -> Callable[[str], str]:
    """An argparse ``type`` for a script's ``--against REV``: a commit of the git checkout at ``checkout``, refused
    while the arguments are parsed (a misspelt commit was a git traceback after the first measurement)."""
    def parse(text: str) -> str:
        from ..runs.provenance import commit_named

        if commit_named(text, checkout) is None:
            raise argparse.ArgumentTypeError(f"expected a commit of this repository, found {text!r}")
        return text
    return parse


# ------------------------------------------------------------------ run
def _add_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", default="baseline", help=f"{SCENARIO_HELP} (default: baseline)")
    p.add_argument("--seed", type=int, default=0, help="random seed, a whole number ≥ 0 (default 0)")
    p.add_argument("--steps", type=int, default=None,
                   help="months to simulate (default: run.steps); a run shorter than the outcome window shrinks it")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter by dotted key, e.g. --set incentive.assessment_weight=0.1")
    p.add_argument("--out", default=None, help="output folder (default results/<scenario name>)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--force", action="store_true",
                   help="replace the output folder even if it holds another run's results")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of the key outcomes")


def _run(args: argparse.Namespace) -> int:
    from ..model import KEY_OUTCOMES, OUTCOME_BY_KEY
    from ..runs import RunAborted, run, write_partial
    from ..runs.result import check_out
    from ..runs.runner import with_steps

    whole_number("--seed", args.seed, 0)
    whole_number("--steps", args.steps, 1)
    out = Path(args.out) if args.out else Path("results") / Path(args.scenario).stem
    planned = load_config(args.scenario, args.overrides)
    if args.steps is not None:
        planned = with_steps(planned, args.steps)[0]
    check_out(out, planned.to_dict(), args.seed, args.force)  # before computing, not after
    bar = ProgressBar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # notes are printed from the manifest below
            result = run(args.scenario, args.overrides, seed=args.seed, steps=args.steps, on_step=bar)
    except KeyboardInterrupt as stop:
        kept = write_partial(stop.partial, out) if hasattr(stop, "partial") else None
        raise UserError("interrupted" + (f"; the months computed are in {kept}" if kept else "")) from None
    except RunAborted as aborted:
        kept = write_partial(aborted, out)
        where = f"; the months computed are in {kept}" if kept else ""
        raise UserError(f"the run failed, {aborted}{where}") from aborted
    finally:
        bar.close()
    for note in result.manifest["notes"]:
        print(f"note: {note}", file=sys.stderr)
    result.save(out, plots=not args.no_plots, force=True)  # checked above
    s = result.summary
    bad = result.manifest["non_finite"]
    if args.json:
        print_json({"out": str(out), "scenario": args.scenario, "seed": args.seed, "summary": s,
                    "notes": result.manifest["notes"], "non_finite": bad})
        return 1 if bad else 0
    print(f"wrote {out}/ (summary.json, timeseries.parquet, manifest.json{'' if args.no_plots else ', plots'})")
    for outcome in (OUTCOME_BY_KEY[k] for k in KEY_OUTCOMES):  # the catalogue's key tier, however many
        print(f"  {outcome.heading}: {outcome.format(s.get(outcome.key))}")
    if bad:
        print(f"error: {len(bad)} outcome(s) are not finite numbers (status non_finite; the inputs make the model "
              f"divide by zero or overflow): {', '.join(bad[:10])}{' …' if len(bad) > 10 else ''}", file=sys.stderr)
        return 1
    return 0


class ProgressBar:
    """A tqdm bar on an interactive terminal, nothing in CI or when piped; called with each month done."""

    def __init__(self) -> None:
        from tqdm import tqdm

        quiet = bool(os.environ.get("CI")) or not sys.stderr.isatty()
        self.bar = tqdm(unit="month", desc="simulating", disable=quiet)

    def __call__(self, month: int) -> None:
        self.bar.update(month - self.bar.n)

    def close(self) -> None:
        self.bar.close()


# ------------------------------------------------------------------ scenarios
def _add_scenarios(p: argparse.ArgumentParser) -> None:
    p.add_argument("--paths", action="store_true", help="also print where each scenario's file is")


def _scenarios(args: argparse.Namespace) -> int:
    for name, path in shipped_scenarios().items():
        meta = read_yaml(path).get("scenario") or {}
        print(f"{name:<30} {meta.get('name', '')}" + (f"  [{path}]" if args.paths else ""))
    return 0


# ------------------------------------------------------------------ examples
def _add_examples(p: argparse.ArgumentParser) -> None:
    p.add_argument("--copy", metavar="DIR", default=None, help="copy the example specs into DIR (kept if there)")


def _examples(args: argparse.Namespace) -> int:
    """The example sweep and study specs that travel with coprod-sim, or copies of them to edit."""
    examples = shipped_examples()
    if args.copy:
        target = Path(args.copy)
        try:
            target.mkdir(parents=True, exist_ok=True)
            kept = [p.name for p in examples.values() if (target / p.name).exists()]
            for path in examples.values():
                if path.name not in kept:
                    (target / path.name).write_bytes(path.read_bytes())
        except OSError as exc:
            raise UserError(f"--copy {target}: cannot write there ({exc.strerror})") from None
        print(f"copied {len(examples) - len(kept)} example spec(s) to {target}"
              + (f"; kept the existing {', '.join(kept)}" if kept else ""))
        return 0
    for name, path in examples.items():
        spec = read_yaml(path)
        print(f"{name:<24} {spec.get('description') or spec.get('name', '')}")
    print(f"(in {next(iter(examples.values())).parent}; `coprod-sim examples --copy DIR` copies them to edit)"
          if examples else "no example specs found in this installation")
    return 0


# ------------------------------------------------------------------ validate
def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="+", help=f"scenario(s) to check: {SCENARIO_HELP}")
    p.add_argument("--json", action="store_true", help="print each scenario's problems as JSON (exit 2 if any)")


def _validate(args: argparse.Namespace) -> int:
    problems: list[str] = []
    found: dict[str, list[str]] = {}
    for scenario in args.config:
        try:
            load_config(scenario)
            found[scenario] = []
            if not args.json:
                print(f"{scenario}: valid")
        except ConfigError as err:
            problems += err.problems
            found[scenario] = err.problems
    if args.json:  # every scenario's problems, all of them; exit 2 if any
        print_json({"valid": not problems, "scenarios": [{"scenario": k, "valid": not v, "problems": v}
                                                         for k, v in found.items()]})
        return 2 if problems else 0
    if problems:
        raise ConfigError(problems)
    return 0


# ------------------------------------------------------------------ params
def _add_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--role", choices=ROLES, default=None,
                   help="only the parameters of one role: lever (policy choices), assumption (the world), run (settings)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--markdown", action="store_true", help="the docs/parameters.md table (every parameter)")


def _params(args: argparse.Namespace) -> int:
    if args.markdown and args.role:
        raise UserError("--markdown: the parameter table lists every role; leave out --role")
    chosen = by_role(args.role) if args.role else list(registry().values())
    if args.json:
        rows = [{"key": p.key, "role": p.role, "type": p.type, "unit": p.unit, "default": p.default, "range": p.range,
                 "choices": list(p.choices), "source": p.source, "description": p.description,
                 **({"label": p.label, "remedy": p.remedy, "study": p.study} if p.is_lever else {})}
                for p in chosen]
        print(json.dumps(rows, indent=1, ensure_ascii=False))
    elif args.markdown:
        print(parameters_markdown(), end="")
    else:
        for p in chosen:
            role = f"lever ({p.remedy})" if p.is_lever else p.role
            print(f"{p.key:<45} {role:<20} {p.unit:<22} default={json.dumps(p.default, ensure_ascii=False):<14} "
                  f"range={p.range_text()}")
            print(f"{'':<45} {p.description} [source: {p.source}]")
    return 0


COMMANDS = {
    "run": ("run one scenario and write its results", _add_run, _run),
    "scenarios": ("list the scenarios shipped with coprod-sim", _add_scenarios, _scenarios),
    "examples": ("list the example sweep and study specs shipped with coprod-sim, or copy them", _add_examples,
                 _examples),
    "validate": ("check scenarios or config files against the schema", _add_validate, _validate),
    "params": ("list every parameter with unit, default, range and source", _add_params, _params),
}
