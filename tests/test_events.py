"""The event study of the introduction design: the effect month by month after a policy's introduction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coprod_sim.errors import UserError
from coprod_sim.sweeps.comparison import compare
from coprod_sim.sweeps.events import EVENTS, FIGURE, SETTLING, _settled, notes, saved_notes

SMALL_INTRO = {"population.residents": 3000, "space.community_size": 1000, "run.spin_up": 12, "run.steps": 16,
               "run.outcome_window": 4, "run.design": "introduction"}


def test_compare_in_the_introduction_design_writes_the_event_study(tmp_path):
    out = tmp_path / "cmp"
    table = compare(["baseline", "in_leading_group"], replicates=3, seed=2, params=SMALL_INTRO, out=out,
                    backend="serial", cache=tmp_path / "worlds")
    path = pd.read_csv(out / EVENTS)
    assert (out / FIGURE).is_file() and (out / SETTLING).is_file()
    outcomes = list(table["outcome"])
    assert sorted(set(path["outcome"])) == sorted(outcomes)
    assert sorted(set(path["month"])) == list(range(1, 17))  # months since introduction
    assert (path["ci_low"] <= path["difference"]).all() and (path["difference"] <= path["ci_high"]).all()
    # the summary's paired difference is the effect path averaged over the outcome window
    for _, row in table.iterrows():
        late = path[(path["outcome"] == row["outcome"]) & (path["month"] > 12)]["difference"].mean()
        assert late == pytest.approx(row["difference"], rel=1e-9, abs=1e-12)
    settling = pd.read_csv(out / SETTLING)
    assert set(settling["outcome"]) == set(outcomes) and settling["settled"].notna().all()
    assert isinstance(saved_notes(out), list)


def test_the_equilibrium_design_writes_no_event_study(tmp_path):
    out = tmp_path / "cmp"
    compare(["baseline", "in_leading_group"], replicates=2, seed=2,
            params={**SMALL_INTRO, "run.design": "equilibrium"}, out=out, backend="serial")
    assert not (out / EVENTS).exists() and saved_notes(out) is None


def test_scenarios_of_two_designs_are_refused(tmp_path):
    other = tmp_path / "intro.yaml"
    other.write_text("run:\n  design: introduction\nleading_group:\n  active: true\n")
    with pytest.raises(UserError, match=r"mix run\.design"):
        compare(["baseline", str(other)], replicates=2, out=tmp_path / "x", backend="serial")


def _path(values: np.ndarray) -> pd.DataFrame:
    """(month × seed) effects."""
    return pd.DataFrame(values, index=pd.RangeIndex(1, len(values) + 1, name="step"))


def test_an_effect_still_growing_is_not_settled_and_the_note_says_how_long_to_run():
    rng = np.random.default_rng(1)
    months = np.arange(1, 25)[:, None]
    growing = _path(0.01 * months + rng.normal(0, 0.002, (24, 5)))
    flat = _path(0.2 * (1 - np.exp(-months / 2.0)) + rng.normal(0, 0.002, (24, 5)))
    assert _settled(growing, 6, 0.1)["settled"] is False
    settled = _settled(flat, 6, 0.1)
    assert settled["settled"] is True
    assert 3 <= settled["months_to_90pct"] <= 8  # 1 − e^(−m/2) ≥ 0.9 from about month 5
    table = pd.DataFrame([{"scenario": "s", "outcome": "o", "window": 6, "months": 24, **_settled(growing, 6, 0.1)}])
    (line,) = notes(table)
    assert "has not settled after 24 months" in line and "run.steps=48" in line


def test_a_run_shorter_than_two_windows_cannot_be_checked():
    result = _settled(_path(np.ones((8, 3))), 6, 0.1)
    assert result["settled"] is None and math.isnan(result["drift"])
    table = pd.DataFrame([{"scenario": "s", "outcome": "o", "window": 6, "months": 8, **result}])
    assert "cannot be checked" in notes(table)[0]
