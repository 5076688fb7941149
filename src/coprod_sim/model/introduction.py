"""A policy introduced into a settled world: the levers of a run handed to a spun-up model (``run.design``).

In the *introduction* design the world spins up with every lever at its default
(``Config.world``) and the run's levers arrive at reported month 0. Agents and
processes keep the parameter groups they were built with (docs/architecture.md),
so introducing a policy is a hand-over: each holder of a lever's group, or of an
institution derived from the levers (the assessment, the demand channel, the
operators' rules, the terms of service), receives the new one. What the set-up
fixed from a lever follows it:

* the leading group takes its new authority, staff and capacity (``LeadingGroup.use``);
* new applications follow the new approval chains (``approvals.*``); those filed keep their pending sign-offs;
* departments keep their rank in resistance: each one's draw is moved to the same
  quantile of the new Beta distribution (a reform lowers every bureau's
  resistance, the most resistant stay the most resistant);
* departments' budgets follow ``government.budget_per_resident``;
* outside operators' outcome-linked stake moves by the change in
  ``linkage.interest_binding_stake`` (their contracts are amended; a franchise
  keeps its extra stake);
* residents re-plan their purchases with the new prices, vouchers and eligibility.

Levers that lay out the district (``config.BUILT_WITH_WORLD``) cannot be
introduced; the config's validation refuses them in this design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import BUILT_WITH_WORLD
from ..config.params import GROUP_CLASSES, GovernmentParams
from .approvals import ApprovalChains
from .institutions import Assessment, DemandChannel, trust_growth
from .operators import Firm, OperatorRules, SocialOrganization
from .terms import ServiceTerms

if TYPE_CHECKING:
    from ..config import Config
    from .model import Model


def levers_to_introduce(old: Config, config: Config) -> list[str]:
    """The lever keys ``config`` changes in a world spun up under ``old``; an error if it is another world."""
    if config.world() != old.world():
        raise ValueError("introduce: the config describes another world (assumptions, population or spin-up differ "
                         "from the spun-up model's); only levers can be introduced")
    changed = old.lever_keys_changed(config)
    fixed = [key for key in changed if key in BUILT_WITH_WORLD]
    if fixed:
        raise ValueError(f"introduce: {', '.join(fixed)}: lay out the district when the world is built and cannot "
                         "be introduced into a spun-up world")
    return changed


def hand_over(model: Model, old: Config, config: Config) -> None:
    """Hand ``config``'s levers to ``model``'s agents and processes (module docstring); nothing is drawn at random.
    ``model.config`` is already ``config``."""
    new = _institutions(config, model.month)
    handover: dict[int, Any] = {id(getattr(old, group)): getattr(config, group) for group in GROUP_CLASSES}
    handover.update({id(getattr(model, name)): value for name, value in new.items()})
    for holder in _holders(model):
        for name, value in list(vars(holder).items()):
            if id(value) in handover:
                setattr(holder, name, handover[id(value)])
    model.leading_group.use(config.leading_group)
    _reform_departments(model, old.government, config.government)
    delta = config.linkage.interest_binding_stake - old.linkage.interest_binding_stake
    for op in [*model.agents_by_type.get(Firm, []), *model.agents_by_type.get(SocialOrganization, [])]:
        op.stake = min(1.0, max(0.0, op.stake + delta))
    model.residents.prepare(model.terms, model.layout.n_cells, model.residents.voucher_availability)


def _institutions(config: Config, month: int) -> dict[str, Any]:
    """What several actors read from the levers, derived anew, by the model's attribute names."""
    terms = ServiceTerms.from_params(config.services, config.profit_space, config.linkage)
    terms.follow_trends(max(month, 0))
    assessment = Assessment.from_params(config.incentive)
    channel = DemandChannel.from_params(config.linkage)
    rules = OperatorRules(config.operators, config.quality, config.linkage, assessment, channel,
                          trust_growth(config.operators, config.linkage))
    # new applications follow the new approval chains; those already filed keep the sign-offs they still need
    return {"terms": terms, "assessment": assessment, "channel": channel, "operator_rules": rules,
            "approval_chains": ApprovalChains(config.approvals)}


def _holders(model: Model) -> list[Any]:
    """The model, its processes (market, payments, approvals, issues, residents, …) and every agent."""
    package = __name__.rsplit(".", 1)[0]
    processes = [v for v in vars(model).values()
                 if type(v).__module__.startswith(package) and hasattr(v, "__dict__") and not _frozen(v)]
    return [model, *processes, *model.agents]


def _frozen(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return bool(params is not None and params.frozen)


def _reform_departments(model: Model, old: GovernmentParams, new: GovernmentParams) -> None:
    """Budgets follow the new budget per resident; each department keeps its quantile of resistance."""
    budget_total = new.budget_per_resident * model.config.population.residents
    reseat = old.resistance != new.resistance or old.resistance_concentration != new.resistance_concentration
    for d in model.departments:
        d.budget = model.department_budget(d.name, budget_total)
        if reseat:
            d.resistance = _same_quantile(d.resistance, old, new)


def _same_quantile(resistance: float, old: GovernmentParams, new: GovernmentParams) -> float:
    """The resistance at the same quantile of the new Beta(mean, concentration) as ``resistance`` of the old
    (a degenerate mean of 0 or 1 has every department at it; from one, departments start at the median)."""
    from scipy.stats import beta

    def shape(g: GovernmentParams) -> tuple[float, float]:
        return g.resistance * g.resistance_concentration, (1 - g.resistance) * g.resistance_concentration

    if not 0 < new.resistance < 1:
        return new.resistance
    q = float(beta.cdf(resistance, *shape(old))) if 0 < old.resistance < 1 else 0.5
    return float(beta.ppf(q, *shape(new)))
