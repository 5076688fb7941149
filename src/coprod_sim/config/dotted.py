"""Dotted keys and nested mappings: the one place that converts between them.

Users name a parameter by its dotted key (``government.resistance``) on the
command line, in sweep specs, in ``coprod_sim.run(params=...)`` and as keyword
arguments of ``coprod_sim.Model``; configs are nested mappings. Everything that
reads, sets or merges keys goes through these functions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class KeyConflict(ValueError):
    """A dotted key is used both as a value and as a group, e.g. ``a.b: 1`` and ``a.b.c: 2``."""


def get(cfg: Mapping, key: str) -> Any:
    """The value at a dotted key of a nested mapping (KeyError if absent)."""
    node: Any = cfg
    for part in key.split("."):
        node = node[part]
    return node


def merge(base: Mapping, update: Mapping) -> dict:
    """Deep-merge ``update`` into a copy of ``base``: mappings merge, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def nested(entries: Mapping[str, Any]) -> dict:
    """``{"a.b": 1, "a": {"c": 2}}`` → ``{"a": {"b": 1, "c": 2}}``; keys may be dotted at any depth.

    Raises :class:`KeyConflict` when one key is both a value and a group.
    """
    out: dict = {}
    for raw_key, value in entries.items():
        key = str(raw_key)
        parts = key.split(".")
        node = out
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise KeyConflict(f"{'.'.join(parts[:depth + 1])} is given a value and also used as a group by {key}")
        leaf = parts[-1]
        if isinstance(value, Mapping):
            value = nested(value)
            if leaf in node and not isinstance(node[leaf], dict):
                raise KeyConflict(f"{key} is given a value and also used as a group")
            node[leaf] = merge(node.get(leaf, {}), value)
        elif isinstance(node.get(leaf), dict):
            raise KeyConflict(f"{key} is given a value and also used as a group")
        else:
            node[leaf] = value
    return out


def with_value(cfg: Mapping, key: str, value: Any) -> dict:
    """A copy of ``cfg`` with one dotted key set."""
    return merge(cfg, nested({key: value}))

