"""Process helpers every layer may use: is a process gone, and ending this one when another is.

Sweep workers end with the sweep that started them, and the browser app's server
with its launcher, even after ``kill -9`` of the parent: each polls its parent
with :func:`exit_with`. Shared here (beside ``errors`` and ``domain``) so neither
the app nor the sweeps reach into the other for it.
"""

from __future__ import annotations

import os
import threading
import time

import psutil

POLL_S = 0.5  # seconds between checks of the watched process


def gone(pid: int) -> bool:
    """Has process ``pid`` ended? A killed process stays a zombie until its parent reaps it, and a parent
    reading our shared output pipes reaps it only once we have closed them: a zombie counts as gone."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:  # alive, owned by someone else
        return False


def exit_with(pid: int) -> None:
    """End this process soon after process ``pid`` is gone (a daemon thread polls it)."""
    def watch() -> None:
        while not gone(pid):
            time.sleep(POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
