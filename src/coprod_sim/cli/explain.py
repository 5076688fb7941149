"""``coprod-sim explain``: attribute a scenario's effect to its components by Shapley values (docs/explain.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from .runs import SCENARIO_HELP, whole_number
from .sweeps import _add_sweep_options, _check_backend_options, _duration, cache_option


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help=f"the scenario whose effect to explain: {SCENARIO_HELP}")
    p.add_argument("--against", default="baseline", metavar="BASE",
                   help="the scenario it is compared with (default: baseline)")
    p.add_argument("--replicates", type=int, default=10,
                   help="seeds; every subset of components runs on each (default 10)")
    p.add_argument("--seed", type=int, default=0, help="root seed of the runs and of sampled orders (default 0)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter in both scenarios, e.g. --set population.residents=5000")
    p.add_argument("--group", dest="groups", action="append", default=[], metavar="NAME=KEY[,KEY…]",
                   help="switch these parameters together as one component named NAME (repeatable; default: one "
                        "component per parameter the scenario changes)")
    p.add_argument("--outcome", "--outcomes", dest="outcomes", action="append", default=None, metavar="NAME",
                   help="outcome to attribute (repeatable; default: the key outcomes)")
    p.add_argument("--permutations", type=int, default=None, metavar="N",
                   help="sampled orders when there are more than 8 components (default 64)")
    _add_sweep_options(p, "results/explain/<scenario>-vs-<base>",
                       "the components, the number of runs and a wall-time estimate")


def _run(args: argparse.Namespace) -> int:
    from ..attribution import default_out, explain, parse_groups, plan_explain
    from ..attribution.report import plural
    from ..attribution.study import DEFAULT_PERMUTATIONS, check_outcomes
    from ..sweeps.backends import warm_workers
    from ..sweeps.engine import estimate
    from ..sweeps.events import EVENTS, FIGURE, SETTLING

    _check_backend_options(args)
    whole_number("--seed", args.seed, 0)
    if args.replicates < 2:
        raise UserError(f"--replicates: expected at least 2 for a confidence interval, found {args.replicates}")
    whole_number("--permutations", args.permutations, 2)
    permutations = args.permutations or DEFAULT_PERMUTATIONS
    groups = parse_groups(args.groups)
    outcomes = check_outcomes(args.outcomes)
    plan = plan_explain(args.scenario, args.against, args.overrides, groups, args.replicates, args.seed, permutations,
                        outcomes=outcomes)
    out = Path(args.out) if args.out else default_out(plan)
    print(f"{plan.scenario} against {plan.base}: {plural(plan.k, 'component')}, {plan.method} Shapley values over "
          f"{len(plan.masks)} subsets × {args.replicates} seeds = {len(plan.sweep.tasks)} runs")
    for c in plan.components:
        print(f"  {c.name}: {', '.join(f'{k} {c.base[k]!r} → {v!r}' for k, v in c.changes.items())}")
    backend = args.backend or ("dask" if args.scheduler else plan.sweep.backend)
    workers = args.workers or plan.sweep.workers
    if args.dry_run:
        e = estimate(plan.sweep, out, backend, workers)
        print(f"{e['finished']} runs already in {out}, {e['to_run']} to run; measured {e['seconds_per_run']:.2f} s "
              f"per run; estimated wall time ≈ {_duration(e['estimate_s'])} on {backend} with {workers} worker(s)")
        return 0
    if not args.scheduler:
        warm_workers(backend)
    result = explain(args.scenario, args.against, args.replicates, args.seed, args.overrides, groups, outcomes,
                     permutations, out, backend, workers, args.scheduler, args.batch_size, args.timeout,
                     args.max_attempts, args.retry_failed, cache_option(args))
    print()
    print(result.text)
    print()
    print(f"wrote {out}/attribution.csv, attribution.md and {len(result.figures)} figure(s) in {out}/figures/")
    if result.events is not None:
        print(f"time path (effect by month since the policy's introduction): {out}/{EVENTS}, {SETTLING}, {FIGURE}, "
              "attribution_events.csv, attribution_windows.csv")
        for line in result.events.notes:
            print(f"note: {line}", file=sys.stderr)
    report = result.report
    if report is not None and not report.all_ok:
        print(f"  {report.not_ok + report.lost} of {report.total} runs are not ok or missing; the seeds they touch are left out of "
              "the outcome they affect (n_seeds); run the same command again (--retry-failed) to redo them",
              file=sys.stderr)
        return 1
    return 0


COMMANDS = {
    "explain": ("attribute a scenario's effect to the parameters it changes (Shapley values with CIs)", _add, _run),
}
