"""Parameter sweeps: run a validated plan on a backend, keeping every finished run on disk.

Layout of a sweep folder ``DIR``::

    DIR/manifest.json          spec, resolved base config, seeds, versions, code fingerprint and commit, times,
                               counts, the tables' checksums and its own
    DIR/shards/runs-*.parquet  one file per finished batch, written as soon as it returns
    DIR/shards/steps-*.parquet per-step outcomes of that batch (if the spec asks for them)
    DIR/shards/SHA256SUMS      a checksum per shard (``integrity``: damaged shards are quarantined and re-run)
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

import contextlib
import math
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import CoprodError, UserError, require
from ..runs import CacheLike, Simulator, code_fingerprint, files, git_commit, package_versions, results_id
from . import integrity
from .spec import BACKENDS, SEED_SCHEMES, RunTask, SweepPlan, build_plan, load_spec

# a run's status: ok, or why its numbers are not to be used (docs/sweeps.md#statuses)
LOCK = ".lock"
STATUSES = ("ok", "failed", "non_finite", "timeout", "worker_lost")
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
    statuses: dict[str, int] = field(default_factory=dict)  # recorded runs by status, earlier calls included
    reasons: dict[str, str] = field(default_factory=dict)  # status → the first run's error, for statuses not ok

    @property
    def complete(self) -> bool:
        """Every run of the plan is recorded (with whatever status)."""
        return self.lost == 0

    @property
    def all_ok(self) -> bool:
        """Every run of the plan is recorded as ``ok``: the only case a sweep counts as a success (exit 0)."""
        return self.complete and set(self.statuses) <= {"ok"}

    @property
    def not_ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "ok")

    def _repr_html_(self) -> str:
        from ..runs.notebook import card

        return card("SweepReport", {"folder": self.out, "runs": self.total, "resumed": self.resumed,
                                    "statuses": ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items())),
                                    "missing": self.lost, "seconds": round(self.seconds, 1),
                                    "read with": f"coprod_sim.load_results({str(self.out)!r})"})

    def require_results(self) -> SweepReport:
        """This report, or :class:`SweepFailed` when no run of the plan gave results (all lost or failed)."""
        if self.total and not self.statuses.get("ok"):
            raise SweepFailed(self)
        return self


class SweepFailed(CoprodError):
    """No run of a sweep gave results: an analyst's script stops here instead of analysing a table of NaNs."""

    def __init__(self, report: SweepReport):
        kinds = "; ".join(f"{n} {s}: {report.reasons.get(s, 'no reason recorded')}"
                          for s, n in sorted(report.statuses.items()))
        super().__init__(f"{report.out}: none of the {report.total} runs gave results"
                         f"{f' ({kinds})' if kinds else ''}; the runs table {report.out}/runs.parquet says why")
        self.report = report


# ------------------------------------------------------------------ shards
def write_shard(shards: Path, result: dict[str, list[dict]]) -> str:
    """Persist one finished batch; the shard id sorts by time, so newer rows win on consolidation.

    Shards go through pyarrow directly: the client writes one per batch while the
    workers compute, so its cost is taken from the workers' cores.
    """
    shard_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    written = []
    if result["steps"]:
        written.append(shards / f"steps-{shard_id}.parquet")
        files.write_parquet(pa.Table.from_pylist(result["steps"]), written[-1])
    written.append(shards / f"runs-{shard_id}.parquet")
    files.write_parquet(pa.Table.from_pylist(result["runs"]), written[-1])
    integrity.record_shards(shards, *written)
    return shard_id


def read_run_shards(shards: Path, columns: list[str] | None = None, skip: Collection[Path] = ()) -> pd.DataFrame:
    """All run rows from all shards (but ``skip``), with the shard id they came from."""
    frames = []
    for path in sorted(shards.glob("runs-*.parquet")):
        if path in skip:
            continue
        frame = pd.read_parquet(path, columns=columns)
        frame["_shard"] = integrity.shard_id(path)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*(columns or ["run_key", "status"]), "_shard"])
    return pd.concat(frames, ignore_index=True)


def finished_keys(shards: Path, retry_failed: bool = False, skip: Collection[Path] = ()) -> set[str]:
    """run_keys already on disk (ok runs; failed ones too unless they are to be retried)."""
    rows = read_run_shards(shards, ["run_key", "status"], skip)
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
    # columns missing when every run was lost are added at once (one by one fragments the frame)
    runs = rows.reindex(columns=FIXED_COLUMNS + plan.varied + plan.summary_outcomes)
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
        sid = integrity.shard_id(path)
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
        "versions": package_versions(), "git_commit": git_commit(), "code_fingerprint": code_fingerprint(),
        "results_id": results_id(), "started": started, "finished": None,
        "status": "running", "counts": {"runs": len(plan.tasks)},
    }


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
              retry_failed: bool = False, timeout: float | None = None,
              max_attempts: int | None = None, cache: CacheLike = True, force: bool = False) -> SweepReport:
    """Run every run of ``plan`` not yet in ``out``; write shards as batches finish; consolidate.

    ``cache``: where runs of the introduction design find their spun-up worlds (``runs.WorldCache.of``).

    ``timeout``: seconds a run may take (default: the spec's ``timeout``, else none); a run
    whose worker dies is tried ``max_attempts`` times in all (default: the spec's, else 3).
    The folder is locked while the sweep runs; SIGTERM stops it like Ctrl+C; the manifest's
    status says what happened (docs/sweeps.md#supervision). A folder made by other code is
    refused unless ``force`` (its runs are then kept, with a warning).
    """
    backend, workers = backend or plan.backend, workers or plan.workers
    if backend not in BACKENDS:
        raise UserError(f"backend: expected one of {', '.join(BACKENDS)}, found {backend!r}")
    from .backends import check_main_guard, needs_main_guard

    if backend == "dask":
        require("distributed", "coprod-sim[dask]", "the dask backend")
    if needs_main_guard(backend, scheduler or plan.scheduler):
        check_main_guard()
    out = Path(out)
    stale = _stale_before_lock(out)  # asked before we hold the lock ourselves
    with folder_lock(out), _terminate_as_interrupt():
        if stale:
            print(f"note: {stale.split('; run the same')[0]}; resuming", file=sys.stderr)
        return _run_locked(plan, out, backend, workers, scheduler, batch_size, retry_failed,
                           timeout if timeout is not None else plan.timeout, max_attempts or plan.max_attempts, cache,
                           force)


def _run_locked(plan: SweepPlan, out: Path, backend: str, workers: int, scheduler: str | None,
                batch_size: int | str | None, retry_failed: bool, timeout: float | None,
                max_attempts: int, cache: CacheLike, force: bool) -> SweepReport:
    from tqdm import tqdm

    from .backends import run_batches

    forced = _check_same_code(out, force)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    for note in integrity.quarantine(out / "shards", integrity.damaged_shards(out / "shards")):
        print(f"warning: {note}", file=sys.stderr)
    scheduler = scheduler or plan.scheduler
    done = finished_keys(out / "shards", retry_failed)
    todo = [t for t in plan.tasks if t.run_key not in done]
    size = batch_size or plan.batch_size
    size = auto_batch_size(len(todo), workers) if size == "auto" else int(size)
    manifest = _manifest(plan, backend, workers, size, _now())
    manifest.update(timeout_s=timeout, max_attempts=max_attempts, process={"pid": os.getpid(), "host": _host()},
                    world_cache=None if cache is False or cache is None else str(cache),
                    **({"forced_over": forced} if forced else {}))
    integrity.write_manifest(out, manifest)
    start = time.perf_counter()
    counts = {"ok": 0, "failed": 0, "lost": 0}
    batches = make_batches(todo, size)
    # a run measures what the sweep keeps (its declared outputs), nothing it would throw away
    measured = (*plan.summary_outcomes, *plan.step_outcomes)
    args = (plan.summary_outcomes, plan.step_outcomes, plan.fault, timeout, plan.simulator or Simulator(cache, measured))
    tqdm.monitor_interval = 0  # no monitor thread
    outcomes = run_batches(batches, args, backend, workers, scheduler, max_attempts, manifest.update) \
        if batches else iter(())
    try:
        with tqdm(total=len(todo), unit="run", desc="sweep", disable=_quiet(), smoothing=0.1) as bar:
            for tasks, result in outcomes:
                _record(out / "shards", tasks, result, counts)
                bar.update(len(tasks))
                bar.set_postfix(ok=counts["ok"], failed=counts["failed"], lost=counts["lost"], refresh=False)
    except BaseException as exc:
        # end the workers now, not when the garbage collector reaches the suspended generator: a stopped
        # sweep must leave no process behind, whatever else holds a reference to this frame
        if hasattr(outcomes, "close"):
            outcomes.close()
        stopped = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {type(exc).__name__}: {exc}"
        manifest.update(finished=_now(), status=stopped, counts={"runs": len(plan.tasks), "this_call": dict(counts)})
        integrity.write_manifest(out, manifest)
        raise
    runs, _ = consolidate(plan, out)
    seconds = time.perf_counter() - start
    statuses = {str(k): int(v) for k, v in runs["status"].value_counts().items()}
    bad = runs[runs["status"] != "ok"].drop_duplicates("status")
    report = SweepReport(out, len(plan.tasks), len(plan.tasks) - len(todo), counts["ok"], counts["failed"],
                         len(plan.tasks) - len(runs), seconds, statuses, dict(zip(bad["status"], bad["error"], strict=True)))
    manifest.update(finished=_now(), status="complete" if report.complete else "incomplete", wall_time_s=seconds,
                    counts={"runs": len(plan.tasks), "recorded": len(runs), **{s: statuses.get(s, 0) for s in STATUSES},
                            "missing": report.lost, "resumed": report.resumed, "this_call": dict(counts)},
                    tables=integrity.table_sums(out))
    integrity.write_manifest(out, manifest)
    return report


def _record(shards: Path, tasks: list[RunTask], result: dict | BaseException, counts: dict[str, int]) -> None:
    if isinstance(result, BaseException):
        counts["lost"] += len(tasks)
        print(f"warning: a batch of {len(tasks)} runs was lost ({type(result).__name__}: {result}); "
              "re-run the same command to retry them", file=sys.stderr)
        return
    write_shard(shards, result)
    failed = sum(r["status"] != "ok" for r in result["runs"])
    counts["failed"] += failed
    counts["ok"] += len(result["runs"]) - failed


# ------------------------------------------------------------------ supervision
def _host() -> str:
    return socket.gethostname()


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` (``out/.lock``) or refuse: two sweeps never write one folder.

    An OS lock (``filelock``: flock on POSIX, msvcrt on Windows): the system releases it when the
    holder dies, even after ``kill -9``, so a stale lock never blocks a resume.
    """
    from filelock import FileLock, Timeout

    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = FileLock(out / LOCK, timeout=0)
        lock.acquire()
    except Timeout:
        raise UserError(f"{out}: in use by another sweep ({_holder(out)}); wait for it to finish or use another "
                        "--out") from None
    except OSError as exc:
        raise UserError(f"{out}: cannot write here ({exc.strerror})") from None
    try:
        yield
    finally:
        lock.release()


def _holder(out: Path) -> str:
    """Who holds the folder, as its manifest says."""
    with contextlib.suppress(UserError):
        proc = integrity.read_manifest(out).get("process") or {}
        return f"pid {proc.get('pid', '?')} on {proc.get('host', '?')}"
    return "another process"


def folder_in_use(out: Path) -> bool:
    """Whether a live process holds the folder's lock."""
    from filelock import FileLock, Timeout

    if not (Path(out) / LOCK).is_file():
        return False
    probe = FileLock(Path(out) / LOCK, timeout=0, is_singleton=False)
    try:
        probe.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    probe.release()
    return False


def stale_note(out: Path, manifest: Mapping[str, Any]) -> str | None:
    """Why a manifest that says ``running`` is not true any more (its process is gone), or None."""
    if manifest.get("status") != "running" or folder_in_use(out):
        return None
    proc = manifest.get("process") or {}
    return (f"{out}: the manifest says running, but the sweep that wrote it (pid {proc.get('pid', '?')} on "
            f"{proc.get('host', '?')}, started {manifest.get('started')}) stopped without finishing "
            "(killed?); run the same command again to finish it")


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a sweep the way Ctrl+C does (workers ended, manifest updated), then is restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stale_before_lock(out: Path) -> str | None:
    with contextlib.suppress(UserError):
        return stale_note(out, integrity.read_manifest(out))
    return None


def _check_same_code(out: Path, force: bool) -> dict[str, Any] | None:
    """Refuse to resume a sweep made by other code (its rows would mix with ours), unless ``force``.

    Code is compared by fingerprint (``runs.provenance.code_fingerprint``: the package's source
    files and the mesa/numpy/scipy versions), so a docs-only change resumes. Shards without a
    readable manifest cannot be vouched for and are refused too. Returns what was forced over.
    """
    shards = out / "shards"
    count = len(list(shards.glob("runs-*.parquet"))) if shards.is_dir() else 0
    if not count:
        return None
    try:
        old = integrity.read_manifest(out)
        then = {"fingerprint": old.get("code_fingerprint"), "commit": old.get("git_commit"),
                "version": (old.get("versions") or {}).get("coprod-sim")}
        same = then["fingerprint"] == code_fingerprint() if then["fingerprint"] else (
            then["version"], then["commit"]) == (package_versions().get("coprod-sim"), git_commit())
        problem = None if same else (f"{out}: started by other code (coprod-sim {then['version']}, fingerprint "
                                     f"{then['fingerprint']}, commit {then['commit']}) than this (coprod-sim "
                                     f"{package_versions().get('coprod-sim')}, fingerprint {code_fingerprint()}, "
                                     f"commit {git_commit()}): results of two code versions would mix")
    except UserError as err:
        then, problem = {"manifest": str(err)}, f"{err}; which code made the {count} shards in {out} cannot be told"
    if problem is None:
        return None
    if not force:
        raise UserError(f"{problem}; use another --out, delete {out}, or resume anyway with --force")
    print(f"warning: {problem}; resuming anyway (--force): the runs already there are kept as they are",
          file=sys.stderr)
    return then


# ------------------------------------------------------------------ dry run
def estimate(plan: SweepPlan, out: Path, backend: str, workers: int, max_sample: int = 3,
             budget_s: float = 10.0) -> dict[str, Any]:
    """Runs to do and a wall-time estimate from a few runs measured here (spread over the design)."""
    from .worker import execute_batch

    shards = out / "shards"
    done = finished_keys(shards, skip=integrity.damaged_shards(shards)) if shards.is_dir() else set()
    todo = [t for t in plan.tasks if t.run_key not in done]
    pick = sorted({round(i * (len(todo) - 1) / max(1, max_sample - 1)) for i in range(max_sample)}) if todo else []
    times = []
    t0 = time.perf_counter()
    for i in pick:
        s = time.perf_counter()
        execute_batch([todo[i]], plan.summary_outcomes, plan.step_outcomes, {}, None, plan.simulator)
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
          retry_failed: bool = False, timeout: float | None = None, max_attempts: int | None = None,
          cache: CacheLike = True, force: bool = False) -> SweepReport:
    """Run a sweep spec (YAML file or mapping; docs/sweeps.md) and return what was done.

    Finished runs already in ``out`` are kept and skipped, so calling again
    resumes an interrupted sweep. Options given here win over the spec's;
    ``timeout`` (seconds per run) and ``max_attempts`` (tries of a run whose
    worker dies) are described in docs/sweeps.md#supervision; ``cache``: where runs of the introduction
    design keep their spun-up worlds (True: the default folder; a folder; False: none); ``force``
    resumes a folder made by other code (docs/sweeps.md#resuming).
    Read the tables with ``coprod_sim.load_results(report.out)``.

    Raises:
        ConfigError: every problem with the spec, before anything runs.
        UserError: local worker processes started from a script's top level without
            ``if __name__ == "__main__":`` (docs/python.md#scripts).
        SweepFailed: no run gave results (every run lost or failed); ``.report`` says what was recorded.
    """
    plan = plan_of(spec)
    target = Path(out) if out is not None else default_out(spec, plan)
    return run_sweep(plan, target, backend, workers, scheduler, batch_size, retry_failed, timeout, max_attempts,
                     cache, force).require_results()
