"""Effect attribution (``coprod-sim explain``): the Shapley core on set functions with known answers, the
components a scenario changes, the statistics over seeds, and the command on a tiny district."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL, SMALL_PARAMS

from coprod_sim.attribution import components, differing, parse_groups, plan_explain
from coprod_sim.attribution.shapley import (
    design_masks,
    full_mask,
    members,
    sample_orders,
    shapley,
    shapley_exact,
    shapley_permutations,
    solo_effects,
)
from coprod_sim.attribution.study import COMPONENT, INTERACTIONS, TOTAL, TOTAL_NAME, analyse
from coprod_sim.cli import main
from coprod_sim.config import load_config
from coprod_sim.errors import UserError

SET = [arg for kv in SMALL for arg in ("--set", kv)]


def _bits(mask: int, k: int) -> np.ndarray:
    return np.array([mask >> i & 1 for i in range(k)], dtype=float)


# ------------------------------------------------------------------ the Shapley core
def test_an_interaction_is_split_equally_between_its_two_components() -> None:
    a, b, c = 2.0, -1.0, 3.0

    def f(mask: int) -> float:
        x1, x2 = _bits(mask, 2)
        return a * x1 + b * x2 + c * x1 * x2

    found = shapley_exact(f, 2)
    assert np.allclose(found.values, [a + c / 2, b + c / 2])
    solo = solo_effects(f, 2)
    assert np.allclose(solo, [a, b])
    assert np.isclose(f(3) - f(0) - solo.sum(), c)  # what the components do not explain alone
    assert np.allclose(found.values - solo, [c / 2, c / 2])


def test_the_glove_game_has_its_textbook_values() -> None:
    """One left glove (component 0), two right gloves: a pair is worth 1. φ = (2/3, 1/6, 1/6)."""
    def pairs(mask: int) -> float:
        x = _bits(mask, 3)
        return float(min(x[0], x[1] + x[2]))

    assert np.allclose(shapley_exact(pairs, 3).values, [2 / 3, 1 / 6, 1 / 6])


def test_a_component_that_changes_nothing_gets_zero_and_symmetric_ones_get_the_same() -> None:
    def f(mask: int) -> float:
        x = _bits(mask, 4)
        return 5 * x[0] * x[1] + x[3] ** 2  # component 2 is a dummy; 0 and 1 are symmetric

    values = shapley_exact(f, 4).values
    assert values[2] == 0 and np.isclose(values[0], values[1]) and np.isclose(values[3], 1)


@pytest.mark.parametrize("k", [3, 6, 10])
def test_values_sum_to_the_total_effect_per_seed(k: int) -> None:
    table = np.random.default_rng(k).normal(size=(1 << k, 5))  # an arbitrary set function, 5 seeds

    def f(mask: int) -> np.ndarray:
        return table[mask]

    total = table[full_mask(k)] - table[0]
    found = shapley(f, k, permutations=16, seed=1)
    assert found.method == ("exact" if k <= 8 else "permutations")
    assert found.values.shape == (k, 5)
    assert np.allclose(found.values.sum(axis=0), total, rtol=0, atol=1e-12)


def test_sampled_orders_converge_to_the_exact_values_within_their_stated_error() -> None:
    k = 7
    rng = np.random.default_rng(3)
    weights, pair = rng.normal(size=k), rng.normal(size=(k, k))

    def f(mask: int) -> float:
        x = _bits(mask, k)
        return float(weights @ x + x @ pair @ x + 2 * x.prod())

    exact = shapley_exact(f, k).values
    few = shapley_permutations(f, sample_orders(k, 100, np.random.default_rng(4)))
    many = shapley_permutations(f, sample_orders(k, 1600, np.random.default_rng(5)))
    assert np.all(np.abs(many.values - exact) <= 4 * many.permutation_se)
    assert np.all(np.abs(few.values - exact) <= 4 * few.permutation_se)
    assert np.all(many.permutation_se < few.permutation_se / 2)  # ~1/√orders: 4× fewer → about half the error
    assert np.abs(many.values - exact).max() < np.abs(few.values - exact).max()


def test_sampled_designs_visit_every_prefix_and_every_solo_subset() -> None:
    orders = sample_orders(9, 5, np.random.default_rng(0))
    masks = design_masks(9, orders)
    assert {0, full_mask(9), *(1 << i for i in range(9))} <= set(masks)
    for order in orders:
        assert all(sum(1 << int(i) for i in order[:n]) in masks for n in range(10))
    assert design_masks(3) == list(range(8)) and members(5, 3) == [0, 2]


# ------------------------------------------------------------------ components
def test_a_scenarios_changes_are_grouped_per_lever_with_the_registrys_labels() -> None:
    changes = differing(load_config("out_interest_binding", SMALL), load_config("baseline", SMALL))
    assert changes["profit_space.rent_free_space"] == (True, False)
    assert {"profit_space.subsidy_per_visit.meals", "profit_space.subsidy_per_visit.elder_child_care"} <= set(changes)
    assert not any(k.startswith(("run.", "population.", "scenario")) for k in changes)  # --set applies to both
    found = {c.name: c for c in components(changes)}
    assert set(found["Operating subsidy"].keys) == {"profit_space.subsidy_per_visit.meals",
                                                    "profit_space.subsidy_per_visit.elder_child_care"}
    assert found["Rent-free space"].changes == {"profit_space.rent_free_space": True}
    assert sum(len(c.keys) for c in found.values()) == len(changes)


def test_named_groups_claim_their_keys_and_bad_groups_are_named() -> None:
    changes = differing(load_config("out_interest_binding", SMALL), load_config("baseline", SMALL))
    groups = parse_groups(["money=profit_space.subsidy_per_visit,profit_space.voucher_per_visit"])
    found = components(changes, groups)
    assert found[0].name == "money" and len(found[0].keys) == 5
    assert sum(len(c.keys) for c in found) == len(changes)
    with pytest.raises(UserError, match="does not change it"):
        components(changes, {"x": ["government.resistance"]})
    with pytest.raises(UserError, match=r"did you mean 'profit_space\.rent_free_space'"):
        components(changes, {"x": ["profit_space.rent_free_spac"]})
    with pytest.raises(UserError, match="already in group"):
        components(changes, {"a": ["profit_space.tax_relief"], "b": ["profit_space.tax_relief"]})
    with pytest.raises(UserError, match=r"NAME=dotted\.key"):
        parse_groups(["no-equals-sign"])
    with pytest.raises(UserError, match="no parameter differs"):
        components({})


# ------------------------------------------------------------------ statistics over seeds
def test_the_analysis_recovers_a_known_attribution_from_a_runs_table() -> None:
    """A runs table made from ``f = a·x1 + b·x2 + c·x1·x2`` plus seed noise shared by every subset
    (common random numbers): the Shapley values are exact, their intervals cover them, and the shares,
    solo effects and interactions are the known ones."""
    two = {"leading_group": {"active": True}, "incentive": {"assessment_weight": 0.15}}
    plan = plan_explain(two, params=SMALL, replicates=6)
    assert plan.k == 2 and plan.method == "exact" and len(plan.sweep.tasks) == 4 * 6
    a, b, c = 0.2, 0.05, 0.1
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.5, size=6)
    rows = []
    for task in plan.sweep.tasks:
        x1, x2 = _bits(plan.masks[task.point_id], 2)
        wobble = 0.01 * rng.normal()  # small noise of each run on top of the seed's shared level
        rows.append({"point_id": task.point_id, "replicate": task.replicate, "seed": task.seed, "status": "ok",
                     "y": noise[task.replicate] + a * x1 + b * x2 + c * x1 * x2 + wobble})
    runs = pd.DataFrame(rows)
    runs.loc[(runs["point_id"] == 1) & (runs["replicate"] == 5), "status"] = "failed"  # drops seed 5
    table, by_seed = analyse(runs, plan, ["y"])
    parts = table[table["kind"] == COMPONENT].set_index("component")
    total = table[table["kind"] == TOTAL].iloc[0]
    rest = table[table["kind"] == INTERACTIONS].iloc[0]
    first, second = (c.name for c in plan.components)
    assert (parts["n_seeds"] == 5).all() and total["n_seeds"] == 5
    assert np.isclose(parts.loc[first, "shapley"], a + c / 2, atol=0.03)
    half = (parts.loc[first, "ci_high"] - parts.loc[first, "ci_low"]) / 2
    assert 0 < half < 0.05 and abs(parts.loc[first, "shapley"] - (a + c / 2)) < 2 * half  # an honest interval
    assert np.isclose(parts.loc[first, "share_of_effect"], (a + c / 2) / (a + b + c), atol=0.1)
    assert np.isclose(parts.loc[second, "solo_effect"], b, atol=0.03)
    assert np.isclose(rest["shapley"], c, atol=0.03) and np.isclose(parts.loc[first, "interaction"], c / 2, atol=0.03)
    per_seed = by_seed.groupby("replicate").agg(shapley=("shapley", "sum"), total=("total_effect", "first"))
    assert np.allclose(per_seed["shapley"], per_seed["total"], rtol=0, atol=1e-12)


def test_the_time_path_recovers_known_effects_month_by_month() -> None:
    """Steps tables made from ``f(m) = a(m)·x1 + b·x2`` plus seed noise shared by every subset, where the first
    component pays off over six months (a(m) = a·min(m, 6)/6) and the second at once: month by month the Shapley
    values are the known ones, a failed run drops its seed, a month where an outcome is undefined in one run drops
    that seed there only, and the windows are the means of their months."""
    from coprod_sim.attribution.study import analyse_path

    two = {"leading_group": {"active": True}, "incentive": {"assessment_weight": 0.15}}
    plan = plan_explain(two, params=SMALL, replicates=4)
    a, b, months = 0.3, 0.1, 12
    rng = np.random.default_rng(1)
    level = rng.normal(0, 0.5, size=(4, months))
    runs, steps = [], []
    for task in plan.sweep.tasks:
        x1, x2 = _bits(plan.masks[task.point_id], 2)
        runs.append({"point_id": task.point_id, "replicate": task.replicate, "status": "ok"})
        steps += [{"point_id": task.point_id, "replicate": task.replicate, "step": m,
                   "y": level[task.replicate, m - 1] + a * min(m, 6) / 6 * x1 + b * x2} for m in range(1, months + 1)]
    runs, steps = pd.DataFrame(runs), pd.DataFrame(steps)
    runs.loc[(runs["point_id"] == 2) & (runs["replicate"] == 3), "status"] = "failed"  # drops seed 3
    steps.loc[(steps["point_id"] == 1) & (steps["replicate"] == 0) & (steps["step"] == 9), "y"] = np.nan
    path, windows = analyse_path(runs, steps, plan, ["y"], window=4)
    first, second = (c.name for c in plan.components)
    parts = path[path["kind"] == COMPONENT].set_index(["component", "month"])
    for m in range(1, months + 1):
        assert np.isclose(parts.loc[(first, m), "shapley"], a * min(m, 6) / 6, atol=1e-12)
        assert np.isclose(parts.loc[(second, m), "shapley"], b, atol=1e-12)
    seeds = path[path["kind"] == TOTAL].set_index("month")["n_seeds"]
    assert seeds[9] == 2 and (seeds.drop(9) == 3).all()
    early = windows[(windows["window"] == "first")].set_index("component")
    late = windows[(windows["window"] == "last")].set_index("component")
    assert np.isclose(early.loc[first, "shapley"], a * (1 + 2 + 3 + 4) / 6 / 4, atol=1e-12)
    assert np.isclose(late.loc[first, "shapley"], a, atol=1e-12) and np.isclose(late.loc[TOTAL_NAME, "shapley"], a + b)
    assert (late["n_seeds"] == 2).all() and (early["n_seeds"] == 3).all()  # month 9 lies in the last window
    assert (late[["first_month", "last_month"]].to_numpy() == [9, 12]).all()


def test_sampled_orders_through_the_analysis_keep_efficiency_and_state_their_error() -> None:
    """Above the exact limit the design runs only the subsets the sampled orders visit; each seed's values
    still add up to its total, and the stated error covers the distance to the exact values."""
    plan = plan_explain("up_incentives", params=SMALL, replicates=3, permutations=40, exact_limit=2)
    assert plan.method == "permutations" and plan.k == 3 and len(plan.masks) <= 8
    weights = np.array([0.3, -0.1, 0.05])
    runs = pd.DataFrame([{"point_id": t.point_id, "replicate": t.replicate, "seed": t.seed, "status": "ok",
                          "y": float(weights @ (x := _bits(plan.masks[t.point_id], 3)) + 0.2 * x[0] * x[1]
                                     + 0.01 * t.replicate)} for t in plan.sweep.tasks])
    table, by_seed = analyse(runs, plan, ["y"])
    parts = table[table["kind"] == COMPONENT]
    assert (parts["method"] == "permutations").all() and (parts["permutation_se"] > 0).any()
    exact = weights + np.array([0.1, 0.1, 0.0])  # the interaction split between components 0 and 1
    assert np.all(np.abs(parts["shapley"].to_numpy() - exact) <= 4 * parts["permutation_se"].to_numpy() + 1e-12)
    per_seed = by_seed.groupby("replicate").agg(shapley=("shapley", "sum"), total=("total_effect", "first"))
    assert np.allclose(per_seed["shapley"], per_seed["total"], rtol=0, atol=1e-12)


def test_the_reading_is_computed_from_the_table_and_says_when_there_is_nothing_to_split() -> None:
    from coprod_sim.attribution.report import paragraph

    def reading(scenario, effect: float, spread: float) -> str:
        plan = plan_explain(scenario, params=SMALL, replicates=4)
        rng = np.random.default_rng(1)
        runs = pd.DataFrame([{"point_id": t.point_id, "replicate": t.replicate, "seed": t.seed, "status": "ok",
                              "quality.needs_met_share": 0.5 + effect * _bits(plan.masks[t.point_id], plan.k).sum()
                              + spread * rng.normal()} for t in plan.sweep.tasks])
        return paragraph(analyse(runs, plan, ["quality.needs_met_share"])[0], plan)

    one = reading("in_leading_group", 0.1, 0.001)
    assert "Leading group is the only change against baseline, so it carries the whole rise" in one
    assert "paired on 4 seeds; exact Shapley values over all subsets of 1 component)" in one
    two = reading({"leading_group": {"active": True}, "incentive": {"assessment_weight": 0.15}}, -0.1, 0.001)
    assert "carries 50% [" in two and "of the fall" in two and "not explained by solo effects" not in two
    assert "What the components do not explain alone" in two
    noisy = reading("in_leading_group", 0.0, 0.05)
    assert "not distinguishable from zero at 95%, so no share of it is given" in noisy


# ------------------------------------------------------------------ the command
@pytest.mark.slow
def test_explain_on_a_tiny_district_writes_the_table_figures_and_text(tmp_path, capsys) -> None:
    from coprod_sim import run

    out = tmp_path / "why"
    code = main(["explain", "up_incentives", "--replicates", "2", *SET, "--backend", "serial",
                 "--outcome", "quality.needs_met_share", "--outcome", "cost.public_spending", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "attribution.csv")
    assert set(table["outcome"]) == {"quality.needs_met_share", "cost.public_spending"}
    assert set(table["kind"]) == {COMPONENT, TOTAL, INTERACTIONS}
    assert {"shapley", "ci_low", "ci_high", "share_of_effect", "solo_effect", "n_seeds", "method"} <= set(table)
    by_seed = pd.read_csv(out / "attribution_by_seed.csv")
    sums = by_seed.groupby(["outcome", "replicate"]).agg(s=("shapley", "sum"), t=("total_effect", "first"))
    assert np.allclose(sums["s"], sums["t"], rtol=0, atol=1e-9)  # efficiency on the model's own runs
    runs = pd.read_parquet(out / "runs.parquet")
    seed = int(runs["seed"].iloc[0])
    base = run("baseline", SMALL_PARAMS, seed=seed).summary["quality.needs_met_share"]
    scenario = run("up_incentives", SMALL_PARAMS, seed=seed).summary["quality.needs_met_share"]
    first = by_seed[(by_seed["outcome"] == "quality.needs_met_share") & (by_seed["seed"] == seed)]
    assert np.isclose(first["total_effect"].iloc[0], scenario - base, rtol=0, atol=1e-12)  # the same runs
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "waterfall_cost.public_spending.png", "waterfall_quality.needs_met_share.png"]
    text = (out / "attribution.md").read_text(encoding="utf-8")
    assert "**Needs met**" in text and "Assessment weight" in text and "up_incentives moves it from" in text
    assert "**Needs met**" in printed
    record = json.loads((out / "explain.json").read_text(encoding="utf-8"))
    assert record["method"] == "exact" and record["subsets"] == 8 and record["runs"] == 16
    assert not (out / "events.csv").exists() and not (out / "attribution_events.csv").exists()  # no introduction
    shards = sorted((out / "shards").glob("runs-*.parquet"))
    assert main(["explain", "up_incentives", "--replicates", "2", *SET, "--backend", "serial",
                 "--outcome", "quality.needs_met_share", "--out", str(out)]) == 0
    assert sorted((out / "shards").glob("runs-*.parquet")) == shards  # resumed: nothing new to run


@pytest.mark.slow
def test_in_the_introduction_design_the_attribution_has_a_time_path(tmp_path, capsys) -> None:
    """Month by month after the policy's introduction, each component's Shapley value: the components add up to
    the total effect every month, the total is the event study's effect, and the last outcome window's values
    are the attribution's own (the summary averages that window)."""
    out = tmp_path / "when"
    introduced = [*SET, "--set", "run.design=introduction", "--set", "run.spin_up=12"]
    assert main(["explain", "up_incentives", "--replicates", "2", *introduced, "--backend", "serial",
                 "--outcome", "quality.needs_met_share", "--outcome", "cost.public_spending", "--out", str(out)]) == 0
    assert "time path (effect by month since the policy's introduction)" in capsys.readouterr().out
    path = pd.read_csv(out / "attribution_events.csv")
    steps = SMALL_PARAMS["run.steps"]
    assert set(path["month"]) == set(range(1, steps + 1)) and (path["n_seeds"] == 2).all()
    parts = path[path["kind"] == COMPONENT].groupby(["outcome", "month"])["shapley"].sum()
    total = path[path["kind"] == TOTAL].set_index(["outcome", "month"])["shapley"]
    assert np.allclose(parts, total.loc[parts.index], rtol=1e-9, atol=1e-9)  # efficiency, every month
    assert (total.abs() > 0).any()
    events = pd.read_csv(out / "events.csv").set_index(["outcome", "month"])["difference"]
    assert np.allclose(events.loc[total.index], total, rtol=1e-9, atol=1e-9)
    windows = pd.read_csv(out / "attribution_windows.csv")
    last = windows[windows["window"] == "last"].set_index(["outcome", "component"])["shapley"]
    window = SMALL_PARAMS["run.outcome_window"]
    assert (windows.loc[windows["window"] == "last", "first_month"] == steps - window + 1).all()
    summary = pd.read_csv(out / "attribution.csv")
    summary = summary[summary["kind"].isin([COMPONENT, TOTAL])].set_index(["outcome", "component"])["shapley"]
    assert np.allclose(last.loc[summary.index], summary, rtol=1e-9, atol=1e-9)
    first = windows[windows["window"] == "first"].set_index(["outcome", "component"])["shapley"]
    by_month = path[path["month"] <= window].groupby(["outcome", "component"])["shapley"].mean()
    assert np.allclose(first.loc[by_month.index], by_month, rtol=1e-9, atol=1e-9)  # linear in the outcome
    assert {"events_quality.needs_met_share.png", "events_cost.public_spending.png"} <= {
        p.name for p in (out / "figures").iterdir()}
    assert (out / "events.png").is_file() and (out / "events_settling.csv").is_file()
    text = (out / "attribution.md").read_text(encoding="utf-8")
    assert "## After the introduction" in text and f"| component | months 1–{window} |" in text


def test_a_scenario_and_base_of_two_designs_are_refused(tmp_path, capsys) -> None:
    introduced = tmp_path / "introduced.yaml"
    introduced.write_text("run:\n  design: introduction\n", encoding="utf-8")
    assert main(["explain", "in_leading_group", "--against", str(introduced), *SET, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "differ in run.design (equilibrium, introduction)" in err and "--set run.design=introduction" in err


def test_dry_run_lists_the_components_and_the_runs(capsys, tmp_path) -> None:
    assert main(["explain", "out_interest_binding", "--replicates", "3", *SET, "--dry-run", "--backend", "serial",
                 "--out", str(tmp_path / "d")]) == 0
    assert not (tmp_path / "d").exists()
    printed = capsys.readouterr().out
    assert "8 components, exact Shapley values over 256 subsets × 3 seeds = 768 runs" in printed
    assert "Rent-free space: profit_space.rent_free_space False → True" in printed


@pytest.mark.parametrize("argv, message", [
    (["nope_scenario"], "nope_scenario: no such file, and not a shipped scenario"),
    (["baseline"], "no parameter differs from the base"),
    (["in_leading_group", "--replicates", "1"], "--replicates: expected at least 2"),
    (["in_leading_group", "--group", "g=government.resistance"], "does not change it"),
    (["in_leading_group", "--outcome", "quality.needs_met"], "did you mean 'quality.needs_met_share'"),
])
def test_bad_input_is_a_clear_error_with_exit_2(argv, message, capsys, tmp_path) -> None:
    assert main(["explain", *argv, *SET, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_the_table_on_disk_is_the_table_in_memory_to_the_bit(tmp_path) -> None:
    """attribution.csv keeps full precision: docs/findings.md prints the splits from it and docs/scenarios.md
    from the table in memory, and the two pages must round alike (at 6 significant digits they once printed
    10,576 and 10,575 for the same interval)."""
    from coprod_sim import explain

    result = explain("up_incentives", replicates=2, params=SMALL_PARAMS, outcomes=["cost.public_spending"],
                     out=tmp_path / "why", backend="serial")
    on_disk = pd.read_csv(tmp_path / "why" / "attribution.csv")
    numbers = [c for c in result.table.columns if pd.api.types.is_float_dtype(result.table[c])]
    assert numbers and (result.table["shapley"].abs() > 1000).any()  # values with more than 6 digits to keep
    pd.testing.assert_frame_equal(on_disk[numbers], result.table[numbers].reset_index(drop=True), check_exact=True)
