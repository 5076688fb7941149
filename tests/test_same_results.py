"""scripts/same_results.py: the check that a change keeps results to the bit finds any difference and
says where it is, and tells rounding from a run that took another path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_script(ROOT / "scripts" / "same_results.py")


@pytest.fixture(scope="module")
def dumped(tmp_path_factory) -> tuple[object, Path]:
    script = _script()
    out = tmp_path_factory.mktemp("same") / "this"
    script.dump(out, script.Runs(["baseline"]))
    return script, out


def _copy(source: Path, to: Path) -> Path:
    shutil.copytree(source, to)
    return to


def test_the_same_code_twice_is_identical_in_every_run(dumped, tmp_path):
    script, this = dumped
    again = tmp_path / "again"
    script.dump(again, script.Runs(["baseline"]))
    assert script.compare(this, again) == (2, [])  # two seeds of the one scenario


def test_a_change_in_the_last_bit_of_one_month_is_found_and_located(dumped, tmp_path):
    script, this = dumped
    other = _copy(this, tmp_path / "other")
    table = pd.read_parquet(other / "baseline-seed3.parquet")
    table.loc[5, "quality.needs_met_share"] *= 1.0 + 2**-52
    table.to_parquet(other / "baseline-seed3.parquet")
    total, differences = script.compare(this, other)
    assert total == 2 and [d.run for d in differences] == ["baseline-seed3"]
    (difference,) = differences
    assert f"month {table.loc[5, 'step']}, quality.needs_met_share" == difference.where
    assert 0 < difference.max_rel < 1e-15
    assert difference.rounding_only  # the same choices, summed in another order


def test_rounding_is_the_reference_tests_tolerance(dumped):
    from coprod_sim.runs.provenance import ROUNDING_TOLERANCE

    script, _ = dumped
    assert script.ROUNDING == ROUNDING_TOLERANCE


def test_a_run_that_took_another_path_is_told_from_rounding(dumped, tmp_path):
    """A value beyond 1e-9 is another path; a near-zero value that changes sign by 1e-11 is still rounding
    (it has no relative scale: a balance that is zero up to the last bits)."""
    script, dumped_here = dumped
    this, other = _copy(dumped_here, tmp_path / "this"), _copy(dumped_here, tmp_path / "other")
    for root, balance in ((this, -1e-11), (other, 1e-11)):
        path = root / "baseline-seed3.parquet"
        pd.read_parquet(path).assign(**{"cost.fund_balance": balance}).to_parquet(path)
    path = other / "baseline-seed0.parquet"
    table = pd.read_parquet(path)
    table.assign(**{"quality.needs_met_share": table["quality.needs_met_share"] + 1e-6}).to_parquet(path)
    differences = {d.run: d for d in script.compare(this, other)[1]}
    assert not differences["baseline-seed0"].rounding_only
    assert differences["baseline-seed3"].rounding_only, differences["baseline-seed3"]


def test_rounding_passes_only_when_asked_and_another_path_never_does(dumped):
    script, _ = dumped
    rounding = script.Difference("a", "month 1, x", 1e-12, 1e-16, rounding_only=True)
    path = script.Difference("b", "month 2, x", 1e-3, 1e-2, rounding_only=False)
    assert script.exit_status([], rounding_ok=False) == 0 == script.exit_status([], rounding_ok=True)
    assert script.exit_status([rounding], rounding_ok=False) == 1
    assert script.exit_status([rounding], rounding_ok=True) == 0
    assert script.exit_status([rounding, path], rounding_ok=True) == 1


def test_a_run_at_break_even_takes_the_same_path_on_another_cpu(tmp_path):
    """--arithmetic runs the tree in a child whose numpy loops and OpenBLAS kernel are not this machine's
    (both named in the report). ``out_interest_binding`` seed 0 is a run whose operators and earmarks sit
    exactly at break-even: before results 45fb8ba76b39 the CPU's rounding decided them and this run took
    another path on another arithmetic path (docs/ODD.md §8, item 31); now it must only round differently."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "same_results.py"), "--arithmetic",
                           "--scenarios", "out_interest_binding", "--seeds", "1"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    lines = done.stdout.splitlines()
    here = next(line for line in lines if "arithmetic here:" in line).split(":", 1)[1]
    there = next(line for line in lines if "arithmetic there:" in line).split(":", 1)[1]
    assert here.strip() != there.strip() and "baseline(" in there, done.stdout + done.stderr
    assert "0 of 1 runs took another path" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_summary_that_differs_alone_is_found(dumped, tmp_path):
    script, this = dumped
    other = _copy(this, tmp_path / "other")
    path = other / "baseline-seed0.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    key = next(k for k, v in summary.items() if isinstance(v, float))
    summary[key] += 1.0
    path.write_text(json.dumps(summary), encoding="utf-8")
    (difference,) = script.compare(this, other)[1]
    assert difference.run == "baseline-seed0" and difference.where == f"summary {key}"


def test_two_versions_that_ran_different_runs_are_not_compared(dumped, tmp_path):
    script, this = dumped
    other = _copy(this, tmp_path / "other")
    (other / "baseline-seed0.parquet").unlink()
    with pytest.raises(SystemExit, match="baseline-seed0"):
        script.compare(this, other)
