"""Money that binds: spending is what was paid, unspent money lapses, unfunded public services shrink and close,
and the planner does not open windows it cannot run."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_PARAMS

from coprod_sim import Model
from coprod_sim.model import Facility, GovernmentProvider
from coprod_sim.model.settle import FISCAL_YEAR_MONTHS

NO_MONEY = {"government.budget_per_resident": 0, "government.street_budget_per_resident": 0}
RICH = {"government.budget_per_resident": 400, "government.street_budget_per_resident": 200,
        "incentive.assessment_weight": 0.5}


def _run(months: int, seed: int = 0, **params) -> Model:
    m = Model(rng=seed, scenario="baseline", **{**SMALL_PARAMS, **params})
    for _ in range(months):
        m.step()
    return m


def test_released_money_is_spent_lapsed_or_still_there():
    for params in ({}, RICH):
        fund = _run(30, **params).fund
        assert fund.released_total > 0
        assert fund.released_total == pytest.approx(fund.spent_total + fund.lapsed_total + fund.balance.sum(), rel=1e-9)
        assert np.all(fund.balance >= -1e-6)


def test_unspent_money_lapses_at_the_years_end_unless_carried_over():
    rich = _run(FISCAL_YEAR_MONTHS, **RICH)
    assert rich.fund.lapsed_total > 0 and rich.fund.balance.sum() == pytest.approx(0.0, abs=1e-6)
    assert rich.outcomes["cost.budget_lapsed"] == pytest.approx(rich.fund.lapsed_total)
    kept = _run(FISCAL_YEAR_MONTHS, **RICH, **{"government.budget_carryover": 1.0})
    assert kept.fund.lapsed_total == 0 and kept.fund.balance.sum() > 0
    # spending is what was paid: less than what came in when there is more money than claims
    spent = sum(rich.datacollector.model_vars["cost.public_spending"])
    assert spent < rich.fund.released_total


def test_unfunded_public_facilities_shrink_to_nothing_and_close():
    m = _run(24, **NO_MONEY)
    government = [f for f in m.agents_by_type.get(Facility, []) if isinstance(f.operator, GovernmentProvider)]
    assert government == []  # every unpaid window was closed
    closed = sum(m.datacollector.model_vars["governance.public_closures"])
    assert closed > 0
    assert m.datacollector.model_vars["quantity.capacity.government"][-1] == 0.0
    assert m.datacollector.model_vars["cost.public_spending"][-1] == 0.0
    funded = _run(24)
    assert funded.datacollector.model_vars["quantity.capacity.government"][-1] > 0.0


def test_capacity_follows_the_remembered_funded_share():
    m = _run(1)
    f = next(f for f in m.agents_by_type[Facility] if isinstance(f.operator, GovernmentProvider))
    f.funded, f.underfunded_months = 1.0, 0
    m.payments._follow_funding(m.facilities, np.array([f.row]), np.zeros(1))  # one unpaid month moves the memory
    memory = m.config.operators.funding_memory
    assert f.funded == pytest.approx(1.0 - memory)
    assert f.capacity == pytest.approx(f.planned_capacity * (1.0 - memory))  # unpaid_capacity_loss = 1


def test_the_planner_does_not_open_windows_it_cannot_run():
    built = {}
    for paid in (1.0, 0.0):
        m = _run(1, **{"planning.projects_per_station": 5})
        before = len(m.agents_by_type[Facility])
        m.fund.balance[:] = 1e9  # capital is there either way
        m.street_office.plan_facilities(np.full(7, paid))
        built[paid] = len(m.agents_by_type[Facility]) - before
    assert built[1.0] > 0 and built[0.0] == 0
