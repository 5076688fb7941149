"""Sweep backends benchmark: parallel efficiency of processes vs serial, and Dask's overhead vs processes.

Runs one sweep of equal-sized runs (about half a second each by default) three
ways and times each whole ``coprod-sim sweep`` command, end to end: imports,
spec validation, pool or cluster start-up and writing the tables included:

    efficiency = T_serial / (workers × T_processes)        target ≥ 0.85
    dask overhead = T_dask / T_processes − 1                target ≤ 0.10

It also checks that all three give identical tables. Usage:

    .venv/bin/python benchmarks/bench_sweep.py [--runs 96] [--workers 2] [--residents N] [--target 0.5] [--steps 48]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

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


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=96)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--residents", type=int, default=None,
                        help="residents per run (default: calibrated so a run takes --target seconds)")
    parser.add_argument("--target", type=float, default=0.5, help="seconds per run to calibrate for")
    parser.add_argument("--steps", type=int, default=48)
    return parser


def main() -> int:
    args = build_parser().parse_args()
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
