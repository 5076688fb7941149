"""Write the hostile-input corpus: configs/*.yaml and specs/*.yaml, each a file a user could give by mistake
or on purpose, with its last line ``# expect: TEXT`` naming what the error message must say (besides the
file's path). tests/test_hostile_corpus.py runs every file through the CLI.

The hand-written cases below are the corpus proper (grow it by adding to the lists); the per-parameter
cases are generated from the registry so that every parameter's check is tried once. Re-run after a
registry change:

    .venv/bin/python tests/hostile/make_corpus.py
"""

from __future__ import annotations

import argparse
import re
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACTORIAL = "design:\n  type: factorial\n  parameters:\n    government.resistance: [0.1, 0.2]\n"

# (name, text, expected fragment) — configs, read by `coprod-sim validate FILE`
CONFIGS: list[tuple[str, str, str]] = [
    ("duplicate_group", "government:\n  resistance: 0.2\ngovernment:\n  resistance: 0.3\n", "government: duplicate key"),
    ("duplicate_nested", "government:\n  resistance: 0.2\n  resistance: 0.3\n", "resistance: duplicate key"),
    ("int_key", "1: 2\n", "expected text as a key"),
    ("null_key", "null: 1\n", "expected text as a key"),
    ("bool_key_on", "government:\n  on: 1\n", "key True (bool)"),
    ("bool_key_no", "government:\n  no: 1\n", "key False (bool)"),
    ("float_key", "1.5: x\n", "key 1.5 (float)"),
    ("list_key", "? [a, b]\n: 1\n", "expected text as a key"),
    ("top_list", "- 1\n- 2\n", "(top level): expected a mapping"),
    ("top_scalar", "42\n", "(top level): expected a mapping"),
    ("top_string", "just some words\n", "(top level): expected a mapping"),
    ("unclosed_flow", "government: {resistance: 0.2\n", "YAML syntax error"),
    ("unclosed_list", "a: [1, 2\n", "YAML syntax error at line"),
    ("tab_indent", "government:\n\tresistance: 0.2\n", "YAML syntax error"),
    ("bad_indent", "government:\n  resistance: 0.2\n   approval_hazard: 0.1\n", "YAML syntax error"),
    ("two_documents", "government: {}\n---\npopulation: {}\n", "YAML syntax error"),
    ("undefined_alias", "government:\n  resistance: *nope\n", "YAML syntax error"),
    ("python_tag", "government: !!python/object:os.system {}\n", "YAML syntax error"),
    ("python_name_tag", "government: !!python/name:os.system\n", "YAML syntax error"),
    ("unknown_tag", "government:\n  resistance: !secret 0.2\n", "YAML syntax error"),
    ("nan", "government:\n  resistance: .nan\n", "government.resistance: expected a finite number, found nan"),
    ("NaN_caps", "government:\n  resistance: .NaN\n", "government.resistance: expected a finite number"),
    ("inf", "population:\n  residents: .inf\n", "population.residents: expected a finite number, found inf"),
    ("minus_inf", "services:\n  unit_cost:\n    meals: -.inf\n", "services.unit_cost.meals: expected a finite number"),
    ("overflow_float", "government:\n  resistance: 1e400\n", "government.resistance: expected"),
    ("huge_int", "population:\n  residents: " + "9" * 5000 + "\n", "line 2: integer too large"),
    ("huge_negative_int", "run:\n  steps: -" + "1" * 4400 + "\n", "line 2: integer too large"),
    ("huge_hex", "run:\n  steps: 0x" + "f" * 3000 + "\n", "line 2: integer too large"),
    ("huge_octal", "run:\n  steps: 0" + "7" * 200 + "\n", "line 2: integer too large"),
    ("octal_yaml12", "run:\n  steps: 0o17\n", "run.steps: expected a whole number, found '0o17'"),
    ("huge_binary", "run:\n  steps: 0b" + "1" * 300 + "\n", "line 2: integer too large"),
    ("deep_nesting", "a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ("deep_mappings", "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v: 1\n", "nested too deeply"),
    ("moderate_nesting", "a: " + "[" * 100 + "]" * 100 + "\n", "nested too deeply"),
    ("alias_bomb", "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
     "too many values"),
    ("merge_key_unknown", "base: &b {resistance: 0.2}\ngovernment:\n  <<: *b\n", "base: unknown key"),
    ("date_value", "government:\n  resistance: 2024-01-01\n", "government.resistance: expected"),
    ("timestamp_value", "run:\n  steps: 2001-12-14t21:59:43.10-05:00\n", "run.steps: expected"),
    ("binary_value", "government:\n  resistance: !!binary aGVsbG8=\n", "government.resistance: expected"),
    ("set_value", "government:\n  resistance: !!set {a, b}\n", "government.resistance: expected"),
    ("null_value", "government:\n  resistance:\n", "government.resistance: expected"),
    ("tilde_value", "government:\n  resistance: ~\n", "government.resistance: expected"),
    ("empty_string", "government:\n  resistance: ''\n", "government.resistance: expected"),
    ("quoted_number", "government:\n  resistance: '0.2'\n", "government.resistance: expected"),
    ("yes_as_number", "population:\n  residents: yes\n", "population.residents: expected"),
    ("group_is_list", "government:\n  - resistance\n", "government: expected"),
    ("group_is_number", "government: 5\n", "government: expected"),
    ("group_is_null_string", "government: null-ish\n", "government: expected"),
    ("unknown_group", "govenment:\n  resistance: 0.2\n", "govenment: unknown key"),
    ("unknown_group_far", "zzz:\n  a: 1\n", "zzz: unknown key"),
    ("dotted_top_key", "government.resistance: 0.2\n", "government.resistance: unknown key"),
    ("cutpoints_decreasing", "satisfaction:\n  cutpoints: [0.5, 0.4, 0.3, 0.2]\n", "satisfaction.cutpoints: expected"),
    ("cutpoints_three", "satisfaction:\n  cutpoints: [0.1, 0.2, 0.3]\n", "satisfaction.cutpoints: expected"),
    ("cutpoints_text", "satisfaction:\n  cutpoints: [a, b, c, d]\n", "satisfaction.cutpoints"),
    ("window_over_steps", "run:\n  steps: 10\n  outcome_window: 20\n", "run.outcome_window: expected at most run.steps"),
    ("household_shares_unknown", "population:\n  household_shares: {robots: 0.5}\n", "population.household_shares"),
    ("service_unknown", "services:\n  unit_cost: {spaceflight: 3}\n", "services.unit_cost"),
    ("service_list_unknown", "incentive:\n  counted_services: [meals, teleportation]\n", "incentive.counted_services"),
    ("service_list_string", "incentive:\n  counted_services: meals\n", "incentive.counted_services: expected"),
    ("enum_wrong", "layout:\n  mode: sideways\n", "layout.mode: expected"),
    ("enum_case", "planning:\n  mode: TOP_DOWN\n", "planning.mode: expected"),
    ("bool_as_string", "profit_space:\n  franchise: 'true'\n", "profit_space.franchise: expected"),
    ("bool_as_number", "profit_space:\n  franchise: 1\n", "profit_space.franchise: expected"),
    ("scenario_block_list", "scenario: [a, b]\n", "scenario: expected"),
    ("anchor_loop_like", "a: &x {b: 1}\nc: *x\n", "unknown key"),
    ("many_unknown_keys", "government:\n" + "".join(f"  k{i}: 1\n" for i in range(300)), "more problems"),
    ("very_long_key", "government:\n  " + "r" * 3000 + ": 1\n", "YAML syntax error at line 2"),
    ("long_key", "government:\n  " + "r" * 1000 + ": 1\n", "unknown key"),
    ("control_chars", "government:\n  resistance: \"\\x00\\x01\"\n", "government.resistance: expected"),
    ("unicode_key", "governmént:\n  resistance: 0.2\n", "governmént: unknown key"),
    ("zero_width_key", "gov\u200bernment:\n  resistance: 0.2\n", "unknown key"),
]

# (name, text, expected fragment) — sweep specs, read by `coprod-sim sweep FILE --dry-run`
SPECS: list[tuple[str, str, str]] = [
    ("no_design", "replicates: 2\n", "design: expected a mapping"),
    ("design_list", "design: [a, b]\n", "design: expected a mapping"),
    ("design_type_unknown", "design: {type: magic, parameters: {government.resistance: [0.1]}}\n", "design.type: expected"),
    ("design_type_missing", "design: {parameters: {government.resistance: [0.1]}}\n", "design.type: expected"),
    ("design_unknown_field", FACTORIAL + "  sampels: 3\n", "design.sampels: unknown key"),
    ("parameters_empty", "design: {type: factorial, parameters: {}}\n", "design.parameters: expected"),
    ("parameters_list", "design: {type: factorial, parameters: [government.resistance]}\n", "design.parameters: expected"),
    ("parameter_unknown", "design: {type: factorial, parameters: {government.resistanse: [0.1]}}\n",
     "government.resistanse: unknown parameter"),
    ("parameter_group_only", "design: {type: factorial, parameters: {government: [0.1]}}\n", "government: unknown parameter"),
    ("levels_empty", "design: {type: factorial, parameters: {government.resistance: []}}\n", "expected a non-empty list"),
    ("levels_scalar", "design: {type: factorial, parameters: {government.resistance: 0.1}}\n",
     "government.resistance: expected a list of values"),
    ("levels_out_of_range", "design: {type: factorial, parameters: {government.resistance: [0.1, 7]}}\n",
     "government.resistance[1]: expected"),
    ("levels_text", "design: {type: factorial, parameters: {government.resistance: [low, high]}}\n",
     "government.resistance[0]: expected"),
    ("levels_nan", "design: {type: factorial, parameters: {government.resistance: [.nan]}}\n", "expected a finite number"),
    ("range_reversed", "design: {type: factorial, parameters: {government.resistance: {range: [0.5, 0.1], n: 3}}}\n",
     "expected low ≤ high"),
    ("range_one_value", "design: {type: factorial, parameters: {government.resistance: {range: [0.5], n: 3}}}\n",
     "government.resistance.range: expected [low, high]"),
    ("range_text", "design: {type: lhs, samples: 4, parameters: {government.resistance: {range: 'a-b'}}}\n",
     "government.resistance.range: expected [low, high]"),
    ("range_on_enum", "design: {type: factorial, parameters: {layout.mode: {range: [0, 1], n: 2}}}\n",
     "a range needs a numeric parameter"),
    ("range_n_zero", "design: {type: factorial, parameters: {government.resistance: {range: [0, 0.5], n: 0}}}\n",
     "government.resistance"),
    ("range_n_huge", "design: {type: factorial, parameters: {government.resistance: {range: [0, 0.5], n: 1000000000000}}}\n",
     "government.resistance"),
    ("range_unknown_field", "design: {type: factorial, parameters: {government.resistance: {range: [0, 0.5], m: 2}}}\n",
     "government.resistance.m: unknown key"),
    ("lhs_no_samples", "design: {type: lhs, parameters: {government.resistance: {range: [0, 0.5]}}}\n", "samples"),
    ("lhs_samples_zero", "design: {type: lhs, samples: 0, parameters: {government.resistance: {range: [0, 0.5]}}}\n",
     "samples"),
    ("lhs_samples_text", "design: {type: lhs, samples: many, parameters: {government.resistance: {range: [0, 0.5]}}}\n",
     "samples"),
    ("lhs_samples_huge", "design: {type: lhs, samples: 1000000000000, parameters: {government.resistance: {}}}\n",
     "more than the limit"),
    ("lhs_bad_dist", "design: {type: lhs, samples: 4, parameters: {government.resistance: {range: [0, 0.5], dist: cauchy}}}\n",
     "government.resistance"),
    ("sobol_too_small", "design: {type: sobol, samples: 1, parameters: {government.resistance: {}}}\n", "samples"),
    ("overlapping_factors", "design:\n  type: factorial\n  parameters:\n    services.unit_cost.meals: [10, 20]\n"
     "    services.unit_cost: [{meals: 15}]\n", "services.unit_cost and services.unit_cost.meals overlap"),
    ("duplicate_parameter", FACTORIAL + "    government.resistance: [0.3]\n", "government.resistance: duplicate key"),
    ("points_empty", "design: {type: explicit, points: []}\n", "design.points: expected a non-empty list"),
    ("points_not_mappings", "design: {type: explicit, points: [1, 2]}\n", "design.points[0]: expected a mapping"),
    ("points_unknown_key", "design: {type: explicit, points: [{government.resistanse: 0.2}]}\n", "unknown parameter"),
    ("points_bad_value", "design: {type: explicit, points: [{government.resistance: -3}]}\n",
     "design.points[0].government.resistance: expected"),
    ("points_overlap", "design: {type: explicit, points: [{services.unit_cost: {meals: 15}, services.unit_cost.meals: 10}]}\n",
     "overlap"),
    ("design_file_missing", "design: {type: explicit, file: no_such.csv}\n", "design.file: file not found"),
    ("design_file_number", "design: {type: explicit, file: 5}\n", "design.file: expected a path"),
    ("design_file_dev_zero", "design: {type: explicit, file: /dev/zero}\n", "design.file: /dev/zero: expected a regular file"),
    ("design_file_folder", "design: {type: explicit, file: /}\n", "design.file: /: expected a regular file, found a folder"),
    ("replicates_zero", FACTORIAL + "replicates: 0\n", "replicates: expected a whole number"),
    ("replicates_negative", FACTORIAL + "replicates: -4\n", "replicates: expected a whole number"),
    ("replicates_float", FACTORIAL + "replicates: 2.5\n", "replicates: expected a whole number"),
    ("replicates_text", FACTORIAL + "replicates: ten\n", "replicates: expected a whole number"),
    ("replicates_bool", FACTORIAL + "replicates: true\n", "replicates: expected a whole number"),
    ("replicates_billion", FACTORIAL + "replicates: 1000000000\n", "more than the limit"),
    ("replicates_huge_int", FACTORIAL + "replicates: " + "9" * 4500 + "\n", "integer too large"),
    ("seed_negative", FACTORIAL + "seed: -1\n", "seed: expected a whole number"),
    ("seed_float", FACTORIAL + "seed: 1.5\n", "seed: expected a whole number"),
    ("seed_text", FACTORIAL + "seed: random\n", "seed: expected a whole number"),
    ("seed_huge", FACTORIAL + "seed: " + "9" * 5000 + "\n", "integer too large"),
    ("seed_huge_hex", FACTORIAL + "seed: 0x" + "f" * 5000 + "\n", "integer too large"),
    ("seed_scheme_wrong", FACTORIAL + "seed_scheme: shared\n", "seed_scheme: expected one of"),
    ("backend_wrong", FACTORIAL + "backend: gpu\n", "backend: expected one of"),
    ("backend_list", FACTORIAL + "backend: [dask]\n", "backend: expected one of"),
    ("workers_zero", FACTORIAL + "workers: 0\n", "workers: expected a whole number"),
    ("workers_text", FACTORIAL + "workers: all\n", "workers: expected a whole number"),
    ("batch_size_zero", FACTORIAL + "batch_size: 0\n", "batch_size: expected auto"),
    ("batch_size_text", FACTORIAL + "batch_size: big\n", "batch_size: expected auto"),
    ("scheduler_number", FACTORIAL + "scheduler: 8786\n", "scheduler: expected an address"),
    ("timeout_zero", FACTORIAL + "timeout: 0\n", "timeout: expected seconds"),
    ("timeout_negative", FACTORIAL + "timeout: -5\n", "timeout: expected seconds"),
    ("timeout_text", FACTORIAL + "timeout: forever\n", "timeout: expected seconds"),
    ("timeout_inf", FACTORIAL + "timeout: .inf\n", "timeout: expected a finite number"),
    ("max_attempts_zero", FACTORIAL + "max_attempts: 0\n", "max_attempts: expected a whole number"),
    ("outputs_list", FACTORIAL + "outputs: [a]\n", "outputs: expected a mapping"),
    ("outputs_unknown_outcome", FACTORIAL + "outputs: {summary: [quality.happiness]}\n", "quality.happiness"),
    ("outputs_unknown_field", FACTORIAL + "outputs: {summery: all}\n", "outputs.summery: unknown key"),
    ("outputs_steps_unknown", FACTORIAL + "outputs: {steps: [nope]}\n", "nope"),
    ("fault_bad_action", FACTORIAL + "fault_injection: {fail_when: {government.resistance: 0.1}, action: explode}\n",
     "fault_injection"),
    ("fault_not_mapping", FACTORIAL + "fault_injection: yes\n", "fault_injection"),
    ("unknown_top_key", FACTORIAL + "replicate: 3\n", "replicate: unknown key; did you mean 'replicates'?"),
    ("unknown_top_key_far", FACTORIAL + "colour: blue\n", "colour: unknown key"),
    ("base_unknown_scenario", "base: baselin\n" + FACTORIAL, "base: file not found: baselin"),
    ("base_missing_file", "base: nowhere/missing.yaml\n" + FACTORIAL, "base: file not found"),
    ("base_number", "base: 7\n" + FACTORIAL, "base: expected a scenario name"),
    ("base_list", "base: [baseline]\n" + FACTORIAL, "base: expected a scenario name"),
    ("base_dev_zero", "base: /dev/zero\n" + FACTORIAL, "base: /dev/zero: expected a regular file"),
    ("base_folder", "base: /\n" + FACTORIAL, "base: /: expected a config file, found a folder"),
    ("base_inline_bad", "base: {government: {resistance: 9}}\n" + FACTORIAL, "government.resistance: expected"),
    ("base_inline_unknown", "base: {govt: {}}\n" + FACTORIAL, "govt: unknown key"),
    ("set_list", "set: [a]\n" + FACTORIAL, "set: expected a mapping"),
    ("set_unknown_key", "set: {government.resistanse: 0.2}\n" + FACTORIAL, "government.resistanse: unknown parameter"),
    ("set_bad_value", "set: {population.residents: -5}\n" + FACTORIAL, "set.population.residents: expected"),
    ("set_nan", "set: {government.resistance: .nan}\n" + FACTORIAL, "set.government.resistance: expected a finite number"),
    ("set_huge_int", "set: {population.residents: " + "9" * 5000 + "}\n" + FACTORIAL, "integer too large"),
    ("set_makes_window_too_long", "set: {run.steps: 5, run.outcome_window: 12}\n" + FACTORIAL, "run.outcome_window"),
    ("top_list", "- design\n", "(top level): expected a mapping"),
    ("syntax_error", "design: {type: factorial\n", "YAML syntax error"),
    ("alias_bomb", "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
     "too many values"),
    ("deep_nesting", "design: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ("python_tag", "design: !!python/object/apply:os.system [ls]\n", "YAML syntax error"),
    ("many_problems", "design:\n  type: factorial\n  parameters:\n" + "".join(f"    no.such{i}: [1]\n" for i in range(40)),
     "… and 15 more problems"),
]

# kinds of wrong value tried per parameter, in turn (a kind that does not apply to a type is skipped)
KINDS = ("text", "above", "below", "bool", "list", "mapping")


def _bad_value(p, kind: str) -> str | None:
    """A YAML value for parameter ``p`` that its check must refuse, of the given kind (None: no such case)."""
    if kind == "text":
        return "'many'" if p.type != "enum" else "'sideways'"
    if kind == "bool":
        return "true" if p.type not in ("boolean",) else "'yes please'"
    if kind in ("list", "mapping"):  # wrong for scalars; wrong entries for list and per-type parameters
        return "[1, 2]" if kind == "list" else "{a: 1}"
    if p.type not in ("number", "integer") or not isinstance(p.range, (list, tuple)):
        return None
    low, high = p.range
    return str(high + 1 if p.type == "integer" else high + abs(high) + 1) if kind == "above" else str(
        low - 1 if p.type == "integer" else low - abs(low) - 1)


def parameter_cases() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """One wrong value per parameter for configs, and for about half of them a spec.

    The kind of wrong value (and whether a spec is written) follows from the key's checksum, not its place in
    the registry, so adding or renaming a parameter adds or renames its own cases and leaves the others be.
    """
    from coprod_sim.config import registry

    configs, specs = [], []
    for p in registry().values():
        group, name = p.key.split(".", 1)
        i = zlib.crc32(p.key.encode("utf-8"))
        for shift in range(len(KINDS)):
            kind = KINDS[(i + shift) % len(KINDS)]
            value = _bad_value(p, kind)
            if value is not None:
                break
        scalar = p.type in ("number", "integer", "boolean", "enum")  # others name the entry inside
        configs.append((f"param_{p.key}_{kind}", f"{group}:\n  {name}: {value}\n", f"{p.key}: expected" if scalar
                        else p.key))
        if i % 2 == 0:  # about half: specs check the same rule through another door
            specs.append((f"param_{p.key}_{kind}", f"design:\n  type: factorial\n  parameters:\n    {p.key}: [{value}]\n",
                          f"{p.key}[0]: expected" if scalar else p.key))
    return configs, specs


def write(folder: Path, cases: list[tuple[str, str, str]]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    for name, text, expect in cases:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        (folder / f"{safe}.yaml").write_text(f"{text}\n# expect: {expect}\n", encoding="utf-8")
    return len(cases)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="corpus folder (default: this file's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configs, specs = parameter_cases()
    n_configs = write(args.out / "configs", CONFIGS + configs)
    n_specs = write(args.out / "specs", SPECS + specs)
    print(f"wrote {n_configs} configs and {n_specs} specs in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
