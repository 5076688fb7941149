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
18,432 distinct runs of its 20,480. Target: ≤ 1 hour on 2 cores. Usage:

    .venv/bin/python benchmarks/bench_study.py [--points 24] [--workers 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

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
    """CPU seconds per run of the first ``n`` runs of ``plan`` in this process (worlds from ``cache``)."""
    from coprod_sim.runs import simulate

    tasks = plan.tasks[:n]
    simulate(tasks[0].cfg, tasks[0].seed, cache=cache)  # imports and the world into memory, as in a worker
    start = time.process_time()
    for task in tasks:
        simulate(task.cfg, task.seed, cache=cache)
    return (time.process_time() - start) / len(tasks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24, help="design points in each part (× 4 replicates)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--cpu-runs", type=int, default=8, help="runs timed in CPU seconds in this process (default 8)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    start = time.perf_counter()
    plan = build_plan(study_spec(args.workers), "bench_study")
    planning = time.perf_counter() - start
    runs = len(plan.tasks)  # distinct runs: SALib's repeated points run once
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cold_plan, warm_plan = subset(plan, 0, args.points), subset(plan, args.points, args.points)
        cold = timed(cold_plan, root / "cold", args.workers, root / "worlds")
        warm = timed(warm_plan, root / "warm", args.workers, root / "worlds")
        worlds = len(list((root / "worlds").glob("*.world")))
        cpu = cpu_per_run(warm_plan, args.cpu_runs, root / "worlds")
    rate = len(warm_plan.tasks) / warm
    spin_ups = max(0.0, cold - len(cold_plan.tasks) / rate)
    projected = planning + spin_ups + runs / rate
    idle = planning + runs * cpu / args.workers / 0.9
    load = os.getloadavg()
    print(f"study: Sobol N = {N}, {len(LEVERS)} levers, {REPLICATES} replicates = {STUDY_RUNS:,} design runs "
          f"({runs:,} distinct), run.design: introduction, processes backend, {args.workers} workers; "
          f"planned in {planning:.0f} s")
    print(f"cold part: {len(cold_plan.tasks)} runs in {cold:.1f} s ({worlds} worlds built and cached)")
    print(f"warm part: {len(warm_plan.tasks)} runs in {warm:.1f} s = {rate:.2f} runs/s")
    print(f"projected wall time of the whole study: {projected / 60:.1f} min "
          f"(planning {planning:.0f} s + spin-ups {spin_ups:.0f} s + {runs:,} runs at {rate:.2f} runs/s); "
          f"target ≤ {TARGET_S / 60:.0f} min: "
          f"{'met' if projected <= TARGET_S else 'NOT met'}")
    print(f"CPU time per run (warm, in this process): {cpu:.2f} s; projected on an otherwise idle machine: "
          f"{idle / 60:.1f} min ({runs:,} runs × {cpu:.2f} s / {args.workers} workers / 0.9 efficiency + planning); "
          f"target: {'met' if idle <= TARGET_S else 'NOT met'}")
    print(f"load average during the benchmark (1/5/15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
