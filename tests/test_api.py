"""The public Python API (docs/python.md): run, Model, sweep, load_results, as a notebook user calls them."""

from __future__ import annotations

import multiprocessing
import warnings

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, same

import coprod_sim
from coprod_sim import ConfigError, Model
from coprod_sim.config import read_yaml
from coprod_sim.model import HEADLINE_KEYS, OUTCOME_KEYS, SUMMARY_KEYS

TINY = {"population.residents": 1500, "space.community_size": 750, "run.steps": 8, "run.outcome_window": 4}


def test_run_returns_summary_timeseries_and_manifest():
    result = coprod_sim.run("baseline", params=TINY, seed=2)
    assert list(result.summary) == list(SUMMARY_KEYS) and result.summary["steps"] == 8.0
    assert isinstance(result.timeseries, pd.DataFrame)
    assert list(result.timeseries["step"]) == list(range(1, 9))
    assert list(result.timeseries.columns) == ["step", *OUTCOME_KEYS]
    # the summary is the mean of the last run.outcome_window months
    last = result.timeseries["quality.needs_met_share"].iloc[-4:]
    assert result.summary["quality.needs_met_share"] == pytest.approx(last.mean(), rel=1e-12)
    assert result.manifest["seed"] == 2 and result.manifest["scenario"] == "baseline"
    assert result.manifest["config"]["population"]["residents"] == 1500
    assert result.manifest["versions"]["mesa"].startswith("3.")
    assert result.manifest["results_id"] == coprod_sim.runs.results_id() and result.manifest["results_id"] is not None


def test_a_scenario_by_name_path_or_mapping_gives_the_same_run():
    by_name = coprod_sim.run("party_led", TINY, seed=1).summary
    by_path = coprod_sim.run(ROOT / "configs" / "party_led.yaml", TINY, seed=1).summary
    by_mapping = coprod_sim.run(read_yaml(ROOT / "configs" / "party_led.yaml"), TINY, seed=1).summary
    assert same(by_name, by_path, by_mapping)
    assert not same(by_name, coprod_sim.run("baseline", TINY, seed=1).summary)


def test_params_as_dotted_keys_nested_mappings_or_numpy_scalars_are_the_same():
    dotted = {**TINY, "government.resistance": 0.3, "profit_space.subsidy_per_visit.meals": 5.0}
    nested = {"population": {"residents": 1500}, "space": {"community_size": 750}, "run": {"steps": 8, "outcome_window": 4},
              "government": {"resistance": 0.3}, "profit_space": {"subsidy_per_visit": {"meals": 5.0}}}
    sampled = {"population.residents": np.int64(1500), "space.community_size": np.float64(750.0),
               "run.steps": np.int32(8), "run.outcome_window": 4, "government.resistance": np.float64(0.3),
               "profit_space.subsidy_per_visit.meals": np.float32(5.0)}
    a, b, c = (coprod_sim.run("baseline", p, seed=4) for p in (dotted, nested, sampled))
    assert same(a.summary, b.summary, c.summary)
    assert type(c.manifest["config"]["population"]["residents"]) is int  # no numpy types in the manifest
    # a per-service subkey changes only that service; the others keep their defaults
    assert a.manifest["config"]["profit_space"]["subsidy_per_visit"]["health"] == 0


def test_bad_parameters_and_scenarios_get_clear_errors():
    with pytest.raises(ConfigError) as err:
        coprod_sim.run("baseline", {"government.resistance": 1.5})
    assert err.value.problems == ["params: government.resistance: expected a value in [0, 0.99], found 1.5 (float)"]
    with pytest.raises(ConfigError) as err:
        coprod_sim.run("baselin")
    assert "did you mean 'baseline'?" in err.value.problems[0] and "party_led" in err.value.problems[0]
    with pytest.raises(ConfigError, match="unknown key; did you mean 'resistance'"):
        Model(rng=0, **{"government.resistence": 0.3})
    with pytest.raises(ConfigError, match=r"government\.resistance is given a value and also used as a group"):
        coprod_sim.run("baseline", {"government.resistance": 0.3, "government.resistance.x": 1})


def test_a_run_shorter_than_the_outcome_window_shrinks_it_and_says_so():
    with pytest.warns(UserWarning, match="outcome window shrinks from 4 to 3 months"):
        result = coprod_sim.run("baseline", TINY, seed=0, steps=3)
    assert len(result.timeseries) == 3 and result.summary["steps"] == 3.0
    assert result.manifest["config"]["run"]["outcome_window"] == 3
    assert "shrinks" in result.manifest["notes"][0]
    assert result.summary["quality.match"] == pytest.approx(result.timeseries["quality.match"].mean(), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coprod_sim.run("baseline", TINY, seed=0, steps=6)  # longer than the window: nothing to say


def test_model_follows_mesa_conventions():
    model = Model(rng=3, scenario="baseline", **TINY)
    assert model.seed == 3 and model.running
    model.run_model()
    assert model.steps == 8 and not model.running  # stops after run.steps
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == list(OUTCOME_KEYS) and len(frame) == 8
    assert set(HEADLINE_KEYS) <= set(frame.columns)
    pd.testing.assert_frame_equal(model.timeseries(), coprod_sim.run("baseline", TINY, seed=3).timeseries)
    model.step()  # a user (or the app) can go on beyond the scenario's length
    assert model.steps == 9 and len(model.timeseries()) == 9


def test_rng_none_records_the_drawn_seed_and_a_generator_is_reproducible():
    fresh = Model(rng=None, **TINY)
    assert isinstance(fresh.seed, int) and fresh.seed >= 0
    fresh.run_model()
    again = Model(rng=fresh.seed, **TINY)
    again.run_model()
    pd.testing.assert_frame_equal(fresh.timeseries(), again.timeseries())
    from_gen = [Model(rng=np.random.default_rng(7), **TINY).seed for _ in range(2)]
    assert from_gen[0] == from_gen[1]
    assert Model(rng=np.int64(5), **TINY).seed == 5
    with pytest.raises(ValueError, match="seed must be a whole number ≥ 0"):
        Model(rng=-1, **TINY)


def test_mesa_batch_run_runs_the_model():
    """The call of the issue, verbatim but for a smaller district; batch_run forces the 'spawn' start method."""
    method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(Model, parameters={"government.resistance": [0.3, 0.7], "population.residents": 1500},
                              rng=[1, 2], max_steps=12, number_processes=1, display_progress=False)
    finally:
        multiprocessing.set_start_method(method, force=True)
    assert len(rows) == 4
    assert {(r["government.resistance"], r["rng"]) for r in rows} == {(0.3, 1), (0.7, 1), (0.3, 2), (0.7, 2)}
    assert all(r["Step"] == 12 and 0 <= r["quality.needs_met_share"] <= 1 for r in rows)
    direct = Model(rng=2, **{"government.resistance": 0.7, "population.residents": 1500})
    for _ in range(12):
        direct.step()
    row = next(r for r in rows if r["government.resistance"] == 0.7 and r["rng"] == 2)
    assert row["quality.needs_met_share"] == direct.outcomes["quality.needs_met_share"]


def test_sweep_and_load_results(tmp_path):
    spec = {"base": "baseline", "set": TINY, "replicates": 2, "seed": 3,
            "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.025, 0.2]}},
            "outputs": {"steps": ["quality.needs_met_share"]}}
    report = coprod_sim.sweep(spec, out=tmp_path / "sweep", backend="serial")
    assert report.complete and report.ok == 4
    tables = coprod_sim.load_results(report.out)
    assert len(tables.runs) == 4 and (tables.runs["status"] == "ok").all()
    assert len(tables.steps) == 4 * 8
    summary = tables.summary(["quality.needs_met_share"])
    assert list(summary["n"]) == [2, 2]
    # a run folder reads back as the run that wrote it
    result = coprod_sim.run("baseline", TINY, seed=1)
    result.save(tmp_path / "run", plots=False)
    back = coprod_sim.load_results(tmp_path / "run")
    assert same(back.summary, result.summary) and back.manifest["seed"] == 1
    pd.testing.assert_frame_equal(back.timeseries, result.timeseries)
    with pytest.raises(coprod_sim.UserError, match="no results here"):
        coprod_sim.load_results(tmp_path)


def test_public_names_are_listed_and_typed():
    assert set(coprod_sim.__all__) >= {"run", "Model", "sweep", "load_results", "RunResult", "ConfigError"}
    for name in coprod_sim.__all__:
        assert getattr(coprod_sim, name) is not None
    assert (ROOT / "src" / "coprod_sim" / "py.typed").is_file()
    with pytest.raises(AttributeError):
        coprod_sim.no_such_thing  # noqa: B018
