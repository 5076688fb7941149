"""The model's factors for the tools analysts already use: a SALib ``ProblemSpec``, EMA Workbench
uncertainties and levers, and a model function returning a mapping of outcomes (docs/python.md).

Ranges come from the parameter registry: a lever's range in the example lever study where it has
one (``study`` in parameters.yaml), else the parameter's valid range; ``ranges=`` narrows any of them.
Roles decide the EMA side: levers are EMA levers, assumptions and run settings are uncertainties;
EMA names are identifiers (``incentive__assessment_weight``) whose ``variable_name`` is the dotted key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import LEVER, ROLES, ConfigError, Parameter, by_role, describe_value, parameter_for, study_levers
from ..config import value_problem as _value_problem
from ..errors import UserError, require
from ..model import KEY_OUTCOMES, OUTCOME_KEYS

NUMERIC = ("number", "integer")


@dataclass(frozen=True)
class Factor:
    """One varied input: its dotted key, registry role, kind and bounds (low, high) or choices."""

    key: str
    role: str
    kind: str  # real, integer, boolean or categorical
    bounds: tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """Factors with their ranges, convertible for SALib and EMA Workbench (see the module docstring)."""

    factors: tuple[Factor, ...]

    @property
    def names(self) -> list[str]:
        return [f.key for f in self.factors]

    def salib(self) -> Any:
        """A SALib ``ProblemSpec`` of the numeric factors (integers are sampled as reals: round them)."""
        from SALib import ProblemSpec

        other = [f.key for f in self.factors if f.kind not in ("real", "integer")]
        if other:
            raise UserError(f"SALib varies numbers only; {', '.join(other)} are switches or choices: leave them out "
                            "or study them as separate scenarios")
        return ProblemSpec({"num_vars": len(self.factors), "names": self.names,
                            "bounds": [list(f.bounds) for f in self.factors]})

    def ema_uncertainties(self) -> list[Any]:
        """EMA Workbench parameters of the factors that are not levers (assumptions, run settings)."""
        return [_ema(f) for f in self.factors if f.role != LEVER]

    def ema_levers(self) -> list[Any]:
        """EMA Workbench parameters of the factors that are levers (decisions)."""
        return [_ema(f) for f in self.factors if f.role == LEVER]

    def ema_outcomes(self, outcomes: Sequence[str] = KEY_OUTCOMES) -> list[Any]:
        """EMA Workbench outcomes for the mapping :meth:`function` returns (named ``group__name``)."""
        require("ema_workbench", "ema-workbench", "EMA Workbench outcomes")
        from ema_workbench import ScalarOutcome

        return [ScalarOutcome(ema_name(o), variable_name=o) for o in _known(outcomes)]

    def function(self, outcomes: Sequence[str] = KEY_OUTCOMES, scenario: str = "baseline",
                 params: Mapping[str, Any] | None = None, seed: int = 0) -> Callable[..., dict[str, float]]:
        """A model function for EMA Workbench or a SALib loop: factor values by dotted key in, a mapping
        of outcomes out (one run of ``scenario`` with ``params`` and ``seed``; the same seed for every
        call, so differences come from the factors)."""
        fixed, chosen, names = dict(params or {}), _known(outcomes), set(self.names)

        def model(**values: Any) -> dict[str, float]:
            from ..runs import run

            extra = sorted(set(values) - names)
            if extra:
                raise UserError(f"{', '.join(extra)}: not a factor of this problem ({', '.join(sorted(names))})")
            summary = run(scenario, params={**fixed, **_typed(self.factors, values)}, seed=seed).summary
            return {o: float(summary[o]) for o in chosen}

        return model


def _known(outcomes: Sequence[str]) -> list[str]:
    unknown = [o for o in outcomes if o not in OUTCOME_KEYS]
    if unknown:
        raise UserError(f"outcomes: {', '.join(unknown)}: unknown outcome (coprod-sim outcomes lists them)")
    return list(outcomes)


def _typed(factors: tuple[Factor, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """Samplers hand integers out as reals: round those of integer factors."""
    kinds = {f.key: f.kind for f in factors}
    return {k: round(v) if kinds.get(k) == "integer" else v for k, v in values.items()}


def ema_name(key: str) -> str:
    """EMA Workbench 3 wants Python identifiers as names: ``a.b`` → ``a__b`` (the dotted key is the
    ``variable_name`` the model function receives)."""
    return key.replace(".", "__")


def _ema(f: Factor) -> Any:
    require("ema_workbench", "ema-workbench", "EMA Workbench parameters")
    from ema_workbench import BooleanParameter, CategoricalParameter, IntegerParameter, RealParameter

    name = ema_name(f.key)
    if f.kind == "real":
        return RealParameter(name, *f.bounds, variable_name=f.key)
    if f.kind == "integer":
        return IntegerParameter(name, *f.bounds, variable_name=f.key)
    if f.kind == "boolean":
        return BooleanParameter(name, variable_name=f.key)
    return CategoricalParameter(name, list(f.bounds), variable_name=f.key)


def problem(params: str | Iterable[str] | None = None,
            ranges: Mapping[str, Sequence[float]] | None = None) -> Problem:
    """The factors to study, with ranges from the registry.

    ``params``: dotted keys (a per-service lever by entry: ``profit_space.subsidy_per_visit.meals``),
    a role (``"lever"``, ``"assumption"``, ``"run"``: its numbers, switches and choices), or None for
    the example lever study's factors. ``ranges``: ``{key: [low, high]}`` within the valid range.

    Raises:
        ConfigError: an unknown key, a per-type parameter without its entry, or a range outside the
            valid one, each named.
    """
    keys = _keys(params)
    ranges = dict(ranges or {})
    problems = [f"ranges: {k}: not among the factors" for k in ranges if k not in keys]
    factors = []
    for key in keys:
        found = _factor(key, ranges.get(key), problems)
        if found:
            factors.append(found)
    if problems:
        raise ConfigError(problems)
    return Problem(tuple(factors))


def _keys(params: str | Iterable[str] | None) -> list[str]:
    if params is None:
        return list(study_levers())
    if isinstance(params, str) and params in ROLES:
        return [p.key for p in by_role(params) if p.type in (*NUMERIC, "boolean", "enum")]
    return [params] if isinstance(params, str) else [str(k) for k in params]


def _factor(key: str, chosen: Sequence[float] | None, problems: list[str]) -> Factor | None:
    p = parameter_for(key)
    if p is None:
        problems.append(f"{key}: unknown parameter (coprod-sim params lists them)")
        return None
    entry = key[len(p.key) + 1:] if key != p.key else ""
    if p.type not in (*NUMERIC, "boolean", "enum") and not entry:
        problems.append(f"{key}: one number per type; name an entry, e.g. {key}.{_first_entry(p)}")
        return None
    if p.type == "boolean":
        return Factor(key, p.role, "boolean", (False, True))
    if p.type == "enum":
        return Factor(key, p.role, "categorical", tuple(p.choices))
    bounds = list(chosen) if chosen is not None else _study_range(p, entry)
    if not (isinstance(bounds, list) and len(bounds) == 2):
        problems.append(f"ranges: {key}: expected [low, high], found {describe_value(chosen)}")
        return None
    numeric = p if p.type in NUMERIC else Parameter(**{**p.__dict__, "type": "number"})
    bad = [m for i, b in enumerate(bounds) if (m := _value_problem(f"ranges: {key}[{i}]", numeric, b))]
    if not bad and not bounds[0] < bounds[1]:
        bad = [f"ranges: {key}: expected low < high, found {bounds!r}"]
    problems.extend(bad)
    return None if bad else Factor(key, p.role, "integer" if p.type == "integer" else "real", tuple(bounds))


def _study_range(p: Parameter, entry: str) -> list[float]:
    study = p.study.get(entry or p.key.rsplit(".", 1)[1]) if isinstance(p.study, Mapping) else p.study
    return list(study if study is not None else p.range)


def _first_entry(p: Parameter) -> str:
    default = p.default
    return next(iter(default)) if isinstance(default, Mapping) and default else "meals"
