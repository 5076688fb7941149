"""Where sweep runs execute: in this process, in local worker processes, or on Dask.

All backends run the same function, :func:`execute_batch`, on the same batches
of fully specified runs (config + seed fixed on the client), so results do not
depend on the backend or the number of workers. A run that raises is caught
inside the batch and reported as ``failed``, one that exceeds its time limit as
``timeout``, one with non-finite outcomes as ``non_finite``; the batch still
returns. A worker process that dies is replaced and its runs retried; a run that
kills its worker every time ends as ``worker_lost`` (``pool.Supervisor`` for
local processes, the scheduler's ``allowed-failures`` on Dask). Only a batch
that fails for another reason is yielded as an exception: its runs are not
recorded, and re-running the sweep retries them.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..processes import exit_with
from .pool import Supervisor
from .spec import RunTask
from .worker import execute_batch, execute_batch_then_freeze, task_row

BatchOutcome = tuple[list[RunTask], dict[str, list[dict]] | BaseException]
CONNECT_TIMEOUT_S = 10
RESTART_WAIT_S = 60  # a nanny's restart of a killed worker: about a second, longer on a loaded machine
HANDSHAKE_MAX_BYTES = 1 << 16  # a scheduler's handshake is about 60 bytes
# modules a worker forkserver imports once, before forking workers (local backends)
WORKER_PRELOAD = {"processes": ["coprod_sim.sweeps.worker"], "dask": ["distributed", "coprod_sim.sweeps.worker"]}


# ------------------------------------------------------------------ backends
def run_batches(batches: list[list[RunTask]], args: tuple, backend: str, workers: int,
                scheduler: str | None = None, max_attempts: int = 3,
                on_connect: Callable[[dict], None] | None = None) -> Iterator[BatchOutcome]:
    """Yield ``(tasks, result or exception)`` as batches finish, in completion order.

    ``args``: (summary keys, step keys, fault injection, per-run timeout, simulator). A run whose worker
    dies is retried up to ``max_attempts`` times in all, then recorded as ``worker_lost``;
    ``on_connect`` receives what the backend found (e.g. the real number of Dask workers).
    """
    if backend == "serial":
        yield from _serial(batches, args)
    elif backend == "processes":
        yield from Supervisor(_process_context(), (*args, False), workers, args[3], max_attempts).run(batches)
    elif backend == "dask":
        yield from _dask(batches, (*args, True), workers, scheduler, max_attempts, on_connect or (lambda _: None))
    else:
        raise ValueError(f"unknown backend {backend!r}")


def _serial(batches: list[list[RunTask]], args: tuple) -> Iterator[BatchOutcome]:
    for batch in batches:
        yield batch, execute_batch(batch, *args)


def warm_workers(backend: str) -> None:
    """Start the workers' forkserver now, so its imports overlap the client's own work (checking the spec)."""
    if backend in WORKER_PRELOAD and "forkserver" in multiprocessing.get_all_start_methods():
        multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD[backend])
        multiprocessing.forkserver.ensure_running()


def needs_main_guard(backend: str, scheduler: str | None) -> bool:
    """Does this backend start local worker processes (which re-import the main script)?"""
    return backend == "processes" or (backend == "dask" and not scheduler)


def check_main_guard() -> None:
    """Refuse to start local workers from a script's unguarded top level, naming the fix.

    Worker processes (forkserver or spawn) re-run the main script to rebuild its
    namespace; a call at its top level without ``if __name__ == "__main__":``
    would start the sweep again inside every worker, and every run would end as
    ``worker_lost``. Notebooks, ``python -c`` and ``python -m package`` are not re-run.
    """
    script = _reimported_main()
    frame = sys._getframe(1)
    while frame is not None and (frame.f_code.co_name != "<module>" or frame.f_globals.get("__name__") != "__main__"):
        frame = frame.f_back  # type: ignore[assignment]
    if script is None or frame is None or _guarded(script, frame.f_lineno):
        return
    raise UserError(
        f"{script}, line {frame.f_lineno}: starts a sweep with local worker processes at the script's top level, "
        "outside `if __name__ == \"__main__\":`; each worker re-runs the script and would start the sweep again, "
        "and every run would be lost. Put the call under `if __name__ == \"__main__\":` (docs/python.md#scripts), "
        "or use backend=\"serial\"")


def _reimported_main() -> Path | None:
    """The script a new worker process re-runs (as multiprocessing decides), or None."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:  # python -m: a package's __main__ is not re-run
        origin = getattr(main.__spec__, "origin", None)  # type: ignore[union-attr]
        return None if name == "__main__" or name.endswith(".__main__") or not origin else Path(origin)
    path = getattr(main, "__file__", None)
    return Path(path) if path and Path(path).stem != "ipython" else None


def _guarded(script: Path, line: int) -> bool:
    """Is ``line`` of ``script`` inside an ``if __name__ == "__main__":`` block? (unreadable: assume so)"""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return True
    return any(_is_main_test(node.test) and any(n.lineno <= line <= (n.end_lineno or n.lineno) for n in node.body)
               for node in ast.walk(tree) if isinstance(node, ast.If))


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    return {ast.unparse(test.left), ast.unparse(test.comparators[0])} == {"__name__", "'__main__'"}


def _process_context() -> multiprocessing.context.BaseContext:
    """Forkserver with our modules preloaded: workers start fast and never inherit the client's threads."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(WORKER_PRELOAD["processes"])
    return ctx


@contextlib.contextmanager
def _fast_dask_workers(max_attempts: int) -> Iterator[None]:
    """Local Dask workers from a forkserver that has already imported distributed and the model, and a
    scheduler that gives up on a task after ``max_attempts`` worker deaths.

    Dask's default ("spawn") makes every worker import everything anew, seconds
    of start-up that would count against the sweep. Distributed sets the
    forkserver's preload list once (``get_mp_context``); we extend it afterwards.
    """
    import dask
    from distributed.utils import get_mp_context

    # no HTTP endpoints at all: besides the dashboard, scheduler and workers serve /info, /json, /metrics
    # and /health pages unless their routes are emptied
    # a worker gets a task only when it has a free thread: a task queued on a worker that dies would
    # count as a suspect of its death, and an innocent run could end as worker_lost
    settings = {"distributed.scheduler.allowed-failures": max_attempts - 1, "distributed.scheduler.http.routes": [],
                "distributed.worker.http.routes": [], "distributed.scheduler.worker-saturation": 1.0}
    if "forkserver" not in multiprocessing.get_all_start_methods():
        with dask.config.set(settings):
            yield
        return
    with dask.config.set({**settings, "distributed.worker.multiprocessing-method": "forkserver"}):
        get_mp_context().set_forkserver_preload(WORKER_PRELOAD["dask"])
        yield


def _dask(batches: list[list[RunTask]], args: tuple, workers: int, scheduler: str | None, max_attempts: int,
          on_connect: Callable[[dict], None]) -> Iterator[BatchOutcome]:
    """A local cluster on loopback with no dashboard, or an existing scheduler (``--scheduler``).

    A task whose worker died ``max_attempts`` times ends in KilledWorker: a batch is then split into
    single runs (to find the one that kills its worker), and a single run is recorded as ``worker_lost``.
    """
    from distributed import KilledWorker, as_completed

    cluster = None
    with _fast_dask_workers(max_attempts):
        if scheduler:
            client = _connect(scheduler)
        else:
            cluster = local_cluster(workers)
            client = _connect(cluster)
        try:
            if cluster is not None:  # local workers and their nannies end with this process, even after kill -9
                client.run(exit_with, os.getpid(), nanny=True)
                client.run(exit_with, os.getpid())
            on_connect({"workers": check_workers(client),
                        "scheduler": scheduler or f"local cluster at {client.scheduler.address}"})
            # our own workers serve this sweep only: they take their imports out of the collector's way
            run = execute_batch if cluster is None else execute_batch_then_freeze
            futures = {client.submit(run, b, *args, pure=False): b for b in batches}
            pending = as_completed(list(futures))
            for fut in pending:
                batch = futures.pop(fut)
                try:
                    result = fut.result()
                except KilledWorker as exc:
                    yield from _after_killed_worker(client, run, batch, args, exc, max_attempts, futures, pending)
                except Exception as exc:  # e.g. the batch could not be sent to or read back from a worker
                    yield batch, exc
                else:
                    yield batch, result
                fut.release()
        except BaseException:  # interrupted or failed: stop at once, without waiting for workers
            _shut_down(client, cluster, workers, finished=False)
            raise
        _shut_down(client, cluster, workers, finished=True)


def _shut_down(client: Any, cluster: Any, workers: int, finished: bool) -> None:
    """Close the client, and our own local cluster once no worker is being restarted.

    A nanny restarts a worker that a run killed; a cluster closed at that instant fails inside
    distributed ("can only join a started process", seen once in CI after every result was in; compare
    dask/distributed#3955), so after a finished sweep we first wait for the restarted workers. If closing
    still fails, every result is already recorded: we warn rather than fail, and the workers end with
    this process (``exit_with``).
    """
    if cluster is not None and finished:
        # a worker that cannot restart, or a scheduler already gone, is closed all the same
        with contextlib.suppress(TimeoutError, OSError):
            client.wait_for_workers(workers, timeout=RESTART_WAIT_S)
    client.close()
    if cluster is None:
        return
    try:
        cluster.close()
    except Exception as exc:  # distributed's own failure while tearing down its processes
        print(f"warning: the local Dask cluster did not close cleanly ({type(exc).__name__}: {exc}); every result "
              "is recorded, and its workers end with this process", file=sys.stderr)


def _after_killed_worker(client: Any, run: Callable, batch: list[RunTask], args: tuple, exc: BaseException,
                         max_attempts: int, futures: dict, pending: Any) -> Iterator[BatchOutcome]:
    """A batch whose worker died ``max_attempts`` times: split it to find the run that kills its worker
    (each run resubmitted alone), and record a single such run as ``worker_lost``."""
    if len(batch) == 1:
        reason = f"the worker process died on each of {max_attempts} attempts ({exc})"
        yield batch, {"runs": [task_row(batch[0], "worker_lost", reason)], "steps": []}
        return
    for task in batch:
        single = client.submit(run, [task], *args, pure=False)
        futures[single] = [task]
        pending.add(single)


def local_cluster(workers: int) -> Any:
    """Scheduler and single-threaded worker processes on loopback, with no dashboard (call inside
    ``_fast_dask_workers``, whose settings also turn off every other HTTP page)."""
    from distributed import LocalCluster

    # the scheduler's HTTP server (routes emptied) on a free loopback port rather than 8787, which
    # may be taken and is where a user's own cluster would serve its dashboard
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, silence_logs=logging.CRITICAL,  # failures are reported as statuses
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})


def _connect(address: Any) -> Any:
    """A Dask client, or a clear error if the scheduler cannot be reached in time or is not a scheduler."""
    from distributed import Client

    if isinstance(address, str):
        _probe_scheduler(address)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise UserError(f"--scheduler {address}: cannot reach the Dask scheduler within {CONNECT_TIMEOUT_S} s "
                        f"({type(exc).__name__}); check the address and that `dask scheduler` is running") from None


def _probe_scheduler(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Check over plain TCP that ``address`` speaks Dask's protocol before a client connects.

    A Dask scheduler sends a short framed handshake as soon as it accepts a connection (8 bytes of
    length, then a frame count and frame lengths). Dask's own client waits for it without a time
    limit and believes the length it reads: a service that never answers hangs it, and one that
    answers with text makes it allocate exabytes. Here either is an error within ``timeout``.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address, strict=False)
    if scheme != "tcp":  # tls, ucx, inproc: no plain-TCP check possible; the client's own checks apply
        return
    host, port = parse_host_port(location)
    deadline = time.monotonic() + timeout
    not_dask = (f"--scheduler {address}: answers, but not as a Dask scheduler ({{}}); check the address and port "
                "(a scheduler listens on 8786 by default, its dashboard on 8787)")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            length = _receive(sock, 8, deadline)
            if length is None:
                raise UserError(not_dask.format(f"no Dask handshake within {timeout:.0f} s"))
            (size,) = struct.unpack("<Q", length)
            body = _receive(sock, size, deadline) if 16 <= size <= HANDSHAKE_MAX_BYTES else None
            (frames,) = struct.unpack_from("<Q", body) if body else (0,)
            if body is None or not 1 <= frames <= 16 or 8 * (1 + frames) > size:
                raise UserError(not_dask.format(f"its first bytes are {length!r}"))
    except OSError as exc:
        raise UserError(f"--scheduler {address}: cannot reach the Dask scheduler ({type(exc).__name__}: "
                        f"{exc.strerror or exc}); check the address and that `dask scheduler` is running") from None


def _receive(sock: socket.socket, size: int, deadline: float) -> bytes | None:
    """Exactly ``size`` bytes before ``deadline``, or None (closed or too slow)."""
    data = b""
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(size - len(data))
        except TimeoutError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


def _identity() -> tuple[str, str]:
    """This process's coprod-sim: its version and code fingerprint (source files and library versions)."""
    from .. import __version__
    from ..runs import code_fingerprint

    return __version__, code_fingerprint()


def check_workers(client: Any) -> int:
    """Every worker must import the same coprod-sim code as this process (version and code fingerprint);
    returns their count."""
    from importlib import metadata

    found = client.run(metadata.version, "coprod-sim", on_error="return")
    missing = [w for w, v in found.items() if isinstance(v, BaseException)]
    if missing:
        raise UserError(f"Dask workers without coprod-sim installed: {', '.join(sorted(missing))}; install the same "
                        "version on every worker")
    identities = client.run(_identity, on_error="return")
    mine = _identity()
    differ = {w: i for w, i in identities.items() if tuple(i) != mine} if identities else {}
    if differ:
        listing = "; ".join(f"{w}: {i}" for w, i in sorted(differ.items()))
        raise UserError(f"Dask workers run another coprod-sim than this one ({mine[0]}, code fingerprint {mine[1]}): "
                        f"{listing}")
    if not found:
        raise UserError("the Dask scheduler has no workers; start some with `dask worker ADDRESS`")
    return len(found)
