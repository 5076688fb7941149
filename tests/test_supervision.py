"""Runs under supervision: honest statuses and exit codes, timeouts, dead workers, signals, locks, identity.

Faults are injected with the spec's ``fault_injection`` (a testing aid in the sweep layer, not in the
model): a matching run raises, gives a NaN outcome, hangs, or kills the process it runs in.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from conftest import SMALL_PARAMS, kill_tree, patience

from coprod_sim.cli import main
from coprod_sim.config import ConfigError
from coprod_sim.errors import UserError
from coprod_sim.model import OUTCOMES
from coprod_sim.sweeps import run_sweep
from coprod_sim.sweeps.engine import stale_note
from coprod_sim.sweeps.spec import build_plan, load_spec

ROOT = Path(__file__).resolve().parents[1]
FAST = {**SMALL_PARAMS, "population.residents": 1000, "run.steps": 6, "run.outcome_window": 6}
MATCH = {"incentive.assessment_weight": 0.3}


def spec(fault: str | None = None, **extra) -> dict:
    base = {"base": "baseline", "set": FAST, "seed": 3, "replicates": 2,
            "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.025, 0.3]}}}
    if fault:
        base["fault_injection"] = {"fail_when": MATCH, "action": fault}
    base.update(extra)
    return base


def write_spec(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# ------------------------------------------------------------------ honest statuses
def test_nan_outcome_is_its_own_status_and_fails_the_sweep(tmp_path, capsys):
    path = write_spec(tmp_path, spec("nan", backend="serial"))
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out)]) == 1
    runs = pd.read_parquet(out / "runs.parquet")
    bad = runs[runs["incentive.assessment_weight"] == 0.3]
    assert (bad["status"] == "non_finite").all() and bad["error"].str.contains("quality.needs_met_share").all()
    assert (runs.loc[runs["incentive.assessment_weight"] != 0.3, "status"] == "ok").all()
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert manifest["counts"]["non_finite"] == 2 and manifest["counts"]["ok"] == 2
    assert "2 of 4 runs are not ok (2 non_finite)" in capsys.readouterr().err
    # a re-run with nothing left to do still says the sweep is not ok
    assert main(["sweep", str(path), "--out", str(out)]) == 1
    # plot says how many runs it left out, and fails because one design point has none
    assert main(["plot", str(out)]) == 1
    err = capsys.readouterr().err
    assert "2 of 4 runs are unusable and left out (2 non_finite)" in err and "no usable run for design point 1" in err


def test_legitimately_missing_outcomes_are_not_failures():
    from coprod_sim.model import OUTCOMES
    from coprod_sim.runs import non_finite_outcomes

    may = next(o.key for o in OUTCOMES if o.missing_when)
    must = next(o.key for o in OUTCOMES if not o.missing_when)
    assert non_finite_outcomes({may: math.nan, must: 1.0}) == []
    assert non_finite_outcomes({may: math.inf, must: math.nan}) == sorted([may, must])


def test_run_with_non_finite_outcome_exits_non_zero(tmp_path, monkeypatch, capsys):
    from coprod_sim.model import Model

    honest = Model.summary

    def broken(self):
        return {**honest(self), "quality.needs_met_share": math.nan}

    monkeypatch.setattr(Model, "summary", broken)
    sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
    assert main(["run", *sets, "--out", str(tmp_path / "r"), "--no-plots"]) == 1
    assert "not finite" in capsys.readouterr().err
    manifest = yaml.safe_load((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["status"] == "non_finite" and manifest["non_finite"] == ["quality.needs_met_share"]


def test_compare_fails_when_a_scenario_has_no_usable_run(tmp_path, monkeypatch, capsys):
    from coprod_sim.model import Model

    honest = Model.summary

    def broken(self):  # every run of the second scenario gives a NaN
        out = honest(self)
        if self.config.incentive.assessment_weight == 0.3:
            out["quality.needs_met_share"] = math.nan
        return out

    monkeypatch.setattr(Model, "summary", broken)
    other = tmp_path / "other.yaml"
    other.write_text("incentive:\n  assessment_weight: 0.3\n")
    sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
    code = main(["compare", "baseline", str(other), "--replicates", "2", *sets, "--backend", "serial",
                 "--out", str(tmp_path / "c")])
    captured = capsys.readouterr()
    assert code == 1
    assert "2 of 4 runs are unusable" in captured.err and f"no usable run for scenario {other}" in captured.err
    assert "nothing to compare" in captured.out


# ------------------------------------------------------------------ timeouts and dead workers, on every backend
def statuses(out: Path) -> dict[float, set[str]]:
    runs = pd.read_parquet(out / "runs.parquet")
    return {w: set(g["status"]) for w, g in runs.groupby("incentive.assessment_weight")}


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_hanging_run_is_stopped_and_recorded_as_timeout(tmp_path, backend):
    report = run_sweep(build_plan(spec("hang", timeout=5), "t"), tmp_path, backend=backend, workers=2,
                       batch_size=2)
    assert report.complete and not report.all_ok
    assert statuses(tmp_path) == {0.025: {"ok"}, 0.3: {"timeout"}}
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert runs.loc[runs["status"] == "timeout", "error"].str.contains("longer than 5 s").all()


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_run_that_kills_its_worker_is_retried_then_recorded(tmp_path, backend):
    report = run_sweep(build_plan(spec("exit", max_attempts=2), "t"), tmp_path, backend=backend, workers=2,
                       batch_size=4)
    assert report.complete and report.statuses == {"ok": 2, "worker_lost": 2}
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    lost = runs[runs["status"] == "worker_lost"]
    assert (lost["incentive.assessment_weight"] == 0.3).all() and lost["error"].str.contains("died").all()
    fresh = tmp_path / "fresh"
    run_sweep(build_plan(spec(), "t"), fresh, backend="serial")
    ref = pd.read_parquet(fresh / "runs.parquet").drop(columns="runtime_s")
    ok = runs[runs["status"] == "ok"].drop(columns="runtime_s")
    pd.testing.assert_frame_equal(ok.reset_index(drop=True),
                                  ref[ref["run_key"].isin(ok["run_key"])].reset_index(drop=True))


def _watch_local_cluster(monkeypatch, fail_first_close: bool = False) -> list[int]:
    """Record how many workers our local Dask cluster's scheduler holds when the sweep closes it; optionally
    let its first close fail as distributed's does mid-restart (the real close still runs afterwards)."""
    from coprod_sim.sweeps import backends

    seen: list[int] = []
    build = backends.local_cluster

    def watched(workers: int):
        cluster = build(workers)
        close = cluster.close

        def closing(*args, **kwargs):
            seen.append(len(cluster.scheduler.workers))
            if fail_first_close and len(seen) == 1:
                close(*args, **kwargs)  # leave nothing behind, then fail as distributed did
                raise AssertionError("can only join a started process")
            return close(*args, **kwargs)

        monkeypatch.setattr(cluster, "close", closing)
        return cluster

    monkeypatch.setattr(backends, "local_cluster", watched)
    return seen


def test_local_dask_cluster_closes_once_killed_workers_are_back(tmp_path, monkeypatch):
    """Closing while a nanny restarts a killed worker fails inside distributed (seen once in CI), so a finished
    sweep waits for its workers first."""
    seen = _watch_local_cluster(monkeypatch)
    report = run_sweep(build_plan(spec("exit", max_attempts=2), "t"), tmp_path, backend="dask", workers=2,
                       batch_size=4)
    assert report.complete and report.statuses == {"ok": 2, "worker_lost": 2}
    assert seen == [2]


def test_local_dask_cluster_that_fails_to_close_after_the_sweep_loses_nothing(tmp_path, monkeypatch, capsys):
    _watch_local_cluster(monkeypatch, fail_first_close=True)
    report = run_sweep(build_plan(spec(), "t"), tmp_path, backend="dask", workers=2)
    assert report.complete and report.all_ok
    assert len(pd.read_parquet(tmp_path / "runs.parquet")) == 4
    err = capsys.readouterr().err
    assert "local Dask cluster did not close cleanly (AssertionError: can only join a started process)" in err

def test_timeout_option_is_checked(tmp_path, capsys):
    path = write_spec(tmp_path, spec())
    assert main(["sweep", str(path), "--timeout", "0"]) == 2
    assert "--timeout: expected seconds" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="timeout: expected seconds per run"):
        build_plan(spec(timeout="soon"), "t")


# ------------------------------------------------------------------ signals: stop promptly, leave nothing behind
# Launches the sweep with a stated SIGINT disposition, whatever the test runner inherited: a shell's
# background job (`cmd &`, `nohup`) starts with SIGINT ignored, exec keeps that, and Python then never
# raises KeyboardInterrupt. A suite started that way once saw Ctrl+C "lost" (issue 21, item 7).
AS_LAUNCHED = ("import os, signal, sys; "
               "signal.signal(signal.SIGINT, signal.SIG_IGN if sys.argv[1] == 'ignored' else signal.SIG_DFL); "
               "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])")


def start_sweep(tmp_path: Path, backend: str, interrupt: str = "default",
                **extra) -> tuple[subprocess.Popen, Path, psutil.Process]:
    """A sweep in its own process whose runs hang (so it is surely mid-way), once its workers are up.

    ``interrupt`` is the SIGINT disposition it starts with: "default" as from a terminal, "ignored" as
    a background job of a shell."""
    path = write_spec(tmp_path, spec("hang", replicates=4, **extra))
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-c", AS_LAUNCHED, interrupt, "-m", "coprod_sim", "sweep", str(path),
                             "--out", str(out), "--backend", backend, "--workers", "2", "--batch-size", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + patience(30)
    workers = 0 if backend == "serial" else 2
    try:
        while len(list((out / "shards").glob("runs-*.parquet"))) < 2 or len(parent.children(recursive=True)) < workers:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep never got going"
            time.sleep(0.1)
    except BaseException:  # never leave a hanging sweep behind
        kill_tree(proc)
        raise
    return proc, out, parent


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {process.status()} {' '.join(process.cmdline())[:120]}"
    except psutil.Error:
        return f"{process.pid} gone"


def gone(processes: list[psutil.Process], within: float = 20) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=within)
    return not alive


@pytest.mark.parametrize(("backend", "how", "interrupt"),
                         [("processes", signal.SIGTERM, "default"), ("processes", signal.SIGINT, "default"),
                          ("dask", signal.SIGTERM, "default"), ("processes", signal.SIGKILL, "default"),
                          ("dask", signal.SIGKILL, "default"),
                          # a background sweep ignores Ctrl+C, as the shell asked; `kill PID` still stops it
                          ("processes", signal.SIGTERM, "ignored")])
def test_stopped_sweep_leaves_no_process_and_resumes(tmp_path, backend, how, interrupt):
    proc, out, parent = start_sweep(tmp_path, backend, interrupt)
    children = parent.children(recursive=True)
    try:
        (os.killpg if how == signal.SIGINT else os.kill)(proc.pid, how)  # Ctrl+C reaches the whole process group
        try:
            proc.communicate(timeout=patience(20))
        except subprocess.TimeoutExpired:  # say which process kept the sweep (or its output pipes) alive
            pytest.fail("the sweep did not end: " + "; ".join(_describe(p) for p in [parent, *children]))
        assert gone(children, patience(7)), [c.cmdline() for c in children if c.is_running()]
    finally:  # the sweep's runs hang: a failing test must not leave it running
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
        kill_tree(proc)
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    if how == signal.SIGKILL:
        assert manifest["status"] == "running" and "stopped without finishing" in stale_note(out, manifest)
    else:
        assert proc.returncode == 130 and manifest["status"] == "interrupted" and stale_note(out, manifest) is None
    # the same command without the hang finishes the sweep, every run once
    path = write_spec(tmp_path, spec(replicates=4))
    report = run_sweep(load_spec(path), out, backend="serial")
    assert report.all_ok and report.resumed >= 2 and report.total == 8
    assert pd.read_parquet(out / "runs.parquet")["run_key"].is_unique


def test_two_sweeps_cannot_write_one_folder(tmp_path):
    proc, out, _ = start_sweep(tmp_path, "serial")
    try:
        with pytest.raises(UserError, match=rf"in use by another sweep \(pid {proc.pid} on"):
            run_sweep(build_plan(spec(), "t"), out, backend="serial")
    finally:  # never leave the sweep behind, even when the test fails
        kill_tree(proc)


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = write_spec(tmp_path, spec())
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert manifest["status"] != "running"


@pytest.mark.parametrize("answer", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\xff" * 8 + b"x" * 64, b"", None],
                         ids=["text", "huge-length", "closes", "silent"])
def test_an_address_that_is_not_a_scheduler_is_a_clear_error(tmp_path, capsys, answer):
    """A service on the port that is not Dask: text, a frame length of exabytes, a closed or a silent
    connection. Dask's client alone would hang or try to allocate 3 EiB."""
    import threading


    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                accepted.append(conn)
                if answer is not None:
                    conn.sendall(answer)
                if answer == b"":
                    conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    path = write_spec(tmp_path, spec())
    try:
        start = time.monotonic()
        code = main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", f"tcp://127.0.0.1:{port}"])
        seconds = time.monotonic() - start
    finally:
        server.close()
        for conn in accepted:
            conn.close()
        thread.join(timeout=10)
    err = capsys.readouterr().err
    assert code == 2 and f"--scheduler tcp://127.0.0.1:{port}: answers, but not as a Dask scheduler" in err, err
    assert "Traceback" not in err and seconds < patience(5)  # the probe gives up after 10 s


def test_local_dask_cluster_serves_no_http_page():
    from coprod_sim.sweeps.backends import _fast_dask_workers, local_cluster

    with _fast_dask_workers(3):
        cluster = local_cluster(1)
    try:
        me = psutil.Process()
        ports = {c.laddr.port for p in [me, *me.children(recursive=True)] for c in p.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
        answers = []
        for port in ports:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /info/main/workers.html HTTP/1.0\r\n\r\n")
                answers.append(s.recv(12))
        assert b"HTTP/1.1 200" not in answers and b"HTTP/1.1 404" in answers  # HTTP spoken, nothing served
        assert 8787 not in ports
    finally:
        cluster.close()


# ------------------------------------------------------------------ no mixed results
def test_changed_outputs_rerun_instead_of_reusing_rows(tmp_path):
    narrow = spec(outputs={"summary": ["quality.needs_met_share"], "steps": ["quality.needs_met_share"]})
    first = run_sweep(build_plan(narrow, "t"), tmp_path, backend="serial")
    assert first.all_ok
    wide = spec(outputs={"summary": "all", "steps": ["quality.needs_met_share", "cost.public_spending"]})
    again = run_sweep(build_plan(wide, "t"), tmp_path, backend="serial")  # a per-step outcome added: no KeyError
    assert again.resumed == 0 and again.all_ok
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    steps = pd.read_parquet(tmp_path / "steps.parquet")
    must = [o.key for o in OUTCOMES if not o.missing_when]
    assert runs[must].notna().all().all() and len(runs) == 4
    assert steps["cost.public_spending"].notna().all() and len(steps) == 4 * FAST["run.steps"]


def test_resume_by_another_code_version_is_refused_unless_forced(tmp_path, capsys):
    from coprod_sim.sweeps.integrity import read_manifest, write_manifest

    run_sweep(build_plan(spec(), "t"), tmp_path, backend="serial")
    manifest = read_manifest(tmp_path)
    write_manifest(tmp_path, {**manifest, "code_fingerprint": "0" * 16, "git_commit": "abc"})
    with pytest.raises(UserError, match=r"fingerprint 0{16}, commit abc.*results of two code versions would mix"
                                        r".*--force"):
        run_sweep(build_plan(spec(), "t"), tmp_path, backend="serial")
    report = run_sweep(build_plan(spec(replicates=3), "t"), tmp_path, backend="serial", force=True)
    assert report.resumed == 4 and report.all_ok
    assert "resuming anyway (--force)" in capsys.readouterr().err
    assert read_manifest(tmp_path)["forced_over"]["fingerprint"] == "0" * 16


def test_run_out_refuses_another_runs_folder_unless_forced(tmp_path, capsys):
    sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
    out = tmp_path / "r"
    assert main(["run", *sets, "--out", str(out)]) == 0
    assert main(["run", *sets, "--out", str(out), "--no-plots"]) == 0  # the same run again: allowed
    assert not list(out.glob("*.png")), "old plots must not stay beside a new run"
    assert main(["run", *sets, "--seed", "1", "--out", str(out)]) == 2
    assert "holds the results of another run" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["seed"] == 0
    (out / "timeseries.partial.parquet").write_bytes(b"stale")
    assert main(["run", *sets, "--seed", "1", "--out", str(out), "--force", "--no-plots"]) == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    assert not (out / "timeseries.partial.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left"
    assert main(["run", *sets, "--out", str(tmp_path / "r" / "summary.json")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


class FakeClient:
    """What check_workers asks of a Dask client: ``run`` a function on every worker."""

    def __init__(self, answers: dict):
        self.answers = answers

    def run(self, function, *args, on_error="raise"):
        return {w: (a[0] if function.__name__ == "version" else a[1]) for w, a in self.answers.items()}


def test_workers_must_run_the_same_coprod_sim():
    from coprod_sim.sweeps.backends import _identity, check_workers

    mine = _identity()
    assert check_workers(FakeClient({"tcp://a": (mine[0], mine), "tcp://b": (mine[0], mine)})) == 2
    with pytest.raises(UserError, match="without coprod-sim installed: tcp://b"):
        check_workers(FakeClient({"tcp://a": (mine[0], mine), "tcp://b": (ModuleNotFoundError("x"), None)}))
    with pytest.raises(UserError, match=r"run another coprod-sim than this one .*tcp://b"):
        check_workers(FakeClient({"tcp://a": (mine[0], mine), "tcp://b": ("0.0.1", ("0.0.1", "abc"))}))
    with pytest.raises(UserError, match="no workers"):
        check_workers(FakeClient({}))


# ------------------------------------------------------------------ a worker's memory
def _freeze_count(cfg, seed):
    """A stand-in run that reports how many objects its worker has taken out of the collector's full passes."""
    import gc
    from types import SimpleNamespace

    return SimpleNamespace(summary={"frozen": float(gc.get_freeze_count())}, timeseries=None)


def test_a_worker_takes_its_imports_out_of_the_collectors_passes_after_its_first_batch():
    from coprod_sim.sweeps.backends import _process_context
    from coprod_sim.sweeps.pool import _worker_main

    task = build_plan(spec(), "gc").tasks[0]
    ctx = _process_context()  # as the processes backend starts its workers (forkserver, our modules preloaded)
    ours, theirs = ctx.Pipe()
    worker = ctx.Process(target=_worker_main, args=(theirs, (["frozen"], [], None, None, _freeze_count, False),
                                                    os.getpid()), daemon=True)
    worker.start()
    try:
        frozen = []
        for _ in range(2):
            ours.send([task])
            frozen.append(ours.recv()["runs"][0]["frozen"])
        ours.send(None)
        worker.join(patience(30))
        # the first batch loads the modules the runs use; then the worker freezes them
        assert frozen[1] > frozen[0] + 100_000
    finally:
        kill_tree(worker)


def test_our_local_dask_workers_take_their_imports_out_of_the_collectors_passes_after_their_first_batch():
    from coprod_sim.sweeps.backends import run_batches

    task = build_plan(spec(), "gc").tasks[0]
    # one worker runs the three batches one after another
    outcomes = list(run_batches([[task]] * 3, (["frozen"], [], None, None, _freeze_count), "dask", workers=1))
    frozen = sorted(result["runs"][0]["frozen"] for _, result in outcomes)
    # only the first batch ran before the freeze (later counts drop a little as frozen objects are freed)
    assert frozen[0] < 10_000 and frozen[1] > 100_000 and frozen[2] > 100_000
