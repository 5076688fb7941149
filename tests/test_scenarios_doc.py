"""docs/scenarios.md's attribution section: its tables and readings are computed from the attribution, on known
tables, and every scenario's split is one `coprod-sim explain` accepts (experiments/scenarios.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pandas as pd
import pytest
from conftest import load_script

from coprod_sim.attribution import plan_explain
from coprod_sim.attribution.result import COLUMNS
from coprod_sim.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    return load_script(ROOT / "experiments" / "scenarios.py")


def known_table(named_share: tuple[float, float, float], total: tuple[float, float, float]) -> pd.DataFrame:
    """Two components, "stake" (the named one) and "rent-free space", for both attributed outcomes."""
    effect, low, high = total
    rows = []
    for outcome in ("quality.needs_met_share", "cost.public_spending"):
        share, s_low, s_high = named_share
        rows += [
            {"outcome": outcome, "kind": "component", "component": "stake", "keys": "linkage.interest_binding_stake",
             "shapley": effect * share, "ci_low": effect * s_low, "ci_high": effect * s_high,
             "share_of_effect": share, "share_ci_low": s_low, "share_ci_high": s_high},
            {"outcome": outcome, "kind": "component", "component": "rent-free space",
             "keys": "profit_space.subsidy_per_visit.meals profit_space.rent_free_space",
             "shapley": effect * (1 - share), "ci_low": effect * (1 - s_high), "ci_high": effect * (1 - s_low),
             "share_of_effect": 1 - share, "share_ci_low": 1 - s_high, "share_ci_high": 1 - s_low},
            {"outcome": outcome, "kind": "total", "component": "total effect", "shapley": effect, "ci_low": low,
             "ci_high": high, "share_of_effect": 1.0},
            {"outcome": outcome, "kind": "interactions", "component": "not explained by solo effects",
             "shapley": -0.1 * effect, "ci_low": -0.2 * effect, "ci_high": 0.0, "share_of_effect": -0.1,
             "share_ci_low": -0.2, "share_ci_high": 0.0},
        ]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_reading_says_when_the_named_change_does_not_carry_the_effect(script):
    table = known_table((0.07, -0.01, 0.14), (0.26, 0.24, 0.28))
    reading = script.attribution_reading(table, script.named_component(table, "linkage.interest_binding_stake"))
    assert "mostly from components other than the one the scenario is named after" in reading
    assert "stake carries 7% [-1, 14]" in reading and "rent-free space carries the most, 93% [86, 101]" in reading


def test_reading_credits_the_named_change_only_when_its_share_is_surely_most(script):
    sure = known_table((0.8, 0.6, 1.0), (0.26, 0.24, 0.28))
    assert "carries most of its effect on need met (80% [60, 100])" in script.attribution_reading(sure, "stake")
    unsure = known_table((0.6, 0.3, 0.9), (0.26, 0.24, 0.28))
    reading = script.attribution_reading(unsure, "stake")
    assert "60% [30, 90] of the effect on need met (the largest share)" in reading
    assert "not settled at this number of seeds" in reading and "carries the most" not in reading
    second = known_table((0.45, 0.1, 0.8), (0.26, 0.24, 0.28))  # the named change is not the largest
    assert "Rent-free space carries the most, 55% [20, 90]" in script.attribution_reading(second, "stake")


def test_no_shares_of_an_effect_that_may_be_zero(script):
    table = known_table((0.5, -2.0, 3.0), (0.01, -0.02, 0.04))
    assert "not distinguishable from zero" in script.attribution_reading(table, "stake")
    lines = script.attribution_table(table)
    assert lines[0].startswith("| component |")  # not "| scenario |": the doc's reproduction test skips it
    stake = next(line for line in lines if line.startswith("| stake |"))
    cells = [c.strip() for c in stake.strip("|").split("|")]
    assert cells[2] == "–" and cells[4] == "–" and cells[1] == "+0.0050 [-0.0200, 0.0300]"
    assert [line.split("|")[1].strip() for line in lines[2:]] == [
        "stake", "rent-free space", "total effect", "not explained by solo effects"]


def test_every_scenario_split_is_one_explain_accepts(script):
    """The groups name parameters the scenario changes, the named change is one of its components, and the
    printed command parses (a renamed parameter or an edited scenario fails here, not after an hour of runs)."""
    for stem, how in script.ATTRIBUTION.items():
        plan = plan_explain(stem, groups=how.groups, replicates=2)
        assert plan.k > 1, f"{stem}: one component, nothing to attribute"
        keys = " ".join(" ".join(c.keys) for c in plan.components)
        table = pd.DataFrame([{"kind": "component", "component": c.name, "keys": " ".join(c.keys)}
                              for c in plan.components])
        if how.named_after is not None:
            assert how.named_after in keys, f"{stem}: {how.named_after} is not among its changes: {keys}"
            assert script.named_component(table, how.named_after) is not None
        words = shlex.split(script.explain_command(stem, how, 6))
        assert words[:2] == [".venv/bin/coprod-sim", "explain"]
        args = build_parser().parse_args(words[1:])
        assert args.scenario == stem and args.replicates == 6 and len(args.groups) == len(how.groups or {})


def test_the_page_says_which_readings_are_still_settling(script, tmp_path):
    """Outcomes are read at a stationary state: a reading docs/stationarity.md found still moving at both checks is
    named beside the tables, with the month it settles from (or that it did not); one that agreed, or that fresh
    seeds cleared, is not; without the stationarity table the page points to the command that makes it."""
    rows = [("up_incentives", "quality.needs_met_share", False, True, 120.0, -0.0233),
            ("party_led", "operators.firms_active", False, True, None, -8.36),
            ("in_leading_group", "quality.needs_met_share", False, False, None, 0.029),  # fresh seeds agree
            ("baseline", "quantity.capacity", True, None, None, 8894.0)]
    table = pd.DataFrame(rows, columns=["scenario", "outcome", "agrees", "confirmed", "settles_by", "drift"]).assign(
        months=60, drift_ci_low=lambda t: t["drift"] * 1.5, drift_ci_high=lambda t: t["drift"] * 0.5)
    table.to_csv(tmp_path / "stationarity.csv", index=False)
    notes = script.settling_notes(tmp_path / "stationarity.csv")
    assert len(notes) == 2
    assert "`up_incentives`, `quality.needs_met_share` moves by -0.0233" in notes[0]
    assert "settled from 120 months" in notes[0] and "provisional" in notes[0]
    assert "`party_led`, `operators.firms_active`" in notes[1] and "has not settled" in notes[1]
    table.assign(agrees=True, confirmed=None).to_csv(tmp_path / "stationarity.csv", index=False)  # nothing flagged
    assert script.settling_notes(tmp_path / "stationarity.csv") == [
        "- Every scenario's readings agree with a window twice as late (docs/stationarity.md)."]
    assert script.STATIONARITY_COMMAND in script.settling_notes(tmp_path / "missing.csv")[0]
