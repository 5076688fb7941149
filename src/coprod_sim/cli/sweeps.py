"""Commands about many runs: ``sweep``, ``plot`` and ``compare`` (docs/sweeps.md)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import UserError
from .runs import SCENARIO_HELP, print_json, whole_number


def _add_backend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default=None, metavar="{serial,processes,dask}",
                   help="where runs execute: serial, processes or dask (default: the spec's)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the spec's, else 2)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="connect the dask backend to a running scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--batch-size", type=int, default=None, help="runs per task (default: auto)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop a run that takes longer and record it as timeout (default: the spec's, else none)")
    p.add_argument("--max-attempts", type=int, default=None, metavar="N",
                   help="tries of a run whose worker process dies before it is recorded as worker_lost "
                        "(default: the spec's, else 3)")
    add_cache_options(p)


def add_cache_options(p: argparse.ArgumentParser) -> None:
    """Where runs of the introduction design (run.design) keep their spun-up worlds."""
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="folder of spun-up worlds for run.design: introduction (default: $COPROD_SIM_WORLDS, else "
                        "~/.cache/coprod-sim/worlds; on a cluster, a folder every worker can read and write)")
    p.add_argument("--no-cache", action="store_true",
                   help="simulate every run's spin-up afresh instead of sharing snapshots (same results, slower)")


def cache_option(args: argparse.Namespace) -> bool | str:
    """``--no-cache`` / ``--cache DIR`` as the API's ``cache`` argument."""
    if args.no_cache and args.cache:
        raise UserError("--cache and --no-cache: give one of them")
    return False if args.no_cache else (args.cache or True)


def _check_backend_options(args: argparse.Namespace) -> None:
    from ..sweeps.spec import BACKENDS

    whole_number("--workers", args.workers, 1)
    whole_number("--batch-size", args.batch_size, 1)
    whole_number("--max-attempts", args.max_attempts, 1)
    if args.timeout is not None and not 0 < args.timeout < math.inf:
        raise UserError(f"--timeout: expected seconds, a finite number > 0, found {args.timeout}")
    if args.backend is not None and args.backend not in BACKENDS:
        raise UserError(f"--backend: expected one of {', '.join(BACKENDS)}, found {args.backend!r}")
    if args.scheduler and (args.backend or "dask") != "dask":
        raise UserError("--scheduler: only the dask backend connects to a scheduler; add --backend dask")


# ------------------------------------------------------------------ sweep
def _add_sweep_options(p: argparse.ArgumentParser, default_out: str, dry_run: str) -> None:
    """What every command that runs a sweep takes: --out, the backend options, --dry-run, --retry-failed."""
    p.add_argument("--out", default=None, help=f"output folder (default {default_out})")
    _add_backend_options(p)
    p.add_argument("--dry-run", action="store_true", help=f"print {dry_run}")
    p.add_argument("--retry-failed", action="store_true", help="re-run runs recorded as failed")


def _add_sweep(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="sweep spec YAML (e.g. experiments/example_sweep.yaml)")
    _add_sweep_options(p, "results/sweeps/<spec name>", "the number of runs and a wall-time estimate")
    p.add_argument("--force", action="store_true",
                   help="resume a folder made by other code (another code fingerprint), keeping its runs as they are")
    p.add_argument("--json", action="store_true", help="with --dry-run: print the counts and the estimate as JSON")


def _sweep(args: argparse.Namespace) -> int:
    from ..sweeps.backends import warm_workers
    from ..sweeps.engine import default_out, estimate, plan_of, run_sweep

    _check_backend_options(args)
    if not args.dry_run and not args.scheduler:
        warm_workers(args.backend or "processes")
    plan = plan_of(args.spec)
    out = Path(args.out) if args.out else default_out(args.spec, plan)
    backend = args.backend or ("dask" if args.scheduler else plan.backend)
    workers = args.workers or plan.workers
    if args.dry_run:
        e = estimate(plan, out, backend, workers)
        if args.json:
            print_json({**e, "out": str(out), "backend": backend, "workers": workers})
            return 0
        print(f"{e['runs']} runs ({e['design_points']} design points × {e['replicates']} replicates); "
              f"{e['finished']} already in {out}, {e['to_run']} to run")
        print(f"measured {e['seconds_per_run']:.2f} s per run on a sample of {e['sample']}; estimated wall time "
              f"≈ {_duration(e['estimate_s'])} on {backend} with {workers} worker(s)")
        return 0
    report = run_sweep(plan, out, backend, workers, args.scheduler, args.batch_size, args.retry_failed, args.timeout,
                       args.max_attempts, cache_option(args), args.force)
    print(f"sweep {plan.name}: {report.total} runs — {report.resumed} already done, {report.ok} ok and "
          f"{report.failed} not ok now, {report.lost} missing — {report.seconds:.1f} s → {out}/runs.parquet")
    if report.not_ok:
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(report.statuses.items()) if s != "ok")
        print(f"  {report.not_ok} of {report.total} runs are not ok ({by_status}); the 'error' column says why; "
              "--retry-failed runs them again", file=sys.stderr)
    if report.lost:
        print(f"  {report.lost} runs are missing; run the same command again to run them", file=sys.stderr)
    return 0 if report.all_ok else 1


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


# ------------------------------------------------------------------ plot
def _add_plot(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="sweep output folder (holds runs.parquet and manifest.json)")
    p.add_argument("--outcome", dest="outcomes", action="append", default=None, metavar="NAME",
                   help="outcome to plot (repeatable; default: the key outcomes)")


def _plot(args: argparse.Namespace) -> int:
    from ..sweeps.analysis import load_sweep, plot_sweep
    from ..sweeps.engine import stale_note

    results = load_sweep(args.dir)
    runs = results.runs
    if results.manifest.get("status") != "complete":
        status = stale_note(Path(args.dir), results.manifest) or f"the sweep's status is {results.manifest.get('status')}"
        print(f"note: {status}; plotting the runs recorded so far", file=sys.stderr)
    unknown = [o for o in args.outcomes or [] if o not in runs]
    if unknown:
        raise UserError(f"--outcome: {', '.join(unknown)}: not a column of {args.dir}/runs.parquet")
    written = plot_sweep(args.dir, args.outcomes)
    print(f"wrote {args.dir}/summary.csv, summary.parquet and {len(written)} plot(s) in {args.dir}/plots/")
    return _report_unusable(runs, "point_id", "design point")


def _report_unusable(runs, group: str, name: str) -> int:
    """Say how many runs are left out (status not ok); 1 when some group has no usable run at all."""
    bad = runs[runs["status"] != "ok"]
    if len(bad):
        kinds = ", ".join(f"{n} {s}" for s, n in bad["status"].value_counts().sort_index().items())
        print(f"note: {len(bad)} of {len(runs)} runs are unusable and left out ({kinds})", file=sys.stderr)
    ok_per_group = runs.assign(_ok=runs["status"] == "ok").groupby(group, sort=True)["_ok"].sum()
    empty = [str(g) for g, n in ok_per_group.items() if n == 0]
    if empty:
        print(f"error: no usable run for {name} {', '.join(empty[:10])}{' …' if len(empty) > 10 else ''}",
              file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------ compare
def _add_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="+", metavar="scenario",
                   help=f"two or more scenarios, the first is the reference: {SCENARIO_HELP}")
    p.add_argument("--replicates", type=int, default=10, help="runs per scenario, same seeds for all (default 10)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter in every scenario, e.g. --set population.residents=5000")
    p.add_argument("--out", default=None, help="output folder (default results/compare/<names>)")
    p.add_argument("--outcome", dest="outcomes", action="append", default=None, metavar="NAME",
                   help="outcome to report (repeatable; default: the key outcomes)")
    p.add_argument("--json", action="store_true", help="print the paired differences as JSON")
    _add_backend_options(p)


def _compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..sweeps.comparison import compare, default_out
    from ..sweeps.events import EVENTS, FIGURE, SETTLING, saved_notes

    _check_backend_options(args)
    whole_number("--seed", args.seed, 0)
    if args.replicates < 2:
        raise UserError(f"--replicates: expected at least 2 for a confidence interval, found {args.replicates}")
    out = Path(args.out) if args.out else default_out(args.configs)
    table = compare(args.configs, args.replicates, args.seed, args.overrides, args.outcomes, out, args.backend,
                    args.workers, args.scheduler, args.batch_size, args.timeout, args.max_attempts,
                    cache=cache_option(args))
    if args.json:
        print_json({"out": str(out), "differences": table.to_dict("records")})
    else:
        _print_differences(table, out)
    event_notes = saved_notes(out)
    if event_notes is not None:
        if not args.json:
            print(f"event study (effect by month since the policy's introduction): {out}/{EVENTS}, {SETTLING}, "
                  f"{FIGURE}")
        for line in event_notes:
            print(f"note: {line}", file=sys.stderr)
    runs = pd.read_parquet(out / "runs.parquet")
    runs["scenario"] = [args.configs[i] for i in runs["point_id"]]
    code = _report_unusable(runs, "scenario", "scenario")
    return code or (1 if (table["usable_pairs"] == 0).any() else 0)


def _print_differences(table, out: Path) -> None:
    for scenario, group in table.groupby("scenario", sort=False):
        pairs = int(group["usable_pairs"].iloc[0])
        print(f"{scenario} − {group['reference'].iloc[0]} (paired over {pairs} seeds)")
        if pairs == 0:
            print("  no seed where both runs are usable: nothing to compare")
            continue
        for _, r in group.iterrows():
            print(f"  {r['outcome']:<34} {r['reference_mean']:>12.4g} → {r['scenario_mean']:<12.4g} "
                  f"Δ {r['difference']:+.4g}  95% CI [{r['ci_low']:+.4g}, {r['ci_high']:+.4g}]")
    print(f"wrote {out}/compare.csv and {out}/runs.parquet")


COMMANDS = {
    "sweep": ("run a parameter sweep from a YAML spec (resumable; serial, processes or dask)", _add_sweep, _sweep),
    "plot": ("plot a sweep's outcomes against its varied parameters and write summary tables", _add_plot, _plot),
    "compare": ("run two or more scenarios on the same seeds and report paired differences with CIs", _add_compare,
                _compare),
}
