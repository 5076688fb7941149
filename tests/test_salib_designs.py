"""Sweep designs from SALib (sobol, morris, fast) and explicit points from a CSV file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SMALL_PARAMS

from coprod_sim.config import ConfigError
from coprod_sim.sweeps import build_plan, run_sweep
from coprod_sim.sweeps.salib import rows

FACTORS = {"government.resistance": {"range": [0.1, 0.9]}, "planning.projects_per_station": {"range": [0, 3]},
           "population.migrant_share": {"dist": "triangular", "range": [0.1, 0.6], "mode": 0.35}}


def plan(kind: str, samples: int, seed: int = 1, **design):
    return build_plan({"base": "baseline", "seed": seed, "seed_scheme": "common",
                       "design": {"type": kind, "samples": samples, "parameters": FACTORS, **design}}, "<t>")


@pytest.mark.parametrize(("kind", "samples"), [("sobol", 8), ("morris", 3), ("fast", 65)])
def test_salib_designs_have_their_size_and_stay_in_range(kind: str, samples: int) -> None:
    p = plan(kind, samples)
    assert len(p.points) == rows(kind, 3, samples)
    assert p.design["unit"].shape == (len(p.points), 3)
    for point in p.points:
        assert 0.1 <= point["government.resistance"] <= 0.9
        assert point["planning.projects_per_station"] in {0, 1, 2, 3}
        assert 0.1 <= point["population.migrant_share"] <= 0.6


def test_designs_follow_the_root_seed_only() -> None:
    assert plan("sobol", 8).points == plan("sobol", 8).points
    assert plan("sobol", 8).points != plan("sobol", 8, seed=2).points
    assert plan("morris", 3).points != plan("morris", 3, seed=2).points


def test_a_sobol_design_is_a_prefix_of_the_design_twice_its_size() -> None:
    small, big = plan("sobol", 8), plan("sobol", 16)
    assert big.points[: len(small.points)] == small.points
    assert {t.run_key for t in small.tasks} <= {t.run_key for t in big.tasks}
    assert len(plan("sobol", 8, second_order=True).points) == 8 * (2 * 3 + 2)


def test_design_options_are_checked() -> None:
    with pytest.raises(ConfigError) as err:
        plan("fast", 10, levels=3, second_order="yes")
    text = "\n".join(err.value.problems)
    assert "design.samples: expected a whole number ≥ 65, found 10" in text
    with pytest.raises(ConfigError, match=r"design\.levels: expected an even whole number"):
        plan("morris", 2, levels=3)


def test_sweep_runs_a_morris_design(tmp_path: Path) -> None:
    p = build_plan({"base": "baseline", "set": SMALL_PARAMS, "design": {"type": "morris", "samples": 2, "parameters": {
        "government.resistance": {"range": [0.1, 0.9]}}}, "outputs": {"summary": ["quality.needs_met_share"]},
        "seed_scheme": "common"}, "<t>")
    report = run_sweep(p, tmp_path, backend="serial")
    assert report.ok == len(p.tasks) and report.lost == 0


def test_explicit_points_from_a_csv_file(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_text("government.resistance,planning.projects_per_station,profit_space.franchise\n"
                                         "0.2,1,true\n0.5,2,false\n0.7,,true\n")
    spec = {"base": "baseline", "design": {"type": "explicit", "file": "points.csv"}}
    p = build_plan(spec, str(tmp_path / "spec.yaml"), tmp_path)
    assert [pt["government.resistance"] for pt in p.points] == [0.2, 0.5, 0.7]
    assert p.points[0]["planning.projects_per_station"] == 1
    assert p.points[2]["planning.projects_per_station"] == p.base_cfg["planning"]["projects_per_station"]
    assert [pt["profit_space.franchise"] for pt in p.points] == [True, False, True]


def test_csv_points_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"design\.file: file not found: missing\.csv"):
        build_plan({"base": "baseline", "design": {"type": "explicit", "file": "missing.csv"}}, "<t>", tmp_path)
    (tmp_path / "bad.csv").write_text("government.resistanse\n0.2\n")
    with pytest.raises(ConfigError, match=r"bad\.csv: row 2: government\.resistanse: unknown parameter; did you mean"):
        build_plan({"base": "baseline", "design": {"type": "explicit", "file": "bad.csv"}}, "<t>", tmp_path)


# ------------------------------------------------------------------ groups (design.groups)
WORLD = {"world": ["government.resistance", "population.migrant_share"]}  # two factors moved as one


def _changed(unit, start: int, stop: int) -> list[set[int]]:
    """Columns that change from each row of unit[start:stop] to the next (a Morris step moves one group)."""
    block = unit[start:stop]
    return [set(map(int, (block[i] != block[i + 1]).nonzero()[0])) for i in range(len(block) - 1)]


def test_a_morris_design_with_groups_has_one_step_per_group() -> None:
    p = plan("morris", 3, groups=WORLD)
    assert len(p.points) == rows("morris", 2, 3) == 3 * (2 + 1) < rows("morris", 3, 3)
    assert p.design["groups"] == ["world", "planning.projects_per_station", "world"]
    for t in range(3):  # each trajectory: the grouped columns 0 and 2 move in the same step, column 1 alone
        assert sorted(map(sorted, _changed(p.design["unit"], 3 * t, 3 * t + 3))) == [[0, 2], [1]]


def test_a_sobol_design_with_groups_has_one_cross_sample_per_group() -> None:
    p = plan("sobol", 8, groups=WORLD)
    assert len(p.points) == rows("sobol", 2, 8) == 8 * (2 + 2)
    unit = p.design["unit"]
    a = unit[0]
    assert set(map(int, (unit[1] != a).nonzero()[0])) == {0, 2}  # A with the group's columns from B
    assert set(map(int, (unit[2] != a).nonzero()[0])) == {1}
    assert len(plan("sobol", 8, second_order=True, groups=WORLD).points) == 8 * (2 * 2 + 2)
    small, big = plan("sobol", 8, groups=WORLD), plan("sobol", 16, groups=WORLD)
    assert big.points[: len(small.points)] == small.points  # doubling N still reuses every run


def test_the_run_limit_counts_groups_not_factors(monkeypatch) -> None:
    import coprod_sim.sweeps.spec as sweep_spec

    monkeypatch.setattr(sweep_spec, "MAX_RUNS", rows("morris", 2, 10))
    assert len(plan("morris", 10, groups=WORLD).points) == 30
    with pytest.raises(ConfigError, match="40 runs"):
        plan("morris", 10)


@pytest.mark.parametrize(("kind", "groups", "expected"), [
    ("morris", {"world": ["government.resistance", "population.migrant_shares"]},
     "<t>: design.groups.world: expected factor keys of design.parameters, found 'population.migrant_shares' (str), "
     "which is not a factor of this design; did you mean 'population.migrant_share'?"),
    ("morris", {"a": ["government.resistance"], "b": ["government.resistance", "population.migrant_share"]},
     "<t>: design.groups.b: expected each factor in one group at most, found government.resistance in groups a "
     "and b"),
    ("sobol", {"world": []}, "<t>: design.groups.world: expected a non-empty list of factor keys, found an empty "
                             "list"),
    ("sobol", {"world": "government.resistance"}, "<t>: design.groups.world: expected a non-empty list of factor "
                                                  "keys, found 'government.resistance' (str)"),
    ("sobol", {"planning.projects_per_station": ["government.resistance", "population.migrant_share"]},
     "<t>: design.groups.planning.projects_per_station: expected a group name that is not another factor's key"),
    ("sobol", ["government.resistance", "population.migrant_share"],
     "<t>: design.groups: expected a mapping of group name: [factor keys], found a list"),
    ("fast", WORLD, "<t>: design.groups: expected a sobol or morris design (SALib groups factors for these only; "
                    "FAST and the given-data methods rbd_fast and delta analyse factors one by one), found design.type "
                    "fast"),
    ("lhs", WORLD, "design.groups: expected a sobol or morris design (SALib groups factors for these only; FAST and "
                   "the given-data methods rbd_fast and delta analyse factors one by one), found design.type lhs"),
], ids=["not-a-factor", "in-two-groups", "empty", "not-a-list", "named-like-a-factor", "not-a-mapping", "fast",
        "lhs"])
def test_groups_are_refused_with_the_key_path_what_was_expected_and_what_was_found(kind: str, groups,
                                                                                      expected: str) -> None:
    samples = 65 if kind == "fast" else 8
    with pytest.raises(ConfigError) as err:
        plan(kind, samples, groups=groups)
    assert any(expected in line for line in err.value.problems), err.value.problems


def test_an_explicit_design_refuses_groups() -> None:
    with pytest.raises(ConfigError, match=r"design\.groups: expected a sobol or morris design .* found design\.type explicit"):
        build_plan({"base": "baseline", "design": {"type": "explicit", "points": [{"government.resistance": 0.2}],
                                                   "groups": WORLD}}, "<t>")


def test_a_group_may_be_named_after_its_only_member() -> None:
    p = plan("morris", 2, groups={"government.resistance": ["government.resistance"]})
    assert len(p.points) == rows("morris", 3, 2)
