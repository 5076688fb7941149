"""One run's results (:class:`RunResult`) and its folder: summary.json, timeseries.parquet, manifest.json and
figures, written and read back.

Every file is written to a temporary name and renamed into place (``files.py``),
so an interrupted run never leaves a half-written file that looks complete. A
run that stopped early keeps its months in ``timeseries.partial.parquet`` with a
manifest saying why, and no summary.json, so it is never mistaken for a finished run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UserError
from . import files

SUMMARY, TIMESERIES, MANIFEST, PARTIAL = "summary.json", "timeseries.parquet", "manifest.json", "timeseries.partial.parquet"


@dataclass
class RunResult:
    """What one run produced.

    ``summary``: each outcome's mean over the outcome window (flat dotted keys);
    ``timeseries``: one row per month; ``manifest``: the resolved config, seed,
    versions and commit needed to reproduce it.
    """

    summary: dict[str, float]
    timeseries: pd.DataFrame
    manifest: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        m = self.manifest
        return (f"RunResult(scenario={m.get('scenario')!r}, seed={m.get('seed')}, months={len(self.timeseries)}, "
                f"outcomes={len(self.summary)}, status={m.get('status')!r})")

    def _repr_html_(self) -> str:
        """Jupyter: the run's identity, its key outcomes and how the headline share of need met moved."""
        from ..model import KEY_OUTCOMES, OUTCOME_BY_KEY
        from .notebook import card, line_figure

        m = self.manifest
        table = pd.DataFrame([{"outcome": OUTCOME_BY_KEY[k].heading, "value": OUTCOME_BY_KEY[k].format(self.summary.get(k))}
                              for k in KEY_OUTCOMES])
        shown = [k for k in KEY_OUTCOMES[:1] if k in self.timeseries]
        figure = line_figure(self.timeseries["step"], {k: self.timeseries[k] for k in shown}, "month") \
            if shown and "step" in self.timeseries else None
        return card("RunResult", {"scenario": m.get("scenario"), "seed": m.get("seed"), "months": len(self.timeseries),
                                  "status": m.get("status"), "commit": m.get("git_commit")}, table, figure)

    @property
    def seed(self) -> int:
        return self.manifest["seed"]

    @property
    def config(self) -> dict:
        return self.manifest["config"]

    def save(self, out: str | Path, plots: bool = True, force: bool = False) -> Path:
        """Write summary.json, timeseries.parquet, manifest.json (and PNG figures) into ``out``.

        A folder holding another run's results is replaced only with ``force``."""
        return write_run(self, out, plots=plots, force=force)


class RunAborted(Exception):
    """A run stopped early (an error, or Ctrl+C); ``partial`` holds the months it completed."""

    def __init__(self, partial: RunResult, cause: BaseException):
        super().__init__(f"stopped after {len(partial.timeseries)} months: {type(cause).__name__}: {cause}")
        self.partial = partial
        self.cause = cause


def dumps_summary(summary: dict[str, float]) -> str:
    """Canonical JSON: sorted keys, full float precision, so equal runs give equal bytes.

    An outcome that is undefined for the run (NaN, e.g. a gap between groups when one is empty)
    is written as null; the manifest's notes say why."""
    plain = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in summary.items()}
    return json.dumps(plain, sort_keys=True, indent=1, allow_nan=False) + "\n"


def _dumps_manifest(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"


def check_out(out: str | Path, cfg: Mapping | None = None, seed: int | None = None, force: bool = False) -> Path:
    """Check before computing that a run may be written to ``out``, and say why not.

    ``out`` may be new, empty, or a run folder of the same run (same resolved config and seed: re-running
    a command is allowed). Replacing another run's results, or writing into a folder that holds
    something else, needs ``force``. The parent folder must be writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    try:  # what writing will do: a hidden folder beside ``out``, later renamed
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.check-", dir=out.parent))
    except OSError as exc:
        raise UserError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    if force or not out.is_dir() or not any(out.iterdir()):
        return out
    if not (out / MANIFEST).is_file():
        raise UserError(f"{out}: exists and is not a run folder; choose another --out, or --force to replace it")
    try:
        old = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    same = cfg is not None and json.dumps(old.get("config"), sort_keys=True, default=str) == json.dumps(
        cfg, sort_keys=True, default=str) and old.get("seed") == seed
    if not same:
        raise UserError(f"{out}: holds the results of another run (other config or seed); choose another --out, "
                        "or --force to replace them")
    return out


def _replace_folder(out: Path, fill: Callable[[Path], None]) -> Path:
    """Write a run folder complete in a hidden sibling, then swap it in: a kill at any moment leaves either
    the old folder or the new one, never old files (plots, a partial time series) beside new ones."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        fill(tmp)
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def write_run(result: RunResult, out_dir: str | Path, plots: bool = True, force: bool = False) -> Path:
    """Write summary.json, timeseries.parquet, manifest.json and PNG plots into ``out_dir`` (``check_out``
    rules: another run's results are replaced only with ``force``)."""
    out = check_out(out_dir, result.manifest.get("config"), result.manifest.get("seed"), force)

    def fill(folder: Path) -> None:
        files.write_text(folder / SUMMARY, dumps_summary(result.summary))
        files.write_parquet(result.timeseries, folder / TIMESERIES)
        files.write_text(folder / MANIFEST, _dumps_manifest(result.manifest))
        if plots:
            from .plots import plot_timeseries

            plot_timeseries(result.timeseries, folder)

    return _replace_folder(out, fill)


def write_partial(aborted: RunAborted, out_dir: str | Path) -> Path | None:
    """Keep what an aborted run computed: ``timeseries.partial.parquet`` and a manifest saying why
    (replacing the folder as a whole, so no older summary.json is left beside them)."""
    partial = aborted.partial
    if partial.timeseries.empty:
        return None

    def fill(folder: Path) -> None:
        files.write_parquet(partial.timeseries, folder / PARTIAL)
        files.write_text(folder / MANIFEST, _dumps_manifest(dict(partial.manifest, status=f"aborted: {aborted}")))

    return _replace_folder(Path(out_dir), fill) / PARTIAL


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
