"""Server-side hardening of the app, installed when the page module is imported in the Solara server.

* **No outbound fetch.** Solara proxies ``/_solara/cdn/<path>``: a file missing from
  the local asset folder is fetched from a public CDN. Our assets are all local
  (``solara-assets``, checked by the launcher), so any request for a missing file is
  answered 404 instead of making the server contact the internet on a visitor's behalf.
* **No tracebacks in the browser.** Solara shows a server exception's full
  traceback (source paths included) in the page; the browser gets a generic
  message, the server log keeps the details.
* **Only our own host names.** A request whose ``Host`` header is not one the launcher allowed
  (``ALLOWED_HOSTS_ENV``: the loopback names and the bound address) gets 400: a web page elsewhere cannot
  reach the app through DNS rebinding.
* **No orphan server.** The server ends itself soon after the ``coprod-sim viz``
  that started it disappears, even after ``kill -9`` (``LAUNCHER_PID_ENV``).
"""

from __future__ import annotations

import logging
import os
import traceback
from typing import Any

from .launcher import ALLOWED_HOSTS_ENV, LAUNCHER_PID_ENV, LOOPBACK

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
    """Apply the four rules above to this (server) process; idempotent."""
    import solara.server.app
    import solara.server.cdn_helper
    import solara.server.patch

    solara.server.cdn_helper.fetch_from_cdn = _refuse_fetch
    solara.server.app.traceback = _TracebackForBrowser()  # type: ignore[assignment]
    solara.server.patch.traceback = _TracebackForBrowser()  # type: ignore[assignment]
    _check_hosts()
    launcher = os.environ.get(LAUNCHER_PID_ENV)
    if launcher and launcher.isdigit():
        from ..processes import exit_with

        exit_with(int(launcher))


def _check_hosts() -> None:
    """Wrap Solara's ASGI app in Starlette's TrustedHostMiddleware. The page module is imported while the
    server starts (Solara's lifespan), after Starlette built its middleware stack and before any request,
    so the stack is wrapped in place (``add_middleware`` is refused once the app runs)."""
    from solara.server import starlette as server
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    hosts = [h for h in os.environ.get(ALLOWED_HOSTS_ENV, ",".join(LOOPBACK)).split(",") if h]
    app = server.app
    if isinstance(app.middleware_stack, TrustedHostMiddleware):
        return
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    app.middleware_stack = TrustedHostMiddleware(app.middleware_stack, allowed_hosts=hosts, www_redirect=False)
