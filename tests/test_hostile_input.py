"""A malformed-input corpus: every case gets a clear error naming the file and the place, never a traceback,
and returns at once (no hang on pipes or devices, no blow-up on alias bombs or deep nesting)."""

from __future__ import annotations

import os

import pytest
import yaml
from conftest import ROOT

from coprod_sim.cli import main
from coprod_sim.config import ConfigError, load_config
from coprod_sim.sweeps.spec import build_plan, load_spec

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))

# (file text, text the message must contain)
CONFIG_CORPUS = {
    "duplicate key": ("government:\n  resistance: 0.2\ngovernment:\n  resistance: 0.3\n", "government: duplicate key"),
    "duplicate nested key": ("government:\n  resistance: 0.2\n  resistance: 0.3\n", "line 3: resistance: duplicate"),
    "integer key": ("1: 2\n", "key 1 (int): expected text as a key"),
    "null key": ("null: 1\n", "key None (NoneType): expected text as a key"),
    "boolean key": ("government:\n  on: 1\n", "key True (bool)"),
    "nan value": ("government:\n  resistance: .nan\n", "government.resistance: expected a finite number, found nan"),
    "inf value": ("population:\n  residents: .inf\n", "population.residents: expected a finite number, found inf"),
    "nan in per-service": ("services:\n  unit_cost:\n    meals: -.inf\n",
                           "services.unit_cost.meals: expected a finite number, found -inf"),
    "deep nesting": ("[" * 20000 + "]" * 20000 + "\n", "nested too deeply"),
    "moderate nesting": ("a: " + "[" * 100 + "]" * 100 + "\n", "nested too deeply"),
    "alias bomb": (BOMB, "too many values"),
    "not a mapping": ("- 1\n- 2\n", "(top level): expected a mapping"),
    "syntax": ("a: [1, 2\n", "YAML syntax error at line"),
    "binary": (None, "cannot read file"),
}


def _write(tmp_path, name, text):
    path = tmp_path / f"{name.replace(' ', '_')}.yaml"
    if text is None:
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(CONFIG_CORPUS))
def test_config_corpus_gives_clear_errors(tmp_path, case, capsys):
    text, expected = CONFIG_CORPUS[case]
    path = _write(tmp_path, case, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert any(expected in line and str(path) in line for line in err.value.problems), err.value.problems
    assert main(["validate", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("case", ["duplicate key", "nan value", "alias bomb", "integer key"])
def test_spec_corpus_gives_clear_errors(tmp_path, case):
    """Specs are read by the same loader: the same cases are caught there too."""
    text, _ = CONFIG_CORPUS[case]
    spec = ("design:\n  type: factorial\n  parameters:\n    government.resistance: [0.1]\n" +
            text.replace("government:\n", "set:\n").replace("  resistance:", "  government.resistance:"))
    path = _write(tmp_path, case, spec)
    with pytest.raises(ConfigError) as err:
        load_spec(path)
    assert any(str(path) in line for line in err.value.problems), err.value.problems


def test_special_files_are_refused_without_blocking(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero", tmp_path):
        with pytest.raises(ConfigError, match="expected a regular file"):
            load_config(path)
    os.mkfifo(tmp_path / "pipe")
    monkeypatch.chdir(tmp_path)  # a pipe given by a bare name, as a scenario name would be
    with pytest.raises(ConfigError, match="pipe: expected a regular file"):
        load_config("pipe")


def test_parameter_listed_twice_in_a_spec_is_an_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("design:\n  type: factorial\n  parameters:\n    government.resistance: [0.1]\n"
                    "    government.resistance: [0.2, 0.3]\n")
    with pytest.raises(ConfigError, match=r"government\.resistance: duplicate key"):
        load_spec(path)


def test_non_finite_numbers_rejected_in_set_api_and_spec():
    with pytest.raises(ConfigError, match=r"--set: government.resistance: expected a finite number, found nan"):
        load_config(None, ["government.resistance=.nan"])
    with pytest.raises(ConfigError, match=r"params: government\.resistance: expected a finite number, found inf"):
        load_config(None, {"government.resistance": float("inf")})
    spec = {"design": {"type": "lhs", "samples": 2,
                       "parameters": {"government.resistance": {"range": [0.0, float("nan")]}}}}
    with pytest.raises(ConfigError, match=r"design.parameters.government.resistance.range\[1\]: expected a finite"):
        build_plan(spec, "s.yaml")


def test_unknown_key_flood_is_summarised(tmp_path, capsys):
    path = tmp_path / "many.yaml"
    path.write_text("government:\n" + "".join(f"  k{i}: 1\n" for i in range(2000)))
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 26 and lines[-1] == "error: … and 1975 more problems"  # 2000 unknown keys, 25 shown


def test_spec_problem_flood_counts_what_was_cut(tmp_path, capsys):
    """A spec's problems are cut once, by the printer: the count is of the problems not shown."""
    path = tmp_path / "s.yaml"
    path.write_text("design:\n  type: factorial\n  parameters:\n" +
                    "".join(f"    no.such{i}: [1]\n" for i in range(30)))
    assert main(["sweep", str(path), "--dry-run"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 26 and lines[-1] == "error: … and 5 more problems"


def test_seed_option_is_named(tmp_path, capsys):
    assert main(["run", "--seed", "-1", "--out", str(tmp_path / "o")]) == 2
    assert "--seed: expected a whole number ≥ 0, found -1" in capsys.readouterr().err


def test_shipped_configs_still_load():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        load_config(path)
        yaml.safe_load(path.read_text())


@pytest.mark.parametrize("design", [
    {"type": "factorial", "parameters": {"government.resistance": {"range": [0, 0.5], "n": 1000},
                                         "incentive.assessment_weight": {"range": [0, 0.5], "n": 1000}}},
    {"type": "lhs", "samples": 10**12, "parameters": {"government.resistance": {"range": [0, 0.5]}}},
    {"type": "factorial", "parameters": {"government.resistance": {"range": [0, 0.5], "n": 10**12}}},
])
def test_huge_designs_are_counted_not_built(design):
    with pytest.raises(ConfigError, match=r"more than the limit of|levels in \[1,"):
        build_plan({"design": design}, "s.yaml")


def test_a_billion_replicates_fail_at_once_even_on_dry_run(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("replicates: 1000000000\ndesign:\n  type: factorial\n  parameters:\n"
                    "    government.resistance: [0.1, 0.2]\n")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    assert "2,000,000,000 runs (design points × replicates), more than the limit" in capsys.readouterr().err


# ------------------------------------------------------------------ issue 21: more ways in
def test_a_two_megabyte_list_is_refused_while_parsing(tmp_path, capsys):
    """The value limit is met while the text is parsed, before any node is built (the time is measured
    by benchmarks/bench_hostile.py)."""
    path = tmp_path / "big.yaml"
    path.write_text("notes: [" + ",".join(["1"] * 10**6) + "]\n")
    assert main(["validate", str(path)]) == 2
    assert f"{path}: too many values: more than 200,000" in capsys.readouterr().err


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "7" * 4400, "0x" + "f" * 5000, "0b" + "1" * 300])
def test_huge_integer_literals_are_named_in_configs_set_and_seeds(tmp_path, capsys, literal):
    config = tmp_path / "c.yaml"
    config.write_text(f"population:\n  residents: {literal}\n")
    assert main(["validate", str(config)]) == 2
    assert f"{config}: line 2: integer too large" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"--set population.residents: line 1: integer too large"):
        load_config(None, [f"population.residents={literal}"])
    spec = tmp_path / "s.yaml"
    spec.write_text(f"seed: {literal}\ndesign: {{type: factorial, parameters: {{government.resistance: [0.1]}}}}\n")
    assert main(["sweep", str(spec), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{spec}: line 1: integer too large" in err and "Traceback" not in err


def test_huge_python_integers_are_described_not_printed():
    with pytest.raises(ConfigError, match=r"population.residents: .*an integer of 16,610 bits"):
        load_config(None, {"population.residents": 10**5000})


def test_unusual_params_are_read_or_named():
    from decimal import Decimal
    from fractions import Fraction

    cfg = load_config(None, {"government.resistance": Decimal("0.25"), "incentive.assessment_weight": Fraction(1, 8)})
    assert cfg.get("government.resistance") == 0.25 and cfg.get("incentive.assessment_weight") == 0.125
    with pytest.raises(ConfigError, match=r"params: government.resistance: expected a finite number, found nan"):
        load_config(None, {"government.resistance": Decimal("NaN")})
    with pytest.raises(ConfigError, match=r"params: expected a mapping .* found \('government.resistance', 0.3\)"):
        load_config(None, [("government.resistance", 0.3)])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=r"params: expected a mapping .* found 5 \(int\)"):
        load_config(None, 5)  # type: ignore[arg-type]


def test_bad_backend_and_infinite_timeout_are_named(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("design: {type: factorial, parameters: {government.resistance: [0.1]}}\n")
    assert main(["sweep", str(path), "--dry-run", "--backend", "foo"]) == 2
    assert "--backend: expected one of serial, processes, dask, found 'foo'" in capsys.readouterr().err
    assert main(["sweep", str(path), "--timeout", "inf", "--out", str(tmp_path / "o")]) == 2
    assert "--timeout: expected seconds, a finite number > 0, found inf" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"s.yaml: timeout: expected a finite number, found inf"):
        build_plan({"timeout": float("inf"), "design": {"type": "factorial",
                                                         "parameters": {"government.resistance": [0.1]}}}, "s.yaml")
    assert not (tmp_path / "o").exists()


def test_special_files_as_base_or_design_file_are_named(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for base in ("/dev/zero", str(fifo), "pipe.yaml"):
        spec = {"base": base, "design": {"type": "factorial", "parameters": {"government.resistance": [0.1]}}}
        with pytest.raises(ConfigError, match=r"expected a regular file, found a special file"):
            build_plan(spec, "s.yaml", tmp_path)
    spec = {"design": {"type": "explicit", "file": "pipe.yaml"}}
    with pytest.raises(ConfigError, match=r"pipe.yaml: expected a regular file, found a special file"):
        build_plan(spec, "s.yaml", tmp_path)


def test_overlapping_design_factors_are_refused():
    spec = {"design": {"type": "factorial", "parameters": {"services.unit_cost.meals": [10, 20],
                                                           "services.unit_cost": [{"meals": 15}]}}}
    with pytest.raises(ConfigError, match=r"design: services.unit_cost and services.unit_cost.meals overlap"):
        build_plan(spec, "s.yaml")
    points = [{"services.unit_cost": {"meals": 15}, "services.unit_cost.meals": 10}]
    with pytest.raises(ConfigError, match=r"overlap"):
        build_plan({"design": {"type": "explicit", "points": points}}, "s.yaml")


def test_only_an_empty_csv_cell_means_the_base_value(tmp_path):
    (tmp_path / "d.csv").write_text("government.resistance,population.residents\n0.2,\nnan,3000\n,NA\n")
    spec = {"design": {"type": "explicit", "file": "d.csv"}}
    with pytest.raises(ConfigError) as err:
        build_plan(spec, "s.yaml", tmp_path)
    assert err.value.problems == [
        f"{tmp_path / 'd.csv'}: row 3: government.resistance: expected a value or an empty cell (the base value), "
        "found 'nan'",
        f"{tmp_path / 'd.csv'}: row 4: population.residents: expected a value or an empty cell (the base value), "
        "found 'NA'"]
    (tmp_path / "d.csv").write_text("government.resistance,population.residents\n0.2,\n,3000\n")
    plan = build_plan(spec, "s.yaml", tmp_path)
    assert plan.points[0]["government.resistance"] == 0.2
    assert plan.points[0]["population.residents"] == load_config(None).get("population.residents")
