"""What a worker does with a batch of runs: run each, catch its failure, and return rows.

Every backend (serial, local processes, Dask) calls :func:`execute_batch` on the
same batches of fully specified runs, so results do not depend on where a run
happened. A run that raises is reported as ``failed``, one that exceeds its time
limit as ``timeout``, one with non-finite outcomes as ``non_finite``; the batch
still returns. This module is what a worker process imports (``WORKER_PRELOAD``).
"""

from __future__ import annotations

import gc
import math
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..config import Config, dotted
from ..runs import non_finite_outcomes, simulate
from ..runs.deadline import RunTimeout, deadline
from .spec import RunTask


def execute_batch(tasks: list[RunTask], summary_keys: list[str], step_keys: list[str],
                  fault: dict | None = None, timeout: float | None = None,
                  simulator: Callable[[Any, int], Any] | None = None, hard_exit: bool = False) -> dict[str, list[dict]]:
    """Run each task; return run rows (one per task) and step rows (per run and step, if asked).

    ``timeout``: seconds one run may take before it is stopped and recorded as ``timeout``;
    ``simulator`` replaces the model (e.g. an analytic test function of the sensitivity layer); it must
    be a module-level function so that worker processes can unpickle it;
    ``hard_exit``: in a worker process, end the process if a run cannot be stopped (runs.deadline).
    """
    runs, steps = [], []
    for task in tasks:
        row, step_rows = _execute_one(task, summary_keys, step_keys, fault or {}, timeout, hard_exit,
                                      simulator or simulate)
        runs.append(row)
        steps.extend(step_rows)
    return {"runs": runs, "steps": steps}


def execute_batch_then_freeze(tasks: list[RunTask], *args: Any) -> dict[str, list[dict]]:
    """:func:`execute_batch`, then, after a worker process's first batch, :func:`freeze_startup_objects`: what
    the workers of our own local Dask cluster run (processes that serve this sweep only)."""
    try:
        return execute_batch(tasks, *args)
    finally:
        freeze_once()


_frozen = False


def freeze_once() -> None:
    """:func:`freeze_startup_objects` the first time a worker process calls it: after its first batch every
    module the runs use is loaded."""
    global _frozen
    if not _frozen:
        freeze_startup_objects()
        _frozen = True


def freeze_startup_objects() -> None:
    """Take what a worker process holds after its first batch out of the garbage collector's full passes.

    By then the process has imported everything its runs need: about 390,000 objects (numpy, pandas, scipy,
    Mesa), against about 3,300 that a run's model adds. A run's model is freed only by the collector (Mesa
    agents and their model refer to each other), whose full pass scans every object: 0.33 s every dozen runs
    or so, 6–8% of a study's time (docs/performance.md). ``gc.freeze`` moves the objects that exist now to a
    generation the collector never scans, so later passes look at the runs' own objects only. A worker that
    only runs our batches keeps them alive anyway; nothing a run computes depends on when memory is freed.
    Workers of an external Dask scheduler are left alone: they may serve others.
    """
    gc.collect()
    gc.freeze()


def task_row(task: RunTask, status: str = "ok", error: str | None = None, runtime_s: float = math.nan) -> dict:
    """A run's row without outcomes: its identity, parameters and status (outcomes are added when there are some)."""
    return {"run_key": task.run_key, "point_id": task.point_id, "replicate": task.replicate, "seed": task.seed,
            "status": status, "error": error, "runtime_s": runtime_s, **task.params}


def _execute_one(task: RunTask, summary_keys: list[str], step_keys: list[str], fault: dict, timeout: float | None,
                 hard_exit: bool, simulator: Callable[[Any, int], Any]) -> tuple[dict[str, Any], list[dict]]:
    row = task_row(task)
    start = time.perf_counter()
    step_rows: list[dict] = []
    outcomes: dict[str, float] = {}
    try:
        with deadline(timeout, hard_exit):
            action = _fault_action(task.cfg, fault)
            result = simulator(task.cfg, task.seed)
        if action == "nan":
            result.summary["quality.needs_met_share"] = math.nan
        outcomes = {k: float(result.summary[k]) for k in summary_keys}
        bad = non_finite_outcomes(result.summary)
        if bad:
            row.update(status="non_finite", error=f"{len(bad)} outcome(s) not finite: {', '.join(bad[:8])}"
                                                  f"{' …' if len(bad) > 8 else ''}")
        if step_keys:
            columns = {k: result.timeseries[k].tolist() for k in ("step", *step_keys)}
            step_rows = [{"run_key": task.run_key, "step": int(step), **{k: float(columns[k][i]) for k in step_keys}}
                         for i, step in enumerate(columns["step"])]
    except RunTimeout:
        row.update(status="timeout", error=f"timeout: the run took longer than {timeout:g} s and was stopped")
        outcomes, step_rows = {}, []
    except Exception as exc:  # a failing run must not take the sweep down
        row.update(status="failed", error=_error_text(exc))
        outcomes, step_rows = {}, []
    row["runtime_s"] = time.perf_counter() - start
    row.update(outcomes)
    return row, step_rows


def _fault_action(cfg: Config | dict, fault: dict) -> str | None:
    """Testing aid (spec ``fault_injection``), never part of the model: for runs whose config matches
    ``fail_when``, ``action`` raise (default), kill the worker process (``exit``), hang (``hang``), or
    give a NaN outcome (``nan``, applied after the run)."""
    when = fault.get("fail_when")
    if not when:
        return None
    plain = cfg.to_dict() if isinstance(cfg, Config) else cfg
    if not all(dotted.get(plain, k) == v for k, v in when.items()):
        return None
    action = fault.get("action", "raise")
    if action == "raise":
        raise RuntimeError(f"fault injection: run matches fail_when {when}")
    if action == "exit":
        os._exit(70)
    if action == "hang":
        while True:
            time.sleep(0.05)
    return action


def _error_text(exc: BaseException) -> str:
    """Exception type and message, plus where it was raised (last frame), on one line."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
