"""YAML configurations: the parameter registry, the schema, validation and resolution.

``parameters.yaml`` is the single source of every parameter's type, unit,
default, range and source. From it we build a JSON Schema (checked with
``jsonschema``), the defaults, the ``params`` table and docs/parameters.md.

A config file only states what differs from the defaults (the fragmented
baseline), plus an optional ``scenario`` block describing itself. Errors name
the file, the dotted key path, what was expected and what was found, and are
raised as :class:`ConfigError` so the CLI can print them without a traceback.
"""

from __future__ import annotations

import copy
import difflib
import itertools
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .domain import HOUSEHOLD_TYPES, SERVICE_TYPES

META_KEY = "scenario"
META_FIELDS = {"name": "string", "description": "string", "sources": "list of strings"}


class ConfigError(Exception):
    """One or more problems with a configuration, each already phrased for the user."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Parameter:
    key: str
    type: str
    unit: str
    default: Any
    range: Any
    source: str
    description: str
    choices: tuple[str, ...] = ()

    def range_text(self) -> str:
        if isinstance(self.range, list) and len(self.range) == 2:
            return f"{self.range[0]} … {self.range[1]}"
        return str(self.range)


@cache
def registry() -> dict[str, Parameter]:
    """All parameters by dotted key, in file order."""
    text = resources.files("coprod_sim").joinpath("parameters.yaml").read_text(encoding="utf-8")
    out: dict[str, Parameter] = {}
    for group, params in yaml.safe_load(text).items():
        for name, spec in params.items():
            key = f"{group}.{name}"
            out[key] = Parameter(
                key=key, type=spec["type"], unit=str(spec["unit"]), default=spec["default"],
                range=spec["range"], source=spec["source"], description=spec["description"],
                choices=tuple(spec.get("choices", ())),
            )
    return out


def defaults() -> dict:
    """The default (fragmented-baseline) configuration as a nested dict."""
    out: dict = {}
    for p in registry().values():
        group, name = p.key.split(".", 1)
        out.setdefault(group, {})[name] = copy.deepcopy(p.default)
    return out


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
    if p.type in ("per_service", "per_household"):
        names = SERVICE_TYPES if p.type == "per_service" else HOUSEHOLD_TYPES
        item = _number_schema(p)
        return {"type": "object", "properties": {n: item for n in names}, "additionalProperties": False}
    if p.type == "service_list":
        return {"type": "array", "items": {"enum": list(SERVICE_TYPES)}, "uniqueItems": True}
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


# ---------------------------------------------------------------- validation
def describe_value(value: Any) -> str:
    """How a found value is shown in error messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list {value!r}" if len(repr(value)) < 60 else "a list"
    if value is None:
        return "nothing (null)"
    return f"{value!r} ({type(value).__name__})"


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


def _problems(data: Any, origin: str) -> list[str]:
    """Every schema violation, phrased as 'origin: key.path: expected …, found …'."""
    validator = jsonschema.Draft202012Validator(schema())
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
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


def _cross_checks(cfg: dict, origin: str) -> list[str]:
    """Rules that involve more than one key."""
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
    return out


def merge(base: dict, update: dict) -> dict:
    """Deep-merge ``update`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, turning I/O and syntax problems into ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read file ({exc})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path}: YAML syntax error at {where}: {problem}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: (top level): expected a mapping of keys, found {describe_value(data)}"])
    return data


def parse_overrides(pairs: list[str]) -> dict:
    """Turn ``["a.b=1", ...]`` into a nested dict; values are read as YAML scalars."""
    out: dict = {}
    problems = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            problems.append(f"--set {pair}: expected dotted.key=value")
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                problems.append(f"--set {pair}: {key} conflicts with another --set")
                break
        else:
            node[parts[-1]] = value
    if problems:
        raise ConfigError(problems)
    return out


def resolve(data: dict, origin: str = "<config>", overrides: dict | None = None) -> dict:
    """Validate a raw config (+ overrides) and return the full resolved config."""
    problems = _problems(data, origin)
    if overrides:
        problems += _problems(overrides, "--set")
    if problems:
        raise ConfigError(problems)
    cfg = merge(defaults(), data)
    if overrides:
        cfg = merge(cfg, overrides)
    problems = _cross_checks(cfg, origin if not overrides else f"{origin} (with --set)")
    if problems:
        raise ConfigError(problems)
    cfg.setdefault(META_KEY, {})
    return cfg


def load_config(path: str | Path | None = None, overrides: list[str] | dict | None = None) -> dict:
    """Read, validate and resolve a config file (``None`` = the defaults)."""
    data = read_yaml(path) if path is not None else {}
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    return resolve(data, str(path) if path is not None else "<defaults>", overrides or None)


def get_dotted(cfg: dict, key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        node = node[part]
    return node


def set_dotted(cfg: dict, key: str, value: Any) -> dict:
    """Return a copy of ``cfg`` with one dotted key set (for sweeps and the app)."""
    parts = key.split(".")
    update: dict = {}
    node = update
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return merge(cfg, update)
