"""Configuration layer: the parameter registry, the schema, shipped scenarios, loading and dotted keys.

Nothing here knows about the model; everything above it gets its configs from here.
"""

from ..errors import ConfigError
from . import dotted
from .loading import (
    ParamsLike,
    ScenarioLike,
    load_config,
    parse_overrides,
    plain,
    read_yaml,
    resolve,
    scenario_source,
    shipped_examples,
    shipped_scenarios,
)
from .registry import (
    ASSUMPTION,
    LEVER,
    REMEDIES,
    ROLES,
    RUN,
    Parameter,
    PerHousehold,
    PerService,
    all_keys,
    by_role,
    defaults,
    parameter_for,
    parameters_markdown,
    registry,
    study_levers,
)
from .resolved import META_KEY, Config
from .safe_yaml import check_file, unusable_numbers
from .schema import BUILT_WITH_WORLD, cross_problems, describe_value, problems, schema, value_problem

__all__ = [
    "ASSUMPTION", "BUILT_WITH_WORLD", "LEVER", "META_KEY", "REMEDIES", "ROLES", "RUN", "Config", "ConfigError",
    "Parameter", "ParamsLike", "PerHousehold", "PerService", "ScenarioLike", "all_keys", "by_role", "check_file",
    "cross_problems", "defaults", "describe_value", "dotted", "load_config", "parameter_for", "parameters_markdown",
    "parse_overrides", "plain", "problems", "read_yaml", "registry", "resolve", "scenario_source", "schema",
    "shipped_examples", "shipped_scenarios", "study_levers", "unusable_numbers", "value_problem",
]
