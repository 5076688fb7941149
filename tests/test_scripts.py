"""Analysts' own scripts: an unguarded script gets a clear error before any worker starts, and a sweep
whose runs are all lost raises instead of handing back a table of NaNs.

Each script runs as a real ``python script.py`` in a subprocess: only then does multiprocessing
re-run the main module in its workers, the situation the guard exists for.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import run_python

SPEC = ('{"base": "baseline", "set": {"population.residents": 1000, "space.community_size": 1000, "run.steps": 3, '
        '"run.outcome_window": 3, "run.spin_up": 0}, "replicates": 2, "seed": 5, '
        '"design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.3]}}}')


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "analysis.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_unguarded_script_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    _script(tmp_path, f"""\
        import coprod_sim

        report = coprod_sim.sweep({SPEC}, out="out", backend="processes", workers=2)
        print("returned", report.statuses)
        """)
    done = run_python(["analysis.py"], tmp_path)
    assert done.returncode == 1, done.stderr
    assert "UserError" in done.stderr and "analysis.py, line 3" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr and "docs/python.md#scripts" in done.stderr
    assert "returned" not in done.stdout and not (tmp_path / "out").exists()  # refused before anything ran


def test_a_function_called_from_the_unguarded_top_level_is_refused_too(tmp_path: Path) -> None:
    _script(tmp_path, """\
        import coprod_sim

        def main():
            return coprod_sim.compare(["baseline", "party_led"], replicates=2, out="out", backend="dask")

        main()
        """)
    done = run_python(["analysis.py"], tmp_path)
    assert done.returncode == 1 and "analysis.py, line 6" in done.stderr, done.stderr


def test_guarded_script_runs_and_serial_needs_no_guard(tmp_path: Path) -> None:
    _script(tmp_path, f"""\
        import coprod_sim

        spec = {SPEC}
        spec["design"]["parameters"]["incentive.assessment_weight"] = [0.1]
        print("serial", coprod_sim.sweep(spec, out="serial", backend="serial").statuses)

        if __name__ == "__main__":
            print("processes", coprod_sim.sweep(spec, out="procs", backend="processes", workers=2).statuses)
        """)
    done = run_python(["analysis.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "serial {'ok': 2}" in done.stdout and "processes {'ok': 2}" in done.stdout


def test_a_sweep_whose_runs_are_all_lost_raises(tmp_path: Path) -> None:
    _script(tmp_path, f"""\
        import coprod_sim
        from coprod_sim import SweepFailed

        spec = {SPEC}
        spec["fault_injection"] = {{"fail_when": {{"incentive.assessment_weight": 0.3}}, "action": "exit"}}
        if __name__ == "__main__":
            try:
                coprod_sim.sweep(spec, out="out", backend="processes", workers=2, max_attempts=1)
            except SweepFailed as err:
                print("refused:", err)
                print("statuses:", err.report.statuses)
        """)
    done = run_python(["analysis.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "none of the 2 runs gave results (2 worker_lost: the worker process died" in done.stdout
    assert "statuses: {'worker_lost': 2}" in done.stdout
    assert "PerformanceWarning" not in done.stderr
