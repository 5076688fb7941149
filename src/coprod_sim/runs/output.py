"""One run's folder: summary.json, timeseries.parquet, manifest.json and figures, written and read back.

Every file is written to a temporary name and renamed into place (``files.py``),
so an interrupted run never leaves a half-written file that looks complete. A
run that stopped early keeps its months in ``timeseries.partial.parquet`` with a
manifest saying why, and no summary.json, so it is never mistaken for a finished run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ..errors import UserError
from . import files
from .runner import RunAborted, RunResult

SUMMARY, TIMESERIES, MANIFEST, PARTIAL = "summary.json", "timeseries.parquet", "manifest.json", "timeseries.partial.parquet"


def dumps_summary(summary: dict[str, float]) -> str:
    """Canonical JSON: sorted keys, full float precision, so equal runs give equal bytes.

    An outcome that is undefined for the run (NaN, e.g. a gap between groups when one is empty)
    is written as null; the manifest's notes say why."""
    plain = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in summary.items()}
    return json.dumps(plain, sort_keys=True, indent=1, allow_nan=False) + "\n"


def _dumps_manifest(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"


def write_run(result: RunResult, out_dir: str | Path, plots: bool = True) -> Path:
    """Write summary.json, timeseries.parquet, manifest.json and PNG plots into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files.write_text(out / SUMMARY, dumps_summary(result.summary))
    files.write_parquet(result.timeseries, out / TIMESERIES)
    files.write_text(out / MANIFEST, _dumps_manifest(result.manifest))
    if plots:
        from .plots import plot_timeseries

        plot_timeseries(result.timeseries, out)
    return out


def write_partial(aborted: RunAborted, out_dir: str | Path) -> Path | None:
    """Keep what an aborted run computed: ``timeseries.partial.parquet`` and a manifest saying why."""
    partial = aborted.partial
    if partial.timeseries.empty:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files.write_parquet(partial.timeseries, out / PARTIAL)
    manifest = dict(partial.manifest, status=f"aborted: {aborted}")
    files.write_text(out / MANIFEST, _dumps_manifest(manifest))
    return out / PARTIAL


def is_run_folder(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() and ((folder / SUMMARY).is_file() or (folder / PARTIAL).is_file())


def read_run(folder: str | Path) -> RunResult:
    """A run folder written by :func:`write_run` (or a partial one) as a :class:`RunResult`."""
    folder = Path(folder)
    if not is_run_folder(folder):
        raise UserError(f"{folder}: not a run folder (expected {MANIFEST} with {SUMMARY} or {PARTIAL})")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    complete = (folder / SUMMARY).is_file()
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8")) if complete else {}
    summary = {k: (math.nan if v is None else v) for k, v in summary.items()}
    frame = pd.read_parquet(folder / (TIMESERIES if complete else PARTIAL))
    return RunResult(summary, frame, manifest)
