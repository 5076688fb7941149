"""The light core: without the [viz] and [dask] extras coprod-sim still runs the default scenario and sweeps
(serial and local processes), and what needs an extra says which one.

The extras' packages are hidden from a fresh interpreter (and the worker processes it starts) by a
``sitecustomize`` on PYTHONPATH that refuses to import them, as if they were not installed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import run_python

EXTRAS = ("solara", "ipyvue", "ipyvuetify", "dask", "distributed", "altair", "ema_workbench")
SPEC = ('{"base": "baseline", "set": {"population.residents": 1000, "space.community_size": 1000, "run.steps": 3, '
        '"run.outcome_window": 3, "run.spin_up": 0}, "replicates": 2, "seed": 5, '
        '"design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.1, 0.3]}}}')


def _without_extras(tmp_path: Path) -> dict[str, str]:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(textwrap.dedent(f"""\
        import importlib.abc, sys

        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {EXTRAS!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, Hide())
        """))
    return {"PYTHONPATH": str(hide)}


def test_the_core_runs_and_sweeps_without_the_extras(tmp_path: Path) -> None:
    env = _without_extras(tmp_path)
    (tmp_path / "check.py").write_text(textwrap.dedent(f"""\
        import sys
        import coprod_sim

        if __name__ == "__main__":
            result = coprod_sim.run("baseline", params={{"run.steps": 3, "run.outcome_window": 3}}, seed=1)
            print("run", result.manifest["status"] if "status" in result.manifest else "done")
            for backend in ("serial", "processes"):
                report = coprod_sim.sweep({SPEC}, out=backend, backend=backend, workers=2)
                print(backend, report.statuses)
            print("hidden", sorted(m for m in sys.modules if m.split(".")[0] in {EXTRAS!r}))
        """))
    done = run_python(["check.py"], tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "serial {'ok': 4}" in done.stdout and "processes {'ok': 4}" in done.stdout
    assert "hidden []" in done.stdout


def test_what_needs_an_extra_names_it(tmp_path: Path) -> None:
    env = _without_extras(tmp_path)
    (tmp_path / "spec.yaml").write_text(SPEC)
    done = run_python(["-m", "coprod_sim", "sweep", "spec.yaml", "--backend", "dask"], tmp_path, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "the dask backend needs distributed, which is not installed: pip install 'coprod-sim[dask]'" in done.stderr
    done = run_python(["-m", "coprod_sim", "viz"], tmp_path, env=env)
    assert done.returncode == 2 and "pip install 'coprod-sim[viz]'" in done.stderr and "Traceback" not in done.stderr
