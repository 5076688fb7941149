"""Each decision rule alone: the direction of every effect the model relies on."""

import itertools
import types

import numpy as np
import pytest

from coprod_sim.model import rules


def test_department_releases_more_when_assessment_weight_rises():
    shares = [rules.release_share(w, 0.5, 0.5, 0.6, 0.15) for w in (0.0, 0.025, 0.05, 0.1)]
    assert shares[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(shares))


def test_department_releases_less_when_more_resistant():
    assert rules.release_share(0.05, 0.5, 0.5, 0.9, 0.15) < rules.release_share(0.05, 0.5, 0.5, 0.3, 0.15)


def test_release_share_is_a_share():
    assert rules.release_share(10.0, 5.0, 1.0, 0.01, 0.001) == 1.0


def test_approval_hazard_falls_with_resistance_and_rises_with_coordination():
    h = rules.approval_hazard(0.4, np.array([0.0, 0.5, 0.9]), 0.0, 0.15, 0.0)
    assert np.all(np.diff(h) < 0)
    assert rules.approval_hazard(0.4, np.array([0.5]), 0.05, 0.15, 0.0)[0] > h[1]
    assert rules.approval_hazard(0.4, np.array([0.5]), 0.0, 0.15, 1.0)[0] < h[1]


def test_firm_profit_negative_when_price_below_cost_and_profit_space_flips_it():
    args = dict(demand=np.array([1000.0]), capacity_cap=np.array([2000.0]), price=np.array([10.0]),
                unit_cost=np.array([12.0]), fixed_cost=np.array([5000.0]), tax_rate=0.25)
    assert rules.expected_firm_profit(subsidy=np.array([0.0]), **args)[0] < 0
    assert rules.expected_firm_profit(subsidy=np.array([10.0]), **args)[0] > 0


def test_profit_tax_applies_only_to_gains():
    kw = dict(demand=np.array([100.0]), capacity_cap=np.array([100.0]),
              subsidy=np.array([0.0]), unit_cost=np.array([0.0]), fixed_cost=np.array([0.0]))
    assert rules.expected_firm_profit(price=np.array([1.0]), tax_rate=0.25, **kw)[0] == pytest.approx(75.0)
    loss = rules.expected_firm_profit(price=np.array([-1.0]), tax_rate=0.25, **kw)[0]
    assert loss == pytest.approx(-100.0)


def test_voluntary_supply_rises_with_stake_and_is_zero_without():
    g = [rules.voluntary_supply(s, 3.0, 1.0, 100.0) for s in (0.0, 0.2, 0.5, 0.9)]
    assert g[0] == 0.0
    assert all(b >= a for a, b in itertools.pairwise(g)) and g[-1] > g[1]


def test_quality_effort_is_clipped_marginal_return():
    assert rules.quality_effort(0.3, 1.0, 0.2) == pytest.approx(0.3)
    assert rules.quality_effort(0.0, 1.0, 0.2) == pytest.approx(0.2)
    assert rules.quality_effort(5.0, 1.0, 0.2) == pytest.approx(1.0)


def test_operators_decide_alike_whether_one_at_a_time_or_all_at_once():
    """The operators' month decides for all facilities in one array operation: each element is the
    rule applied to that facility's operator alone (q* = m/c within [floor, 1]; G* = G0·(s·a/c − 1)⁺),
    to the bit."""
    rng = np.random.default_rng(3)
    returns = rng.uniform(-0.5, 2.0, 50)
    assert rules.quality_effort(returns, 1.2, 0.2).tolist() == [min(1.0, max(0.2, r / 1.2)) for r in returns.tolist()]
    stake, value, cost, base = (rng.uniform(lo, hi, 50).tolist() for lo, hi in ((0, 1), (0, 5), (-0.5, 2), (-5, 50)))
    alone = [0.0 if g0 <= 0 or c <= 0 else max(0.0, g0 * (s * a / c - 1.0))
             for s, a, c, g0 in zip(stake, value, cost, base, strict=True)]
    assert rules.voluntary_supply(np.array(stake), np.array(value), np.array(cost), np.array(base)).tolist() == alone
    assert sum(alone) > 0.0 and alone.count(0.0) > 5  # both cases occur


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).random(22_500),
    np.random.default_rng(1).beta(0.5, 3.0, 5_000),
    np.where(np.random.default_rng(2).random(5_000) < 0.4, 0.0, np.random.default_rng(3).random(5_000)),  # ties
    np.r_[np.full(3_000, 0.2), np.random.default_rng(4).normal(0.2, 1e-9, 3_000), 1.0],  # all in one bin
    np.r_[np.random.default_rng(5).normal(size=1_000), -1e300, 1e300],  # the key's scale at its limits
    np.r_[np.random.default_rng(6).random(100), np.nan],
    np.r_[np.random.default_rng(7).random(100), np.inf, -np.inf],
    np.full(10, 0.5), np.zeros(0), np.array([2.0]),
], ids=["uniform", "skewed", "ties", "one-bin", "extremes", "nan", "inf", "constant", "empty", "one"])
def test_sort_values_is_numpys_sort_to_the_bit(values):
    expected = np.sort(values)
    assert rules.binned_sort(values).tobytes() == expected.tobytes()
    assert rules.sort_values(values).tobytes() == expected.tobytes()


@pytest.mark.parametrize("numpy_s, binned_s, chosen", [(1, 5, "np.sort"), (5, 1, "binned_sort")])
def test_sort_values_times_both_sorts_once_per_size_class_and_keeps_the_faster(monkeypatch, numpy_s, binned_s, chosen):
    """The choice between numpy's sort and the binned one is made on the first array of a size class, by timing
    both on it (a clock that says numpy's sort takes ``numpy_s`` and the binned one ``binned_s``), and kept for
    that class: a processor where one of them is slow gets the other."""
    ticks = itertools.accumulate(d for _ in range(6) for d in (0, numpy_s, 0, binned_s))  # start, end per sort
    monkeypatch.setattr(rules, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    monkeypatch.setattr(rules, "_FASTER_SORT", {})
    calls = []
    binned = rules.binned_sort
    monkeypatch.setattr(rules, "binned_sort", lambda x: calls.append(len(x)) or binned(x))
    rng = np.random.default_rng(8)
    first, same_class, other_class = rng.random(3_000), rng.random(2_500), rng.random(100)
    assert rules.sort_values(first).tobytes() == np.sort(first).tobytes()
    expected = np.sort if chosen == "np.sort" else rules.binned_sort
    assert list(rules._FASTER_SORT.items()) == [(12, expected)]
    timed = len(calls)
    assert timed == 3 + (chosen == "binned_sort")  # three alternations on the data at hand (and the sort itself)
    assert rules.sort_values(same_class).tobytes() == np.sort(same_class).tobytes()
    assert len(calls) == timed + (chosen == "binned_sort")  # 2,500 is of the same size class: not timed again
    rules.sort_values(other_class)
    assert set(rules._FASTER_SORT) == {7, 12}


def test_satisfaction_moves_with_performance_relative_to_expectation():
    perf = np.array([0.5, 0.5])
    expect = np.array([0.3, 0.7])
    sat = rules.expectation_disconfirmation(perf, expect, 0.0, 1.0, 1.0, np.zeros(2))
    assert sat[0] > sat[1]  # same performance, lower expectation: happier


def test_likert_maps_by_cutpoints():
    cuts = np.array([0.1, 0.2, 0.3, 0.4])
    assert rules.likert(np.array([0.0, 0.15, 0.25, 0.35, 0.9]), cuts).tolist() == [1, 2, 3, 4, 5]


def test_likert_counts_the_cutpoints_at_or_below_as_a_binary_search_does():
    cuts = np.array([-0.5, 0.0, 0.4, 1.2])
    latent = np.concatenate([np.random.default_rng(1).normal(0.3, 0.8, 5000), cuts, [np.nan, -np.inf, np.inf]])
    expected = np.searchsorted(cuts, latent, side="right") + 1
    assert rules.likert(latent, cuts).tolist() == expected.tolist()
    table = latent[:5000].reshape(1000, 5)  # the survey rates residents × service types
    assert rules.likert(table, cuts).tolist() == rules.likert(latent[:5000], cuts).reshape(1000, 5).tolist()


def test_coproduction_needs_both_inputs():
    assert rules.coproduction_output(np.array([5.0]), np.array([0.0]), 0.4, 0.6)[0] == 0.0
    assert rules.coproduction_output(np.array([0.0]), np.array([5.0]), 0.4, 0.6)[0] == 0.0
    assert rules.coproduction_output(np.array([2.0]), np.array([2.0]), 0.4, 0.6)[0] > 0


def test_gini_bounds_and_known_values():
    assert rules.gini(np.ones(10)) == pytest.approx(0.0)
    x = np.zeros(10)
    x[-1] = 1.0
    assert rules.gini(x) == pytest.approx(0.9)
    rng = np.random.default_rng(0)
    v = rng.random(50)
    # weights equal to repetition counts give the same Gini as repeating values
    w = rng.integers(1, 4, 50)
    assert rules.gini(v, w.astype(float)) == pytest.approx(rules.gini(np.repeat(v, w)), rel=1e-9)
