"""Runs under supervision: honest statuses and exit codes, timeouts, dead workers, signals, locks, identity.

Faults are injected with the spec's ``fault_injection`` (a testing aid in the sweep layer, not in the
model): a matching run raises, gives a NaN outcome, hangs, or kills the process it runs in.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import yaml
from conftest import SMALL_PARAMS

from coprod_sim.cli import main

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
        if self.cfg["incentive"]["assessment_weight"] == 0.3:
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
