"""The suite's own hygiene: a process a test leaves behind fails the session, and is killed."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import psutil
from conftest import ROOT, SESSION_MARK, run_python


def test_a_process_left_behind_fails_the_session_and_is_killed(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(textwrap.dedent("""\
        import subprocess, sys

        def test_leaves_a_sleeper():
            proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
            open("sleeper.pid", "w").write(str(proc.pid))
        """))
    env = {k: v for k, v in os.environ.items() if k != SESSION_MARK}  # the inner session gets its own mark
    env["PYTHONPATH"] = str(ROOT / "tests")
    done = run_python(["-m", "pytest", "-p", "conftest", "-q", "-p", "no:cacheprovider", "test_leaky.py"],
                      tmp_path, env=env, clear_env=True)
    assert done.returncode == 1 and "1 passed" in done.stdout
    assert "1 process(es) started by the tests outlived them (killed now)" in done.stdout
    assert "time.sleep(600)" in done.stdout
    pid = int((tmp_path / "sleeper.pid").read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
