"""The stationary reading: spin-up, heterogeneous start, convergence diagnostic, and the window check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_PARAMS

import coprod_sim
from coprod_sim import Model
from coprod_sim.experiments.stationarity import check_scenario, compare_windows
from coprod_sim.model.operators import Firm


def _steps(series: dict[int, np.ndarray]) -> pd.DataFrame:
    """A steps table with one outcome ``x``: replicate → its monthly values from month 1."""
    return pd.DataFrame([{"replicate": r, "step": m + 1, "x": v} for r, values in series.items()
                         for m, v in enumerate(values)])


def test_windows_agree_for_a_stationary_series_and_not_for_a_drifting_one():
    rng = np.random.default_rng(0)
    flat = _steps({r: 1.0 + 0.1 * rng.standard_normal(24) for r in range(8)})
    row = compare_windows(flat, ["x"], months=12, window=6).iloc[0]
    # the known answer: the late window's mean minus the reporting window's, paired by replicate
    values = flat.pivot(index="replicate", columns="step", values="x")
    expected = (values[[19, 20, 21, 22, 23, 24]].mean(axis=1) - values[[7, 8, 9, 10, 11, 12]].mean(axis=1)).mean()
    assert row["n"] == 8 and row["drift"] == pytest.approx(expected)
    # pure noise is flagged about as often as the test's level (5%), a steady drift almost always
    def flagged(trend: float) -> float:
        return np.mean([not compare_windows(_steps({r: 1.0 + trend * np.arange(24) + 0.1 * rng.standard_normal(24)
                                                    for r in range(8)}), ["x"], 12, 6)["agrees"].iloc[0]
                        for _ in range(60)])
    assert flagged(0.0) <= 0.12
    assert flagged(0.01) >= 0.9


def test_needs_met_must_also_agree_within_its_absolute_tolerance():
    # a drift of 0.03 inside a wide between-seed interval still fails the 0.02 tolerance for need met
    rng = np.random.default_rng(1)
    levels = rng.normal(0.6, 0.2, 6)
    steps = _steps({r: np.r_[np.full(12, levels[r]), np.full(12, levels[r] + 0.03)] for r in range(6)})
    steps = steps.rename(columns={"x": "quality.needs_met_share"})
    row = compare_windows(steps, ["quality.needs_met_share"], months=12, window=6).iloc[0]
    assert row["report_ci"] > 0.03 and not row["agrees"]


def test_check_scenario_runs_a_sweep_to_twice_the_length(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "tiny.yaml"
    config.write_text("population: {residents: 1500}\nspace: {community_size: 750}\n"
                      "run: {steps: 8, outcome_window: 4, spin_up: 12}\n")
    table = check_scenario(str(config), seeds=3, out=tmp_path / "out", outcomes=["quality.needs_met_share"],
                           backend="serial")
    steps = pd.read_parquet(tmp_path / "out" / "steps.parquet")
    assert steps["step"].max() == 16 and steps["replicate"].nunique() == 3
    assert list(table["scenario"]) == ["tiny"] and table["n"].iloc[0] == 3


def test_a_flagged_pair_is_rechecked_on_fresh_seeds(tmp_path, monkeypatch):
    from coprod_sim.experiments.stationarity import recheck_flagged

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "start.yaml"  # read from month 1 with no spin-up: the start-up transient is real drift
    config.write_text("population: {residents: 1500}\nspace: {community_size: 750}\n"
                      "run: {steps: 8, outcome_window: 4, spin_up: 0}\n")
    outcomes = ["quality.needs_met_share", "quantity.active_facilities"]
    table = check_scenario(str(config), seeds=4, out=tmp_path / "first", outcomes=outcomes, backend="serial")
    assert not table["agrees"].all()
    table.loc[table["outcome"] == "quantity.active_facilities", "agrees"] = True  # pretend only one was flagged
    checked = recheck_flagged(table, seeds=4, out=tmp_path, backend="serial", configs={"start": config})
    flagged = checked.set_index("outcome")["confirmed"]
    assert flagged["quality.needs_met_share"] == (not table.set_index("outcome").loc["quality.needs_met_share", "agrees"])
    assert pd.isna(flagged["quantity.active_facilities"])
    first = pd.read_parquet(tmp_path / "first" / "runs.parquet")["seed"]
    fresh = pd.read_parquet(tmp_path / "start-fresh-seeds" / "runs.parquet")["seed"]
    assert not set(first) & set(fresh)  # independent seeds


def test_spin_up_months_are_simulated_but_not_recorded():
    m = Model(rng=0, scenario="baseline", **{**SMALL_PARAMS, "run.spin_up": 24})
    assert m.month == 0 and m.steps == 0 and not m.datacollector.model_vars["quality.needs_met_share"]
    assert m.market.entries["firm"] > 0  # 24 months happened: firms entered
    m.step()
    assert m.month == 1 and len(m.timeseries()) == 1
    # the spin-up is part of the run: a different length gives a different reported month 1
    n = Model(rng=0, scenario="baseline", **{**SMALL_PARAMS, "run.spin_up": 12})
    n.step()
    assert n.timeseries()["quality.satisfaction_mean"].iloc[0] != m.timeseries()["quality.satisfaction_mean"].iloc[0]


def test_shocks_start_at_reported_month_zero_whatever_the_spin_up():
    params = {**SMALL_PARAMS, "run.spin_up": 12, "services.cost_growth.meals": 0.01,
              "profit_space.subsidy_per_visit.meals": 8, "profit_space.subsidy_change_step": 3,
              "profit_space.subsidy_change_factor": 0.5}
    m = Model(rng=0, scenario="baseline", **params)
    k = m.terms.base_subsidy.nonzero()[0][0]
    assert m.terms.subsidy[k] == m.terms.base_subsidy[k]  # not cut during the spin-up
    assert np.allclose(m.terms.unit_cost, m.terms.base_unit_cost)  # costs start growing at month 0
    for _ in range(3):
        m.step()
    assert m.terms.subsidy[k] == 0.5 * m.terms.base_subsidy[k]


def test_the_start_is_heterogeneous_no_cohort_moves_in_lockstep():
    m = Model(rng=3, scenario="baseline", **{**SMALL_PARAMS, "run.spin_up": 0})
    firms = list(m.agents_by_type[Firm])
    assert len({round(f.trust, 9) for f in firms}) > len(firms) // 2  # different ages, different trust
    assert len({f.cost_factor for f in firms}) == len(firms)  # each firm its own costs
    same = Model(rng=3, scenario="baseline", **{**SMALL_PARAMS, "run.spin_up": 0, "operators.initial_age_max": 0,
                                                  "operators.cost_dispersion": 0.0})
    assert {f.trust for f in same.agents_by_type[Firm]} == {same.config.operators.initial_trust}
    assert {f.cost_factor for f in same.agents_by_type[Firm]} == {1.0}


def test_convergence_diagnostic_in_summary_and_manifest():
    result = coprod_sim.run("baseline", {**SMALL_PARAMS, "run.spin_up": 24, "run.steps": 24, "run.outcome_window": 6},
                            seed=1)
    record = result.manifest["convergence"]
    assert record["spin_up_months"] == 24 and "3 standard errors and 10% of its level" in record["rule"]
    flagged = sorted(k for k, d in record["outcomes"].items() if d["flagged"])
    assert record["drifting"] == flagged and result.summary["convergence.outcomes_drifting"] == len(flagged)
    detail = record["outcomes"]["quality.needs_met_share"]
    series = result.timeseries["quality.needs_met_share"]
    assert detail["mean"] == pytest.approx(series.iloc[-6:].mean())
    assert detail["drift"] == pytest.approx(series.iloc[-6:].mean() - series.iloc[-12:-6].mean())
    # too short for two windows: the verdict is missing, with a note saying why
    short = coprod_sim.run("baseline", {**SMALL_PARAMS, "run.steps": 8, "run.outcome_window": 6}, seed=1)
    assert np.isnan(short.summary["convergence.outcomes_drifting"]) and short.manifest["convergence"]["outcomes"] == {}
    assert any("convergence.outcomes_drifting is missing" in n for n in short.manifest["notes"])


def test_drift_check_flags_a_shift_not_noise():
    from coprod_sim.model import drift_check

    rng = np.random.default_rng(0)
    noise = 1.0 + 0.01 * rng.standard_normal(48)
    shifted = noise + np.where(np.arange(48) >= 36, 0.3, 0.0)  # the last window moved by 0.3
    checked = drift_check({"noise": noise, "shifted": shifted}, window=12, tolerance=0.1)
    assert not checked["noise"]["flagged"] and checked["shifted"]["flagged"]
    assert checked["shifted"]["drift"] == pytest.approx(shifted[-12:].mean() - shifted[-24:-12].mean())
    # a drift beyond the standard errors but below the tolerance is immaterial
    assert not drift_check({"shifted": shifted}, window=12, tolerance=0.5)["shifted"]["flagged"]
    assert drift_check({"short": noise[:20]}, window=12, tolerance=0.1) == {}


def test_a_transient_is_flagged_by_the_diagnostic():
    # read straight after the start (no spin-up, reading from month 1) the baseline is still moving
    result = coprod_sim.run("baseline", {**SMALL_PARAMS, "run.spin_up": 0, "run.steps": 12, "run.outcome_window": 6},
                            seed=0)
    assert result.summary["convergence.outcomes_drifting"] >= 1


def test_holm_adjustment_matches_its_definition():
    from coprod_sim.experiments.stationarity import holm

    # p sorted: 0.01, 0.02, 0.04 → 3·0.01, max(0.03, 2·0.02), max(0.04, 1·0.04); NaN untouched
    np.testing.assert_allclose(holm(np.array([0.04, 0.01, np.nan, 0.02])), [0.04, 0.03, np.nan, 0.04])


def test_firms_efficiency_drifts_around_a_stationary_distribution():
    m = Model(rng=5, scenario="baseline", **{**SMALL_PARAMS, "operators.cost_dispersion": 0.3,
                                             "operators.cost_persistence": 0.9})
    firms = list(m.agents_by_type[Firm])
    before = np.array([f.log_cost for f in firms])
    paths = [before]
    for _ in range(200):
        m.market.evolve_costs()
        paths.append(np.array([f.log_cost for f in firms]))
    x = np.array(paths)  # months × firms
    assert x[1:].std() == pytest.approx(0.3, rel=0.1)  # the dispersion stays σ: no drift to the efficient
    lag1 = np.corrcoef(x[:-1].ravel(), x[1:].ravel())[0, 1]
    assert lag1 == pytest.approx(0.9, abs=0.03)
    assert np.exp(x - 0.3**2 / 2).mean() == pytest.approx(1.0, abs=0.05)  # mean cost factor 1
    assert all(f.cost_factor == pytest.approx(np.exp(f.log_cost - 0.3**2 / 2)) for f in firms)
    fixed = Model(rng=5, scenario="baseline", **{**SMALL_PARAMS, "operators.cost_persistence": 1.0})
    start = [f.cost_factor for f in fixed.agents_by_type[Firm]]
    fixed.market.evolve_costs()
    assert [f.cost_factor for f in fixed.agents_by_type[Firm]] == start  # persistence 1: efficiency is fixed


def test_a_firm_whose_costs_rise_loses_money_and_exits():
    m = Model(rng=2, scenario="baseline", **{**SMALL_PARAMS, "operators.cost_dispersion": 0.0})
    firm = next(iter(m.agents_by_type[Firm]))
    firm.cost_factor = 5.0  # an efficiency shock no price covers
    for _ in range(m.config.operators.exit_patience + 1):
        m.step()
    assert firm.model is None or firm not in m.agents_by_type[Firm]


def test_the_books_judge_each_operator_on_exactly_its_last_months():
    """The exit rule reads the last ``exit_patience`` results of each operator, once it has booked that many,
    however operators join the books and in whatever order they are listed."""
    from types import SimpleNamespace

    from coprod_sim.model.operators import Books

    books, a, b = Books(3), SimpleNamespace(books_row=-1), SimpleNamespace(books_row=-1)
    history = {"a": [-5, 1, 1, 10, -20, 0], "b": [-1, -1, 0, 2]}
    verdicts: dict[str, list[bool]] = {"a": [], "b": []}
    for month in range(6):
        listed = [("a", a)] + ([("b", b)] if month >= 2 else [])
        listed = listed[::-1] if month % 2 else listed  # the listing order changes from month to month
        losing = books.book([op for _, op in listed], np.array([history[name][month - (2 if name == "b" else 0)]
                                                                  for name, _ in listed]))
        for (name, _), verdict in zip(listed, losing.tolist(), strict=True):
            verdicts[name].append(verdict)
    # a: not full, not full, −3, +12, −9, −10; b (from month 2): not full, not full, −2, +1
    assert verdicts == {"a": [False, False, True, False, True, True], "b": [False, False, True, False]}


def test_costs_grow_only_for_the_stated_months():
    m = Model(rng=0, scenario="baseline", **{**SMALL_PARAMS, "services.cost_growth.meals": 0.01,
                                             "services.cost_growth_months": 6})
    k = list(m.terms.cost_growth).index(0.01)
    for _ in range(12):
        m.step()
    assert m.terms.unit_cost[k] == pytest.approx(m.terms.base_unit_cost[k] * 1.01**6)


def test_exits_are_a_monthly_flow():
    m = Model(rng=1, scenario="baseline", **{**SMALL_PARAMS, "run.steps": 36})
    m.run_model()
    monthly = m.timeseries()["cost.operator_exits"]
    assert monthly.sum() == sum(m.market.exits.values()) and monthly.max() < monthly.sum()


def test_a_drifting_outcome_settles_at_the_first_reading_whose_later_window_agrees():
    rng = np.random.default_rng(2)
    months = np.arange(1, 65)
    # falls steadily until month 20, then flat: read at 8 or 16 it is still moving, at 24 it has settled
    falling = {r: 2.0 - 0.05 * np.minimum(months, 20) + 0.005 * rng.standard_normal(64) for r in range(8)}
    from coprod_sim.experiments.stationarity import settled_reading
    found = settled_reading(_steps(falling), "x", months=8, window=4, horizon=4)
    assert found.month == 24 and found.level == pytest.approx(1.0, abs=0.01) and found.late == pytest.approx(1.0, abs=0.01)
    # a steady trend never settles within the horizon
    trend = {r: 2.0 - 0.05 * months + 0.005 * rng.standard_normal(64) for r in range(8)}
    assert settled_reading(_steps(trend), "x", months=8, window=4, horizon=4).month is None


def test_a_pair_that_drifts_gets_the_month_from_which_it_reads_settled(tmp_path, monkeypatch):
    from coprod_sim.experiments.stationarity import add_settling_months

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "start.yaml"  # no spin-up: the start-up transient is real drift, and it ends
    config.write_text("population: {residents: 1500}\nspace: {community_size: 750}\n"
                      "run: {steps: 8, outcome_window: 4, spin_up: 0}\n")
    table = pd.DataFrame({"scenario": ["start", "start"], "outcome": ["quality.needs_met_share", "quantity.capacity"],
                          "confirmed": [True, np.nan]})
    found = add_settling_months(table, seeds=4, out=tmp_path, horizon=3, backend="serial",
                                configs={"start": config}).set_index("outcome")
    runs = pd.read_parquet(tmp_path / "start-settling" / "runs.parquet")
    steps = pd.read_parquet(tmp_path / "start-settling" / "steps.parquet")
    assert steps["step"].max() == 48 and runs["seed"].nunique() == 4  # 2 × horizon 3 × 8 months
    from coprod_sim.experiments.stationarity import settled_reading
    expected = settled_reading(steps, "quality.needs_met_share", 8, 4, 3)
    row = found.loc["quality.needs_met_share"]
    assert pd.isna(row["settles_by"]) if expected.month is None else row["settles_by"] == expected.month
    assert (row["settled_level"], row["settled_late"]) == (expected.level, expected.late)
    assert found.loc["quantity.capacity", ["settles_by", "settled_level", "settled_late"]].isna().all()  # not run
