"""Typed parameters: generated from the registry, resolved once, immutable, read by type in the model.

Also the structural rules of issue 16: no string look-ups of parameters in the
model, and no month-to-month signal carried as a ``Model`` attribute written in
one stage module and read in another (stages hand over records instead).
"""

from __future__ import annotations

import ast
import dataclasses
import pickle
import typing

import pytest
from conftest import ROOT

from coprod_sim import Model
from coprod_sim.config import LEVER, REMEDIES, ROLES, Config, ConfigError, by_role, codegen, load_config, registry, study_levers
from coprod_sim.config.params import GROUP_CLASSES

MODEL = ROOT / "src" / "coprod_sim" / "model"


def test_the_typed_groups_are_what_the_registry_generates():
    assert codegen.TARGET.read_text(encoding="utf-8") == codegen.source(), \
        f"src/coprod_sim/config/params.py is stale: run `{codegen.COMMAND}`"


def test_every_registry_parameter_is_a_typed_field_of_its_group():
    fields = {f"{group}.{f.name}": f for group, cls in GROUP_CLASSES.items() for f in dataclasses.fields(cls)}
    assert set(fields) == set(registry())
    python_type = {"number": float, "integer": int, "boolean": bool}
    for key, p in registry().items():
        hints = typing.get_type_hints(GROUP_CLASSES[key.split(".")[0]])
        hint = hints[key.split(".", 1)[1]]
        if p.type in python_type:
            assert hint is python_type[p.type], key
        if p.type == "enum":
            assert typing.get_args(hint) == p.choices, key


def test_a_config_is_resolved_once_typed_and_immutable():
    cfg = load_config("party_led", {"government.resistance": 0.3, "profit_space.subsidy_per_visit.meals": 4})
    assert isinstance(cfg, Config)
    assert cfg.government.resistance == 0.3 and cfg.profit_space.subsidy_per_visit["meals"] == 4.0
    assert type(cfg.run.steps) is int and type(cfg.government.resistance) is float
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.government.resistance = 0.9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.profit_space.subsidy_per_visit.numbers = ()  # type: ignore[misc]
    plain = cfg.to_dict()
    plain["government"]["resistance"] = 0.9  # the plain form is a copy
    assert cfg.government.resistance == 0.3
    assert load_config(cfg.to_dict()) == cfg  # the plain form resolves to the same config
    assert pickle.loads(pickle.dumps(cfg)) == cfg  # travels to worker processes
    assert load_config(cfg) is cfg  # nothing to resolve again
    assert load_config(cfg, {"government.resistance": 0.5}).government.resistance == 0.5  # a change is a new config
    with pytest.raises(ConfigError, match=r"government\.resistance"):
        load_config(cfg, {"government.resistance": 2})


def test_the_model_uses_a_resolved_config_as_it_is(monkeypatch):
    cfg = load_config("baseline", {"population.residents": 1000, "run.spin_up": 0, "run.steps": 2, "run.outcome_window": 1})
    from coprod_sim.config import loading

    monkeypatch.setattr(loading, "resolve", lambda *a, **k: pytest.fail("a resolved config was resolved again"))
    model = Model(rng=1, scenario=cfg)
    assert model.config is cfg


def test_every_parameter_has_a_role_and_every_lever_says_what_it_is():
    assert {p.role for p in registry().values()} == set(ROLES)
    for p in registry().values():
        lever_fields = (p.label, p.remedy, p.app, p.study)
        if p.role == LEVER:
            assert p.label and p.remedy in REMEDIES, p.key
        else:
            assert lever_fields == ("", "", None, None), f"{p.key}: only levers have a label, remedy, app or study"
    levers = {p.key for p in by_role(LEVER)}
    for key in study_levers():
        assert key in levers or key.rsplit(".", 1)[0] in levers
    # every parameter a shipped policy scenario changes, other than run settings and the canteen's cost path, is a lever
    assumptions_set = {"services.cost_growth"}
    for name in ("up_incentives", "down_mass_contact", "in_leading_group", "out_interest_binding", "party_led",
                 "technology_only", "big_community", "one_station_many_committees", "admin_takeover", "kpi_partial"):
        from coprod_sim.config import read_yaml, shipped_scenarios

        data = read_yaml(shipped_scenarios()[name])
        keys = {f"{g}.{k}" for g, block in data.items() if g != "scenario" for k in block}
        assert keys - assumptions_set <= levers | {p.key for p in by_role("run")}, name


def test_no_parameter_is_looked_up_by_string_in_the_model():
    for path in MODEL.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "cfg[" not in text and '.config["' not in text, path.name


def _model_attributes_written(tree: ast.AST) -> set[str]:
    """Attributes set on the model (``model.x = …``, ``m.x += …``) in a module."""
    out = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in ("model", "m"):
                out.add(t.attr)
    return out


def test_stage_modules_hand_over_records_not_model_attributes():
    written = {p.stem: _model_attributes_written(ast.parse(p.read_text(encoding="utf-8")))
               for p in MODEL.glob("*.py") if p.stem != "model"}
    assert not {stage: attrs for stage, attrs in written.items() if attrs}, \
        "a stage module writes a Model attribute; return a record (consume.Consumption, settle.Settlement, month.MonthRecord)"


def test_the_check_sees_a_model_attribute_written_in_a_stage():
    tree = ast.parse("def f(model):\n    model.signal = 1\n    m.count += 1\n    model.record.x = 2\n")
    assert _model_attributes_written(tree) == {"signal", "count"}


def test_resistance_has_one_home():
    m = Model(rng=2, scenario="baseline", **{"population.residents": 1000, "run.spin_up": 0, "run.steps": 2, "run.outcome_window": 1})
    assert not hasattr(m, "dept_resistance")
    m.departments[0].resistance = 0.0  # what approvals and issues read is the department's own value
    assert all(0.0 <= d.resistance < 1.0 for d in m.departments)


def test_without_a_leading_group_there_is_no_authority_no_office_and_no_cost():
    m = Model(rng=3, scenario="baseline", **{"population.residents": 2000, "run.spin_up": 0, "run.steps": 6, "run.outcome_window": 3,
                                              "leading_group.authority": 1.0,
                                              "leading_group.staff_per_10k_residents": 10})
    m.run_model()
    lg = m.leading_group
    assert (lg.authority, lg.staff, lg.capacity) == (0.0, 0.0, 0)
    assert set(m.datacollector.model_vars["governance.cases_coordinated"]) == {0.0}
    assert set(m.datacollector.model_vars["cost.public_spending.coordination"]) == {0.0}
    assert all(d.pressure == 0.0 for d in m.departments)


def test_the_app_and_the_lever_study_take_their_levers_from_the_registry():
    from coprod_sim.app.session import LEVERS
    from coprod_sim.config import read_yaml

    marked = {p.key for p in by_role(LEVER) if p.app is not None}
    assert [lv.key for lv in LEVERS] and {lv.key for lv in LEVERS} == marked
    spec = read_yaml(ROOT / "experiments" / "sensitivity_levers.yaml")
    assert list(spec["design"]["parameters"].items()) == list(study_levers().items()), \
        "experiments/sensitivity_levers.yaml lists other levers than the registry's `study` entries"


def test_params_role_lists_one_role(capsys):
    from coprod_sim.cli import main

    assert main(["params", "--role", "lever", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert {r["key"] for r in rows} == {p.key for p in by_role(LEVER)} and all(r["role"] == LEVER for r in rows)
    assert main(["params", "--role", "run"]) == 0
    assert "population.residents" in capsys.readouterr().out


# ------------------------------------------------------------------ outcome displays, declared with the outcomes
def test_every_display_lists_its_outcomes_from_the_catalogue():
    from coprod_sim.app import figures, session
    from coprod_sim.model import MONITOR, OUTCOMES, places, shown_in

    for o in OUTCOMES:
        assert not o.show or o.label, f"{o.key} is shown but has no label"
    assert {key for p in figures.PANELS for key, _ in p.series} == {o.key for o in OUTCOMES
                                                                     if any(s.startswith("chart:") for s in o.show)}
    assert set(figures.CHART_LOOKS) == set(places("chart"))
    assert [o.key for o in session.MONITORS if not o.key.startswith("site.")] == [o.key for o in shown_in(MONITOR)]
    assert places("figure") == ("quantity", "quality", "equity", "cost", "governance")


def test_a_new_key_outcome_is_printed_by_the_cli(tmp_path, monkeypatch, capsys):
    """Adding an outcome to the key tier must not break `coprod-sim run` (it printed exactly four)."""
    from coprod_sim.cli import main
    from coprod_sim.model import outcomes

    monkeypatch.setattr(outcomes, "KEY_OUTCOMES", (*outcomes.KEY_OUTCOMES, "quality.match"))
    import coprod_sim.model as model_package

    monkeypatch.setattr(model_package, "KEY_OUTCOMES", outcomes.KEY_OUTCOMES)
    sets = ["--set", "population.residents=1000", "--set", "run.spin_up=0", "--set", "run.steps=3",
            "--set", "run.outcome_window=3"]
    assert main(["run", "baseline", "--out", str(tmp_path / "r"), "--no-plots", *sets]) == 0
    out = capsys.readouterr().out
    assert "Supply–need match (0–1): " in out and "Needs met (share): " in out
    assert out.count("): ") == len(outcomes.KEY_OUTCOMES)
