"""Design generators and seed derivation: the intended points, bounds and strata."""

from __future__ import annotations

import numpy as np
import pytest

from coprod_sim.sweeps.design import Axis, factorial, latin_hypercube, levels, one_at_a_time
from coprod_sim.sweeps.spec import build_plan, derive_seed

FAST = {"population.residents": 300, "run.steps": 2, "run.outcome_window": 1}


def test_factorial_gives_every_combination_once():
    axes = [Axis("a", values=(1, 2, 3)), Axis("b", values=("x", "y")), Axis("c", values=(True, False))]
    points = factorial(axes)
    assert len(points) == 3 * 2 * 2
    assert len({tuple(p.values()) for p in points}) == len(points)
    assert all(set(p) == {"a", "b", "c"} for p in points)


def test_levels_span_the_range_and_respect_integers():
    vals = levels(0.1, 0.5, 5)
    assert vals[0] == pytest.approx(0.1) and vals[-1] == pytest.approx(0.5) and len(vals) == 5
    ints = levels(1, 4, 7, integer=True)
    assert ints == sorted(set(ints)) and all(isinstance(v, int) for v in ints) and ints[0] == 1 and ints[-1] == 4


@pytest.mark.parametrize("n", [7, 50])
def test_lhs_one_sample_per_stratum_in_every_dimension(n):
    axes = [Axis("u", low=2.0, high=6.0), Axis("l", dist="loguniform", low=1.0, high=100.0)]
    points = latin_hypercube(axes, n, np.random.default_rng(3))
    assert len(points) == n
    u = np.array([p["u"] for p in points])
    lg = np.array([p["l"] for p in points])
    assert u.min() >= 2.0 and u.max() <= 6.0 and lg.min() >= 1.0 and lg.max() <= 100.0
    strata_u = np.floor((u - 2.0) / 4.0 * n).astype(int)
    strata_l = np.floor(np.log(lg) / np.log(100.0) * n).astype(int)
    assert sorted(strata_u) == list(range(n))
    assert sorted(strata_l) == list(range(n))


def test_lhs_normal_and_triangular_stay_in_bounds_and_integers_are_whole():
    axes = [Axis("n", dist="normal", low=0.0, high=1.0, mean=0.5, sd=0.3),
            Axis("t", dist="triangular", low=0.0, high=10.0, mode=2.0),
            Axis("i", low=1, high=4, integer=True), Axis("c", values=("a", "b"))]
    points = latin_hypercube(axes, 40, np.random.default_rng(0))
    assert all(0 <= p["n"] <= 1 and 0 <= p["t"] <= 10 for p in points)
    ints = [p["i"] for p in points]
    assert all(isinstance(v, int) for v in ints) and set(ints) == {1, 2, 3, 4}
    assert sorted(ints).count(1) == 10  # 40 samples over 4 equal strata
    assert [p["c"] for p in points].count("a") == 20


def test_one_at_a_time_moves_one_parameter_from_base():
    base = {"a": 1, "b": 10}
    points = one_at_a_time([Axis("a", values=(0, 1, 2)), Axis("b", values=(5, 20))], base)
    assert points[0] == base
    assert len(points) == 1 + 2 + 2  # the level equal to base is not repeated
    for p in points[1:]:
        assert sum(p[k] != base[k] for k in base) == 1


def test_seed_derivation_depends_only_on_identity():
    s = derive_seed(42, 3, 1)
    assert s == derive_seed(42, 3, 1)
    assert len({derive_seed(42, p, r) for p in range(20) for r in range(5)}) == 100
    assert derive_seed(43, 3, 1) != s
    assert 0 <= s < 2**63
    assert derive_seed(42, 0, 1, "common") == derive_seed(42, 9, 1, "common")


def test_spec_designs_expand_to_intended_points():
    fac = build_plan({"set": FAST, "replicates": 2, "design": {"type": "factorial", "parameters": {
        "incentive.assessment_weight": {"range": [0.0, 0.4], "n": 5}, "services.unit_cost.meals": [10, 20]}}}, "t")
    assert len(fac.points) == 10 and len(fac.tasks) == 20
    assert {p["incentive.assessment_weight"] for p in fac.points} == set(levels(0.0, 0.4, 5))
    assert all(t.cfg.services.unit_cost["meals"] == t.params["services.unit_cost.meals"] for t in fac.tasks)
    lhs = build_plan({"set": FAST, "design": {"type": "lhs", "samples": 12, "parameters": {
        "incentive.assessment_weight": {"range": [0.1, 0.3]}}}}, "t")
    ws = [p["incentive.assessment_weight"] for p in lhs.points]
    assert len(ws) == 12 and min(ws) >= 0.1 and max(ws) <= 0.3
    assert sorted(np.floor((np.array(ws) - 0.1) / 0.2 * 12).astype(int)) == list(range(12))
    oat = build_plan({"set": FAST, "design": {"type": "oat", "parameters": {
        "incentive.assessment_weight": [0.1, 0.2], "population.migrant_share": [0.1]}}}, "t")
    assert len(oat.points) == 4
    exp = build_plan({"set": FAST, "design": {"type": "explicit", "points": [
        {"incentive.assessment_weight": 0.3}, {"population.migrant_share": 0.2}]}}, "t")
    assert exp.varied == ["incentive.assessment_weight", "population.migrant_share"]
    assert all(len(p) == 2 for p in exp.points)


def test_same_spec_gives_same_plan():
    spec = {"set": FAST, "seed": 7, "replicates": 3, "design": {"type": "lhs", "samples": 5, "parameters": {
        "incentive.assessment_weight": {"range": [0.1, 0.3]}}}}
    a, b = build_plan(spec, "t"), build_plan(spec, "t")
    assert [(t.run_key, t.seed) for t in a.tasks] == [(t.run_key, t.seed) for t in b.tasks]
    assert len({t.run_key for t in a.tasks}) == len(a.tasks)
