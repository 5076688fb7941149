"""Put the source papers' claims to the model and write docs/findings.md.

Each experiment runs its arms through the sweep engine into results/findings/<experiment>/ (resumable: run
the same command again after an interruption), writes its tables (contrasts.csv, levels.csv,
predictions.csv, meta.json) and figure, and the doc is written from those tables.

    .venv/bin/python experiments/findings.py                         # every experiment, default size
    .venv/bin/python experiments/findings.py --only technology       # one experiment
    .venv/bin/python experiments/findings.py --quick --out /tmp/findings --doc /tmp/findings.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from coprod_sim import cli
from coprod_sim.cli.runs import whole_number_option
from coprod_sim.experiments.claims import catalogue
from coprod_sim.experiments.findings import (
    PRECISION,
    Size,
    contrast_table,
    level_table,
    pilot_size,
    prediction_table,
    replicates_needed,
    run_experiment,
    seed_slots,
    size_text,
    time_path_tables,
)
from coprod_sim.experiments.findings_report import figure, path_figure, write_doc
from coprod_sim.runs import results_id
from coprod_sim.sweeps.events import EVENTS, SETTLING

ROOT = Path(__file__).resolve().parents[1]
ROOT_SEED = 19000  # seeds no other doc uses; each experiment adds its place in the catalogue


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    names = [e.name for e in catalogue()]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=names, help="run this experiment (repeatable)")
    parser.add_argument("--replicates", type=whole_number_option(1), default=12,
                        help="paired seeds per arm in the pilot (default 12); more are added, up to "
                             "--max-replicates, until every decided prediction's interval is within ±20%% of its "
                             "effect")
    parser.add_argument("--max-replicates", type=whole_number_option(1), default=48, help="the most paired seeds per arm (default 48)")
    parser.add_argument("--quick", action="store_true",
                        help="small districts and short runs (minutes in all): checks the pipeline, not the claims")
    parser.add_argument("--backend", choices=["serial", "processes", "dask"], default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "findings")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "findings.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite the doc from the tables; run nothing")
    return parser


def _command(args: argparse.Namespace, name: str) -> str:
    words = [".venv/bin/python", "experiments/findings.py", "--only", name]
    if args.replicates != 12:
        words += ["--replicates", str(args.replicates)]
    if args.max_replicates != 48:
        words += ["--max-replicates", str(args.max_replicates)]
    if args.quick:
        words += ["--quick"]
    return shlex.join(words)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    experiments = catalogue()
    size = Size(residents=4000, community_size=1000, quick=True) if args.quick else Size()
    slots = seed_slots(experiments)
    for exp in experiments:
        if args.report_only or (args.only and exp.name not in args.only):
            continue
        folder = args.out / exp.name
        seed = ROOT_SEED + 100 * slots[exp.name]
        replicates, seconds = pilot_size(exp, args.replicates, args.max_replicates), 0.0
        pilot = replicates
        while True:  # a pilot, then as many paired seeds as the decided predictions need (resumed, not redone)
            runs, took = run_experiment(exp, size, replicates, seed, folder, backend=args.backend)
            seconds += took
            contrasts, levels = contrast_table(exp, runs), level_table(exp, runs)
            predictions = prediction_table(exp, contrasts, levels)
            wanted = min(replicates_needed(predictions, replicates), args.max_replicates)
            if wanted <= replicates:
                break
            print(f"{exp.name}: {replicates} replicates leave an interval wider than ±{PRECISION:.0%} of its "
                  f"effect; extending to {wanted}")
            replicates = wanted
        for name, table in (("contrasts", contrasts), ("levels", levels), ("predictions", predictions)):
            table.to_csv(folder / f"{name}.csv", index=False)
        figure(exp, folder, contrasts, levels)
        if exp.time_path:
            path, settled = time_path_tables(exp, size, folder / "runs")
            path.to_csv(folder / EVENTS, index=False)
            settled.to_csv(folder / SETTLING, index=False)
            path_figure(exp, folder, path)
        meta = {"replicates": replicates, "pilot_replicates": pilot,
                "max_replicates": args.max_replicates, "seed": seed, "runs": len(runs), "seconds": seconds,
                "cores": os.cpu_count(), "command": _command(args, exp.name), "size": size_text(exp, size),
                "results_id": results_id()}
        (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        print(f"{exp.name}: {len(runs)} runs in {seconds / 60:.1f} min → {folder}")
    doc = write_doc(experiments, args.out, args.doc, ROOT)
    print(f"wrote {doc}")
    return 0


def guarded(argv: list[str] | None = None) -> int:
    """A clear one-line error (exit 2) for what the user can fix, as the CLI gives; results already written stay."""
    return cli.guarded(lambda: main(argv))


if __name__ == "__main__":
    sys.exit(cli.guarded(main))
