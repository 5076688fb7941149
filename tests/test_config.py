"""Bad input gets a clear error naming file, key path, expectation and finding."""

import subprocess
import sys

import pytest
from conftest import ROOT

from coprod_sim.config import ConfigError, defaults, load_config, registry, schema


def _problems(tmp_path, text, overrides=None):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, overrides)
    return err.value.problems, str(path)


def test_unknown_key_suggests_the_close_one(tmp_path):
    problems, path = _problems(tmp_path, "population:\n  residens: 100\n")
    assert problems == [f"{path}: population.residens: unknown key; did you mean 'residents'?"]


def test_unknown_group_is_rejected(tmp_path):
    problems, _ = _problems(tmp_path, "incentives:\n  assessment_weight: 0.1\n")
    assert "incentives: unknown key; did you mean 'incentive'?" in problems[0]


def test_wrong_type_names_expected_and_found(tmp_path):
    problems, path = _problems(tmp_path, "population:\n  residents: many\n")
    assert problems == [f"{path}: population.residents: expected a whole number, found 'many' (str)"]


def test_out_of_range_names_the_range(tmp_path):
    problems, _ = _problems(tmp_path, "incentive:\n  assessment_weight: 2\n")
    assert "incentive.assessment_weight: expected a value in [0, 1], found 2 (int)" in problems[0]


def test_bad_enum_lists_choices(tmp_path):
    problems, _ = _problems(tmp_path, "layout:\n  mode: huge\n")
    assert "layout.mode: expected one of per_community, merged, found 'huge' (str)" in problems[0]


def test_per_service_subkey_checked(tmp_path):
    problems, _ = _problems(tmp_path, "profit_space:\n  subsidy_per_visit: {meal: 3}\n")
    assert "profit_space.subsidy_per_visit.meal: unknown key; did you mean 'meals'?" in problems[0]


def test_yaml_syntax_error_gives_position(tmp_path):
    problems, path = _problems(tmp_path, "population:\n  residents: [1, 2\n")
    assert problems[0].startswith(f"{path}: YAML syntax error at line")


def test_top_level_must_be_a_mapping(tmp_path):
    problems, _ = _problems(tmp_path, "- 1\n- 2\n")
    assert "(top level): expected a mapping of keys" in problems[0]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml")
    assert err.value.problems == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_cross_field_rules(tmp_path):
    problems, _ = _problems(tmp_path, "satisfaction:\n  cutpoints: [0.3, 0.2, 0.4, 0.5]\n")
    assert "satisfaction.cutpoints: expected four strictly increasing numbers" in problems[0]
    problems, _ = _problems(tmp_path, "run:\n  steps: 5\n  outcome_window: 12\n")
    assert "run.outcome_window: expected at most run.steps (5), found 12" in problems[0]


def test_all_problems_reported_at_once(tmp_path):
    problems, _ = _problems(tmp_path, "population:\n  residents: -1\n  density: x\n")
    assert len(problems) == 2


def test_set_overrides_are_validated_and_named():
    with pytest.raises(ConfigError) as err:
        load_config(None, ["linkage.channel_reach=1.5"])
    assert err.value.problems == ["--set: linkage.channel_reach: expected a value in [0, 1], found 1.5 (float)"]
    with pytest.raises(ConfigError) as err:
        load_config(None, ["linkage.channel_reach"])
    assert "expected dotted.key=value" in err.value.problems[0]


def test_overrides_apply():
    cfg = load_config(None, ["linkage.channel_reach=0.4", "profit_space.soe_entry=true"])
    assert cfg.linkage.channel_reach == 0.4 and cfg.profit_space.soe_entry is True


def test_every_parameter_is_documented_and_defaults_validate():
    for p in registry().values():
        assert p.unit and p.source and p.description, p.key
        assert p.range not in (None, ""), p.key
    load_config(None)  # defaults satisfy the schema and cross checks
    assert set(schema()["properties"]) >= set(defaults())


def test_cli_prints_errors_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("government:\n  resistence: 0.5\n", encoding="utf-8")
    for cmd in (["validate", str(bad)], ["run", str(bad), "--out", str(tmp_path / "o")]):
        proc = subprocess.run([sys.executable, "-m", "coprod_sim", *cmd], capture_output=True, text=True,
                              cwd=ROOT)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert f"error: {bad}: government.resistence: unknown key; did you mean 'resistance'?" in proc.stderr
    assert not (tmp_path / "o").exists()
