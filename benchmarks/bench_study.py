"""The benchmark that matters: how long a publication-grade lever study takes on this machine.

The study: Sobol indices (first order and total) of 8 levers, N = 512 base samples, 4 replicates
on common seeds, in the introduction design (``run.design: introduction``: every design point forks
from one spun-up world per seed), on the processes backend: 512 × (8 + 2) × 4 = 20,480 runs.

Running it whole takes hours, so the benchmark runs a fixed subset of its runs, exactly as the
study would (``run_sweep`` on the processes backend, a fresh world cache), in three parts:

1. *cold*: the first ``--points`` design points × 4 replicates, with an empty cache: it includes
   building the 4 worlds (one spin-up per seed), as the study's start does;
2. *warm*: the next ``--points`` design points, worlds cached: the rate at which the rest of the
   study runs;
3. *CPU time*: ``--cpu-runs`` runs of the warm part again in this process, timed in CPU seconds
   (``time.process_time``), which other users of a shared machine barely change: the projection for
   an otherwise idle machine is these CPU seconds per run over the workers, at the 90% parallel
   efficiency bench_sweep.py measures.

and projects the whole study's wall time (3.) the cold part's extra time for the spin-ups plus
the study's runs at the warm rate, plus the time to plan it (validating 20,480 configs). SALib's
design repeats some points (the two on/off levers): those are run once, so the study executes
18,432 distinct runs of its 20,480. Target: ≤ 1 hour on 2 cores. Mesa's Schelling example is timed before and
after (as ``bench_model.py`` does), so that runs on a machine whose speed drifts can be compared. Usage:

    .venv/bin/python benchmarks/bench_study.py [--points 24] [--workers 2]
    .venv/bin/python benchmarks/bench_study.py --points 12 --against REV [--rounds 3]

With ``--against``, the measurement runs in fresh processes for this tree and for commit ``REV`` (or, with
``python:PATH``, this tree under the interpreter at ``PATH``) alternately, ``--rounds`` times, and reports the
medians and their ratio: this machine's speed drifts by ±15% between minutes, so only an interleaved comparison
shows what a change did.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from against import PYTHON, alternate, revision
from bench_model import schelling_rate

from coprod_sim.cli.runs import whole_number_option
from coprod_sim.sweeps.engine import run_sweep
from coprod_sim.sweeps.spec import SweepPlan, build_plan

# the 8 levers and ranges of the benchmark study (fixed: figures stay comparable between versions)
LEVERS = {
    "profit_space.subsidy_per_visit.meals": {"range": [0, 8]},
    "profit_space.rent_free_space": [False, True],
    "incentive.assessment_weight": {"range": [0.025, 0.2]},
    "linkage.interest_binding_stake": {"range": [0.0, 0.4]},
    "linkage.channel_reach": {"range": [0.2, 0.7]},
    "linkage.feedback_loop": {"range": [0.2, 0.8]},
    "leading_group.active": [False, True],
    "government.resistance": {"range": [0.2, 0.9]},
}
N, REPLICATES = 512, 4
STUDY_RUNS = N * (len(LEVERS) + 2) * REPLICATES
TARGET_S = 3600.0


def study_spec(workers: int) -> dict:
    return {"name": "bench-study", "base": "baseline", "set": {"run.design": "introduction"},
            "design": {"type": "sobol", "samples": N, "second_order": False, "parameters": LEVERS},
            "replicates": REPLICATES, "seed": 2026, "seed_scheme": "common", "backend": "processes",
            "workers": workers, "outputs": {"summary": ["quality.needs_met_share", "cost.public_spending"]}}


def subset(plan: SweepPlan, first_point: int, points: int) -> SweepPlan:
    """The plan's runs of design points ``first_point`` … ``first_point + points − 1`` (all replicates)."""
    tasks = [t for t in plan.tasks if first_point <= t.point_id < first_point + points]
    return dataclasses.replace(plan, tasks=tasks)


def timed(plan: SweepPlan, out: Path, workers: int, cache: Path) -> float:
    start = time.perf_counter()
    report = run_sweep(plan, out, backend="processes", workers=workers, cache=cache)
    seconds = time.perf_counter() - start
    if not report.all_ok:
        raise SystemExit(f"benchmark runs failed: {report.statuses}")
    return seconds


def cpu_per_run(plan: SweepPlan, n: int, cache: Path) -> float:
    """CPU seconds per run of the first ``n`` runs of ``plan`` in this process (worlds from ``cache``), set up
    as a worker process is and measuring what a worker measures (the plan's outputs)."""
    from coprod_sim.runs import simulate

    tasks = plan.tasks[:n]
    as_worker: dict[str, object] = {"cache": cache}
    if "measured" in inspect.signature(simulate).parameters:  # not in commits before it (--against)
        as_worker["measured"] = (*plan.summary_outcomes, *plan.step_outcomes)
    simulate(tasks[0].cfg, tasks[0].seed, **as_worker)  # imports and the world into memory, as in a worker
    try:  # a worker takes its imports out of the garbage collector's passes after its first batch
        from coprod_sim.sweeps.worker import freeze_startup_objects
    except ImportError:  # a version whose workers did not (--against an older commit)
        pass
    else:
        freeze_startup_objects()
    start = time.process_time()
    for task in tasks:
        simulate(task.cfg, task.seed, **as_worker)
    return (time.process_time() - start) / len(tasks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=whole_number_option(1), default=24, help="design points in each part (× 4 replicates)")
    parser.add_argument("--workers", type=whole_number_option(1), default=2, help="worker processes (default 2)")
    parser.add_argument("--cpu-runs", type=whole_number_option(1), default=8,
                        help="runs timed in CPU seconds in this process (default 8)")
    parser.add_argument("--against", metavar="REV", type=revision, help="compare with this git commit, alternately in fresh processes "
                        "(python:PATH: with this tree under the interpreter at PATH)")
    parser.add_argument("--rounds", type=whole_number_option(1), default=3, help="alternations with --against (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object (used by --against)")
    return parser


def measure(points: int, workers: int, cpu_runs: int) -> dict[str, float]:
    """The benchmark's figures: planning, the cold and warm parts, CPU seconds per warm run, and the projections."""
    schelling_before = schelling_rate(10, 3)  # the machine's speed now: a yardstick for comparing runs
    start = time.perf_counter()
    plan = build_plan(study_spec(workers), "bench_study")
    planning = time.perf_counter() - start
    runs = len(plan.tasks)  # distinct runs: SALib's repeated points run once
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cold_plan, warm_plan = subset(plan, 0, points), subset(plan, points, points)
        cold = timed(cold_plan, root / "cold", workers, root / "worlds")
        warm = timed(warm_plan, root / "warm", workers, root / "worlds")
        worlds = len(list((root / "worlds").glob("*.world")))
        cpu = cpu_per_run(warm_plan, cpu_runs, root / "worlds")
    schelling = (schelling_before + schelling_rate(10, 3)) / 2
    rate = len(warm_plan.tasks) / warm
    spin_ups = max(0.0, cold - len(cold_plan.tasks) / rate)
    return {"planning": planning, "runs": runs, "cold_runs": len(cold_plan.tasks), "cold": cold, "worlds": worlds,
            "warm_runs": len(warm_plan.tasks), "warm": warm, "rate": rate, "spin_ups": spin_ups, "cpu": cpu,
            "projected": planning + spin_ups + runs / rate, "idle": planning + runs * cpu / workers / 0.9,
            "schelling": schelling}


def report(m: dict[str, float], workers: int) -> None:
    runs = int(m["runs"])
    print(f"study: Sobol N = {N}, {len(LEVERS)} levers, {REPLICATES} replicates = {STUDY_RUNS:,} design runs "
          f"({runs:,} distinct), run.design: introduction, processes backend, {workers} workers; "
          f"planned in {m['planning']:.0f} s")
    print(f"cold part: {m['cold_runs']:.0f} runs in {m['cold']:.1f} s ({m['worlds']:.0f} worlds built and cached)")
    print(f"warm part: {m['warm_runs']:.0f} runs in {m['warm']:.1f} s = {m['rate']:.2f} runs/s")
    print(f"projected wall time of the whole study: {m['projected'] / 60:.1f} min "
          f"(planning {m['planning']:.0f} s + spin-ups {m['spin_ups']:.0f} s + {runs:,} runs at {m['rate']:.2f} runs/s); "
          f"target ≤ {TARGET_S / 60:.0f} min: {'met' if m['projected'] <= TARGET_S else 'NOT met'}")
    print(f"CPU time per run (warm, in this process): {m['cpu']:.2f} s; projected on an otherwise idle machine: "
          f"{m['idle'] / 60:.1f} min ({runs:,} runs × {m['cpu']:.2f} s / {workers} workers / 0.9 efficiency + planning); "
          f"target: {'met' if m['idle'] <= TARGET_S else 'NOT met'}")
    print(f"Mesa's Schelling example in the same run (before and after, mean): {m['schelling']:,.0f} agent-steps/s, "
          "this machine's speed at the time (it drifts by a third within an hour: compare runs at like speeds)")
    load = os.getloadavg()
    print(f"load average during the benchmark (1/5/15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"on {os.cpu_count()} cores")


def compare_with(rev: str, args: argparse.Namespace) -> None:
    """The benchmark for this tree and for commit ``rev``, alternately in fresh processes (the same script, each
    tree's model), ``args.rounds`` times; medians and their ratio."""
    command = [PYTHON, str(Path(__file__).resolve()), "--points", str(args.points), "--workers",
               str(args.workers), "--cpu-runs", str(args.cpu_runs), "--json"]
    figures = {name: [json.loads(out) for out in outs] for name, outs in alternate(rev, args.rounds, command).items()}
    medians = {name: {key: statistics.median(m[key] for m in ms) for key in ("rate", "cpu", "projected", "idle")}
               for name, ms in figures.items()}
    for name, m in medians.items():
        rates = [f"{f['rate']:.2f}" for f in figures[name]]
        print(f"{name:>12}: warm {m['rate']:.2f} runs/s (rounds: {', '.join(rates)}), {m['cpu']:.3f} CPU s a run; "
              f"projected study {m['projected'] / 60:.1f} min ({m['idle'] / 60:.1f} min from CPU time)")
    this, other = medians["this tree"], medians[rev]
    print(f"this tree / {rev}: warm rate {this['rate'] / other['rate']:.3f}, "
          f"CPU seconds a run {this['cpu'] / other['cpu']:.3f} (median of {args.rounds} rounds)")


def main() -> int:
    args = build_parser().parse_args()
    if args.against:
        compare_with(args.against, args)
        return 0
    figures = measure(args.points, args.workers, args.cpu_runs)
    if args.json:
        print(json.dumps(figures))
    else:
        report(figures, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
