"""A time limit for one run, enforced from outside the model.

The model has no notion of time; a run that takes too long (a bad parameter
combination, a bug, a test hook that hangs) is stopped by a watchdog thread that
raises :class:`RunTimeout` inside the thread doing the run (CPython's
``PyThreadState_SetAsyncExc``). That works on every backend, including Dask
worker threads where signals cannot be used. Code that never returns to the
interpreter (a hang inside a C call) cannot be interrupted that way: with
``hard_exit`` the watchdog then ends the whole process after a grace period, so a
supervisor (the process pool, the Dask nanny) sees a dead worker instead of a
silent hang.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator

HARD_EXIT_CODE = 124  # as timeout(1): the process ran out of time
GRACE_S = 10.0  # after the limit, how long a run may take to unwind before the process is ended


class RunTimeout(BaseException):
    """The run exceeded its time limit.

    A BaseException, like KeyboardInterrupt, so that model code catching ``Exception``
    cannot swallow it and the run really stops.
    """


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


@contextlib.contextmanager
def deadline(seconds: float | None, hard_exit: bool = False) -> Iterator[None]:
    """Raise :class:`RunTimeout` in the calling thread if the block lasts longer than ``seconds``.

    ``None`` or 0: no limit. ``hard_exit`` (worker processes only, never the user's own
    process): end the process if the block has not stopped ``GRACE_S`` after the limit.
    """
    if not seconds:
        yield
        return
    target = threading.get_ident()
    state = threading.Lock()
    finished = threading.Event()
    fired = []

    def watch() -> None:
        if finished.wait(seconds):
            return
        with state:
            if finished.is_set():
                return
            fired.append(True)
            _raise_in(target, RunTimeout)
        if hard_exit and not finished.wait(GRACE_S):
            os._exit(HARD_EXIT_CODE)

    watcher = threading.Thread(target=watch, name="run-deadline", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        with state:
            finished.set()
            if fired:  # the exception may still be pending if the block ended just as it fired
                _raise_in(target, None)
