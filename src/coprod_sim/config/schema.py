"""The JSON Schema of a config, and every problem phrased as 'origin: key.path: expected …, found …'.

The schema is generated from the registry and checked with ``jsonschema``;
rules that involve more than one key are checked after merging with the defaults.
"""

from __future__ import annotations

import difflib
import itertools
import math
from functools import cache
from typing import Any

import jsonschema

from .registry import PER_TYPE_NAMES, Parameter, registry
from .resolved import META_KEY
from .safe_yaml import unusable_numbers


def _number_schema(p: Parameter, integer: bool = False) -> dict:
    lo, hi = p.range
    return {"type": "integer" if integer else "number", "minimum": lo, "maximum": hi}


def _param_schema(p: Parameter) -> dict:
    if p.type in ("number", "integer"):
        return _number_schema(p, p.type == "integer")
    if p.type == "boolean":
        return {"type": "boolean"}
    if p.type == "enum":
        return {"enum": list(p.choices)}
    if p.type in PER_TYPE_NAMES:
        item = _number_schema(p)
        return {"type": "object", "properties": dict.fromkeys(PER_TYPE_NAMES[p.type], item),
                "additionalProperties": False}
    if p.type == "service_list":
        return {"type": "array", "items": {"enum": list(PER_TYPE_NAMES["per_service"])}, "uniqueItems": True}
    if p.type == "cutpoints":
        return {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}
    raise ValueError(f"unknown parameter type {p.type!r} for {p.key}")


@cache
def schema() -> dict:
    """JSON Schema of a config file (all keys optional; unknown keys rejected)."""
    groups: dict[str, dict] = {}
    for p in registry().values():
        group, name = p.key.split(".", 1)
        groups.setdefault(group, {"type": "object", "properties": {}, "additionalProperties": False})
        groups[group]["properties"][name] = _param_schema(p)
    groups[META_KEY] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": groups, "additionalProperties": False}


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def describe_value(value: Any) -> str:
    """How a found value is shown in error messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list {value!r}" if len(repr(value)) < 60 else "a list"
    if value is None:
        return "nothing (null)"
    try:
        text = repr(value)
    except ValueError:  # an integer beyond the 4,300 digits Python will print
        return f"an integer of {value.bit_length():,} bits ({type(value).__name__})"
    if len(text) > 80:
        text = f"{text[:60]}… ({len(text):,} characters)"
    return f"{text} ({type(value).__name__})"


def _expected(error: jsonschema.ValidationError) -> str:
    s = error.schema if isinstance(error.schema, dict) else {}
    v = error.validator
    if v in ("minimum", "maximum"):
        return f"a value in [{s.get('minimum')}, {s.get('maximum')}]"
    if v == "enum":
        return "one of " + ", ".join(map(str, s["enum"]))
    if v == "type":
        return {"number": "a number", "integer": "a whole number", "boolean": "true or false",
                "object": "a mapping of keys", "array": "a list", "string": "text"}.get(s["type"], str(s["type"]))
    if v in ("minItems", "maxItems"):
        return f"a list of {s.get('minItems')} numbers"
    if v == "uniqueItems":
        return "a list without repeats"
    return error.message


def problems(data: Any, origin: str) -> list[str]:
    """Every schema violation of a (partial) config, one line each, sorted by key path."""
    out = [f"{origin}: {path}: {problem}" for path, problem in unusable_numbers(data)]
    if out:  # the schema would compare and print them
        return out
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted((error.schema or {}).get("properties", {}))
            extra = sorted(set(error.instance) - set(allowed))
            for key in extra:
                full = f"{path}.{key}" if path else key
                hint = difflib.get_close_matches(key, allowed, n=1)
                tip = f"; did you mean '{hint[0]}'?" if hint else f"; known keys here: {', '.join(allowed)}"
                out.append(f"{origin}: {full}: unknown key{tip}")
            continue
        out.append(f"{origin}: {path or '(top level)'}: expected {_expected(error)}, found {describe_value(error.instance)}")
    return out


def cross_problems(cfg: dict, origin: str) -> list[str]:
    """Rules that involve more than one key, checked on a full (merged) config."""
    out = []
    cuts = cfg["satisfaction"]["cutpoints"]
    if any(b <= a for a, b in itertools.pairwise(cuts)):
        out.append(f"{origin}: satisfaction.cutpoints: expected four strictly increasing numbers, found {cuts!r}")
    if cfg["run"]["outcome_window"] > cfg["run"]["steps"]:
        out.append(f"{origin}: run.outcome_window: expected at most run.steps ({cfg['run']['steps']}), "
                   f"found {cfg['run']['outcome_window']}")
    if sum(cfg["population"]["household_shares"].values()) <= 0:
        out.append(f"{origin}: population.household_shares: expected at least one positive share, found all zero")
    if cfg["access"]["catchment_m"] < cfg["space"]["cell_size_m"]:
        out.append(f"{origin}: access.catchment_m: expected at least space.cell_size_m "
                   f"({cfg['space']['cell_size_m']}), found {cfg['access']['catchment_m']}")
    if cfg["run"]["design"] == "introduction":
        out.extend(_built_with_world(cfg, origin))
    return out


# levers that lay out the district when the world is built (stations, centres' floor area): a policy introduced
# into a spun-up world cannot move them, so the introduction design keeps them at their defaults
BUILT_WITH_WORLD = ("layout.mode", "layout.merge_size", "layout.centre_m2_per_100_households")


def _built_with_world(cfg: dict, origin: str) -> list[str]:
    out = []
    for key in BUILT_WITH_WORLD:
        group, name = key.split(".")
        default = registry()[key].default
        if cfg[group][name] != default:
            out.append(f"{origin}: {key}: lays out the district when the world is built and cannot be introduced "
                       f"into a spun-up world (run.design: introduction); expected its default {default!r}, found "
                       f"{cfg[group][name]!r} (compare layouts with run.design: equilibrium)")
    return out


def value_problem(where: str, p: Parameter, value: Any) -> str | None:
    """Why ``value`` is not allowed for ``p`` (None if it is): cheap checks before resolving whole configs."""
    if p.type in ("number", "integer"):
        is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not is_num or (p.type == "integer" and not float(value).is_integer()):
            kind = "a whole number" if p.type == "integer" else "a number"
            return f"{where}: expected {kind}, found {describe_value(value)}"
        lo, hi = p.range
        if not math.isfinite(value):
            return f"{where}: expected a finite number, found {value}"
        if not lo <= value <= hi:
            return f"{where}: expected a value in [{lo}, {hi}], found {describe_value(value)}"
    elif p.type == "boolean" and not isinstance(value, bool):
        return f"{where}: expected true or false, found {describe_value(value)}"
    elif p.type == "enum" and value not in p.choices:
        return f"{where}: expected one of {', '.join(p.choices)}, found {describe_value(value)}"
    return None
