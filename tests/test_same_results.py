"""scripts/same_results.py: the check that a change keeps results to the bit finds any difference and
says where it is."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("same_results", ROOT / "scripts" / "same_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dumped(tmp_path_factory) -> tuple[object, Path]:
    script = _script()
    out = tmp_path_factory.mktemp("same") / "this"
    script.dump(out, ["baseline"])
    return script, out


def _copy(source: Path, to: Path) -> Path:
    shutil.copytree(source, to)
    return to


def test_the_same_code_twice_is_identical_in_every_run(dumped, tmp_path):
    script, this = dumped
    again = tmp_path / "again"
    script.dump(again, ["baseline"])
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
