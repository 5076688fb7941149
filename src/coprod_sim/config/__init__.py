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
    shipped_scenarios,
)
from .registry import Parameter, all_keys, defaults, parameter_for, parameters_markdown, registry
from .safe_yaml import non_finite
from .schema import META_KEY, cross_problems, describe_value, problems, schema, value_problem

__all__ = [
    "META_KEY", "ConfigError", "Parameter", "ParamsLike", "ScenarioLike", "all_keys", "cross_problems", "defaults",
    "describe_value", "dotted", "load_config", "non_finite", "parameter_for", "parameters_markdown", "parse_overrides", "plain",
    "problems", "read_yaml", "registry", "resolve", "scenario_source", "schema", "shipped_scenarios", "value_problem",
]
