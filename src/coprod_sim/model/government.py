"""Government actors (Mesa agents): departments, the party leading group and the street office.

They act upstream, at the start of each month: departments decide how much of
their budget to release, the leading group assesses them, and the street office
plans and commissions public facilities from what residents reported. Each
decision is one rule from ``rules.py`` applied to what the agent observes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from ..config.params import GovernmentParams, IncentiveParams, LayoutParams, LeadingGroupParams, PlanningParams, SocialOrgsParams
from ..domain import (
    DEPARTMENT_LABELS,
    DEPARTMENT_NAMES,
    DEPARTMENTS,
    KIND_INDEX,
    SERVICE_INDEX,
    SERVICE_TYPES,
    SOCIAL_ORG_SERVICES,
    K,
)
from .facility import Facilities, Facility
from .institutions import Assessment, DemandChannel
from .operators import Operator, SocialOrganization
from .rules import release_share

if TYPE_CHECKING:
    from .model import Model


class Department(Agent):
    """A functional bureau (条): holds a budget, approves projects, resists delegation."""

    def __init__(self, model: Model, index: int, resistance: float, budget: float, *, incentive: IncentiveParams,
                 government: GovernmentParams, assessment: Assessment):
        super().__init__(model)
        self.index = index
        self.name = DEPARTMENT_NAMES[index]
        self.funds = [SERVICE_INDEX[s] for s in DEPARTMENTS[self.name]["funds"]]
        # resistance lives here and only here: approvals and issues read it from the departments
        self.resistance = resistance
        self.budget = budget  # yuan / month for community services
        self.incentive = incentive
        self.government = government
        self.assessment = assessment
        self.release = 0.0  # share released this step
        self.pressure = 0.0  # leading-group assessment pressure on this department

    def release_budget(self, perceived_gap: np.ndarray) -> None:
        """Choose how much budget to release, seeing the service gaps the street office reports, and send it
        down, earmarked by service."""
        if not self.funds:
            return
        m = self.model
        gap = perceived_gap
        weights = self.assessment.weights[self.funds]
        seen_gap = float(np.dot(weights, gap[self.funds]) / len(self.funds))
        self.release = release_share(
            self.incentive.assessment_weight,
            self.incentive.reward_penalty,
            seen_gap,
            self.resistance,
            self.government.control_cost,
            self.pressure,
        )
        released = self.release * self.budget
        # released money goes to the types the assessment rewards (multitask rule)
        alloc = weights * (gap[self.funds] + 1e-3)
        m.fund.release(self.funds, released * alloc / alloc.sum())
        if released > 0:
            m.log(f"{DEPARTMENT_LABELS[self.name]} released {self.release:.0%} of its budget (resistance {self.resistance:.2f})")


class LeadingGroup(Agent):
    """Party-building leading group (党建领导小组): assesses departments and coordinates cases.

    Two instruments, both acting on departments' own decisions:

    * its **assessment** of member departments, modelled on pool punishment
      (Sigmund et al. 2010): departments releasing less than their peers are
      marked down, which raises their marginal return of releasing (§7.1);
    * **coordination** of cases (pending facility approvals, then open
      multi-department issues), bounded by its office's capacity, which the
      district funds in proportion to its population: the group takes up the
      cases worth most (the need a blocked facility would meet), a coordinated
      approval gets a joint review that makes each department's delay visible
      and accountable — each department then weighs that accountability against
      the control it keeps by holding the case, so a review can fail — and a
      coordinated issue gets a lead unit (responsibility list).

    Coordination is not free: staff and officials' meeting time are paid from
    the service fund, a coordinated case takes capacity every month until it
    is done, and the group crowds out social organisations' autonomy (seed 001,
    "limits of party leadership").
    """

    def __init__(self, model: Model, params: LeadingGroupParams, residents: int):
        super().__init__(model)
        self.residents = residents  # the population the district funds the office for
        self.use(params)
        self.coordinated_facilities: set[Facility] = set()
        self.cases_coordinated = 0

    def use(self, params: LeadingGroupParams) -> None:
        """Work under ``params``: at set-up, or from the month a policy is introduced (``Model.introduce``)."""
        self.params = params
        # What "no leading group" means, here and nowhere else: with ``leading_group.active`` false the group
        # has no authority and no office (no staff, no capacity, no cost), so its assessment puts no pressure
        # on departments, it coordinates no case, names no lead unit and crowds out no autonomy. Nothing else
        # in the model checks the switch.
        self.authority = params.authority if params.active else 0.0
        # the office the district funds: staff in proportion to the population it coordinates for
        self.staff = params.staff_per_10k_residents * self.residents / 10_000 if params.active else 0.0
        # what holding up a coordinated case costs a department in its assessment, per month (§7.4)
        self.accountability = self.authority * params.delay_accountability
        self.capacity = int(self.staff * params.cases_per_staff)

    def assess_departments(self, perceived_gap: np.ndarray) -> None:
        """Set each funding department's assessment pressure (the stick on releases)."""
        m, lg = self.model, self.params
        depts = [d for d in m.departments if d.funds]
        mean_release = float(np.mean([d.release for d in depts])) if depts else 0.0
        area_gap = float(np.mean(perceived_gap))
        for d in depts:
            shortfall = max(0.0, mean_release - d.release)
            d.pressure = self.authority * lg.assessment_weight * (area_gap + lg.sanction * shortfall)

    def coordinate_cases(self, perceived_gap: np.ndarray) -> None:
        """Take up to its capacity of the cases worth most, approvals first, paying for what it coordinates.

        An approval is worth the need its facility would meet: its planned capacity × the gap share the
        street office perceives for its service (``perceived_gap``); ties go to the oldest. If the fund cannot
        pay the month's cost, the group coordinates only the share it could pay for.
        """
        self.coordinated_facilities, self.cases_coordinated = set(), 0
        m, lg = self.model, self.params
        if not self.capacity and not self.staff:
            return  # no office: nothing to coordinate or pay for
        waiting = sorted(m.facilities.of(m.facilities.waiting()),
                         key=lambda f: (-f.planned_capacity * perceived_gap[f.service], f.created, f.unique_id))
        issues = m.issues.unled_cases()
        n_facilities = min(self.capacity, len(waiting))
        n_issues = min(self.capacity - n_facilities, len(issues))
        cost = self.staff * lg.cost_per_staff + lg.cost_per_case * (n_facilities + n_issues)
        paid = m.fund.spend_pro_rata(cost, "coordination")
        afforded = paid / cost if cost > 0 else 1.0
        n_facilities, n_issues = int(n_facilities * afforded), int(n_issues * afforded)
        self.coordinated_facilities = set(waiting[:n_facilities])
        m.issues.name_leads(issues[:n_issues], m.rng)
        self.cases_coordinated = n_facilities + n_issues
        if self.cases_coordinated:
            issues_part = f" and named lead units for {n_issues} issues" if n_issues else ""
            m.log(f"The leading group coordinated {n_facilities} approvals{issues_part} (cost {paid / 1000:.1f}k yuan)")


class StreetOffice(Agent):
    """The street office and community committees as planner (upstream stage).

    It sees residents' needs only through the reporting channel and plans new
    facilities either top-down (by assessment weights and population norms)
    or deliberatively (by the priorities residents report; seed 002).
    """

    def __init__(self, model: Model, *, planning: PlanningParams, government: GovernmentParams, layout: LayoutParams,
                 social_orgs: SocialOrgsParams, assessment: Assessment, channel: DemandChannel):
        super().__init__(model)
        self.planning = planning
        self.government = government
        self.layout = layout
        self.social_orgs = social_orgs
        self.assessment = assessment
        self.channel = channel
        n_comm = model.layout.n_communities
        self.reported_unmet = np.zeros((n_comm, len(SERVICE_TYPES)))
        self.perceived_gap_share = np.full(len(SERVICE_TYPES), 0.5)

    def receive_budget(self) -> None:
        """The office's own operating budget, split by the cost of need (not subject to release)."""
        m = self.model
        total = self.government.street_budget_per_resident * m.residents.n
        m.fund.release(list(range(K)), total * m.need_cost_share)

    def observe(self, reported_unmet: np.ndarray, reported_need: np.ndarray) -> None:
        """Update the planner's picture from this step's reports."""
        self.reported_unmet = reported_unmet
        total_need = reported_need.sum(axis=0)
        share = np.divide(reported_unmet.sum(axis=0), total_need, out=np.zeros(len(SERVICE_TYPES)), where=total_need > 0)
        # planners update their picture gradually (exponential smoothing of what they hear)
        weight = self.planning.gap_learning_rate
        self.perceived_gap_share = (1.0 - weight) * self.perceived_gap_share + weight * share

    def plan_facilities(self, paid_share: np.ndarray) -> None:
        """Commission the highest-priority public facilities the fund can pay for, where the earmark paid at
        least ``planning.build_if_paid_share`` of last month's running claims (``paid_share``, by service)."""
        m = self.model
        plan = self.planning
        budget_projects = plan.projects_per_station * m.n_stations
        if budget_projects <= 0:
            return
        if plan.mode == "deliberative":
            # residents' own priorities, scaled up by how much of them the channel carries; what
            # they report already reflects open capacity, so only pending capacity is netted out
            carried = self.channel.reach * float(m.residents.participation.mean())
            estimate = self.reported_unmet / max(carried, 1e-6) - self._capacity_where(_pending_public)
            weights = np.ones(len(SERVICE_TYPES))
        else:
            # target public capacity = population norm × the gap share the office perceives,
            # less the public capacity it already runs or has commissioned there
            estimate = m.norm_need_per_community * self.perceived_gap_share[None, :] - self._capacity_where(_run_publicly)
            weights = self.assessment.weights
        priority = estimate * weights[None, :]
        order = np.argsort(-priority, axis=None, kind="stable")
        # the projects worth building, highest priority first; whether the fund can pay is asked project
        # by project, since each commissioned one draws on it
        flat = priority.ravel()[order]
        c_of, k_of = np.unravel_index(order[flat > 0], priority.shape)
        size = estimate[c_of, k_of]
        worth = (size >= plan.min_project_visits) & (paid_share[k_of] >= plan.build_if_paid_share)
        commissioned = 0
        for c, k, visits in zip(c_of[worth].tolist(), k_of[worth].tolist(), size[worth].tolist(), strict=True):
            if commissioned >= budget_projects:
                return
            if m.fund.can_pay(k, m.terms.capital_cost(k)):
                self.commission(c, k, float(min(visits, m.terms.max_capacity[k])))
                commissioned += 1

    def _capacity_where(self, include: Callable[[Facilities], np.ndarray]) -> np.ndarray:
        """Planned capacity of the open facilities ``include`` selects (a mask over the table's rows), by
        community served and service."""
        table = self.model.facilities
        chosen = np.flatnonzero(table.opened & include(table))
        where = table.community[chosen] * K + table.service[chosen]
        return np.bincount(where, table.planned_capacity[chosen], minlength=self.model.layout.n_communities * K).reshape(-1, K)

    def commission(self, community: int, k: int, capacity: float) -> None:
        """Commission a publicly funded facility at the community's service centre and pay for building it."""
        m = self.model
        cell = int(m.layout.station_cell_of_community[community])
        operator: Operator = m.government
        if m.rng.random() >= self.government.admin_control and SERVICE_TYPES[k] in SOCIAL_ORG_SERVICES:
            free = [so for so in m.agents_by_type.get(SocialOrganization, [])
                    if so.community == community and not so.facilities]
            if free or m.rng.random() < self.social_orgs.incubation:
                operator = free[0] if free else SocialOrganization.found(m, community, contract=False)
        direct = m.rng.random() < self.layout.direct_item_share
        f = Facility(m, cell, k, operator, float(capacity), public=True, new_building=False,
                     contracted=operator is not m.government, community=community)
        if direct:
            f.pending = [DEPARTMENT_NAMES.index("fire_rescue")]
        m.fund.pay_by_service(np.eye(K)[k] * m.terms.capital_cost(k), "capital")
        m.log(f"Street office commissioned {SERVICE_TYPES[k].replace('_', ' ')} in community {community} "
              f"({capacity:.0f} visits/month, run by {operator.kind.replace('_', ' ')})")


def _pending_public(table: Facilities) -> np.ndarray:
    """Public facilities still waiting for approval (any operator)."""
    return table.public & ~table.active


def _run_publicly(table: Facilities) -> np.ndarray:
    """Public facilities, open or pending, run by the government or a social organisation."""
    return table.public & ((table.kind_code == KIND_INDEX["government"]) | (table.kind_code == KIND_INDEX["social_org"]))
