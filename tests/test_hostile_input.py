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
    assert len(lines) <= 30 and lines[-1].startswith("error: … and") and "more problems" in lines[-1]


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
