"""The run command end to end, for every shipped scenario; params and docs agree."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import CONFIGS, ROOT, SMALL

from coprod_sim.cli import main
from coprod_sim.config import load_config, parameters_markdown, read_yaml, registry
from coprod_sim.model import HEADLINE_KEYS, SUMMARY_ONLY

SET = [arg for kv in SMALL for arg in ("--set", kv)]


def test_every_design_scenario_is_shipped_and_cites_a_seed():
    names = {p.stem for p in CONFIGS}
    assert {"baseline", "up_incentives", "down_mass_contact", "in_leading_group", "out_interest_binding",
            "party_led", "technology_only", "big_community", "one_station_many_committees", "admin_takeover",
            "canteen_subsidy_cut", "kpi_partial"} <= names
    for path in CONFIGS:
        meta = read_yaml(path)["scenario"]
        assert meta["name"] and meta["description"]
        assert any("seed" in s for s in meta["sources"]), path


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_run_writes_all_outputs(config, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(config), "--seed", "3", "--out", str(out), *SET]) == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in HEADLINE_KEYS:
        assert key in summary, key
    for level in range(1, 6):
        assert f"quality.satisfaction_share.{level}" in summary
    assert sum(summary[f"quality.satisfaction_share.{i}"] for i in range(1, 6)) == pytest.approx(1.0)
    assert 1.0 <= summary["quality.satisfaction_mean"] <= 5.0
    assert "quantity.capacity.meals" in summary and "quantity.services_delivered.firm" in summary
    frame = pd.read_parquet(out / "timeseries.parquet")
    assert len(frame) == 24 and set(summary) - {o.key for o in SUMMARY_ONLY} <= set(frame.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    # the run is long enough for the convergence diagnostic: its verdict is in the summary and the manifest
    assert summary["convergence.outcomes_drifting"] == len(manifest["convergence"]["drifting"])
    assert manifest["seed"] == 3 and manifest["config"]["population"]["residents"] == 4000
    assert "mesa" in manifest["versions"]
    assert len(list(out.glob("*.png"))) >= 5


def test_same_config_same_seed_byte_identical_summary(tmp_path):
    config = str(ROOT / "configs" / "baseline.yaml")
    for name in ("a", "b"):
        assert main(["run", config, "--seed", "5", "--out", str(tmp_path / name), "--no-plots", *SET]) == 0
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()


def test_params_json_lists_every_parameter():
    proc = subprocess.run([sys.executable, "-m", "coprod_sim", "params", "--json"], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    rows = json.loads(proc.stdout)
    assert [r["key"] for r in rows] == list(registry())
    assert all({"unit", "default", "range", "source", "description"} <= set(r) for r in rows)


def test_parameter_doc_is_generated_and_current():
    assert (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8") == parameters_markdown(), \
        "docs/parameters.md is stale: run `.venv/bin/coprod-sim params --markdown > docs/parameters.md`"


def test_a_failing_run_keeps_the_months_it_computed(tmp_path, monkeypatch):
    """A run that breaks at month 5 leaves its first four months and a manifest saying why."""
    from coprod_sim.model import respond

    real = respond.rate_and_report

    def breaks_at_month_5(model, use, channel):
        if model.steps == 5:
            raise FloatingPointError("simulated failure")
        real(model, use, channel)

    monkeypatch.setattr(respond, "rate_and_report", breaks_at_month_5)
    out = tmp_path / "out"
    assert main(["run", str(ROOT / "configs" / "baseline.yaml"), "--out", str(out), *SET]) == 2
    frame = pd.read_parquet(out / "timeseries.partial.parquet")
    assert list(frame["step"]) == [1, 2, 3, 4]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"].startswith("aborted: stopped after 4 months: FloatingPointError")
    assert not (out / "summary.json").exists()


def test_ctrl_c_keeps_the_months_computed_and_stays_an_interrupt(tmp_path, monkeypatch):
    from coprod_sim import run
    from coprod_sim.model import respond

    real = respond.rate_and_report

    def interrupted_at_month_3(model, use, channel):
        if model.steps == 3:
            raise KeyboardInterrupt
        real(model, use, channel)

    monkeypatch.setattr(respond, "rate_and_report", interrupted_at_month_3)
    with pytest.raises(KeyboardInterrupt) as stop:  # sweeps must stop, not record a failed run
        run(load_config(ROOT / "configs" / "baseline.yaml", SMALL), seed=0)
    assert len(stop.value.partial.partial.timeseries) == 2
    out = tmp_path / "out"
    assert main(["run", str(ROOT / "configs" / "baseline.yaml"), "--out", str(out), *SET]) == 2
    assert len(pd.read_parquet(out / "timeseries.partial.parquet")) == 2


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coprod_sim", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_python_dash_m_and_version_print_version_commit_and_results_id():
    import coprod_sim
    from coprod_sim.runs import git_commit, results_id

    proc = _cli("--version")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith(f"coprod-sim {coprod_sim.__version__} (")
    assert (git_commit() or "commit unknown") in proc.stdout
    assert f"results id {results_id()}" in proc.stdout and results_id() is not None


def test_output_into_a_closed_pipe_ends_quietly():
    """`coprod-sim params | head -1`: the reader is gone before we write."""
    proc = subprocess.Popen([sys.executable, "-m", "coprod_sim", "params", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141
    assert err == b""


def test_run_by_name_with_fewer_steps_than_the_window_says_so(tmp_path):
    out = tmp_path / "short"
    proc = _cli("run", "baseline", "--steps", "3", "--no-plots", "--out", str(out), "--set", "population.residents=1500")
    assert proc.returncode == 0, proc.stderr
    assert "note: the outcome window shrinks from 12 to 3 months" in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 3.0
    assert json.loads((out / "manifest.json").read_text())["config"]["run"]["outcome_window"] == 3


def test_bad_options_are_named_before_anything_runs(tmp_path):
    for args, message in ((["--seed", "-1"], "error: --seed: expected a whole number ≥ 0, found -1"),
                          (["--steps", "0"], "error: --steps: expected a whole number ≥ 1, found 0")):
        proc = _cli("run", "baseline", "--out", str(tmp_path / "o"), *args)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_scenarios_lists_the_shipped_ones():
    proc = _cli("scenarios")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == [p.stem for p in CONFIGS]


@pytest.mark.slow
def test_a_built_wheel_carries_the_scenarios_and_runs_one_by_name(tmp_path):
    """`pip install .` users can run a shipped scenario: the wheel holds scenarios, registry and py.typed."""
    import shutil
    import zipfile

    from coprod_sim.runs import results_id

    source = tmp_path / "source"  # build from a copy: an in-tree build would leave build/ in the checkout
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "experiments", source / "experiments")
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE", "tests/reference_outputs.json"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"),
                    str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("coprod_sim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    examples = sorted((ROOT / "experiments").glob("*.yaml"))
    assert {"coprod_sim/config/parameters.yaml", "coprod_sim/py.typed", "coprod_sim/build_info.json",
            *(f"coprod_sim/config/scenarios/{p.name}" for p in CONFIGS),
            *(f"coprod_sim/examples/{p.name}" for p in examples)} <= names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    # run from an empty folder with only the wheel's package on the path: nothing from this checkout
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "CI": "1"}
    proc = subprocess.run([sys.executable, "-c", "import coprod_sim, sys; print(coprod_sim.__file__); "
                           "sys.exit(__import__('coprod_sim.cli', fromlist=['main']).main(sys.argv[1:]))",
                           "run", "party_led", "--steps", "2", "--no-plots", "--set", "population.residents=1000",
                           "--out", "out"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(tmp_path / "site"))
    assert (tmp_path / "out" / "summary.json").is_file()
    # the wheel names the results its code computes, as a checkout does
    in_force = results_id()
    version = subprocess.run([sys.executable, "-m", "coprod_sim", "--version"], capture_output=True, text=True,
                             cwd=tmp_path, env=env)
    assert version.returncode == 0 and f"results id {in_force}" in version.stdout, version.stdout + version.stderr
    # the example specs travel with the wheel: listed from it and copied out to edit
    listing = subprocess.run([sys.executable, "-m", "coprod_sim", "examples", "--copy", "mine"], capture_output=True,
                             text=True, cwd=tmp_path, env=env)
    assert listing.returncode == 0, listing.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == [p.name for p in examples]
    assert (tmp_path / "mine" / "example_sweep.yaml").read_text() == (ROOT / "experiments" / "example_sweep.yaml").read_text()


def test_examples_lists_the_shipped_specs_and_copies_without_overwriting(tmp_path, capsys):
    assert main(["examples"]) == 0
    listed = capsys.readouterr().out
    assert all(p.stem in listed for p in (ROOT / "experiments").glob("*.yaml"))
    (tmp_path / "lhs_sweep.yaml").write_text("mine\n")
    assert main(["examples", "--copy", str(tmp_path)]) == 0
    assert "kept the existing lhs_sweep.yaml" in capsys.readouterr().out
    assert (tmp_path / "lhs_sweep.yaml").read_text() == "mine\n" and (tmp_path / "example_sweep.yaml").is_file()


def test_json_output_of_run_validate_dry_run_and_compare(tmp_path, capsys):
    small = [x for item in [*SMALL, "run.steps=4", "run.outcome_window=2"] for x in ("--set", item)]
    assert main(["run", "baseline", "--no-plots", "--json", "--out", str(tmp_path / "r"), *small]) == 0
    ran = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert ran["summary"] == saved and ran["seed"] == 0 and ran["out"] == str(tmp_path / "r")

    bad = tmp_path / "bad.yaml"
    bad.write_text("government:\n  resistance: 7\n")
    assert main(["validate", "baseline", str(bad), "--json"]) == 2
    checked = json.loads(capsys.readouterr().out)
    assert not checked["valid"] and checked["scenarios"][0] == {"scenario": "baseline", "valid": True, "problems": []}
    assert "government.resistance: expected" in checked["scenarios"][1]["problems"][0]

    spec = tmp_path / "s.yaml"
    spec.write_text("replicates: 2\ndesign: {type: factorial, parameters: {government.resistance: [0.1, 0.2]}}\n"
                    + "set: {" + ", ".join(s.replace("=", ": ") for s in SMALL) + "}\n")
    assert main(["sweep", str(spec), "--dry-run", "--json", "--out", str(tmp_path / "o")]) == 0
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["runs"] == 4 and estimate["to_run"] == 4 and estimate["estimate_s"] >= 0

    assert main(["compare", "baseline", "party_led", "--replicates", "2", "--backend", "serial", "--json",
                 "--out", str(tmp_path / "c"), *small]) in (0, 1)
    compared = json.loads(capsys.readouterr().out)
    table = pd.read_csv(tmp_path / "c" / "compare.csv")
    assert [d["outcome"] for d in compared["differences"]] == list(table["outcome"])
