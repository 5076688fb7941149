"""Parameter sweeps: run a validated plan on a backend, keeping every finished run on disk.

Layout of a sweep folder ``DIR``::

    DIR/manifest.json          spec, resolved base config, seeds, versions, commit, times, counts
    DIR/shards/runs-*.parquet  one file per finished batch, written as soon as it returns
    DIR/shards/steps-*.parquet per-step outcomes of that batch (if the spec asks for them)
    DIR/runs.parquet           the consolidated table: each run exactly once, sorted
    DIR/steps.parquet          the consolidated per-step table (if asked)

Shards are written to a temporary name and renamed, and a batch's steps shard is
written before its runs shard, so a runs shard always means "these runs are
complete". Killing the sweep at any moment loses at most the batches in flight;
running the same command again reads the shards, skips finished run_keys and
runs the rest. Consolidation keeps the newest row per run_key and only run_keys
of the current plan, so the final tables hold each run exactly once.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import UserError
from ..runs import files, git_commit, package_versions
from .spec import BACKENDS, SEED_SCHEMES, RunTask, SweepPlan, build_plan, load_spec

FIXED_COLUMNS = ["run_key", "point_id", "replicate", "seed", "status", "error", "runtime_s"]


@dataclass
class SweepReport:
    """What a sweep call did, for the CLI's closing line and for tests."""

    out: Path
    total: int
    resumed: int
    ok: int
    failed: int
    lost: int
    seconds: float

    @property
    def complete(self) -> bool:
        return self.lost == 0


# ------------------------------------------------------------------ shards
def write_shard(shards: Path, result: dict[str, list[dict]]) -> str:
    """Persist one finished batch; the shard id sorts by time, so newer rows win on consolidation.

    Shards go through pyarrow directly: the client writes one per batch while the
    workers compute, so its cost is taken from the workers' cores.
    """
    shard_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    if result["steps"]:
        files.write_parquet(pa.Table.from_pylist(result["steps"]), shards / f"steps-{shard_id}.parquet")
    files.write_parquet(pa.Table.from_pylist(result["runs"]), shards / f"runs-{shard_id}.parquet")
    return shard_id


def _shard_id(path: Path) -> str:
    return path.stem.split("-", 1)[1]


def read_run_shards(shards: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """All run rows from all shards, with the shard id they came from."""
    frames = []
    for path in sorted(shards.glob("runs-*.parquet")):
        frame = pd.read_parquet(path, columns=columns)
        frame["_shard"] = _shard_id(path)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*(columns or ["run_key", "status"]), "_shard"])
    return pd.concat(frames, ignore_index=True)


def finished_keys(shards: Path, retry_failed: bool = False) -> set[str]:
    """run_keys already on disk (ok runs; failed ones too unless they are to be retried)."""
    rows = read_run_shards(shards, ["run_key", "status"])
    if retry_failed:
        rows = rows[rows["status"] == "ok"]
    return set(rows["run_key"])


def consolidate(plan: SweepPlan, out: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Build runs.parquet (and steps.parquet) from the shards: current plan only, newest row per run."""
    shards = out / "shards"
    rows = read_run_shards(shards)
    keys = {t.run_key for t in plan.tasks}
    rows = rows[rows["run_key"].isin(keys)].sort_values("_shard", kind="stable")
    rows = rows.drop_duplicates("run_key", keep="last")
    runs = _tidy_runs(rows, plan)
    files.write_parquet(runs, out / "runs.parquet")
    steps = None
    if plan.step_outcomes:
        steps = _consolidate_steps(shards, rows, plan)
        files.write_parquet(steps, out / "steps.parquet")
    return runs, steps


def _tidy_runs(rows: pd.DataFrame, plan: SweepPlan) -> pd.DataFrame:
    """Fixed column order and dtypes, sorted by (point, replicate): identical on every backend."""
    for col in plan.varied + plan.summary_outcomes + FIXED_COLUMNS:
        if col not in rows:
            rows[col] = None
    runs = rows[FIXED_COLUMNS + plan.varied + plan.summary_outcomes].copy()
    for col in ("point_id", "replicate", "seed"):
        runs[col] = runs[col].astype("int64")
    runs["runtime_s"] = runs["runtime_s"].astype("float64")
    for col in ("run_key", "status", "error"):  # text columns stay text even when all missing
        runs[col] = runs[col].astype(pd.StringDtype(na_value=float("nan")))
    for col in plan.summary_outcomes:
        runs[col] = runs[col].astype("float64")
    return runs.sort_values(["point_id", "replicate"]).reset_index(drop=True)


def _consolidate_steps(shards: Path, chosen: pd.DataFrame, plan: SweepPlan) -> pd.DataFrame:
    """Step rows of the chosen (run_key, shard) pairs only: orphans of killed batches are dropped."""
    wanted = set(zip(chosen["run_key"], chosen["_shard"], strict=True))
    frames = []
    for path in sorted(shards.glob("steps-*.parquet")):
        frame = pd.read_parquet(path)
        sid = _shard_id(path)
        frames.append(frame[[(k, sid) in wanted for k in frame["run_key"]]])
    cols = ["run_key", "point_id", "replicate", "step", *plan.step_outcomes]
    if not frames:
        return pd.DataFrame(columns=cols)
    steps = pd.concat(frames, ignore_index=True)
    ident = chosen.set_index("run_key")[["point_id", "replicate"]]
    steps = steps.join(ident, on="run_key")
    steps = steps[cols].astype({"point_id": "int64", "replicate": "int64", "step": "int64"})
    return steps.sort_values(["point_id", "replicate", "step"]).reset_index(drop=True)


# ------------------------------------------------------------------ manifest
def _manifest(plan: SweepPlan, backend: str, workers: int, batch_size: int, started: str) -> dict[str, Any]:
    return {
        "kind": "coprod-sim sweep", "name": plan.name, "spec_file": plan.origin, "spec": plan.spec,
        "base_config": plan.base_cfg, "varied": plan.varied, "design_points": len(plan.points),
        "replicates": plan.replicates, "root_seed": plan.root_seed, "seed_scheme": plan.seed_scheme,
        "seed_rule": SEED_SCHEMES[plan.seed_scheme], "summary_outcomes": plan.summary_outcomes,
        "step_outcomes": plan.step_outcomes, "backend": backend, "workers": workers, "batch_size": batch_size,
        "versions": package_versions(), "git_commit": git_commit(), "started": started, "finished": None,
        "status": "running", "counts": {"runs": len(plan.tasks)},
    }


def _write_json(path: Path, data: dict) -> None:
    files.write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------ running
def auto_batch_size(n_runs: int, workers: int, cap: int = 20) -> int:
    """About 24 batches per worker, at most ``cap`` runs each.

    Per-batch overhead is milliseconds, while the last batch to finish leaves the
    other workers idle: small batches keep that tail short (measured in
    benchmarks/bench_sweep.py) and write shards often.
    """
    return max(1, min(cap, math.ceil(n_runs / (24 * max(1, workers)))))


def make_batches(tasks: list[RunTask], size: int) -> list[list[RunTask]]:
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def _quiet() -> bool:
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def run_sweep(plan: SweepPlan, out: str | Path, backend: str | None = None, workers: int | None = None,
              scheduler: str | None = None, batch_size: int | str | None = None,
              retry_failed: bool = False) -> SweepReport:
    """Run every run of ``plan`` not yet in ``out``; write shards as batches finish; consolidate."""
    from tqdm import tqdm

    from .backends import run_batches

    backend, workers = backend or plan.backend, workers or plan.workers
    if backend not in BACKENDS:
        raise UserError(f"backend: expected one of {', '.join(BACKENDS)}, found {backend!r}")
    out = Path(out)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    scheduler = scheduler or plan.scheduler
    done = finished_keys(out / "shards", retry_failed)
    todo = [t for t in plan.tasks if t.run_key not in done]
    size = batch_size or plan.batch_size
    size = auto_batch_size(len(todo), workers) if size == "auto" else int(size)
    manifest = _manifest(plan, backend, workers, size, _now())
    _write_json(out / "manifest.json", manifest)
    start = time.perf_counter()
    counts = {"ok": 0, "failed": 0, "lost": 0}
    batches = make_batches(todo, size)
    args = (plan.summary_outcomes, plan.step_outcomes, plan.fault, plan.simulator)
    tqdm.monitor_interval = 0  # no monitor thread
    with tqdm(total=len(todo), unit="run", desc="sweep", disable=_quiet(), smoothing=0.1) as bar:
        for index, result in run_batches(batches, args, backend, workers, scheduler) if batches else ():
            _record(out / "shards", batches[index], result, counts)
            bar.update(len(batches[index]))
            bar.set_postfix(ok=counts["ok"], failed=counts["failed"], lost=counts["lost"], refresh=False)
    runs, _ = consolidate(plan, out)
    seconds = time.perf_counter() - start
    report = SweepReport(out, len(plan.tasks), len(plan.tasks) - len(todo), counts["ok"], counts["failed"],
                         len(plan.tasks) - len(runs), seconds)
    manifest.update(finished=_now(), status="complete" if report.complete else "incomplete", wall_time_s=seconds,
                    counts={"runs": len(plan.tasks), "recorded": len(runs), "ok": int((runs["status"] == "ok").sum()),
                            "failed": int((runs["status"] == "failed").sum()), "missing": report.lost,
                            "resumed": report.resumed, "this_call": {k: v for k, v in counts.items()}})
    _write_json(out / "manifest.json", manifest)
    return report


def _record(shards: Path, batch: list[RunTask], result: dict | BaseException, counts: dict[str, int]) -> None:
    if isinstance(result, BaseException):
        counts["lost"] += len(batch)
        print(f"warning: a batch of {len(batch)} runs was lost ({type(result).__name__}: {result}); "
              "re-run the same command to retry them", file=sys.stderr)
        return
    write_shard(shards, result)
    failed = sum(r["status"] == "failed" for r in result["runs"])
    counts["failed"] += failed
    counts["ok"] += len(result["runs"]) - failed


# ------------------------------------------------------------------ dry run
def estimate(plan: SweepPlan, out: Path, backend: str, workers: int, max_sample: int = 3,
             budget_s: float = 10.0) -> dict[str, Any]:
    """Runs to do and a wall-time estimate from a few runs measured here (spread over the design)."""
    from .backends import execute_batch

    done = finished_keys(out / "shards") if (out / "shards").is_dir() else set()
    todo = [t for t in plan.tasks if t.run_key not in done]
    pick = sorted({round(i * (len(todo) - 1) / max(1, max_sample - 1)) for i in range(max_sample)}) if todo else []
    times = []
    t0 = time.perf_counter()
    for i in pick:
        s = time.perf_counter()
        execute_batch([todo[i]], plan.summary_outcomes, plan.step_outcomes, {}, plan.simulator)
        times.append(time.perf_counter() - s)
        if time.perf_counter() - t0 > budget_s:
            break
    per_run = sum(times) / len(times) if times else 0.0
    parallel = 1 if backend == "serial" else max(1, min(workers, len(todo)))
    startup = {"serial": 0.0, "processes": 2.5, "dask": 4.0}[backend]
    wall = len(todo) * per_run / parallel / (1.0 if parallel == 1 else 0.92) + (startup if todo else 0.0)
    return {"runs": len(plan.tasks), "design_points": len(plan.points), "replicates": plan.replicates,
            "finished": len(plan.tasks) - len(todo), "to_run": len(todo), "sample": len(times),
            "seconds_per_run": per_run, "estimate_s": wall}


# ------------------------------------------------------------------ public entry point
def plan_of(spec: str | os.PathLike | Mapping) -> SweepPlan:
    """A validated plan from a spec file or a spec mapping (relative ``base`` paths: from the current folder)."""
    if isinstance(spec, Mapping):
        return build_plan(dict(spec), "<mapping>", Path.cwd())
    return load_spec(spec)


def default_out(spec: str | os.PathLike | Mapping, plan: SweepPlan) -> Path:
    """``results/sweeps/<spec file name>`` (or the spec's ``name`` for a mapping)."""
    name = plan.name if isinstance(spec, Mapping) else Path(spec).stem
    return Path("results") / "sweeps" / name


def sweep(spec: str | os.PathLike | Mapping, out: str | os.PathLike | None = None, backend: str | None = None,
          workers: int | None = None, scheduler: str | None = None, batch_size: int | None = None,
          retry_failed: bool = False) -> SweepReport:
    """Run a sweep spec (YAML file or mapping; docs/sweeps.md) and return what was done.

    Finished runs already in ``out`` are kept and skipped, so calling again
    resumes an interrupted sweep. Options given here win over the spec's.
    Read the tables with ``coprod_sim.load_results(report.out)``.

    Raises:
        ConfigError: every problem with the spec, before anything runs.
    """
    plan = plan_of(spec)
    target = Path(out) if out is not None else default_out(spec, plan)
    return run_sweep(plan, target, backend, workers, scheduler, batch_size, retry_failed)
