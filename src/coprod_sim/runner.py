"""Run one simulation from a resolved config and seed; write its files.

This is the one way to run the model for the CLI, sweeps and benchmarks:
config → model → outcomes (``run_model``) → files (``write_run``) → plots.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from . import files
from .model import CoProductionModel

PROVENANCE_PACKAGES = ("coprod-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "SALib", "dask", "distributed")


@dataclass
class RunResult:
    """What one run produced: final outcomes and the per-step time series."""

    summary: dict[str, float]
    timeseries: list[dict[str, float]]
    seed: int
    config: dict


class RunAborted(Exception):
    """A run stopped early (error or Ctrl+C); carries the months it completed."""

    def __init__(self, partial: RunResult, cause: BaseException):
        super().__init__(f"stopped after {len(partial.timeseries)} months: {type(cause).__name__}: {cause}")
        self.partial = partial
        self.cause = cause


def run_model(cfg: dict, seed: int, steps: int | None = None, progress: bool = False) -> RunResult:
    """Build the model, step it, and return its outcomes.

    If the run stops early (an error, or Ctrl+C), :class:`RunAborted` carries
    the months already computed, so the caller can keep them.
    """
    steps = cfg["run"]["steps"] if steps is None else steps
    bar = _progress_bar(steps) if progress else None
    model = None
    # One BLAS thread per run: parallelism belongs to the sweep backends (one run per core),
    # and a fixed thread count keeps floating-point results identical on every backend.
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            model = CoProductionModel(cfg, seed=seed)
            for _ in range(steps):
                model.step()
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt as exc:
        # stays a KeyboardInterrupt (a sweep must stop, not record a failure), carrying the months done
        exc.partial = RunAborted(RunResult({}, model.recorder.rows if model else [], seed, cfg), exc)
        raise
    except Exception as exc:
        raise RunAborted(RunResult({}, model.recorder.rows if model else [], seed, cfg), exc) from exc
    finally:
        if bar is not None:
            bar.close()
    window = min(cfg["run"]["outcome_window"], steps)
    return RunResult(model.recorder.summary(window), model.recorder.rows, seed, cfg)


def write_partial(aborted: RunAborted, out_dir: str | Path, config_path: str | None) -> Path | None:
    """Keep what an aborted run computed: ``timeseries.partial.parquet`` and a manifest saying why.

    No summary.json is written, so a partial run is never mistaken for a finished one.
    """
    rows = aborted.partial.timeseries
    if not rows:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files.write_parquet(pd.DataFrame(rows), out / "timeseries.partial.parquet")
    manifest = _manifest(aborted.partial, config_path)
    manifest["status"] = f"aborted: {aborted}"
    files.write_text(out / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return out / "timeseries.partial.parquet"


def _progress_bar(total: int):
    """A tqdm bar on an interactive terminal; nothing in CI or when piped."""
    from tqdm import tqdm

    quiet = os.environ.get("CI") or not sys.stderr.isatty()
    return tqdm(total=total, unit="step", desc="simulating", disable=bool(quiet))


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PROVENANCE_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the source tree this package runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def dumps_summary(summary: dict[str, float]) -> str:
    """Canonical JSON: sorted keys, full float precision, so equal runs give equal bytes."""
    return json.dumps(summary, sort_keys=True, indent=1, allow_nan=False) + "\n"


def write_run(result: RunResult, out_dir: str | Path, config_path: str | None, plots: bool = True) -> Path:
    """Write summary.json, timeseries.parquet, manifest.json and PNG plots into ``out_dir``.

    Files are written to a temporary name and renamed, so an interrupted run
    never leaves a half-written file that looks complete.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files.write_text(out / "summary.json", dumps_summary(result.summary))
    frame = pd.DataFrame(result.timeseries)
    frame["step"] = frame["step"].astype("int64")
    files.write_parquet(frame, out / "timeseries.parquet")
    manifest = _manifest(result, config_path)
    manifest["status"] = "complete"
    files.write_text(out / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if plots:
        from .plots import plot_timeseries

        plot_timeseries(frame, out)
    return out


def _manifest(result: RunResult, config_path: str | None) -> dict:
    return {
        "config_file": config_path,
        "seed": result.seed,
        "steps": len(result.timeseries),
        "config": result.config,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


