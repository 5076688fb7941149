"""The app's server: no outbound fetch, no traceback for the browser, and it ends with its launcher."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
from conftest import patience

from coprod_sim.app.driver import free_port, port_is_free, serve
from coprod_sim.app.launcher import WS_PING_INTERVAL_S

ROOT = Path(__file__).resolve().parents[1]


def _status(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_missing_asset_is_not_fetched_and_killed_launcher_leaves_no_server(tmp_path):
    """Also: ``--servers 2`` serves on two consecutive ports, each answering only its own host names."""
    port = free_port(consecutive=2)  # --servers 2 serves on two consecutive ports
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "coprod_sim", "viz", "--port", str(port), "--servers", "2"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    launcher = psutil.Process(proc.pid)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if _status(f"http://127.0.0.1:{port}/") == 200 and _status(f"http://127.0.0.1:{port + 1}/") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the app never answered"
            time.sleep(0.3)
        # a file that is not in the local assets: answered 404 at once, never fetched from a public CDN
        assert _status(f"http://127.0.0.1:{port}/_solara/cdn/left-pad@1.3.0/index.js") == 404
        # another site's name in the Host header (DNS rebinding): refused; our own names: served
        for p in (port, port + 1):
            assert _status(f"http://127.0.0.1:{p}/", host=f"attacker.example:{p}") == 400
            assert _status(f"http://127.0.0.1:{p}/", host=f"localhost:{p}") == 200
        servers = launcher.children(recursive=True)
        assert servers
    finally:
        proc.kill()  # kill -9: no chance to stop its child
        proc.wait()
        log.close()
    _, alive = psutil.wait_procs(servers, timeout=20)
    assert not alive, "the app server outlived its launcher"
    assert "refused to fetch" in (tmp_path / "server.log").read_text()


def test_viz_reports_an_invalid_scenario_in_the_terminal_and_starts_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("government: {resistance: high}\n", encoding="utf-8")
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "coprod_sim", "viz", str(bad), "--port", str(port)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "not a valid scenario" in done.stderr and "government.resistance" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and port_is_free(port)


def test_browser_gets_a_generic_error_and_the_log_the_traceback(caplog):
    from coprod_sim.app import guard

    guard.install()
    import solara.server.app

    try:
        raise RuntimeError("secret detail")
    except RuntimeError as exc:
        shown = "".join(solara.server.app.traceback.format_exception(None, exc, exc.__traceback__))
    assert shown == guard.GENERIC_ERROR and "secret detail" not in shown
    assert "secret detail" in caplog.text and "Traceback" in caplog.text
    with pytest.raises(Exception, match=r"example\.invalid"):
        import solara.server.cdn_helper

        solara.server.cdn_helper.fetch_from_cdn("https://example.invalid/x.js")


def _frames(sock, until: float, stop_at: int | None = None) -> list[int]:
    """Opcodes of the websocket frames the server sends before ``until`` (monotonic) or up to the first
    ``stop_at``, read without ever answering; a closed connection ends the list with 0x8 (a close frame, or the
    connection dropped)."""
    opcodes, buffer = [], b""
    while time.monotonic() < until:
        sock.settimeout(max(0.05, min(1.0, until - time.monotonic())))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:  # reset by the server
            return [*opcodes, 0x8]
        if not chunk:
            return [*opcodes, 0x8]
        buffer += chunk
        while len(buffer) >= 2:  # server frames are unmasked; pings and closes are short
            size = buffer[1] & 0x7F
            head = 2 + {126: 2, 127: 8}.get(size, 0)
            if size >= 126:
                if len(buffer) < head:
                    break
                size = int.from_bytes(buffer[2:head], "big")
            if len(buffer) < head + size:
                break
            opcodes.append(buffer[0] & 0x0F)
            buffer = buffer[head + size:]
            if opcodes[-1] in (0x8, stop_at):
                return opcodes
    return opcodes


def test_server_waits_for_a_busy_browsers_answer_to_its_ping():
    """While a class opens the page a browser's answer to the server's keepalive ping can come late (the server
    is busy rendering every tab); uvicorn's 20 s dropped such connections, and on a machine short of CPU some of
    30 tabs opened at once never opened. The server still pings (a vanished browser is noticed) but keeps a
    connection whose answer is late."""
    with serve([], ROOT, timeout=patience(30)) as (url, _):
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=patience(10)) as sock:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall((f"GET /jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()} HTTP/1.1\r\n"
                          f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(1)
            assert answer.startswith(b"HTTP/1.1 101"), answer
            first = _frames(sock, time.monotonic() + patience(WS_PING_INTERVAL_S), stop_at=0x9)
            assert 0x9 in first and 0x8 not in first, f"expected a ping, got frames {first}"
            # never answered: uvicorn's default would have closed the connection 20 s after the ping
            later = _frames(sock, time.monotonic() + 30)
            assert 0x8 not in later, f"the server dropped a browser whose answer was 30 s late (frames {later})"
