"""The parameter registry: every tunable number with its type, role, unit, default, range and source.

``parameters.yaml`` (beside this module) is the single source. The schema, the
defaults, the typed parameter groups (``params.py``), ``coprod-sim params``,
docs/parameters.md, the app's lever panel and the example lever study are all
built from it, so a parameter cannot exist without a unit, a range, a source and
a role.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from ..domain import HOUSEHOLD_TYPES, SERVICE_TYPES

# parameter types whose value is one number per service type / household type
PER_TYPE_NAMES: dict[str, tuple[str, ...]] = {"per_service": SERVICE_TYPES, "per_household": HOUSEHOLD_TYPES}

# What a parameter is (parameters.yaml explains each): a policy choice, a property of the world, a run setting.
LEVER, ASSUMPTION, RUN = "lever", "assumption", "run"
ROLES: tuple[str, ...] = (LEVER, ASSUMPTION, RUN)
# The remedy (DESIGN.md §1) or policy area a lever belongs to, in the order the app shows them.
REMEDIES: dict[str, str] = {
    "up": "Up: incentives for officials",
    "down": "Down: residents' voice",
    "in": "In: a leading group across departments",
    "out": "Out: profit space and interest-binding",
    "technology": "Technology",
    "administration": "Administration",
    "space": "Spatial layout",
    "context": "Government context",
}


@dataclass(frozen=True)
class Parameter:
    """One registry entry; ``key`` is its dotted name, e.g. ``incentive.assessment_weight``."""

    key: str
    type: str
    unit: str
    default: Any
    range: Any
    source: str
    description: str
    role: str = ASSUMPTION
    choices: tuple[str, ...] = ()
    label: str = ""  # levers: a short name for panels and tables
    remedy: str = ""  # levers: the remedy or policy area (``REMEDIES``)
    app: dict[str, float] | None = None  # levers shown in the browser app, with optional slider ``max``/``step``
    study: Any = None  # levers in the example lever study: their range there (a mapping for per-type levers)

    @property
    def is_lever(self) -> bool:
        return self.role == LEVER

    def range_text(self) -> str:
        if isinstance(self.range, list) and len(self.range) == 2:
            return f"{self.range[0]} … {self.range[1]}"
        return str(self.range)


@cache
def registry() -> dict[str, Parameter]:
    """All parameters by dotted key, in file order."""
    text = resources.files(__package__).joinpath("parameters.yaml").read_text(encoding="utf-8")
    out: dict[str, Parameter] = {}
    for group, params in yaml.safe_load(text).items():
        for name, spec in params.items():
            key = f"{group}.{name}"
            out[key] = Parameter(
                key=key, type=spec["type"], unit=str(spec["unit"]), default=spec["default"],
                range=spec["range"], source=spec["source"], description=spec["description"], role=spec["role"],
                choices=tuple(spec.get("choices", ())), label=spec.get("label", ""), remedy=spec.get("remedy", ""),
                app=spec.get("app"), study=spec.get("study"),
            )
    return out


def by_role(role: str) -> list[Parameter]:
    """The parameters of one role (``lever``, ``assumption`` or ``run``), in registry order."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return [p for p in registry().values() if p.role == role]


def study_levers() -> dict[str, Any]:
    """The example lever study's factors from the registry, as a spec's design parameters: dotted key →
    ``{"range": [low, high]}``, or the two values of a switch.

    A per-service lever names the entries it studies (``{meals: [0, 8]}`` → ``profit_space.subsidy_per_visit.meals``).
    """
    out: dict[str, Any] = {}
    for p in by_role(LEVER):
        if p.study is None:
            continue
        if isinstance(p.study, dict):
            out.update({f"{p.key}.{name}": {"range": list(bounds)} for name, bounds in p.study.items()})
        else:
            out[p.key] = list(p.study) if p.type == "boolean" else {"range": list(p.study)}
    return out


class PerType(Mapping[str, float]):
    """One number per type (service or household), immutable and in the domain's order.

    Read like the config's table (``unit_cost["meals"]``), or as an array in
    ``domain`` order (``unit_cost.array()``) for the model's vectorised rules.
    """

    names: tuple[str, ...] = ()
    numbers: tuple[float, ...]  # in ``names`` order
    __slots__ = ("numbers",)

    def __init__(self, values: Mapping[str, float]):
        object.__setattr__(self, "numbers", tuple(float(values[n]) for n in self.names))

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __getitem__(self, name: str) -> float:
        try:
            return self.numbers[self.names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.numbers == self.numbers  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.numbers))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (dict(self),)

    def array(self) -> np.ndarray:
        """The values as a float array in domain order (a fresh copy each time)."""
        return np.array(self.numbers, dtype=float)


class PerService(PerType):
    """One number per service type (``domain.SERVICE_TYPES``)."""

    names = SERVICE_TYPES
    __slots__ = ()


class PerHousehold(PerType):
    """One number per household type (``domain.HOUSEHOLD_TYPES``)."""

    names = HOUSEHOLD_TYPES
    __slots__ = ()


def defaults() -> dict:
    """The default (fragmented-baseline) configuration as a nested dict."""
    out: dict = {}
    for p in registry().values():
        group, name = p.key.split(".", 1)
        out.setdefault(group, {})[name] = copy.deepcopy(p.default)
    return out


def parameter_for(key: str) -> Parameter | None:
    """The registry entry for a dotted key, including per-service/per-household subkeys (as numbers)."""
    reg = registry()
    if key in reg:
        return reg[key]
    parent, _, sub = key.rpartition(".")
    p = reg.get(parent)
    if p is None or sub not in PER_TYPE_NAMES.get(p.type, ()):
        return None
    return dataclasses.replace(p, key=key, type="number", default=p.default[sub])


@cache
def all_keys() -> tuple[str, ...]:
    """Every settable dotted key, per-type subkeys included (for did-you-mean hints)."""
    keys = []
    for p in registry().values():
        keys.append(p.key)
        keys += [f"{p.key}.{n}" for n in PER_TYPE_NAMES.get(p.type, ())]
    return tuple(keys)


def parameters_markdown() -> str:
    """The parameter table as Markdown (docs/parameters.md is generated from this)."""
    lines = [
        "# Parameters",
        "",
        "Generated by `coprod-sim params --markdown` from `src/coprod_sim/config/parameters.yaml`; do not edit by hand.",
        "Defaults are the fragmented baseline (scenario `baseline`). Per-service and per-household",
        "parameters take one value per type (dotted keys such as `services.unit_cost.meals`).",
        "Role: **lever** (a policy choice; its remedy in brackets), assumption (an uncertain property of the",
        "world or of behaviour) or run (a setting of the computation); `coprod-sim params --role lever` lists one role.",
        "",
        "| key | role | unit | default | range | source | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in registry().values():
        default = json.dumps(p.default, ensure_ascii=False) if not isinstance(p.default, str) else p.default
        role = f"**lever** ({p.remedy})" if p.is_lever else p.role
        cells = [f"`{p.key}`", role, p.unit, default, p.range_text(), p.source, p.description]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
