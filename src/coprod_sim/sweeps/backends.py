"""Where sweep runs execute: in this process, in local worker processes, or on Dask.

All backends run the same function, :func:`execute_batch`, on the same batches
of fully specified runs (config + seed fixed on the client), so results do not
depend on the backend or the number of workers. A run that raises is caught
inside the batch and reported as ``failed``; the batch still returns. If a
whole batch is lost (a worker process died), the backend yields the exception
for that batch and the sweep carries on with the others; the lost runs are
simply not recorded, so re-running the sweep retries them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..config import dotted
from ..runs import simulate
from .spec import RunTask

BatchOutcome = tuple[int, dict[str, list[dict]] | BaseException]
# modules a worker forkserver imports once, before forking workers (local backends)
WORKER_PRELOAD = {"processes": ["coprod_sim.sweeps.backends"], "dask": ["distributed", "coprod_sim.sweeps.backends"]}


# ------------------------------------------------------------------ what a worker does
def execute_batch(tasks: list[RunTask], summary_keys: list[str], step_keys: list[str],
                  fault: dict | None = None, simulator: Callable[[dict, int], Any] | None = None
                  ) -> dict[str, list[dict]]:
    """Run each task; return run rows (one per task) and step rows (per run and step, if asked).

    ``simulator`` replaces the model (e.g. an analytic test function of the sensitivity layer); it must
    be a module-level function so that worker processes can unpickle it.
    """
    runs, steps = [], []
    for task in tasks:
        row, step_rows = _execute_one(task, summary_keys, step_keys, fault or {}, simulator or simulate)
        runs.append(row)
        steps.extend(step_rows)
    return {"runs": runs, "steps": steps}


def _execute_one(task: RunTask, summary_keys: list[str], step_keys: list[str], fault: dict,
                 simulator: Callable[[dict, int], Any]) -> tuple[dict[str, Any], list[dict]]:
    row: dict[str, Any] = {"run_key": task.run_key, "point_id": task.point_id, "replicate": task.replicate,
                           "seed": task.seed, "status": "ok", "error": None}
    start = time.perf_counter()
    step_rows: list[dict] = []
    try:
        _maybe_inject_fault(task.cfg, fault)
        result = simulator(task.cfg, task.seed)
        outcomes = {k: float(result.summary[k]) for k in summary_keys}
        if step_keys:
            columns = {k: result.timeseries[k].tolist() for k in ("step", *step_keys)}
            step_rows = [{"run_key": task.run_key, "step": int(step), **{k: float(columns[k][i]) for k in step_keys}}
                         for i, step in enumerate(columns["step"])]
    except Exception as exc:  # a failing run must not take the sweep down
        row.update(status="failed", error=_error_text(exc))
        outcomes = {}
    row["runtime_s"] = time.perf_counter() - start
    row.update(task.params)
    row.update(outcomes)
    return row, step_rows


def _maybe_inject_fault(cfg: dict, fault: dict) -> None:
    """Testing aid (spec ``fault_injection.fail_when``): raise for runs whose config matches."""
    when = fault.get("fail_when")
    if when and all(dotted.get(cfg, k) == v for k, v in when.items()):
        raise RuntimeError(f"fault injection: run matches fail_when {when}")


def _error_text(exc: BaseException) -> str:
    """Exception type and message, plus where it was raised (last frame), on one line."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


# ------------------------------------------------------------------ backends
def run_batches(batches: list[list[RunTask]], args: tuple, backend: str, workers: int,
                scheduler: str | None = None) -> Iterator[BatchOutcome]:
    """Yield ``(batch index, result or exception)`` as batches finish, in completion order."""
    if backend == "serial":
        yield from _serial(batches, args)
    elif backend == "processes":
        yield from _processes(batches, args, workers)
    elif backend == "dask":
        yield from _dask(batches, args, workers, scheduler)
    else:
        raise ValueError(f"unknown backend {backend!r}")


def _serial(batches: list[list[RunTask]], args: tuple) -> Iterator[BatchOutcome]:
    for i, batch in enumerate(batches):
        yield i, execute_batch(batch, *args)


def warm_workers(backend: str) -> None:
    """Start the workers' forkserver now, so its imports overlap the client's own work (checking the spec)."""
    if backend in WORKER_PRELOAD and "forkserver" in multiprocessing.get_all_start_methods():
        multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD[backend])
        multiprocessing.forkserver.ensure_running()


def _process_context() -> multiprocessing.context.BaseContext:
    """Forkserver with our modules preloaded: workers start fast and never inherit the client's threads."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(WORKER_PRELOAD["processes"])
    return ctx


def _processes(batches: list[list[RunTask]], args: tuple, workers: int) -> Iterator[BatchOutcome]:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_process_context())
    try:
        pending = {pool.submit(execute_batch, b, *args): i for i, b in enumerate(batches)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                exc = fut.exception()
                yield i, exc if exc is not None else fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _fast_dask_workers() -> Iterator[None]:
    """Start local Dask workers from a forkserver that has already imported distributed and the model.

    Dask's default ("spawn") makes every worker import everything anew, seconds
    of start-up that would count against the sweep. Distributed sets the
    forkserver's preload list once (``get_mp_context``); we extend it afterwards.
    """
    import dask
    from distributed.utils import get_mp_context

    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        get_mp_context().set_forkserver_preload(WORKER_PRELOAD["dask"])
        yield


def _dask(batches: list[list[RunTask]], args: tuple, workers: int, scheduler: str | None) -> Iterator[BatchOutcome]:
    """A local cluster on loopback with no dashboard, or an existing scheduler (``--scheduler``)."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        with _fast_dask_workers():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        futures = {client.submit(execute_batch, b, *args, pure=False): i for i, b in enumerate(batches)}
        for fut in as_completed(list(futures)):
            i = futures[fut]
            if fut.status == "error":
                yield i, fut.exception()
            else:
                yield i, fut.result()
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
