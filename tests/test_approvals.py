"""Approval chains come from the config, and time to approval is read as a survival measure that counts the
applications still waiting (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_PARAMS
from scipy import stats

from coprod_sim import Model
from coprod_sim.domain import DEPARTMENT_NAMES, SERVICE_TYPES
from coprod_sim.model import Facility
from coprod_sim.model.approvals import time_to_approval


def _model(months: int, seed: int = 0, **params) -> Model:
    m = Model(rng=seed, scenario="baseline", **{**SMALL_PARAMS, **params})
    for _ in range(months):
        m.step()
    return m


def _names(indices: list[int]) -> list[str]:
    return [DEPARTMENT_NAMES[i] for i in indices]


def test_the_default_chains_are_the_documented_ones():
    chains = _model(0).approval_chains
    assert _names(chains.departments("meals", True)) == [
        "civil_affairs", "market_regulation", "planning", "housing_construction", "fire_rescue"]
    assert _names(chains.departments("meals", False)) == ["civil_affairs", "market_regulation", "fire_rescue"]
    assert _names(chains.departments("sports", False)) == ["culture_sports", "fire_rescue"]


def test_a_department_taken_off_a_chain_is_no_longer_asked():
    chains = _model(0, **{"approvals.market_regulation": [], "approvals.planning": ["health"]}).approval_chains
    assert _names(chains.departments("meals", True)) == ["civil_affairs", "housing_construction", "fire_rescue"]
    assert "planning" in _names(chains.departments("health", True))
    m = _model(12, **{"approvals.market_regulation": []})
    market = DEPARTMENT_NAMES.index("market_regulation")
    assert not any(market in f.pending for f in m.agents_by_type[Facility])


def test_longer_chains_wait_longer():
    def waiting_after_a_year(**params) -> float:
        return float(np.nanmean([_model(48, seed=s, **{"planning.projects_per_station": 3, **params})
                                 .outcomes["governance.approval_waiting_after_12"] for s in range(3)]))
    every_type = list(SERVICE_TYPES)
    longer = {f"approvals.{d}": every_type for d in ("civil_affairs", "health", "culture_sports", "market_regulation")}
    shorter = {f"approvals.{d}": [] for d in ("civil_affairs", "health", "culture_sports", "market_regulation")}
    assert waiting_after_a_year(**shorter) < waiting_after_a_year() < waiting_after_a_year(**longer)


def test_the_survival_estimate_agrees_with_scipy_on_censored_data():
    rng = np.random.default_rng(5)
    for n in (5, 40, 400):
        waited = rng.integers(0, 40, n).astype(float)
        approved = rng.random(n) < 0.6
        ours = time_to_approval(waited, approved)
        sf = stats.ecdf(stats.CensoredData(uncensored=waited[approved], right=waited[~approved])).sf
        below = sf.quantiles[sf.probabilities <= 0.5]
        assert ours["median"] == (below[0] if len(below) else pytest.approx(np.nan, nan_ok=True))
        assert ours["after_12"] == pytest.approx(float(sf.evaluate(12)))
        assert ours["after_24"] == pytest.approx(float(sf.evaluate(24)))


def test_applications_still_waiting_count_as_censored_not_as_absent():
    waited, approved = np.array([2.0, 3.0, 30.0, 30.0, 30.0]), np.array([True, True, False, False, False])
    km = time_to_approval(waited, approved)
    assert np.isnan(km["median"])  # most are still waiting: no median, where the completed-only mean says 2.5
    assert km["after_24"] == pytest.approx(0.6)
    short = time_to_approval(np.array([3.0, 5.0]), np.array([True, False]))
    assert np.isnan(short["after_12"])  # nobody followed for a year: unknown, not zero
