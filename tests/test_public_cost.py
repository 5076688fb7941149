"""Every public cost is counted: concessions at their value, conserved against what operators save, and a stake
that cannot drain the fund because the street office budgets what it promises."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
from conftest import SMALL_PARAMS

from coprod_sim import Model
from coprod_sim.model.fund import CONCESSION_CATEGORIES, SPENDING_CATEGORIES
from coprod_sim.model.settle import Payments

CONCESSIONS = {"profit_space.rent_free_space": True, "profit_space.tax_relief": 0.6}


def _clone(obj):
    """An independent copy (Mesa's grid cells copy through pickling, not deepcopy)."""
    return pickle.loads(pickle.dumps(obj))


def _model(months: int, seed: int = 3, **params) -> Model:
    m = Model(rng=seed, scenario="baseline", **{**SMALL_PARAMS, **params})
    for _ in range(months):
        m.step()
    return m


def _twin_settlements(monkeypatch, months: int, changes: dict, **params) -> tuple[tuple, tuple]:
    """Two identical copies of a world stopped just before its last month's settlement, with that month's
    consumption record; the second copy's payments follow other profit-space rules (``changes``)."""
    caught: list = []
    original = Payments.pay_and_settle

    def spy(self, model, use, before):
        if model.month == months:
            caught.extend([_clone((model, use)), _clone((model, use))])
        return original(self, model, use, before)

    monkeypatch.setattr(Payments, "pay_and_settle", spy)
    _model(months, **params)
    monkeypatch.undo()
    other = caught[1][0]
    other.payments.profit_space = dataclasses.replace(other.payments.profit_space, **changes)
    return caught[0], caught[1]


def test_rent_forgone_is_what_market_operators_no_longer_pay(monkeypatch):
    (with_space, use), (without_space, same_use) = _twin_settlements(
        monkeypatch, 10, {"rent_free_space": False}, **CONCESSIONS)
    saved = (without_space.payments._bill(without_space, same_use).cost.sum()
             - with_space.payments._bill(with_space, use).cost.sum())
    assert saved > 1000  # rent-free space is worth something at this size
    assert with_space.fund.step_forgone["rent_forgone"] == pytest.approx(saved, abs=1.0)  # to the yuan
    assert without_space.fund.step_forgone["rent_forgone"] == 0.0


def test_tax_forgone_is_what_profitable_operators_no_longer_pay(monkeypatch):
    (relieved, use), (taxed, same_use) = _twin_settlements(monkeypatch, 10, {"tax_relief": 0.0}, **CONCESSIONS)
    results = []
    for m, u in ((relieved, use), (taxed, same_use)):
        bill = m.payments._bill(m, u)
        paid, _ = m.payments._pay_in_order(m, u.service, bill, np.ones(len(bill.eligible_share)))
        results.append(m.payments._results(m, u, bill, paid))
    kept = results[0] - results[1]
    assert kept.sum() > 0
    assert relieved.fund.step_forgone["tax_forgone"] == pytest.approx(kept.sum(), abs=1.0)
    assert taxed.fund.step_forgone["tax_forgone"] == 0.0


def test_public_spending_is_cash_plus_concessions_and_concessions_draw_no_money():
    m = _model(24, **CONCESSIONS)
    series = m.datacollector.get_model_vars_dataframe()
    cash = series[[f"cost.public_spending.{c}" for c in SPENDING_CATEGORIES]].sum(axis=1)
    forgone = series[[f"cost.public_spending.{c}" for c in CONCESSION_CATEGORIES]].sum(axis=1)
    np.testing.assert_allclose(series["cost.cash_outlays"], cash, rtol=1e-12)
    np.testing.assert_allclose(series["cost.concessions"], forgone, rtol=1e-12)
    np.testing.assert_allclose(series["cost.public_spending"], cash + forgone, rtol=1e-12)
    assert series["cost.public_spending.rent_forgone"].iloc[-12:].min() > 0
    # the fund's ledger holds only money: released = spent + lapsed + balance
    fund = m.fund
    assert fund.released_total == pytest.approx(fund.spent_total + fund.lapsed_total + fund.balance.sum(), rel=1e-9)
    assert fund.forgone_total == pytest.approx(forgone.sum(), rel=1e-9)


def test_without_concessions_nothing_is_forgone():
    series = _model(12).datacollector.get_model_vars_dataframe()
    assert (series["cost.concessions"] == 0).all()
    np.testing.assert_allclose(series["cost.public_spending"], series["cost.cash_outlays"], rtol=1e-12)


# ------------------------------------------------------------------ outcome-linked pay within a budget
STAKE = {"linkage.interest_binding_stake": 0.9, "linkage.outcome_value_ratio": 20}


def test_outcome_linked_pay_never_exceeds_the_budget_the_street_office_set():
    m = _model(24, **STAKE)
    series = m.datacollector.get_model_vars_dataframe()
    assert series["cost.public_spending.interest_binding"].iloc[-12:].sum() > 0
    released = []
    original = m.fund.release

    def count(services, amounts):
        released.append(float(np.sum(amounts)))
        original(services, amounts)

    m.fund.release = count  # type: ignore[method-assign]
    budget_share = m.config.linkage.outcome_pay_budget_share
    for _ in range(6):
        released.clear()
        m.step()
        assert m.fund.step_spent["interest_binding"] <= budget_share * sum(released) + 1e-6


def test_a_stake_the_office_will_not_pay_for_buys_no_free_visits():
    """The stake works only through operators' expectation of being paid: with no budget for outcome-linked pay
    they learn it will not be honoured and stop supplying free visits, so the effect can vanish."""
    paid = _model(36, **STAKE)
    unpaid = _model(36, **STAKE, **{"linkage.outcome_pay_budget_share": 0.0})
    free_paid = paid.datacollector.get_model_vars_dataframe()["cost.public_spending.interest_binding"].iloc[-6:]
    assert free_paid.sum() > 0 and paid.consumption.used_voluntary.sum() > 0
    assert unpaid.datacollector.get_model_vars_dataframe()["cost.public_spending.interest_binding"].sum() == 0
    stake_kinds = ("firm", "social_org")
    vol = unpaid.consumption.used_voluntary[np.isin(unpaid.consumption.kind, stake_kinds)]
    assert vol.sum() < 0.05 * paid.consumption.used_voluntary[np.isin(paid.consumption.kind, stake_kinds)].sum()


def test_an_entrant_counts_the_outcome_pay_it_expects_at_its_own_best_free_visits():
    """B = max_G s·e·Y(G) − c·G, found by the operator's own choice; nothing without a stake or without trust in
    being paid."""
    from coprod_sim.model.rules import outcome_pay_surplus

    value, cost, base = np.array([100.0]), np.array([10.0]), np.array([50.0])
    grid = np.linspace(0, 5000, 200_001)
    for stake, honoured in ((0.9, 1.0), (0.5, 0.6), (0.3, 0.2)):
        best = np.max(stake * honoured * value * base * np.log1p(grid / base) - cost * grid)
        assert outcome_pay_surplus(stake, honoured, value, cost, base)[0] == pytest.approx(max(best, 0.0), rel=1e-6)
    assert outcome_pay_surplus(0.0, 1.0, value, cost, base)[0] == 0.0
    assert outcome_pay_surplus(0.9, 0.0, value, cost, base)[0] == 0.0
