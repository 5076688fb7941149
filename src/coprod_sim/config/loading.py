"""Reading and resolving configurations: a shipped scenario, a YAML file or a mapping, plus parameters.

A config states only what differs from the defaults (the fragmented baseline),
plus an optional ``scenario`` block describing itself. Every entry point (the
CLI, ``coprod_sim.run``, ``coprod_sim.Model``, sweeps, the app) resolves configs
here, so they all accept the same inputs and give the same errors: the file,
the dotted key path, what was expected and what was found.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from . import dotted, safe_yaml
from .registry import defaults, registry
from .resolved import META_KEY, Config
from .schema import cross_problems, describe_value, problems

# What a scenario argument may be: a shipped scenario's name, a YAML path, a mapping like a config file,
# or a config already resolved.
ScenarioLike = str | os.PathLike | Mapping[str, Any] | Config | None
# Parameters: dotted keys or nested mappings, or ``KEY=VALUE`` strings as on the command line.
ParamsLike = Mapping[str, Any] | Sequence[str] | None


@cache
def shipped_scenarios() -> dict[str, Path]:
    """Name → file of every scenario that travels inside the package (``coprod-sim scenarios`` lists them)."""
    folder = Path(str(resources.files(__package__).joinpath("scenarios")))
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def shipped_examples() -> dict[str, Path]:
    """Name → file of the example sweep and study specs: inside an installed wheel (setup.py ships them),
    else the source checkout's experiments/ folder (an editable install)."""
    packed = Path(str(resources.files("coprod_sim").joinpath("examples")))
    folder = packed if packed.is_dir() else Path(__file__).resolve().parents[3] / "experiments"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def read_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML mapping with the hardened reader (``safe_yaml``): every problem is a ConfigError."""
    data = safe_yaml.load_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: (top level): expected a mapping of keys, found {describe_value(data)}"])
    return data


def plain(value: Any) -> Any:
    """Python values for numpy ones (``np.int64(5)`` → 5), recursively: samplers hand out numpy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Decimal, Fraction)):  # exact numbers: a parameter is a float (Decimal NaN cannot compare)
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def scenario_source(scenario: ScenarioLike) -> tuple[dict, str]:
    """The raw (unvalidated) config and the origin to name in messages, for any kind of scenario argument."""
    if scenario is None:
        return {}, "<defaults>"
    if isinstance(scenario, Config):
        return scenario.to_dict(), "<config>"
    if isinstance(scenario, Mapping):
        return _nested_or_error(plain(scenario), "<mapping>"), "<mapping>"
    path = Path(scenario)
    if (path.exists() and not path.is_dir()) or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return read_yaml(path), str(scenario)
    shipped = shipped_scenarios()
    if str(scenario) in shipped:
        return read_yaml(shipped[str(scenario)]), str(scenario)
    if path.is_dir():
        raise ConfigError([f"{scenario}: expected a config file, found a folder"])
    hint = difflib.get_close_matches(str(scenario), list(shipped), n=1)
    tip = f"did you mean '{hint[0]}'? " if hint else ""
    raise ConfigError([f"{scenario}: no such file, and not a shipped scenario; {tip}"
                       f"shipped: {', '.join(shipped)}"])


def parse_overrides(pairs: Sequence[str]) -> dict:
    """Turn ``["a.b=1", ...]`` into a nested dict; values are read as YAML scalars."""
    flat: dict[str, Any] = {}
    problems_: list[str] = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            problems_.append(f"--set {pair}: expected dotted.key=value")
            continue
        try:
            value = safe_yaml.parse(raw, f"--set {key.strip()}") if raw.strip() else None
        except safe_yaml.TooLarge as err:
            problems_ += err.problems
            continue
        except ConfigError:  # not YAML: taken as text, which the parameter's check then names
            value = raw
        flat[key.strip()] = value
    if problems_:
        raise ConfigError(problems_)
    return _nested_or_error(flat, "--set")


def _nested_or_error(entries: Mapping[str, Any], origin: str) -> dict:
    try:
        return dotted.nested(entries)
    except dotted.KeyConflict as conflict:
        raise ConfigError([f"{origin}: {conflict}"]) from None


def _params_source(params: ParamsLike) -> tuple[dict, str]:
    """Parameters as a nested mapping, and how to name them in messages."""
    if params is None:
        return {}, "params"
    if isinstance(params, Mapping):
        return _nested_or_error(plain(params), "params"), "params"
    pairs = list(params) if isinstance(params, Iterable) and not isinstance(params, (str, bytes)) else None
    if pairs is None or not all(isinstance(p, str) for p in pairs):
        found = params if pairs is None else next(p for p in pairs if not isinstance(p, str))
        raise ConfigError([f"params: expected a mapping of dotted.key: value or a list of 'KEY=VALUE' texts, found "
                           f"{describe_value(found)}{' in the list' if pairs is not None else ''}"])
    return parse_overrides(pairs), "--set"


def _typed_numbers(cfg: dict) -> None:
    """Numbers as their declared type: integer parameters given as integral floats (``5000.0``, as
    samplers produce) become ints, and whole numbers given for real-valued parameters become floats,
    so arithmetic on them (e.g. numpy arrays filled with an expectation of 0) behaves the same."""
    for p in registry().values():
        group, name = p.key.split(".", 1)
        value = cfg[group][name]
        if p.type == "integer" and isinstance(value, float):
            cfg[group][name] = int(value)
        elif p.type == "number" and isinstance(value, int) and not isinstance(value, bool):
            cfg[group][name] = float(value)
        elif p.type in ("per_service", "per_household"):
            cfg[group][name] = {k: float(v) for k, v in value.items()}
        elif p.type == "cutpoints":
            cfg[group][name] = [float(v) for v in value]


def resolve(data: Mapping, origin: str = "<config>", overrides: Mapping | None = None,
            overrides_origin: str = "--set") -> Config:
    """Validate a raw config (+ overrides) and return the full resolved, typed config."""
    found = problems(data, origin)
    if overrides:
        found += problems(overrides, overrides_origin)
    if found:
        raise ConfigError(found)
    cfg = dotted.merge(defaults(), data)
    if overrides:
        cfg = dotted.merge(cfg, overrides)
    found = cross_problems(cfg, origin if not overrides else f"{origin} (with {overrides_origin})")
    if found:
        raise ConfigError(found)
    _typed_numbers(cfg)
    cfg.setdefault(META_KEY, {})
    return Config.from_resolved(cfg)


def load_config(scenario: ScenarioLike = None, params: ParamsLike = None) -> Config:
    """Read, validate and resolve a scenario plus parameter overrides, once.

    Returns the typed :class:`Config` (``config.government.resistance``); its plain
    form, ``config.to_dict()``, is what manifests record. A ``Config`` given without
    parameters is returned as it is: it was resolved when it was made.

    Args:
        scenario: a shipped scenario's name (``"baseline"``), a YAML file, a mapping
            like a config file (dotted keys allowed), a resolved ``Config``, or ``None`` for the defaults.
        params: overrides as dotted keys or nested mappings (numpy scalars welcome),
            or ``KEY=VALUE`` strings as given to ``--set``.

    Raises:
        ConfigError: every problem found, each naming the file, key path, expectation and finding.
    """
    if isinstance(scenario, Config) and not params:
        return scenario
    data, origin = scenario_source(scenario)
    overrides, overrides_origin = _params_source(params)
    return resolve(data, origin, overrides or None, overrides_origin)
