"""A scenario's components: the parameters where its resolved config differs from the base's, grouped.

A *change* is one dotted key (per-service tables give one key per service) whose value in the
scenario differs from the base. A *component* is what the attribution switches on and off as one:
by default each registry parameter (a lever's per-service entries together, labelled as the
registry labels the lever), or a named group the user gives (``--group name=key1,key2``); a group
key claims every change at or below it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import META_KEY, Config, all_keys, parameter_for, registry
from ..errors import UserError


@dataclass(frozen=True)
class Component:
    """What is switched as one: a name, its changes (dotted key → the scenario's value) and the base's values."""

    name: str
    changes: dict[str, Any]
    base: dict[str, Any]

    @property
    def keys(self) -> list[str]:
        return list(self.changes)


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key → value of every leaf of a nested mapping (lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_leaves(value, f"{path}."))
        else:
            out[path] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
    return bool(a == b)


def differing(scenario: Config, base: Config) -> dict[str, tuple[Any, Any]]:
    """Dotted key → (scenario value, base value) of every parameter that differs, in config order."""
    mine = _leaves({k: v for k, v in scenario.to_dict().items() if k != META_KEY})
    theirs = _leaves({k: v for k, v in base.to_dict().items() if k != META_KEY})
    return {k: (v, theirs[k]) for k, v in mine.items() if not _same(v, theirs[k])}


def parameter_key(key: str) -> str:
    """The registry parameter a change belongs to (a per-service entry belongs to its table)."""
    return key if key in registry() else key.rpartition(".")[0]


def _default_name(parameter: str) -> str:
    p = parameter_for(parameter)
    return p.label if p is not None and p.label else parameter


def parse_groups(entries: Sequence[str]) -> dict[str, list[str]]:
    """``["name=key1,key2", ...]`` (as given to ``--group``) → name → keys."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        name, sep, keys = entry.partition("=")
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not sep or not name.strip() or not parts:
            raise UserError(f"--group {entry}: expected NAME=dotted.key[,dotted.key…]")
        if name.strip() in groups:
            raise UserError(f"--group {name.strip()}: given twice")
        groups[name.strip()] = parts
    return groups


def components(changes: Mapping[str, tuple[Any, Any]], groups: Mapping[str, Sequence[str]] | None = None,
               label: str = "the scenario") -> list[Component]:
    """The components of ``changes``: the named ``groups`` first (in the order given), then one per
    remaining registry parameter (in config order)."""
    if not changes:
        raise UserError(f"{label}: no parameter differs from the base; nothing to attribute")
    claimed: dict[str, str] = {}
    out: list[Component] = []
    for name, keys in (groups or {}).items():
        taken = [c for key in keys for c in _claimed_by(key, name, changes, label)]
        for change in taken:
            if change in claimed and claimed[change] != name:
                raise UserError(f"--group {name}: {change} is already in group {claimed[change]}; a change belongs "
                                "to one group")
            claimed[change] = name
        out.append(_component(name, dict.fromkeys(taken), changes))
    by_parameter: dict[str, list[str]] = {}
    for key in changes:
        if key not in claimed:
            by_parameter.setdefault(parameter_key(key), []).append(key)
    out += [_component(_default_name(p), dict.fromkeys(keys), changes) for p, keys in by_parameter.items()]
    names = [c.name for c in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"component names repeat ({', '.join(twice)}); name the groups apart with --group")
    return out


def _claimed_by(key: str, name: str, changes: Mapping[str, Any], label: str) -> list[str]:
    found = [c for c in changes if c == key or c.startswith(f"{key}.")]
    if found:
        return found
    if key not in all_keys() and parameter_for(key) is None:
        hint = difflib.get_close_matches(key, all_keys(), n=1, cutoff=0.6)
        tip = f"; did you mean '{hint[0]}'?" if hint else "; see `coprod-sim params` for the list"
        raise UserError(f"--group {name}: {key}: unknown parameter{tip}")
    raise UserError(f"--group {name}: {key}: {label} does not change it; it changes {', '.join(changes)}")


def _component(name: str, keys: Mapping[str, None], changes: Mapping[str, tuple[Any, Any]]) -> Component:
    return Component(name, {k: changes[k][0] for k in keys}, {k: changes[k][1] for k in keys})
