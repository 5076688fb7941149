"""Effect attribution: which of a scenario's changes carry its effect (Shapley values over paired runs).

``shapley`` computes Shapley values of any set function (exact, or sampled
orders with a standard error), without the model; ``components`` finds the
parameters a scenario changes against its base and groups them; ``study`` lays
the subsets out as a sweep, runs it through the sweep engine and turns the runs
into per-seed Shapley values with intervals; ``report`` writes the table, the
waterfall figures and the plain-words reading. ``coprod_sim.explain(...)`` and
``coprod-sim explain`` run it (docs/explain.md).
"""

from .components import Component, components, differing, parameter_key, parse_groups
from .shapley import EXACT_LIMIT, Shapley, shapley_exact, shapley_permutations
from .study import Attribution, ExplainPlan, analyse, default_out, explain, plan_explain

__all__ = ["EXACT_LIMIT", "Attribution", "Component", "ExplainPlan", "Shapley", "analyse", "components",
           "default_out", "differing", "explain", "parameter_key", "parse_groups", "plan_explain", "shapley_exact",
           "shapley_permutations"]
