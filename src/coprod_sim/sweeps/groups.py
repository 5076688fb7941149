"""``design.groups``: factors that a Sobol or Morris design moves together and its indices report together.

A spec names groups as ``{group name: [factor key, ...]}``; a factor in no group
is a group of its own, named by its key. SALib takes the grouping as one label
per factor, in the design's factor order, which is what :func:`design_groups`
returns. Sweep specs and the analytic targets of study specs check their groups
here, so both refuse the same groupings with the same words: a grouping SALib
would accept but misread (a key in two groups, a group named like another
factor) would give indices that cannot be told apart.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..config import describe_value
from .salib import GROUPED_DESIGNS

MAX_LISTED = 8  # factors named in a message about a key that is not one of them


def design_groups(design: dict, kind: str, keys: list[str], origin: str, probs: list[str]) -> list[str] | None:
    """Each factor's group label (its key when ungrouped), or None when the design has no ``groups``.

    Problems are appended to ``probs`` as ``FILE: design.groups…: expected X, found Y``; the result is
    None whenever there is one, so no design is built on a grouping that was refused.
    """
    if "groups" not in design:
        return None
    refused = ungroupable(design, kind, origin)
    if refused:
        probs.append(refused)
        return None
    raw: Any = design["groups"]
    where = f"{origin}: design.groups"
    if not isinstance(raw, dict) or not raw:
        probs.append(f"{where}: expected a mapping of group name: [factor keys], found {describe_value(raw)}")
        return None
    found = len(probs)
    label: dict[str, str] = {}
    for name, members in raw.items():
        _check_group(str(name), members, keys, label, f"{where}.{name}", probs)
    return None if len(probs) > found else [label.get(key, key) for key in keys]


def ungroupable(design: dict, kind: str, origin: str) -> str | None:
    """The problem with giving ``groups`` to a design that cannot take them, if it does (checked before its
    factors are known: an explicit design's come from its points)."""
    if "groups" not in design or kind in GROUPED_DESIGNS:
        return None
    return (f"{origin}: design.groups: expected a sobol or morris design (SALib groups factors for these only; FAST "
            f"and the given-data methods rbd_fast and delta analyse factors one by one), found design.type {kind}")


def _check_group(name: str, members: Any, keys: list[str], label: dict[str, str], where: str,
                 probs: list[str]) -> None:
    """One group's members: factors of the design, each in no other group; records them in ``label``."""
    if not isinstance(members, list) or not members:
        probs.append(f"{where}: expected a non-empty list of factor keys, found "
                     + ("an empty list" if members == [] else describe_value(members)))
        return
    if name in keys and members != [name]:
        probs.append(f"{where}: expected a group name that is not another factor's key (the indices name groups and "
                     f"factors alike), found {name!r}, a factor of design.parameters; rename the group")
    for key in members:
        if not isinstance(key, str) or key not in keys:
            hint = difflib.get_close_matches(str(key), keys, n=1)
            tip = (f"; did you mean '{hint[0]}'?" if hint else f"; the factors are {', '.join(keys)}"
                   if len(keys) <= MAX_LISTED else "; see design.parameters")
            probs.append(f"{where}: expected factor keys of design.parameters, found {describe_value(key)}, which is "
                         f"not a factor of this design{tip}")
        elif key in label:
            probs.append(f"{where}: expected each factor in one group at most, found {key} in groups {label[key]} and "
                         f"{name}")
        else:
            label[key] = name
