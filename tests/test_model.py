"""Model-level behaviour: conservation, determinism and each mechanism in place."""

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_PARAMS, approval_waits, same, small

from coprod_sim import Model, run
from coprod_sim.model.facility import Facility


def _run(cfg, seed=0, steps=None):
    m = Model(rng=seed, scenario=cfg)
    if steps is None:
        m.run_model()
    for _ in range(steps or 0):
        m.step()
    return m


def _last(m: Model, key: str) -> float:
    return m.datacollector.model_vars[key][-1]


def test_no_service_delivered_without_capacity(small_cfg):
    m = Model(rng=3, scenario=small_cfg)
    for _ in range(12):
        m.step()
        use = m.consumption
        total_cap = use.capacity + use.voluntary
        used = use.used_public + use.used_market + use.used_voluntary
        assert np.all(used <= total_cap * (1 + 1e-9) + 1e-9)
        served = use.served_public + use.served_market + use.served_voluntary
        assert used.sum() == pytest.approx(served.sum(), rel=1e-9)
        # nobody receives more than they need
        assert np.all(served <= m.residents.cell_need * (1 + 1e-9) + 1e-9)


def test_same_seed_same_results_different_seed_different(small_cfg):
    a = run(small_cfg, seed=11)
    b = run(small_cfg, seed=11)
    c = run(small_cfg, seed=12)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert same(a.summary, b.summary)
    assert not same(a.summary, c.summary)


def test_no_firm_enters_where_expected_profit_is_negative():
    prices = [f"services.market_price.{s}=1" for s in
              ("elder_child_care", "meals", "housekeeping", "health", "sports", "culture", "children_play")]
    m = _run(small(extra=prices))
    assert m.market.entries["firm"] == 0
    assert all(f.operator.kind != "firm" for f in m.agents_by_type.get(Facility, []))
    base = _run(small())
    assert base.market.entries["firm"] > 0  # the same world with a viable price does attract firms


def _mean_wait(resistance: float) -> float:
    """Months facilities waited for approval, pending ones counted with their wait so far."""
    waits = []
    for seed in range(3):
        m = _run(small(extra=[f"government.resistance={resistance}", "run.steps=36", "planning.projects_per_station=3"]),
                 seed=seed)
        waits.extend(approval_waits(m))
    return float(np.mean(waits))


def test_approval_delay_rises_with_resistance():
    assert _mean_wait(0.8) > 1.5 * _mean_wait(0.2)


def test_access_decays_with_distance_to_the_centre():
    cfg = small(extra=["layout.mode=merged", "layout.merge_size=4", "population.residents=8000",
                       "space.community_size=2000", "profit_space.guided_price_share=0.0"])
    m = _run(cfg, steps=6)
    lay, res = m.layout, m.residents
    station = lay.station_cell_of_community[res.community]
    sx, sy = lay.cell_xy(station)
    x, y = lay.cell_xy(res.cell)
    dist = np.hypot(x - sx, y - sy)
    near, far = dist <= np.quantile(dist, 0.33), dist >= np.quantile(dist, 0.67)
    public_met = (res.public_demand * m.consumption.served_public[res.cell]
                  / np.maximum(res.cell_public_demand[res.cell], 1e-12)).sum(axis=1)
    assert public_met[near].mean() > public_met[far].mean()


def test_lower_expectations_give_higher_satisfaction_for_the_same_service():
    low = _run(small(extra=["satisfaction.initial_expectation=0.1"]), steps=1)
    high = _run(small(extra=["satisfaction.initial_expectation=0.9"]), steps=1)
    np.testing.assert_allclose(low.residents.performance, high.residents.performance)
    assert low.residents.satisfaction.mean() > high.residents.satisfaction.mean()


def test_assessment_weight_raises_release_in_the_model():
    lo = _run(small(extra=["incentive.assessment_weight=0.01"]), steps=6)
    hi = _run(small(extra=["incentive.assessment_weight=0.1"]), steps=6)
    assert _last(hi, "governance.resources_released_share") > _last(lo, "governance.resources_released_share")


def test_no_participation_collapses_volunteer_services():
    m = _run(small(extra=["population.participation_mean=0.000001"]), steps=6)
    assert _last(m, "quantity.services_delivered.volunteers") < 1.0
    base = _run(small(), steps=6)
    assert _last(base, "quantity.services_delivered.volunteers") > 10.0


def test_every_outcome_is_declared_once_with_unit_and_meaning(small_cfg):
    from coprod_sim.model import HEADLINE_KEYS, KEY_OUTCOMES, OUTCOME_KEYS, OUTCOMES

    assert len(set(OUTCOME_KEYS)) == len(OUTCOME_KEYS)
    assert all(o.unit and o.description for o in OUTCOMES)
    assert set(KEY_OUTCOMES) <= set(HEADLINE_KEYS) <= set(OUTCOME_KEYS)
    m = Model(rng=0, scenario=small_cfg)
    m.step()
    assert list(m.outcomes) == list(OUTCOME_KEYS)  # measured = declared, in the declared order


def test_a_run_computes_with_one_blas_thread_and_gives_the_pool_back(small_cfg):
    """Parallelism belongs to the sweep backends, and a fixed thread count keeps sums in one order: every
    month runs with one BLAS thread, and the process's own setting is restored afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen: list[set[int]] = []
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        run(small_cfg, seed=0, on_step=lambda month: seen.append(blas_threads()))
        after = blas_threads()
    assert outside and 1 not in outside, "the test needs a BLAS that can run two threads"
    assert seen and all(threads == {1} for threads in seen)
    assert after == outside


def test_residents_re_plan_only_when_prices_vouchers_or_eligibility_change():
    """``Residents.prepare`` keeps its tables when nothing they depend on moved (a policy introduced into a
    settled world often leaves prices alone), and recomputes them, as from scratch, when something did."""
    import dataclasses

    m = Model(rng=1, scenario=small())
    res, terms, cells = m.residents, m.terms, m.layout.n_cells
    plan = res.planned_prices  # replaced by every preparation
    res.prepare(terms, cells, res.voucher_availability.copy())
    assert res.planned_prices is plan  # the same prices, vouchers and rule: nothing to redo
    dearer = dataclasses.replace(terms, market_price=terms.market_price * 1.5)
    res.prepare(dearer, cells, res.voucher_availability)
    assert res.planned_prices is not plan and np.array_equal(res.planned_prices.market, dearer.market_price)
    fresh = Model(rng=1, scenario=small()).residents
    fresh.n_cells = 0  # as if never prepared: a full preparation at the new prices
    fresh.prepare(dearer, cells, res.voucher_availability)
    for table in ("result_weights", "market_afford", "public_demand", "cell_market_need"):
        assert np.array_equal(getattr(fresh, table), getattr(res, table)), table
    plan = res.planned_prices
    res.government = dataclasses.replace(res.government, registered_only=not res.government.registered_only)
    res.prepare(dearer, cells, res.voucher_availability)
    assert res.planned_prices is not plan  # the eligibility rule changed
    plan = res.planned_prices
    res.prepare(dearer, cells, np.full(len(res.voucher_availability), 0.5))
    assert res.planned_prices is not plan  # residents expect less of a voucher


def test_the_facility_table_holds_what_each_facility_agent_says():
    """Facilities' state lives in one table (``facility.Facilities``) that the month reads and writes at once; each
    agent must read its own row, and the table must list serving and waiting facilities as Mesa lists the agents,
    closed ones left out, so sums over the table add in the agents' order."""
    m = Model(rng=4, scenario="baseline", **{**SMALL_PARAMS, "government.resistance": 0.8, "government.budget_per_resident": 1.0})
    closed = 0
    for _ in range(18):
        m.step()
        closed += m.this_month.closures + m.this_month.exits
        table, agents = m.facilities, list(m.agents_by_type.get(Facility, []))
        assert table.of(table.serving()) == [f for f in agents if f.active]
        assert table.of(table.waiting()) == [f for f in agents if not f.active]
        assert sorted(f.row for f in agents) == np.flatnonzero(table.opened).tolist()
    assert closed > 0 and table.waiting().size > 0  # facilities closed and others waited for approval
    f = next(f for f in agents if f.active)
    f.capacity, f.quality = 123.5, 0.25
    assert table.capacity[f.row] == 123.5 and table.quality[f.row] == 0.25
    table.fit[f.row] = 0.75
    assert f.fit == 0.75 and type(f.fit) is float  # the agent reads its row, as a Python number
