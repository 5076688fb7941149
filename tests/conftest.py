"""Shared fixtures, and the rule that CI never passes by skipping."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from coprod_sim.config import load_config

ROOT = Path(__file__).resolve().parents[1]
# every process the suite starts inherits this mark (xdist workers, subprocesses, their workers), so the
# session can find, at its end, any it left behind
SESSION_MARK = "COPROD_TEST_SESSION"
os.environ.setdefault(SESSION_MARK, uuid.uuid4().hex)
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))

# Small but complete: 4 communities, every mechanism active, ~0.1 s per run.
# No spin-up: mechanism tests start from the documented initial state (tests of the spin-up set their own).
SMALL_PARAMS = {"population.residents": 4000, "space.community_size": 1000, "run.steps": 24, "run.outcome_window": 6,
                "run.spin_up": 0}
SMALL = [f"{k}={v}" for k, v in SMALL_PARAMS.items()]


@pytest.fixture
def small_cfg():
    return load_config(ROOT / "configs" / "baseline.yaml", SMALL)


def small(config: str | Path = "baseline", extra: list[str] | None = None) -> dict:
    path = config if isinstance(config, Path) else ROOT / "configs" / f"{config}.yaml"
    return load_config(path, SMALL + (extra or []))


def same(*summaries: dict) -> bool:
    """Summaries equal value for value, a missing (NaN) outcome equal to a missing one."""
    from coprod_sim.runs import dumps_summary

    return len({dumps_summary(s) for s in summaries}) == 1


def approval_waits(model) -> list[int]:
    """Months each facility that needed approval waited: until approved, or so far if still pending
    (censoring-aware, over the whole run; the monthly outcome is a flow that can be undefined)."""
    from coprod_sim.model import Facility

    return [f.approval_delay if f.active else model.month - f.created
            for f in model.agents_by_type.get(Facility, []) if f.needed_approval]


def patience(seconds: float) -> float:
    """A wait for something that takes ``seconds`` on an idle machine, stretched by the current load:
    a loaded 2-core machine must not fail a test by being slow."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * max(3.0, 3.0 * load)


def kill_tree(proc: subprocess.Popen | psutil.Process) -> None:
    """End a process and everything it started (children first found, then killed together)."""
    try:
        root = psutil.Process(proc.pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        family = []
    for p in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(family, timeout=10)
    if isinstance(proc, subprocess.Popen):
        proc.wait(timeout=10)


def load_script(path: Path, name: str | None = None):
    """A script of the repo (scripts/, experiments/, ...) as a module, for testing its functions; its folder's
    modules import, as ``python script.py`` would let them."""
    spec = importlib.util.spec_from_file_location(name or f"_script_{path.stem}", path)
    assert spec and spec.loader, f"{path} is not a Python file"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def run_python(args: list[str], cwd: Path, seconds: float = 60, env: dict | None = None, clear_env: bool = False
               ) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in ``cwd`` with the test's interpreter (environment: ours plus ``env``, or only ``env``
    with ``clear_env``); its whole process tree is ended afterwards."""
    proc = subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(env or {}) if clear_env else {**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=patience(seconds))
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        kill_tree(proc)


def left_behind() -> list[psutil.Process]:
    """Live processes of this test session other than this one (found by the inherited mark)."""
    mark, found = os.environ[SESSION_MARK], []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE and \
                    proc.environ().get(SESSION_MARK) == mark and not _own_helper(proc):
                found.append(proc)
        except (psutil.Error, OSError):  # gone meanwhile, or another user's
            continue
    return found


def _own_helper(proc: psutil.Process) -> bool:
    """multiprocessing's forkserver and resource tracker of this very process: they end with it."""
    return proc.ppid() == os.getpid() and any(f"multiprocessing.{name}" in " ".join(proc.cmdline())
                                               for name in ("forkserver", "resource_tracker"))


@pytest.hookimpl(trylast=True)  # after xdist has ended its workers
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skipped test is a failure: CI must not pass by skipping. And no process the suite
    started may outlive it: survivors are named, killed, and fail the session."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(f"ERROR: {skipped} test(s) skipped under CI; CI must not pass by skipping", red=True)
        session.exitstatus = 1
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks, once all are done
        return
    _, alive = psutil.wait_procs(left_behind(), timeout=patience(5))  # workers end themselves within a second
    if alive:
        names = "; ".join(f"pid {p.pid}: {' '.join(p.cmdline())[:160]}" for p in alive if p.is_running())
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if reporter:
            reporter.write_line(f"ERROR: {len(alive)} process(es) started by the tests outlived them (killed now): "
                                f"{names}", red=True)
        session.exitstatus = 1
