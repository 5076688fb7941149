"""coprod_sim.problem: the registry's factors, roles and study ranges handed to SALib and EMA Workbench
(the EMA example in docs/python.md runs as a doctest)."""

from __future__ import annotations

import pytest

import coprod_sim
from coprod_sim.config import ConfigError, by_role, parameter_for, study_levers


def test_default_factors_are_the_lever_study_with_its_ranges() -> None:
    problem = coprod_sim.problem()
    study = study_levers()
    assert problem.names == list(study)
    for factor in problem.factors:
        entry = study[factor.key]
        expected = tuple(entry["range"]) if isinstance(entry, dict) else tuple(entry)
        assert factor.bounds == expected and factor.role == "lever"


def test_a_role_gives_its_parameters_and_the_valid_ranges() -> None:
    problem = coprod_sim.problem("assumption")
    scalar = [p for p in by_role("assumption") if p.type in ("number", "integer", "boolean", "enum")]
    assert problem.names == [p.key for p in scalar]
    numeric = {f.key: f for f in problem.factors if f.kind in ("real", "integer")}
    assert all(numeric[k].bounds == tuple(parameter_for(k).range) for k in numeric)
    assert problem.ema_levers() == [] and len(problem.ema_uncertainties()) == len(scalar)


def test_ranges_narrow_and_are_checked() -> None:
    problem = coprod_sim.problem(["government.resistance", "population.residents"],
                                 ranges={"population.residents": [2000, 3000]})
    assert problem.factors[1].bounds == (2000, 3000) and problem.factors[1].kind == "integer"
    spec = problem.salib()
    assert spec["names"] == problem.names and spec["bounds"][1] == [2000, 3000]
    with pytest.raises(ConfigError) as err:
        coprod_sim.problem(["government.resistance", "no.such", "services.unit_cost"],
                           ranges={"government.resistance": [0.5, 0.1], "elsewhere": [1, 2]})
    text = "\n".join(err.value.problems)
    assert "ranges: elsewhere: not among the factors" in text and "no.such: unknown parameter" in text
    assert "services.unit_cost: one number per type; name an entry" in text
    assert "ranges: government.resistance: expected low < high" in text


def test_switches_are_refused_by_salib_but_go_to_ema() -> None:
    problem = coprod_sim.problem(["profit_space.rent_free_space", "layout.mode"])
    with pytest.raises(coprod_sim.UserError, match=r"profit_space.rent_free_space, layout.mode are switches or choices"):
        problem.salib()
    levers = problem.ema_levers()
    assert [p.name for p in levers] == ["profit_space__rent_free_space", "layout__mode"]
    assert [p.variable_name for p in levers] == [[k] for k in problem.names]


def test_the_model_function_returns_a_mapping_of_the_run_outcomes() -> None:
    problem = coprod_sim.problem(["incentive.assessment_weight", "population.residents"])
    base = {"run.steps": 6, "run.outcome_window": 3, "run.spin_up": 0}
    model = problem.function(["quality.needs_met_share", "cost.public_spending"], params=base, seed=3)
    values = {"incentive.assessment_weight": 0.1, "population.residents": 2000.4}  # samplers give reals
    answer = model(**values)
    run = coprod_sim.run("baseline", params={**base, "incentive.assessment_weight": 0.1,
                                             "population.residents": 2000}, seed=3)
    assert answer == {k: run.summary[k] for k in ("quality.needs_met_share", "cost.public_spending")}
    with pytest.raises(coprod_sim.UserError, match=r"government.resistance: not a factor"):
        model(**{"government.resistance": 0.3})
    with pytest.raises(coprod_sim.UserError, match=r"quality.happiness: unknown outcome"):
        problem.function(["quality.happiness"])
