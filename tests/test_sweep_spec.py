"""Bad sweep specs are refused before anything runs, with lines naming the file and key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coprod_sim.config import ConfigError
from coprod_sim.sweeps.spec import build_plan, load_spec

FAST = {"population.residents": 300, "run.steps": 2, "run.outcome_window": 1}
GOOD_DESIGN = {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.1, 0.2]}}


def problems(spec: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        build_plan(spec, "spec.yaml", Path("."))
    assert all(line.startswith("spec.yaml") or ".yaml" in line for line in info.value.problems)
    return info.value.problems


def test_unknown_top_level_key_suggests_the_right_one():
    (line,) = problems({"set": FAST, "design": GOOD_DESIGN, "replicate": 3})
    assert line == "spec.yaml: replicate: unknown key; did you mean 'replicates'?"


def test_unknown_varied_parameter_is_named_with_a_hint():
    (line,) = problems({"set": FAST, "design": {"type": "factorial", "parameters": {
        "incentive.assesment_weight": [0.1]}}})
    assert "design.parameters: incentive.assesment_weight: unknown parameter" in line
    assert "did you mean 'incentive.assessment_weight'" in line


def test_per_service_subkeys_are_checked():
    build_plan({"set": FAST, "design": {"type": "factorial", "parameters": {"services.unit_cost.meals": [10]}}}, "s")
    (line,) = problems({"set": FAST, "design": {"type": "factorial", "parameters": {
        "services.unit_cost.pizza": [10]}}})
    assert "services.unit_cost.pizza: unknown parameter" in line


def test_value_outside_range_names_the_entry():
    (line,) = problems({"set": FAST, "design": {"type": "factorial", "parameters": {
        "incentive.assessment_weight": [0.1, 1.5]}}})
    assert line == ("spec.yaml: design.parameters.incentive.assessment_weight[1]: expected a value in [0, 1], "
                    "found 1.5 (float)")


def test_lhs_range_outside_parameter_range():
    (line,) = problems({"set": FAST, "design": {"type": "lhs", "samples": 4, "parameters": {
        "incentive.assessment_weight": {"range": [-0.5, 0.5]}}}})
    assert "incentive.assessment_weight.range[0]: expected a value in [0, 1], found -0.5" in line


def test_wrong_type_of_value():
    (line,) = problems({"set": FAST, "design": {"type": "factorial", "parameters": {
        "population.residents": [1000, 1500.5]}}})
    assert "population.residents[1]: expected a whole number, found 1500.5" in line


def test_unknown_design_type_and_missing_samples():
    (line,) = problems({"set": FAST, "design": {"type": "sobolish", "parameters": {}}})
    assert "design.type: expected one of factorial, lhs, oat, explicit" in line
    (line,) = problems({"set": FAST, "design": {"type": "lhs", "parameters": {
        "incentive.assessment_weight": {"range": [0, 1]}}}})
    assert "design.samples: expected a whole number" in line


def test_bad_scalars():
    lines = problems({"set": FAST, "design": GOOD_DESIGN, "replicates": 0, "backend": "spark", "seed": -1})
    assert any("replicates: expected a whole number ≥ 1, found 0" in x for x in lines)
    assert any("backend: expected one of serial, processes, dask, found 'spark'" in x for x in lines)
    assert any("seed: expected a whole number ≥ 0" in x for x in lines)


def test_cross_check_failure_at_a_design_point():
    lines = problems({"set": FAST, "design": {"type": "factorial", "parameters": {"run.outcome_window": [1, 5]}}})
    assert any("design point 1" in x and "run.outcome_window: expected at most run.steps" in x for x in lines)


def test_unknown_outcome_and_bad_fixed_override():
    lines = problems({"set": {**FAST, "incentive.assessment_weight": 2}, "design": GOOD_DESIGN,
                      "outputs": {"steps": ["quality.needs_met_shares"]}})
    assert any("set.incentive.assessment_weight: expected a value in [0, 1]" in x for x in lines)
    assert any("outputs.steps: quality.needs_met_shares: unknown outcome; did you mean" in x for x in lines)


def test_missing_base_file(tmp_path):
    (line,) = problems({"base": "nope.yaml", "design": GOOD_DESIGN})
    assert "base: file not found: nope.yaml" in line


def test_cli_prints_errors_without_traceback(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("design:\n  type: factorial\n  parameters:\n    incentive.assessment_weight: [3]\n")
    proc = subprocess.run([sys.executable, "-m", "coprod_sim", "sweep", str(spec), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"error: {spec}: design.parameters.incentive.assessment_weight[0]: expected a value in [0, 1]" \
        in proc.stderr
    assert not (tmp_path / "o").exists()  # nothing ran


def test_example_specs_are_valid():
    root = Path(__file__).resolve().parents[1]
    for spec in sorted((root / "experiments").glob("*sweep*.yaml")):
        assert load_spec(spec).tasks
