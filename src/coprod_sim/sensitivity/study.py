"""Run a sensitivity study through the sweep engine and write its indices, figures and report.

Layout of a study folder ``DIR``::

    DIR/manifest.json, runs.parquet, shards/   the base sweep (docs/sweeps.md; resumable)
    DIR/effects/<scenario>/…                   the same design under each effect's scenario, same seeds
    DIR/indices.csv                            method, outcome, factor, index, value, ci_low, ci_high, N, replicates
    DIR/noise.csv                              seed-noise share of variance per outcome, points used
    DIR/convergence.csv                        Sobol: indices and CI widths as N doubles
    DIR/sensitivity.json                       what was analysed, N, replicates, runs, wall time
    DIR/report.md, DIR/plots/*.png             plain-language ranking and figures

Every run goes through :func:`coprod_sim.sweeps.engine.run_sweep`, so the
backends, resume (finished runs are never re-run), seeds and failure handling
are those of ``coprod-sim sweep``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import load_config
from ..errors import UserError
from ..runs import CacheLike, files
from ..sweeps.engine import estimate, run_sweep
from ..sweeps.events import paired_steps, write_event_study
from . import indices as ix
from .result import SensitivityReport
from .spec import Study, load_study


def default_out(spec: str | os.PathLike | Mapping, study: Study) -> Path:
    """``results/sensitivity/<spec file name>`` (or the spec's name for a mapping)."""
    name = study.name if isinstance(spec, Mapping) else Path(spec).stem
    return Path("results") / "sensitivity" / name


def folder_of(out: Path, key: str) -> Path:
    """Where a plan's runs live: the base sweep in ``out``, each effect's scenario in ``out/effects/<name>``."""
    return out if key == "" else out / "effects" / ix.short(key)


def sensitivity(spec: str | os.PathLike | Mapping, out: str | os.PathLike | None = None, backend: str | None = None,
                workers: int | None = None, scheduler: str | None = None, batch_size: int | None = None,
                retry_failed: bool = False, cache: CacheLike = True) -> SensitivityReport:
    """Run a sensitivity study (docs/sensitivity.md) and write indices, figures and a report.

    Calling again resumes: finished runs in ``out`` are kept and skipped. ``cache``: where runs of the
    introduction design keep their spun-up worlds (True: the default folder; a folder; False: none).

    Raises:
        ConfigError: every problem with the spec, before anything runs.
        UserError: outputs missing or non-finite (the runs are named), unless the spec sets
            ``analysis.missing: drop_points``.
    """
    study = load_study(spec)
    target = Path(out) if out is not None else default_out(spec, study)
    start = time.perf_counter()
    tables, resumed, failed = {}, 0, 0
    for key, plan in study.plans.items():
        report = run_sweep(plan, folder_of(target, key), backend, workers, scheduler, batch_size, retry_failed,
                           cache=cache).require_results()
        tables[key] = pd.read_parquet(folder_of(target, key) / "runs.parquet")
        resumed, failed = resumed + report.resumed, failed + report.failed
    found = analyse(study, tables)
    _event_study(study, target, tables)
    seconds = time.perf_counter() - start
    run_seconds = float(sum(t["runtime_s"].sum() for t in tables.values()))
    result = SensitivityReport(target, *found, runs=study.runs, resumed=resumed, failed=failed, seconds=seconds,
                               run_seconds=run_seconds)
    write_outputs(study, result)
    return result


def _event_study(study: Study, target: Path, tables: dict[str, pd.DataFrame]) -> None:
    """In the introduction design: each effect month by month after the policy's introduction, over every design
    point and seed (sweeps/events.py; events.csv, events_settling.csv, events.png in the study's folder)."""
    outcomes = [o for o in study.outcomes if o in study.plan.step_outcomes]
    if not study.effect_plans or not outcomes:
        return
    def tables_of(key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return tables[key], pd.read_parquet(folder_of(target, key) / "steps.parquet")

    diffs = {(ix.short(key), outcome): paired_steps(tables_of(""), tables_of(key), outcome, ["point_id", "replicate"])
             for key in study.effect_plans for outcome in outcomes}
    run = load_config(study.plan.tasks[0].cfg).run
    write_event_study(target, diffs, study.base_label, run.outcome_window, run.convergence_tolerance)


def analyse(study: Study, tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Indices, noise shares and convergence of every series; refuses (naming the runs) on missing values."""
    frames, noise, conv, refused = [], [], [], []
    for series in ix.series_of(study, tables):
        try:
            kept = ix.kept_points(study, series)
        except UserError as err:
            refused.append(str(err))
            continue
        single, of_means = ix.noise_share(series.values[kept])
        means = series.values[kept].mean(axis=1)
        noise.append({"outcome": series.label, "noise_share": single, "noise_share_of_means": of_means,
                      "points_used": int(kept.sum()), "points_dropped": int((~kept).sum()),
                      "replicates": study.plan.replicates, "mean": float(means.mean()), "min": float(means.min()),
                      "max": float(means.max()), "share_positive": float((means > 0).mean()),
                      "morris_noise_floor": ix.morris_noise_floor(series.values[kept], int(
                          study.plan.design.get("levels", 4))) if study.method == "morris" else float("nan")})
        frames.append(ix.indices_for(study, series, kept))
        if study.method == "sobol" and study.convergence:
            conv.append(ix.convergence_for(study, series, kept))
    if refused:
        raise UserError("\n".join(refused))
    empty = pd.DataFrame(columns=[*ix.COLUMNS, "ci_width"])
    return (pd.concat(frames, ignore_index=True), pd.DataFrame(noise),
            pd.concat(conv, ignore_index=True) if conv else empty)


def write_outputs(study: Study, result: SensitivityReport) -> None:
    """Tables, the study's record, figures and the report (each file written atomically)."""
    from .report import plot_all, write_report

    out = result.out
    for name, table in (("indices", result.indices), ("noise", result.noise), ("convergence", result.convergence)):
        # full precision, so that a page printed from these files rounds as the report printed in memory does
        files.write_text(out / f"{name}.csv", table.to_csv(index=False))
    record = {"kind": "coprod-sim sensitivity", "name": study.name, "spec_file": study.origin, "model": study.model,
              "design": study.design_type, "method": study.method, "factors": study.factors,
              "groups": study.named_groups,
              "outcomes": list(result.noise["outcome"]), "effects": list(study.effect_plans),
              "base": study.base_label, "samples": study.samples, "replicates": study.plan.replicates,
              "seed": study.plan.root_seed, "seed_scheme": study.plan.seed_scheme, "runs": result.runs,
              "resumed": result.resumed, "failed": result.failed, "wall_time_s": round(result.seconds, 1),
              "run_time_s": round(result.run_seconds, 1),
              "missing_policy": study.missing, "conf_level": study.conf_level}
    files.write_text(out / "sensitivity.json", json.dumps(record, indent=1, default=str) + "\n")
    plots = plot_all(study, result)
    write_report(study, result, plots)


# ------------------------------------------------------------------ dry run
def estimate_study(study: Study, out: Path, backend: str, workers: int) -> dict[str, Any]:
    """Runs, runs still to do, a wall-time estimate (a few runs measured here) and warnings about the design."""
    totals = {"runs": 0, "to_run": 0, "estimate_s": 0.0}
    per_run = 0.0
    for key, plan in study.plans.items():
        e = estimate(plan, folder_of(out, key), backend, workers, max_sample=3 if key == "" else 1)
        per_run = per_run or e["seconds_per_run"]
        totals["runs"] += e["runs"]
        totals["to_run"] += e["to_run"]
        totals["estimate_s"] += e["estimate_s"]
    return {**totals, "seconds_per_run": per_run, "points": len(study.plan.points), "scenarios": len(study.plans),
            "repeats": len(study.plan.repeats),
            "replicates": study.plan.replicates, "warnings": design_warnings(study)}


def design_warnings(study: Study) -> list[str]:
    """What an analyst should know before spending the runs."""
    warn = []
    n = study.samples
    if study.design_type == "sobol" and n & (n - 1):
        lower, upper = 2 ** int(math.log2(n)), 2 ** math.ceil(math.log2(n))
        warn.append(f"design.samples {n} is not a power of two: the Sobol sequence balances best at powers of two "
                    f"(e.g. {lower} or {upper})")
    if study.plan.replicates < 2:
        warn.append("replicates: 1 — seed noise cannot be separated from the factors' effects; use 2 or more "
                    "replicates for a stochastic model")
    if study.plan.seed_scheme != "common" and study.model != "ishigami":
        warn.append("seed_scheme: independent — seed noise enters every difference between design points and "
                    "inflates total-order indices; common random numbers are the default for a reason")
    return warn
