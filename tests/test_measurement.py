"""Outcomes that can move: coverage with supply and distance, missing values reported as missing,
satisfaction per service type from a survey that observes without changing the simulation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_PARAMS

import coprod_sim
from coprod_sim import Model
from coprod_sim.model.outcomes import OUTCOMES

# outcomes read from residents' ratings (monthly, or the survey's): all that their noise may move
RATING_OUTCOMES = ("quality.satisfaction", "quality.satisfied_share", "equity.satisfaction")


def _model(steps: int = 6, **params) -> Model:
    m = Model(rng=2, scenario="baseline", **{**SMALL_PARAMS, **params})
    for _ in range(steps):
        m.step()
    return m


def test_coverage_is_capacity_within_reach_per_need_within_reach():
    """The 2SFCA identity with all capacity as supply and all need as demand, capped at 1."""
    m = _model()
    use = m.consumption
    supply = np.zeros_like(m.need_in_reach)
    for f, cap, vol in zip(use.facilities, use.capacity, use.voluntary, strict=True):
        supply[f.cell_index, f.service] += cap + vol
    expected = np.minimum(1.0, m.decay.apply(np.divide(supply, m.need_in_reach, out=np.zeros_like(supply),
                                                       where=m.need_in_reach > 0)))
    np.testing.assert_allclose(use.coverage, expected, rtol=1e-9, atol=1e-12)
    assert 0.0 < use.coverage.min() < 1.0  # it varies: not the old "something within reach" indicator


def test_coverage_falls_when_residents_reach_less_of_the_same_capacity():
    """The same district, the same facilities and need, measured with a shorter reach: less capacity is within
    reach of each cell's residents. (Two runs with different reach would compare two worlds: planners answer a
    shorter reach with other facilities, and coverage then moves either way from seed to seed.)"""
    from coprod_sim.model.consume import _coverage
    from coprod_sim.model.space import DecayOperator

    for seed in range(3):
        m = Model(rng=seed, scenario="baseline", **{**SMALL_PARAMS, "population.residents": 9000})
        m.step()
        use, layout = m.consumption, m.layout
        supply = np.zeros_like(m.need_in_reach)
        np.add.at(supply, (np.array([f.cell_index for f in use.facilities]), use.service), use.capacity + use.voluntary)
        near = _coverage(m, supply)
        m.decay = DecayOperator(layout.width, layout.height, m.config.space.cell_size_m, 150.0, 300.0)
        m.need_in_reach = m.decay.apply(m.residents.cell_need)
        far = _coverage(m, supply)
        assert far.mean() < near.mean()


def test_an_empty_group_gives_a_missing_gap_not_a_number(tmp_path):
    result = coprod_sim.run("baseline", {**SMALL_PARAMS, "space.periphery_share": 0}, seed=0)
    gaps = [k for k in result.summary if "center_periphery" in k]
    assert gaps and all(np.isnan(result.summary[k]) for k in gaps)
    assert not np.isnan(result.summary["equity.migrant_gap"])  # the other comparison is still there
    assert all(any(note.startswith(f"{k} is missing: one of the two groups") for note in result.manifest["notes"])
               for k in gaps)
    result.save(tmp_path, plots=False)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert all(written[k] is None for k in gaps)
    back = coprod_sim.load_results(tmp_path)
    assert np.isnan(back.summary[gaps[0]])
    declared = {o.key for o in OUTCOMES if o.missing_when}
    assert set(gaps) <= declared


def test_whole_numbers_for_real_valued_parameters_work():
    """satisfaction.initial_expectation: 0 used to crash (an integer array cannot take float updates)."""
    params = {**SMALL_PARAMS, "satisfaction.initial_expectation": 0, "run.steps": 3, "run.outcome_window": 3}
    result = coprod_sim.run("baseline", params, seed=0)
    assert result.manifest["config"]["satisfaction"]["initial_expectation"] == 0.0
    assert isinstance(result.manifest["config"]["satisfaction"]["initial_expectation"], float)


def test_the_satisfaction_survey_observes_without_changing_the_simulation():
    a = coprod_sim.run("baseline", {**SMALL_PARAMS, "satisfaction.survey_respondents": 491}, seed=3).timeseries
    b = coprod_sim.run("baseline", {**SMALL_PARAMS, "satisfaction.survey_respondents": 100}, seed=3).timeseries
    survey = [c for c in a.columns if c.startswith(("quality.satisfaction_mean.", "quality.satisfied_share."))]
    assert len(survey) == 14
    others = [c for c in a.columns if c not in survey]
    assert a[others].equals(b[others])
    assert not a[survey].equals(b[survey])


def test_types_that_meet_more_need_are_rated_higher():
    summary = coprod_sim.run("baseline", SMALL_PARAMS, seed=4).summary
    types = [s for s in coprod_sim.model.outcomes.SERVICE_TYPES
             if not np.isnan(summary[f"quality.satisfaction_mean.{s}"])]
    met = [summary[f"quality.needs_met_share.{s}"] for s in types]
    rated = [summary[f"quality.satisfaction_mean.{s}"] for s in types]
    best_met, worst_met = types[int(np.argmax(met))], types[int(np.argmin(met))]
    assert summary[f"quality.satisfaction_mean.{best_met}"] > summary[f"quality.satisfaction_mean.{worst_met}"]
    assert np.corrcoef(met, rated)[0, 1] > 0.5
    assert all(1.0 <= r <= 5.0 for r in rated)
    shares = [summary[f"quality.satisfied_share.{s}"] for s in types]
    assert all(0.0 <= x <= 1.0 for x in shares)


@pytest.mark.parametrize("respondents", [0])
def test_no_survey_means_no_item_ratings(respondents):
    summary = coprod_sim.run("baseline", {**SMALL_PARAMS, "satisfaction.survey_respondents": respondents,
                                          "run.steps": 2, "run.outcome_window": 2}, seed=0).summary
    assert np.isnan(summary["quality.satisfaction_mean.meals"])


def test_a_run_measures_only_what_its_caller_reads_and_nothing_else_changes():
    """The optional outcomes (survey items, the public-services Gini) are left out when nobody reads them;
    the world and every outcome measured stay the same, bit for bit, and the convergence check keeps its series."""
    from coprod_sim.model.outcomes import HEADLINE_KEYS, OPTIONAL_OUTCOMES
    from coprod_sim.runs import simulate

    cfg = coprod_sim.load_config("baseline", SMALL_PARAMS)
    full = simulate(cfg, seed=5)
    lean = simulate(cfg, seed=5, measured=["quality.needs_met_share"])
    assert set(full.timeseries.columns) >= OPTIONAL_OUTCOMES and set(full.summary) >= OPTIONAL_OUTCOMES
    assert not OPTIONAL_OUTCOMES & set(lean.timeseries.columns) and not OPTIONAL_OUTCOMES & set(lean.summary)
    assert not OPTIONAL_OUTCOMES & set(HEADLINE_KEYS)  # the convergence check never lacks a series
    kept = [c for c in full.timeseries.columns if c not in OPTIONAL_OUTCOMES]
    assert list(lean.timeseries.columns) == kept
    assert lean.timeseries.equals(full.timeseries[kept])  # same values, bit for bit
    assert list(lean.summary) == [k for k in full.summary if k not in OPTIONAL_OUTCOMES]
    np.testing.assert_array_equal(np.array(list(lean.summary.values()), dtype=float),
                                  np.array([full.summary[k] for k in lean.summary], dtype=float))


def test_spin_up_months_skip_what_only_outcomes_read_and_simulate_the_same_world(monkeypatch):
    """Before month 0 nobody reads coverage, public access per resident or the ratings, so the month leaves them
    out (``Model.observed``); the world, every outcome but the ratings and the state a built model shows are the
    same, bit for bit, as when every spin-up month works them out. Ratings draw their noise from a stream of their
    own, only in rated months: rating the spin-up too moves that stream and nothing else."""
    params = {**SMALL_PARAMS, "run.spin_up": 6, "run.steps": 4, "run.outcome_window": 4}
    seen: list[tuple[int, bool, bool]] = []
    lean = Model(rng=7, scenario="baseline", **params, explain=True)
    lean.run_model()

    original = coprod_sim.model.consume.use_services

    def watched(model):
        use = original(model)
        seen.append((model.month, use.coverage is not None, use.met_public is not None))
        return use

    monkeypatch.setattr(coprod_sim.model.consume, "use_services", watched)
    watched_model = Model(rng=7, scenario="baseline", **params)
    assert seen == [(m, m >= 0, m >= 0) for m in range(-5, 1)]  # month 0, the last of the spin-up, is shown
    assert watched_model.residents.satisfaction.min() >= 1 and watched_model.consumption.coverage is not None

    monkeypatch.setattr(Model, "observed", property(lambda self: True))
    full = Model(rng=7, scenario="baseline", **params, explain=True)
    np.testing.assert_array_equal(full.consumption.coverage, watched_model.consumption.coverage)
    full.run_model()
    ratings = [c for c in full.timeseries().columns if c.startswith(RATING_OUTCOMES)]
    assert ratings and not lean.timeseries()[ratings].equals(full.timeseries()[ratings])
    assert lean.timeseries().drop(columns=ratings).equals(full.timeseries().drop(columns=ratings))
    assert lean.events == full.events
    np.testing.assert_array_equal(lean.residents.expectation, full.residents.expectation)
    np.testing.assert_array_equal(lean.residents.participation, full.residents.participation)


def test_rating_noise_never_changes_the_simulated_world():
    """Residents' ratings feed nothing back (docs/ODD.md §6): noisier ratings move the rating outcomes only."""
    runs = [coprod_sim.run("baseline", {**SMALL_PARAMS, "satisfaction.noise_sd": sd}, seed=2).timeseries
            for sd in (0.2, 0.8)]
    moved = [c for c in runs[0].columns if not runs[0][c].equals(runs[1][c])]
    assert moved and all(c.startswith(RATING_OUTCOMES) for c in moved)
    assert "quality.satisfaction_mean" in moved and "quality.needs_met_share" not in moved


def test_asking_for_one_outcome_of_a_group_measures_the_group():
    from coprod_sim.model.outcomes import SURVEY_KEYS, unmeasured

    public = {"equity.public_access_gini", "equity.public_center_periphery_gap"}
    assert unmeasured(None) == frozenset()
    assert unmeasured(["quality.satisfied_share.meals"]) == public
    assert unmeasured(["equity.public_center_periphery_gap"]) == set(SURVEY_KEYS)
    assert unmeasured(["quality.needs_met_share"]) == {*SURVEY_KEYS, *public}


def test_a_sweep_measures_its_outputs_and_gets_the_same_numbers(tmp_path):
    spec = {"base": "baseline", "set": {**SMALL_PARAMS, "run.steps": 8, "run.outcome_window": 4}, "replicates": 2,
            "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.05, 0.3]}}}
    asked = ["quality.needs_met_share", "quality.satisfied_share.meals", "equity.access_gini",
             "equity.public_center_periphery_gap"]
    lean = coprod_sim.sweep({**spec, "outputs": {"summary": asked}}, out=tmp_path / "lean", backend="serial")
    full = coprod_sim.sweep({**spec, "outputs": {"summary": "all"}}, out=tmp_path / "full", backend="serial")
    lean_runs = pd.read_parquet(lean.out / "runs.parquet").set_index(["point_id", "replicate"]).sort_index()
    full_runs = pd.read_parquet(full.out / "runs.parquet").set_index(["point_id", "replicate"]).sort_index()
    assert (lean_runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(lean_runs[asked], full_runs[asked], check_exact=True)
