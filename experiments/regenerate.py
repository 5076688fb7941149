"""Regenerate every document an experiment writes whose numbers come from other results than those in force.

Each generated document (or section) names the results id it was computed from; after a change that moves
results (docs/CHANGELOG.md), this reruns the stale ones, in an order where a document is written after those
it quotes, each by the command it names. It can be stopped and run again: documents already regenerated
name the new results and are skipped, and each experiment resumes its own runs.

    .venv/bin/python experiments/regenerate.py --dry-run     # which documents are stale, and the commands
    .venv/bin/python experiments/regenerate.py               # rerun them (hours on a 2-core machine)
    .venv/bin/python experiments/regenerate.py --all --dry-run   # every document, stale or not: what all would take

``--all`` reruns every generated document, stale or not: after a change to what an experiment writes (a
report's wording, a new table) that leaves the results, and so every stamp, as they were.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from coprod_sim import cli
from coprod_sim.experiments.generated import GENERATED_DOCS, GeneratedDoc, last_wall_minutes, stamped_results
from coprod_sim.runs import results_id

ROOT = Path(__file__).resolve().parents[1]


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list the stale documents and their commands; run nothing")
    parser.add_argument("--all", action="store_true", help="every generated document, stale or not")
    return parser


def stale(in_force: str, everything: bool = False) -> list[tuple[GeneratedDoc, str | None]]:
    """The generated documents that name other results than ``in_force`` (or none), or with ``everything`` all
    of them, in regeneration order, each with the results it names."""
    found = [(entry, stamped_results(ROOT, entry)) for entry in GENERATED_DOCS]
    return [(entry, named) for entry, named in found if everything or named != in_force]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    in_force = results_id()
    if in_force is None:
        print("error: no results id in force (tests/reference_outputs.json): run this from a source checkout",
              file=sys.stderr)
        return 2
    todo = stale(in_force, args.all)
    print(f"results in force: {in_force}; {sum(named != in_force for _, named in todo) if args.all else len(todo)} of "
          f"{len(GENERATED_DOCS)} generated documents are stale" + ("; all of them to regenerate" if args.all else ""))
    minutes = [last_wall_minutes(ROOT, entry) for entry, _ in todo]
    for (entry, named), took in zip(todo, minutes, strict=True):
        last = f"{took:g} min last time" if took is not None else "time not recorded"
        print(f"  {entry.name}: {'results ' + named if named else 'names no results'} ({last}) → {entry.command}")
    # a command that writes several documents (the app's screenshots) runs, and counts, once
    per_command = dict(zip((entry.command for entry, _ in todo), minutes, strict=True))
    if todo:
        unknown = sum(m is None for m in per_command.values())
        print(f"about {sum(m for m in per_command.values() if m is not None):.0f} min in all, as long as they took "
              "last time" + (f" (and {unknown} that did not record it)" if unknown else ""))
    if args.dry_run:
        return 0
    ran: set[str] = set()
    for entry, _ in todo:
        if entry.command in ran:
            continue
        ran.add(entry.command)
        print(f"\n=== {entry.name}: {entry.command}", flush=True)
        argv_of = shlex.split(entry.command)
        done = subprocess.run([sys.executable, *argv_of[1:]], cwd=ROOT, check=False)
        if done.returncode != 0:
            print(f"error: `{entry.command}` failed (exit status {done.returncode}); {entry.name} is still stale. "
                  "Fix the cause and run this again: what is done is kept.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli.guarded(main))
