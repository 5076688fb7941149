"""Sweep backends benchmark: parallel efficiency of processes vs serial, and Dask's overhead vs processes.

Runs one sweep of equal-sized runs (about half a second each by default) three
ways and times each whole ``coprod-sim sweep`` command, end to end: imports,
spec validation, pool or cluster start-up and writing the tables included:

    efficiency = T_serial / (workers × T_processes)        target ≥ 0.85
    dask overhead = T_dask / T_processes − 1                target ≤ 0.10

It also checks that all three give identical tables. With ``--gc`` it instead times one full pass of the
garbage collector in a worker of each local backend after a run, before and after the worker freezes its
imports (``sweeps.worker.freeze_once``), median of ``--gc-passes``. Usage:

    .venv/bin/python benchmarks/bench_sweep.py [--runs 96] [--workers 2] [--residents N] [--target 0.5] [--steps 48]
    .venv/bin/python benchmarks/bench_sweep.py --gc
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from coprod_sim.cli.runs import whole_number_option

ROOT = Path(__file__).resolve().parents[1]


def write_spec(path: Path, runs: int, residents: int, steps: int, workers: int) -> int:
    """``runs`` runs: 4 design points of the assessment weight × runs/4 replicates; returns the run count."""
    replicates = max(1, runs // 4)
    spec = {"base": str(ROOT / "configs" / "baseline.yaml"), "seed": 1, "replicates": replicates,
            "set": {"population.residents": residents, "run.steps": steps, "run.outcome_window": min(12, steps)},
            "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.025, 0.1, 0.2, 0.4]}},
            "workers": workers}
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return 4 * replicates


def calibrate(steps: int, target: float, probe: int = 6000) -> int:
    """Residents for a run of about ``target`` seconds (run time grows about linearly with residents)."""
    import coprod_sim

    times = []
    for seed in range(3):
        start = time.perf_counter()
        coprod_sim.run("baseline", {"population.residents": probe}, seed=seed, steps=steps)
        times.append(time.perf_counter() - start)
    return max(200, round(probe * target / sorted(times)[1] / 100) * 100)


def timed(spec: Path, backend: str, workers: int, root: Path) -> tuple[float, pd.DataFrame]:
    """Wall time of the whole ``coprod-sim sweep`` command, as a user would see it."""
    out = root / backend
    cmd = [str(Path(sys.executable).with_name("coprod-sim")), "sweep", str(spec), "--out", str(out),
           "--backend", backend, "--workers", str(workers)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "CI": "1"})
    seconds = time.perf_counter() - start
    return seconds, pd.read_parquet(out / "runs.parquet").drop(columns="runtime_s")


def full_pass_ms(task, freeze: bool, passes: int) -> tuple[float, int]:
    """In a worker: one run, then (``freeze``) ``freeze_once``; the median time of a full collection (ms) and
    the objects it scans."""
    from coprod_sim.sweeps.worker import execute_batch, freeze_once

    execute_batch([task], ["quality.needs_met_share"], [])
    if freeze:
        freeze_once()
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), len(gc.get_objects())


def gc_passes(passes: int) -> None:
    """``full_pass_ms`` in one worker of each local backend, as it starts its workers, unfrozen then frozen."""
    from concurrent.futures import ProcessPoolExecutor

    from coprod_sim.sweeps import backends
    from coprod_sim.sweeps.spec import build_plan

    task = build_plan({"base": "baseline", "seed": 1, "set": {"run.steps": 12, "run.outcome_window": 6},
                       "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.1]}}},
                      "gc").tasks[0]
    found = {}
    with ProcessPoolExecutor(1, mp_context=backends._process_context()) as pool:
        found["processes"] = [pool.submit(full_pass_ms, task, f, passes).result() for f in (False, True)]
    with backends._fast_dask_workers(1):
        cluster = backends.local_cluster(1)
        client = backends._connect(cluster)
        try:
            found["dask"] = [client.submit(full_pass_ms, task, f, passes, pure=False).result() for f in (False, True)]
        finally:
            client.close()
            cluster.close()
    print(f"full garbage-collector pass in a worker after a run (median of {passes}):")
    for backend, ((before, n_before), (after, n_after)) in found.items():
        print(f"{backend:<10} {before:7.1f} ms over {n_before:,} objects; frozen: {after:5.1f} ms over {n_after:,}")


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=whole_number_option(1), default=96)
    parser.add_argument("--workers", type=whole_number_option(1), default=2)
    parser.add_argument("--residents", type=whole_number_option(1), default=None,
                        help="residents per run (default: calibrated so a run takes --target seconds)")
    parser.add_argument("--target", type=float, default=0.5, help="seconds per run to calibrate for")
    parser.add_argument("--steps", type=whole_number_option(1), default=48)
    parser.add_argument("--gc", action="store_true", help="instead: a worker's full garbage-collector pass")
    parser.add_argument("--gc-passes", type=whole_number_option(1), default=5, help="with --gc: passes timed (default 5)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.gc:
        gc_passes(args.gc_passes)
        return 0
    args.residents = args.residents or calibrate(args.steps, args.target)
    root = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    n_runs = write_spec(root / "spec.yaml", args.runs, args.residents, args.steps, args.workers)
    load = os.getloadavg()[0]
    try:
        results = {b: timed(root / "spec.yaml", b, args.workers, root) for b in ("serial", "processes", "dask")}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    per_run = results["serial"][0] / n_runs
    t_s, t_p, t_d = (results[b][0] for b in ("serial", "processes", "dask"))
    identical = all(results[b][1].equals(results["serial"][1]) for b in ("processes", "dask"))
    eff = t_s / (args.workers * t_p)
    overhead = t_d / t_p - 1
    print(f"sweep: {n_runs} runs of {per_run:.2f} s ({args.residents} residents × {args.steps} steps), "
          f"{args.workers} workers, {os.cpu_count()} cores; load average before: {load:.2f}")
    print(f"{'backend':<10} {'wall s':>8} {'runs/s':>8}")
    for b, t in (("serial", t_s), ("processes", t_p), ("dask", t_d)):
        print(f"{b:<10} {t:>8.2f} {n_runs / t:>8.2f}")
    print(f"parallel efficiency (processes vs serial): {eff:6.1%}   target ≥ 85%  {'PASS' if eff >= 0.85 else 'FAIL'}")
    print(f"dask overhead vs processes:               {overhead:+6.1%}   target ≤ 10%  "
          f"{'PASS' if overhead <= 0.10 else 'FAIL'}")
    print(f"identical tables on all backends: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
