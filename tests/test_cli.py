"""The run command end to end, for every shipped scenario; params and docs agree."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import CONFIGS, ROOT, SMALL

from coprod_sim.cli import main
from coprod_sim.config import load_config, parameters_markdown, read_yaml, registry
from coprod_sim.model import HEADLINE_KEYS

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
    assert len(frame) == 24 and set(summary) - {"steps"} <= set(frame.columns)
    manifest = json.loads((out / "manifest.json").read_text())
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

    def breaks_at_month_5(model, use):
        if model.steps == 5:
            raise FloatingPointError("simulated failure")
        real(model, use)

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

    def interrupted_at_month_3(model, use):
        if model.steps == 3:
            raise KeyboardInterrupt
        real(model, use)

    monkeypatch.setattr(respond, "rate_and_report", interrupted_at_month_3)
    with pytest.raises(KeyboardInterrupt) as stop:  # sweeps must stop, not record a failed run
        run(load_config(ROOT / "configs" / "baseline.yaml", SMALL), seed=0)
    assert len(stop.value.partial.partial.timeseries) == 2
    out = tmp_path / "out"
    assert main(["run", str(ROOT / "configs" / "baseline.yaml"), "--out", str(out), *SET]) == 2
    assert len(pd.read_parquet(out / "timeseries.partial.parquet")) == 2
