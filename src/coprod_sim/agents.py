"""Organisations as Mesa agents: departments, the leading group, the street
office (planner), operators (government, firms, state-owned firms, social
organisations, residents' mutual-aid groups) and the facilities they run.

Each agent observes model state, applies a rule from ``rules.py`` and acts.
No agent writes an outcome: outcomes are measured from what residents receive
(``outcomes.py``).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from mesa.discrete_space import FixedAgent

from .domain import DEPARTMENT_LABELS, DEPARTMENT_NAMES, DEPARTMENTS, SERVICE_INDEX, SERVICE_TYPES, approving_departments
from .rules import quality_effort, release_share, voluntary_supply

if TYPE_CHECKING:
    from .model import CoProductionModel


class Department(Agent):
    """A functional bureau (条): holds a budget, approves projects, resists delegation."""

    def __init__(self, model: CoProductionModel, index: int, resistance: float, budget: float):
        super().__init__(model)
        self.index = index
        self.name = DEPARTMENT_NAMES[index]
        self.funds = [SERVICE_INDEX[s] for s in DEPARTMENTS[self.name]["funds"]]
        self.resistance = resistance
        self.budget = budget  # yuan / month for community services
        self.release = 0.0  # share released this step
        self.pressure = 0.0  # leading-group assessment pressure on this department

    def step(self) -> None:
        """Choose how much budget to release and send it down, earmarked by service."""
        if not self.funds:
            return
        m = self.model
        inc = m.cfg["incentive"]
        gap = m.street_office.perceived_gap_share
        weights = m.assessment_weights[self.funds]
        seen_gap = float(np.dot(weights, gap[self.funds]) / len(self.funds))
        self.release = release_share(
            inc["assessment_weight"],
            inc["reward_penalty"],
            seen_gap,
            self.resistance,
            m.cfg["government"]["control_cost"],
            self.pressure,
        )
        released = self.release * self.budget
        # released money goes to the types the assessment rewards (multitask rule)
        alloc = weights * (gap[self.funds] + 1e-3)
        m.fund.release(self.funds, released * alloc / alloc.sum())
        if released > 0:
            m.log(f"{DEPARTMENT_LABELS[self.name]} released {self.release:.0%} of its budget (resistance {self.resistance:.2f})")


class LeadingGroup(Agent):
    """Party-building leading group (党建领导小组): assesses departments, names lead units.

    Modelled as a pool-punishment-like institution (Sigmund et al. 2010):
    departments releasing less than their peers are sanctioned in the
    assessment, which raises their marginal return of releasing. Coordination
    is not free: it costs staff time and crowds out social organisations'
    autonomy (seed 001, "limits of party leadership").
    """

    def __init__(self, model: CoProductionModel, active: bool, authority: float):
        super().__init__(model)
        self.active = active
        self.authority = authority if active else 0.0

    def step(self) -> None:
        m = self.model
        lg = m.cfg["leading_group"]
        if not self.active:
            return
        depts = [d for d in m.departments if d.funds]
        mean_release = float(np.mean([d.release for d in depts])) if depts else 0.0
        area_gap = float(np.mean(m.street_office.perceived_gap_share))
        for d in depts:
            shortfall = max(0.0, mean_release - d.release)
            d.pressure = self.authority * lg["assessment_weight"] * (area_gap + lg["sanction"] * shortfall)
        cost = lg["cost_per_department"] * len(m.departments)
        m.fund.spend_pro_rata(cost, "coordination")


class StreetOffice(Agent):
    """The street office and community committees as planner (upstream stage).

    It sees residents' needs only through the reporting channel and plans new
    facilities either top-down (by assessment weights and population norms)
    or deliberatively (by the priorities residents report; seed 002).
    """

    def __init__(self, model: CoProductionModel):
        super().__init__(model)
        n_comm = model.layout.n_communities
        self.reported_unmet = np.zeros((n_comm, len(SERVICE_TYPES)))
        self.perceived_gap_share = np.full(len(SERVICE_TYPES), 0.5)

    def observe(self, reported_unmet: np.ndarray, reported_need: np.ndarray) -> None:
        """Update the planner's picture from this step's reports."""
        self.reported_unmet = reported_unmet
        total_need = reported_need.sum(axis=0)
        share = np.divide(reported_unmet.sum(axis=0), total_need, out=np.zeros(len(SERVICE_TYPES)), where=total_need > 0)
        # planners update their picture gradually (exponential smoothing of what they hear)
        weight = self.model.cfg["planning"]["gap_learning_rate"]
        self.perceived_gap_share = (1.0 - weight) * self.perceived_gap_share + weight * share

    def step(self) -> None:
        """Commission the highest-priority public facilities the fund can pay for."""
        m = self.model
        plan = m.cfg["planning"]
        budget_projects = plan["projects_per_station"] * m.n_stations
        if budget_projects <= 0:
            return
        if plan["mode"] == "deliberative":
            # residents' own priorities, scaled up by how much of them the channel carries; what
            # they report already reflects open capacity, so only pending capacity is netted out
            carried = m.channel_reach * float(m.residents.participation.mean())
            estimate = self.reported_unmet / max(carried, 1e-6) - m.pending_public_capacity()
            weights = np.ones(len(SERVICE_TYPES))
        else:
            # target public capacity = population norm × the gap share the office perceives,
            # less the public capacity it already runs or has commissioned there
            estimate = m.norm_need_per_community * self.perceived_gap_share[None, :] - m.public_capacity()
            weights = m.assessment_weights
        priority = estimate * weights[None, :]
        commissioned = 0
        for flat in np.argsort(-priority, axis=None, kind="stable"):
            c, k = np.unravel_index(flat, priority.shape)
            if commissioned >= budget_projects or priority[c, k] <= 0:
                return
            if estimate[c, k] < plan["min_project_visits"] or not m.fund.can_pay(k, m.capital_cost(k)):
                continue
            m.commission_facility(int(c), int(k), float(min(estimate[c, k], m.max_capacity[k])))
            commissioned += 1


class Operator(Agent):
    """Anything that runs facilities; subclasses set how quality is rewarded."""

    kind = "operator"

    def __init__(self, model: CoProductionModel, stake: float = 0.0):
        super().__init__(model)
        self.facilities: list[Facility] = []
        self.profit_history: deque[float] = deque(maxlen=model.cfg["operators"]["exit_patience"])
        self.stake = stake
        self.trust = 1.0

    def quality_return(self) -> float:
        raise NotImplementedError

    def fit(self) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Set quality, fit and voluntary supply of each facility for this month."""
        m = self.model
        q = quality_effort(self.quality_return(), m.cfg["quality"]["cost"], m.cfg["quality"]["floor"])
        trust_floor = m.cfg["operators"]["trust_floor"]
        effective = q * (trust_floor + (1.0 - trust_floor) * self.trust)
        fit = self.fit()
        for f in self.facilities:
            f.quality = effective
            f.fit = fit
            if self.stake <= 0.0:
                f.voluntary = 0.0
                continue
            k = f.service
            # the stake is worth only what the fund honoured last month (operators anticipate)
            f.voluntary = voluntary_supply(
                self.stake * m.binding_pay_fraction[k], m.outcome_value[k], m.unit_cost[k],
                f.capacity * m.cfg["linkage"]["voluntary_base_share"],
            )

    def settle(self, profit: float) -> None:
        """Record the month's result and exit if losses persist (exit rule)."""
        self.profit_history.append(profit)
        full = len(self.profit_history) == self.profit_history.maxlen
        if full and sum(self.profit_history) < 0 and self.can_exit():
            self.model.exit_operator(self)

    def can_exit(self) -> bool:
        return True


class GovernmentProvider(Operator):
    """Street-office-run services with posted staff (administrative control)."""

    kind = "government"

    def quality_return(self) -> float:
        qc = self.model.cfg["quality"]
        # low-powered incentive: staff keep only a fraction of gains (HSV 1997)
        return qc["government_base"] + self.model.quality_monitored * qc["monitoring_bonus"] * qc["government_pass_through"]

    def fit(self) -> float:
        m = self.model
        base = 1.0 - m.cfg["government"]["takeover_misfit"] * m.cfg["government"]["admin_control"]
        return m.with_feedback_fit(base)

    def can_exit(self) -> bool:
        return False


class Firm(Operator):
    """A private or state-owned firm that enters and exits by expected profit."""

    def __init__(self, model: CoProductionModel, state_owned: bool, stake: float):
        super().__init__(model, stake)
        self.state_owned = state_owned
        self.kind = "state_owned" if state_owned else "firm"
        self.trust = model.cfg["operators"]["initial_trust"]

    def quality_return(self) -> float:
        qc = self.model.cfg["quality"]
        contracted = any(f.contracted for f in self.facilities)
        return (
            qc["market_return"]
            + self.model.quality_monitored * contracted * qc["monitoring_bonus"]
            + self.stake * qc["stake_return"]
        )

    def fit(self) -> float:
        return self.model.with_feedback_fit(self.model.cfg["quality"]["market_fit"])

    def step(self) -> None:
        self.trust += self.model.trust_growth * (1.0 - self.trust)
        super().step()



class SocialOrganization(Operator):
    """A social organisation (社会组织) living on purchase contracts (seed 004)."""

    kind = "social_org"

    def __init__(self, model: CoProductionModel, community: int, stake: float):
        super().__init__(model, stake)
        self.community = community
        self.trust = model.cfg["operators"]["initial_trust"]

    @property
    def autonomy(self) -> float:
        m = self.model
        so = m.cfg["social_orgs"]
        crowd = m.cfg["leading_group"]["autonomy_crowding"] * m.leading_group.authority
        return min(1.0, max(0.0, 1.0 - so["admin_dependence"] * m.cfg["government"]["admin_control"] - crowd))

    def quality_return(self) -> float:
        qc = self.model.cfg["quality"]
        return qc["mission"] * self.autonomy + self.model.quality_monitored * qc["monitoring_bonus"] + self.stake * qc["stake_return"]

    def fit(self) -> float:
        return self.model.with_feedback_fit(0.5 + 0.5 * self.autonomy)

    def step(self) -> None:
        self.trust += self.model.trust_growth * (1.0 - self.trust)
        super().step()


class MutualAidGroup(Operator):
    """Residents' volunteer group in one community: co-produces services.

    Output follows the co-production function Q = A·P^α·R^β of provider and
    resident inputs (``rules.coproduction_output``); its facility's capacity is
    set by the model each month from the community's volunteers.
    """

    kind = "volunteers"

    def __init__(self, model: CoProductionModel, community: int):
        super().__init__(model)
        self.community = community

    def quality_return(self) -> float:
        return self.model.cfg["quality"]["volunteer_quality"] * self.model.cfg["quality"]["cost"]

    def fit(self) -> float:
        return self.model.with_feedback_fit(self.model.cfg["quality"]["volunteer_fit"])

    def step(self) -> None:
        super().step()
        for f in self.facilities:
            f.voluntary = 0.0

    def can_exit(self) -> bool:
        return False


class Facility(FixedAgent):
    """A service point of one type in one cell, run by one operator.

    Life cycle: approving (waiting for department sign-offs) → active →
    closed. ``public`` facilities are publicly funded, charge the guided price
    and serve only eligible residents; others sell at the market price.
    """

    def __init__(
        self,
        model: CoProductionModel,
        cell_index: int,
        service: int,
        operator: Operator,
        capacity: float,
        public: bool,
        new_building: bool,
        contracted: bool = False,
        needs_approval: bool = True,
        community: int | None = None,
    ):
        super().__init__(model)
        self.cell_index = cell_index
        # the community it was planned for (in merged layouts not always the one it stands in)
        self.community = int(model.layout.community_of_cell[cell_index]) if community is None else community
        x, y = model.layout.cell_xy(cell_index)
        self.cell = model.grid[(int(x), int(y))]
        self.service = service
        self.operator = operator
        self.capacity = capacity
        self.planned_capacity = capacity
        self.public = public
        self.contracted = contracted
        self.quality = 0.5
        self.fit = 0.5
        self.voluntary = 0.0
        self.used = 0.0
        self.created = model.steps
        self.pending = approving_departments(SERVICE_TYPES[service], new_building) if needs_approval else []
        self.active = not self.pending
        self.approval_delay = 0 if self.active else None
        operator.facilities.append(self)
