"""A supervised pool of local worker processes: a dead or hung worker costs one run, not the sweep.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one worker
dies (every pending batch fails, and re-running never completes if a run kills
its worker each time). Here each worker holds one batch at a time, so the
supervisor knows what a dead worker was doing:

* a worker that dies is replaced; its batch is split into single runs, so the
  run that kills its worker is found; that run is tried ``max_attempts`` times
  in all and then recorded as ``worker_lost`` with the reason;
* a worker still busy well after its runs' time limit (a hang the in-worker
  deadline could not stop) is killed and the run recorded as ``timeout``;
* workers ignore Ctrl+C (the supervisor decides), end themselves when the
  process that started them disappears (even after ``kill -9``), and are all
  ended when the supervisor stops for any reason.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..processes import POLL_S, exit_with
from ..runs.deadline import GRACE_S
from .spec import RunTask
from .worker import execute_batch, freeze_once, task_row

Outcome = tuple[list[RunTask], dict[str, list[dict]] | BaseException]


def _worker_main(conn: multiprocessing.connection.Connection, args: tuple, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with(parent)
    while True:
        try:
            tasks = conn.recv()
        except (EOFError, OSError):
            return
        if tasks is None:
            return
        try:
            answer: dict | BaseException = execute_batch(tasks, *args)
        except Exception as exc:  # not a run's failure (those are rows): the batch is reported lost
            answer = exc
        conn.send(answer)
        freeze_once()


@dataclass
class _Worker:
    process: Any
    conn: multiprocessing.connection.Connection
    tasks: list[RunTask] | None = None
    since: float = 0.0

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class Supervisor:
    """Runs batches on ``workers`` processes, replacing dead ones; see the module docstring."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, args: tuple, workers: int, timeout: float | None,
                 max_attempts: int):
        self.ctx, self.args, self.size = ctx, args, workers
        self.timeout, self.max_attempts = timeout, max_attempts
        self.queue: collections.deque[list[RunTask]] = collections.deque()
        self.deaths: collections.Counter[str] = collections.Counter()
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        mine, theirs = self.ctx.Pipe()
        process = self.ctx.Process(target=_worker_main, args=(theirs, self.args, os.getpid()), daemon=True)  # type: ignore[attr-defined]
        process.start()
        theirs.close()
        return _Worker(process, mine)

    def run(self, batches: list[list[RunTask]]) -> Iterator[Outcome]:
        self.queue.extend(batches)
        try:
            self.workers = [self._start() for _ in range(min(self.size, len(batches)))]
            while self.queue or any(w.tasks for w in self.workers):
                self._assign()
                busy = [w for w in self.workers if w.tasks]
                multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                                timeout=POLL_S)
                for worker in busy:
                    yield from self._check(worker)
        finally:
            for worker in self.workers:
                worker.stop()

    def _assign(self) -> None:
        for i, worker in enumerate(self.workers):
            if not self.queue:
                return
            if worker.tasks is None:
                if not worker.process.is_alive():
                    worker.stop()
                    worker = self.workers[i] = self._start()
                worker.tasks, worker.since = self.queue.popleft(), time.monotonic()
                worker.conn.send(worker.tasks)

    def _check(self, worker: _Worker) -> Iterator[Outcome]:
        tasks = worker.tasks
        assert tasks is not None
        try:
            if worker.conn.poll():
                result = worker.conn.recv()
                worker.tasks = None
                yield tasks, result
                return
        except (EOFError, OSError):
            pass
        if worker.process.is_alive() and not self._overdue(worker):
            return
        if worker.process.is_alive():  # hung beyond its runs' time limit: the in-worker deadline failed
            reason = f"timeout: no answer {self._budget(tasks):.0f} s after the run started; its worker was ended"
            status = "timeout"
        else:
            reason = f"the worker process died (exit code {worker.process.exitcode})"
            status = "worker_lost"
        worker.stop()
        worker.tasks = None
        yield from self._after_loss(tasks, status, reason)

    def _budget(self, tasks: list[RunTask]) -> float:
        return len(tasks) * (self.timeout or 0) + GRACE_S * 2

    def _overdue(self, worker: _Worker) -> bool:
        return bool(self.timeout) and time.monotonic() - worker.since > self._budget(worker.tasks or [])

    def _after_loss(self, tasks: list[RunTask], status: str, reason: str) -> Iterator[Outcome]:
        """Split a lost batch into single runs; a single run is retried until ``max_attempts``, then recorded."""
        if len(tasks) > 1:
            self.queue.extend([t] for t in tasks)
            return
        task = tasks[0]
        self.deaths[task.run_key] += 1
        if status == "worker_lost" and self.deaths[task.run_key] < self.max_attempts:
            self.queue.append([task])
            return
        tries = self.deaths[task.run_key]
        yield [task], {"runs": [task_row(task, status, reason + (f", on each of {tries} attempts" if tries > 1 else ""))],
                       "steps": []}
