"""A resolved configuration: the typed parameter groups of one run, and their plain serialised form.

``load_config`` validates a scenario and its overrides once and returns a
:class:`Config`. The model and its agents read typed fields
(``config.government.resistance``); manifests, run keys, sweeps and ``params=``
use the plain nested mapping (:meth:`Config.to_dict`), which is exactly the
validated config, so a run is described and fingerprinted as before.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import dotted
from .params import (
    GROUP_CLASSES,
    AccessParams,
    ApprovalsParams,
    GovernmentParams,
    IncentiveParams,
    IssuesParams,
    LayoutParams,
    LeadingGroupParams,
    LinkageParams,
    NeedsParams,
    OperatorsParams,
    PlanningParams,
    PopulationParams,
    ProfitSpaceParams,
    QualityParams,
    RunParams,
    SatisfactionParams,
    ServicesParams,
    SocialOrgsParams,
    SpaceParams,
    VolunteersParams,
)
from .registry import LEVER, PER_TYPE_NAMES, PerHousehold, PerService, registry

META_KEY = "scenario"  # the block in which a config file describes itself
# run settings that do not shape the spun-up world (how long to run and read it, and which design): a world
# snapshot is shared across them
AFTER_SPIN_UP = ("run.steps", "run.outcome_window", "run.convergence_tolerance", "run.design")
_PER_TYPE_CLASS = {"per_service": PerService, "per_household": PerHousehold}
_WORLD = "_world"  # where a config keeps the world it made (Config.world)


@dataclass(frozen=True)
class Config:
    """Every parameter of one run, by group, validated and typed (``load_config`` makes it).

    Immutable: a changed run is a new config (``load_config(config, params)``). Two configs are
    equal when every parameter is; the scenario's description does not count.
    """

    run: RunParams
    population: PopulationParams
    needs: NeedsParams
    space: SpaceParams
    access: AccessParams
    layout: LayoutParams
    services: ServicesParams
    profit_space: ProfitSpaceParams
    incentive: IncentiveParams
    linkage: LinkageParams
    leading_group: LeadingGroupParams
    government: GovernmentParams
    approvals: ApprovalsParams
    planning: PlanningParams
    operators: OperatorsParams
    quality: QualityParams
    social_orgs: SocialOrgsParams
    volunteers: VolunteersParams
    satisfaction: SatisfactionParams
    issues: IssuesParams
    _plain: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_resolved(cls, resolved: Mapping[str, Any]) -> Config:
        """Type a validated, complete config (``loading.resolve`` makes one; nothing is checked again)."""
        kinds = {p.key: p.type for p in registry().values()}
        groups: dict[str, Any] = {}
        for group, group_class in GROUP_CLASSES.items():
            values = {}
            for name, value in resolved[group].items():
                kind = kinds[f"{group}.{name}"]
                if kind in PER_TYPE_NAMES and not isinstance(resolved[group][name], Mapping):
                    raise TypeError(f"{group}.{name}: expected a table by {kind}")
                values[name] = (_PER_TYPE_CLASS[kind](value) if kind in _PER_TYPE_CLASS
                                else tuple(value) if isinstance(value, list) else value)
            groups[group] = group_class(**values)
        plain = copy.deepcopy(dict(resolved))
        plain.setdefault(META_KEY, {})
        return cls(**groups, _plain=plain)

    @property
    def scenario(self) -> dict[str, Any]:
        """The config's description of itself (name, description, sources), if it has one."""
        return copy.deepcopy(self._plain.get(META_KEY, {}))

    def get(self, key: str) -> Any:
        """The value of a dotted key in the plain form (``"services.unit_cost.meals"``), for code that names
        parameters by key (sweeps, the app's levers); the model reads typed fields instead."""
        return copy.deepcopy(dotted.get(self._plain, key))

    def to_dict(self) -> dict[str, Any]:
        """The plain nested mapping: the serialised form for manifests, run keys, sweeps and ``params=``."""
        return copy.deepcopy(self._plain)

    def world(self) -> Config:
        """The world this config's policy is introduced into (``run.design: introduction``): every lever at its
        registry default, and the run settings that act after the spin-up (``AFTER_SPIN_UP``) at theirs.

        It depends only on the assumptions and the world's run settings (population, spin-up), so every
        design point of a lever study shares it, and with it one spun-up world per seed.
        """
        world = self.__dict__.get(_WORLD)
        if world is None:  # made once per config: a run of a lever study asks for it several times
            plain = self.to_dict()
            plain.pop(META_KEY, None)
            for p in registry().values():
                if p.role == LEVER or p.key in AFTER_SPIN_UP:
                    group, name = p.key.split(".", 1)
                    plain[group][name] = copy.deepcopy(p.default)
            world = Config.from_resolved(plain)
            object.__setattr__(world, _WORLD, world)  # a world is its own world
            object.__setattr__(self, _WORLD, world)
        return world

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and copied without the world it made (:meth:`world` makes it again), unless it is that world
        itself: the world a spun-up model keeps knows it is one."""
        state = dict(self.__dict__)
        if state.get(_WORLD) is not self:
            state.pop(_WORLD, None)
        return state

    def lever_keys_changed(self, other: Config) -> list[str]:
        """Lever keys whose values differ between the two configs, in registry order."""
        return [p.key for p in registry().values()
                if p.role == LEVER and dotted.get(self._plain, p.key) != dotted.get(other._plain, p.key)]

