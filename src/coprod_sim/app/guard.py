"""Server-side hardening of the app, installed when the page module is imported in the Solara server.

* **No outbound fetch.** Solara proxies ``/_solara/cdn/<path>``: a file missing from
  the local asset folder is fetched from a public CDN. Our assets are all local
  (``solara-assets``, checked by the launcher), so any request for a missing file is
  answered 404 instead of making the server contact the internet on a visitor's behalf.
* **No tracebacks in the browser.** Solara shows a server exception's full
  traceback (source paths included) in the page; the browser gets a generic
  message, the server log keeps the details.
* **No orphan server.** The server ends itself soon after the ``coprod-sim viz``
  that started it disappears, even after ``kill -9`` (``LAUNCHER_PID_ENV``).
"""

from __future__ import annotations

import logging
import os
import traceback
from typing import Any

from .launcher import LAUNCHER_PID_ENV

GENERIC_ERROR = "Something went wrong in the app. The details are in the server's log; reload the page to start again."
log = logging.getLogger("coprod_sim.app")


class _NoCdn(Exception):
    """A front-end file that is not in the local asset folder: never fetched from the internet."""


def _refuse_fetch(url: str) -> bytes:
    log.warning("refused to fetch %s: the app serves local assets only", url)
    raise _NoCdn(url)


class _TracebackForBrowser:
    """Stands in for the ``traceback`` module where Solara formats errors for the page: logs the
    full traceback on the server and hands the page a generic message."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def format_exception(*args: Any, **kwargs: Any) -> list[str]:
        log.error("app error:\n%s", "".join(traceback.format_exception(*args, **kwargs)))
        return [GENERIC_ERROR]


def install() -> None:
    """Apply the three rules above to this (server) process; idempotent."""
    import solara.server.app
    import solara.server.cdn_helper
    import solara.server.patch

    solara.server.cdn_helper.fetch_from_cdn = _refuse_fetch
    solara.server.app.traceback = _TracebackForBrowser()  # type: ignore[assignment]
    solara.server.patch.traceback = _TracebackForBrowser()  # type: ignore[assignment]
    launcher = os.environ.get(LAUNCHER_PID_ENV)
    if launcher and launcher.isdigit():
        from ..processes import exit_with

        exit_with(int(launcher))
