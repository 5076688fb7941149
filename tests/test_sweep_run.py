"""Running sweeps: identical tables on every backend, failures recorded, kill and resume, plot and compare."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import kill_tree, patience

from coprod_sim.cli import main
from coprod_sim.model import OUTCOMES
from coprod_sim.runs import results_id
from coprod_sim.sweeps import run_sweep
from coprod_sim.sweeps.spec import build_plan, load_spec

ROOT = Path(__file__).resolve().parents[1]
FAST = {"population.residents": 1000, "run.steps": 12, "run.outcome_window": 6}


def spec(**extra) -> dict:
    base = {"base": str(ROOT / "configs" / "baseline.yaml"), "set": FAST, "seed": 11, "replicates": 2,
            "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.025, 0.3],
                                                           "services.unit_cost.meals": [12, 24]}},
            "outputs": {"steps": ["quality.needs_met_share"]}}
    base.update(extra)
    return base


def tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The consolidated tables without the one column that measures time."""
    return pd.read_parquet(out / "runs.parquet").drop(columns="runtime_s"), pd.read_parquet(out / "steps.parquet")


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    report = run_sweep(build_plan(spec(), "t"), out, backend="serial")
    assert report.complete and report.failed == 0
    return out


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_backends_give_identical_tables(serial_reference, tmp_path, backend):
    report = run_sweep(build_plan(spec(), "t"), tmp_path, backend=backend, workers=2, batch_size=3)
    assert report.complete and report.ok == 8
    ref_runs, ref_steps = tables(serial_reference)
    runs, steps = tables(tmp_path)
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(steps, ref_steps)
    assert runs["run_key"].is_unique and len(steps) == len(runs) * FAST["run.steps"]
    if backend == "dask":  # the manifest says where the runs ran
        assert json.loads((tmp_path / "manifest.json").read_text())["scheduler"].startswith("local cluster at tcp://")


def test_tables_carry_identity_seeds_and_provenance(serial_reference):
    runs, _ = tables(serial_reference)
    plan = build_plan(spec(), "t")
    assert list(runs["seed"]) == [t.seed for t in plan.tasks]
    assert {"incentive.assessment_weight", "services.unit_cost.meals", "quality.needs_met_share"} <= set(runs)
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    manifest = yaml.safe_load((serial_reference / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["root_seed"] == 11
    assert manifest["versions"]["mesa"] and "seed_rule" in manifest and manifest["counts"]["ok"] == 8
    assert manifest["results_id"] == results_id() and manifest["results_id"] is not None


def test_failing_run_is_recorded_and_others_complete(serial_reference, tmp_path):
    fault = {"fail_when": {"incentive.assessment_weight": 0.3, "services.unit_cost.meals": 24}}
    report = run_sweep(build_plan(spec(fault_injection=fault), "t"), tmp_path, backend="processes", workers=2)
    runs, steps = tables(tmp_path)
    failed = runs[runs["status"] == "failed"]
    assert report.failed == 2 and len(failed) == 2 and report.complete
    assert failed["error"].str.contains("RuntimeError: fault injection").all()
    assert failed["quality.needs_met_share"].isna().all()
    assert set(steps["run_key"]) == set(runs.loc[runs["status"] == "ok", "run_key"])
    ref, _ = tables(serial_reference)
    ok = runs[runs["status"] == "ok"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ok, ref[ref["run_key"].isin(ok["run_key"])].reset_index(drop=True))
    # a re-run does not repeat recorded failures unless asked to
    again = run_sweep(build_plan(spec(fault_injection=fault), "t"), tmp_path, backend="serial")
    assert again.resumed == 8 and again.ok == again.failed == 0


def test_killed_sweep_resumes_to_identical_tables(tmp_path):
    big = spec(replicates=6)  # 24 runs, one shard per run
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(big))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "coprod_sim", "sweep", str(spec_file), "--out", str(out),
           "--backend", "serial", "--batch-size", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + patience(40)
        while len(list((out / "shards").glob("runs-*.parquet"))) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "sweep never wrote a shard"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:  # never leave the sweep behind, even when the test fails
        kill_tree(proc)
    written = len(list((out / "shards").glob("runs-*.parquet")))
    assert 3 <= written < 24, "the sweep must be killed mid-way"
    assert not (out / "runs.parquet").exists()

    report = run_sweep(load_spec(spec_file), out)
    assert report.resumed == written and report.ok == 24 - written and report.complete
    fresh = tmp_path / "fresh"
    run_sweep(build_plan(big, "t"), fresh, backend="serial")
    runs, steps = tables(out)
    ref_runs, ref_steps = tables(fresh)
    assert runs["run_key"].is_unique and len(runs) == 24
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(steps, ref_steps)


def test_cli_sweep_dry_run_plot_and_compare(tmp_path, capsys):
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text(yaml.safe_dump(spec(backend="serial")))
    assert main(["sweep", str(spec_file), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "8 runs (4 design points × 2 replicates)" in text and "estimated wall time" in text
    assert not (tmp_path / "o" / "runs.parquet").exists()
    assert main(["sweep", str(spec_file), "--out", str(tmp_path / "o")]) == 0
    assert main(["plot", str(tmp_path / "o")]) == 0
    summary = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert {"mean", "sd", "ci_low", "ci_high", "n"} <= set(summary)
    # a one-community district has no periphery: those gaps are missing in every run; an outcome that can be
    # undefined (no approval in the window) may be missing in some runs; everything else is there in both
    missing = {o.key for o in OUTCOMES if o.missing_when}
    assert set(summary.loc[summary["n"] < 2, "outcome"]) <= missing
    assert {"equity.center_periphery_gap", "quality.needs_met_share"} <= set(summary["outcome"])
    assert (summary.loc[summary["outcome"] == "equity.center_periphery_gap", "n"] == 0).all()
    defined = summary[summary["n"] == 2]
    assert (defined["ci_low"] <= defined["mean"]).all() and (defined["mean"] <= defined["ci_high"]).all()
    assert len(list((tmp_path / "o" / "plots").glob("*.png"))) == 2
    sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
    cfgs = [str(ROOT / "configs" / "baseline.yaml"), str(ROOT / "configs" / "baseline.yaml")]
    assert main(["compare", *cfgs, "--replicates", "3", *sets, "--backend", "serial", "--out",
                 str(tmp_path / "c")]) == 2  # the same config twice is a duplicate, refused
    other = tmp_path / "other.yaml"
    other.write_text("incentive:\n  assessment_weight: 0.3\n")
    assert main(["compare", cfgs[0], str(other), "--replicates", "3", *sets, "--backend", "serial", "--out",
                 str(tmp_path / "c")]) == 0
    diff = pd.read_csv(tmp_path / "c" / "compare.csv")
    runs = pd.read_parquet(tmp_path / "c" / "runs.parquet")
    a = runs[runs.point_id == 0].set_index("replicate")
    b = runs[runs.point_id == 1].set_index("replicate")
    assert (a["seed"] == b["seed"]).all()  # paired: same seeds
    row = diff[diff.outcome == "quality.needs_met_share"].iloc[0]
    expected = (b["quality.needs_met_share"] - a["quality.needs_met_share"]).mean()
    assert row["difference"] == pytest.approx(expected) and row["n_pairs"] == 3
