"""Operators (Mesa agents): who runs facilities, and the decisions each kind makes.

The government provider, private and state-owned firms, social organisations
and residents' mutual-aid groups each set the quality, fit and voluntary supply
of their facilities every month; firms decide where to enter, social
organisations are founded on contracts, and operators that keep losing money
exit. Each decision is a rule from ``rules.py``. No operator writes an outcome:
outcomes are measured from what residents receive (``outcomes.py``).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from ..domain import CONTENT_DIMENSIONS, COPRODUCED_SERVICES, SERVICE_INDEX, SERVICE_TYPES, SOCIAL_ORG_SERVICES, K
from .facility import Facility
from .rules import (
    content_fit,
    coproduction_output,
    enters_market,
    expected_firm_profit,
    quality_effort,
    update_belief,
    voluntary_supply,
)

if TYPE_CHECKING:
    from .model import Model


class Operator(Agent):
    """Anything that runs facilities; subclasses set how quality is rewarded."""

    kind = "operator"
    knows_needs = False  # residents organising themselves know what their community needs

    def __init__(self, model: Model, stake: float = 0.0):
        super().__init__(model)
        self.facilities: list[Facility] = []
        self.profit_history: deque[float] = deque(maxlen=model.cfg["operators"]["exit_patience"])
        self.stake = stake
        self.trust = 1.0
        self.cost_factor = 1.0  # its unit costs relative to the type's (firms differ, §7.5)
        # what it believes each community it serves particularly needs (an outsider starts from the template),
        # and how well the content it offers there fits (``learn_needs``)
        self.beliefs: dict[int, np.ndarray] = {}
        self.fits: dict[int, float] = {}

    def quality_return(self) -> float:
        raise NotImplementedError

    def decision_right(self) -> float:
        """Share of its services' content it decides itself; the rest follows the street office's template."""
        return 1.0

    def information_precision(self) -> float:
        """Precision of its monthly signal of what a community particularly needs: contact with its users
        (which grows with their trust) and, where the feedback loop is closed, residents' reports through
        the channel (seed 003: full-process grid; seed 004: outsiders lack the neighbourhood's social capital)."""
        m = self.model
        link = m.cfg["linkage"]
        return (m.cfg["operators"]["contact_information"] * self.trust
                + link["channel_information"] * link["feedback_loop"] * m.channel_reach)

    def gain_trust(self) -> None:
        """Residents' trust in an operator grows with the months it has served them (seed 004)."""
        self.trust += self.model.trust_growth * (1.0 - self.trust)

    def set_service(self) -> None:
        """Set quality, fit and voluntary supply of each facility for this month (fit from ``learn_needs``)."""
        m = self.model
        q = quality_effort(self.quality_return(), m.cfg["quality"]["cost"], m.cfg["quality"]["floor"])
        trust_floor = m.cfg["operators"]["trust_floor"]
        effective = q * (trust_floor + (1.0 - trust_floor) * self.trust)
        for f in self.facilities:
            f.quality = effective
            f.fit = self.fits[f.community]
            if self.stake <= 0.0:
                f.voluntary = 0.0
                continue
            k = f.service
            # a free visit costs the visit at this quality; the stake is worth the share of outcome-linked pay
            # the operator expects the fund to honour (free visits meet need nobody else met, so they displace
            # no sale of its own)
            cost = m.terms.unit_cost[k] * self.cost_factor * (1.0 + m.cfg["operators"]["quality_cost_share"] * effective)
            f.voluntary = voluntary_supply(self.stake * m.binding_pay_expected[k], m.terms.outcome_value[k], cost,
                                           f.capacity * m.cfg["linkage"]["voluntary_base_share"])

    def settle(self, profit: float) -> None:
        """Record the month's result and exit if losses persist (exit rule)."""
        self.profit_history.append(profit)
        full = len(self.profit_history) == self.profit_history.maxlen
        if full and sum(self.profit_history) < 0 and self.can_exit():
            self.exit()

    def can_exit(self) -> bool:
        return True

    def close(self, facility: Facility, why: str) -> None:
        """Close one facility (the operator stays, and may exit later by the exit rule)."""
        m = self.model
        facility.remove()
        self.facilities.remove(facility)
        m.this_month.closures += 1
        m.log(f"A {SERVICE_TYPES[facility.service].replace('_', ' ')} facility of a {self.kind.replace('_', ' ')} "
              f"closed in community {facility.community}: {why}")

    def exit(self) -> None:
        """Close every facility and leave the district."""
        m = self.model
        for f in self.facilities:
            if f.model is not None:
                f.remove()
        m.exits[self.kind] += 1
        m.this_month.exits += 1
        what = ", ".join(SERVICE_TYPES[f.service].replace("_", " ") for f in self.facilities) or "no service"
        m.log(f"A {self.kind.replace('_', ' ')} closed ({what}): losses for {len(self.profit_history)} months")
        self.facilities = []
        self.remove()


class GovernmentProvider(Operator):
    """Street-office-run services with posted staff (administrative control)."""

    kind = "government"

    def quality_return(self) -> float:
        qc = self.model.cfg["quality"]
        # low-powered incentive: staff keep only a fraction of gains (HSV 1997)
        return qc["government_base"] + self.model.quality_monitored * qc["monitoring_bonus"] * qc["government_pass_through"]

    def decision_right(self) -> float:
        """Under administrative control the street office decides hours and content (seed 001 takeover)."""
        return 1.0 - self.model.cfg["government"]["admin_control"]

    def open_centres(self) -> None:
        """One service centre per station, sized by floor area, open from the start.

        Capacity follows the national norm of ``layout.centre_m2_per_100_households``
        (seed 000; 2024 embedded-facility guideline) spread over all seven
        services in proportion to average need: the fragmented baseline of
        windows that do not follow local demand (seed 004).
        """
        m = self.model
        lay, cfg = m.layout, m.cfg
        households = np.bincount(lay.station_of_community[m.residents.community]) / cfg["space"]["household_size"]
        area = households / 100.0 * cfg["layout"]["centre_m2_per_100_households"]
        need_share = m.residents.need.sum(axis=0) / m.residents.need.sum()
        for station in range(len(area)):
            comm = int(np.flatnonzero(lay.station_of_community == station)[0])
            cell = int(lay.station_cell_of_community[comm])
            cap = area[station] * cfg["layout"]["visits_per_m2"] * need_share
            for k in range(K):
                Facility(m, cell, k, self, float(cap[k]), public=True, new_building=False, needs_approval=False)

    def can_exit(self) -> bool:
        return False


class Firm(Operator):
    """A private or state-owned firm that enters and exits by expected profit."""

    def __init__(self, model: Model, state_owned: bool, stake: float):
        super().__init__(model, stake)
        self.state_owned = state_owned
        self.kind = "state_owned" if state_owned else "firm"
        self.trust = model.cfg["operators"]["initial_trust"]
        # its efficiency: log of its unit costs relative to the type's, drawn from the stationary distribution
        # of ``evolve_costs`` (it learns it once it operates; Jovanovic 1982)
        sigma = model.cfg["operators"]["cost_dispersion"]
        self.log_cost = float(model.rng.normal(0.0, sigma)) if sigma > 0 else 0.0
        self.cost_factor = float(np.exp(self.log_cost - sigma**2 / 2))  # mean 1 over firms

    @staticmethod
    def evolve_costs(model: Model) -> None:
        """Each firm's efficiency drifts: its log cost factor is an AR(1) with persistence ρ and stationary
        log-sd σ (x ← ρx + √(1 − ρ²)·σ·ε), so a firm can become unprofitable and exit and there are no
        permanent survivors: entry and exit go on in a stationary state (Hopenhayn 1992; persistence and
        dispersion of productivity: Foster, Haltiwanger & Syverson 2008; Syverson 2011)."""
        firms = list(model.agents_by_type.get(Firm, []))
        ops = model.cfg["operators"]
        sigma, rho = ops["cost_dispersion"], ops["cost_persistence"]
        if not firms or sigma <= 0:
            return
        x = np.array([f.log_cost for f in firms])
        x = rho * x + np.sqrt(1.0 - rho**2) * sigma * model.rng.standard_normal(len(firms))
        factor = np.exp(x - sigma**2 / 2)
        for f, xi, ci in zip(firms, x.tolist(), factor.tolist(), strict=True):
            f.log_cost, f.cost_factor = xi, ci

    def quality_return(self) -> float:
        qc = self.model.cfg["quality"]
        contracted = any(f.contracted for f in self.facilities)
        return qc["market_return"] + self.model.quality_monitored * contracted * qc["monitoring_bonus"]


    def exit(self) -> None:
        if self.model.cfg["profit_space"]["franchise"]:
            self.model.franchisee[self.model.franchisee == self.unique_id] = -1
        super().exit()

    # ------------------------------------------------------------------ entry
    @staticmethod
    def expected_profit(model: Model) -> tuple[np.ndarray, np.ndarray]:
        """Demand a newcomer could capture and its expected monthly after-tax profit, by (community, service).

        A potential entrant at a community's centre sees the paying demand left
        unserved around it last month and expects the type's average unit cost (it
        cannot know its own efficiency before it operates); rent-free space removes the rent part of the fixed cost
        and tax relief lowers the tax on profit (profit space, seed 001).
        """
        cfg, terms = model.cfg, model.terms
        ps, firm_cfg = cfg["profit_space"], cfg["operators"]
        demand = model.unmet_market_reach[model.layout.community_centroid_cell] * firm_cfg["capture_share"]
        rent = terms.fixed_cost * firm_cfg["rent_share"] * (1.0 if not ps["rent_free_space"] else 0.0)
        fixed = terms.fixed_cost * (1 - firm_cfg["rent_share"]) + rent
        tax = firm_cfg["profit_tax_rate"] * (1.0 - ps["tax_relief"])
        profit = expected_firm_profit(
            demand, terms.max_capacity[None, :], terms.market_price[None, :], terms.subsidy[None, :],
            terms.unit_cost[None, :], fixed[None, :], tax,
        )
        return demand, profit

    @classmethod
    def enter_markets(cls, model: Model, initial: bool = False) -> None:
        """Firms enter markets with positive expected profit (Bresnahan & Reiss rule); state-owned
        firms fill markets that stay thin. ``initial``: the firms already present at the start
        enter by the same rule, at once and without approvals."""
        ps = model.cfg["profit_space"]
        demand, profit = cls.expected_profit(model)
        capital = model.terms.fixed_cost * model.terms.capital_months
        worth_it = enters_market(profit, capital[None, :], model.cfg["operators"]["required_return"])
        pending = _pending_market(model)
        for c, k in zip(*np.nonzero(worth_it), strict=True):
            if pending[c, k] or (model.franchisee[c] >= 0 and not initial):
                continue
            if initial or model.rng.random() < model.cfg["operators"]["entry_rate"]:
                cls._enter(model, int(c), int(k), float(demand[c, k]), float(profit[c, k]), False, initial)
        thin = ~worth_it & (demand >= model.cfg["planning"]["min_project_visits"]) & ~pending
        model.thin_market_months = np.where(thin, model.thin_market_months + 1, 0)
        if ps["soe_entry"] and not initial:
            for c, k in zip(*np.nonzero(model.thin_market_months >= ps["soe_wait_months"]), strict=True):
                cls._enter(model, int(c), int(k), float(demand[c, k]), float(profit[c, k]), True, False)
                model.thin_market_months[c, k] = 0

    @classmethod
    def _enter(cls, model: Model, c: int, k: int, demand: float, profit: float, state_owned: bool,
               initial: bool) -> None:
        """A new firm applies to open one facility at community ``c``'s centre, sized to the demand it saw."""
        cfg = model.cfg
        stake = cfg["linkage"]["interest_binding_stake"]
        franchise = cfg["profit_space"]["franchise"] and not state_owned and not initial
        if franchise:
            stake = min(1.0, stake + cfg["profit_space"]["franchise_stake"])
        firm = cls(model, state_owned, stake)
        cap = float(min(model.terms.max_capacity[k], max(demand, cfg["planning"]["min_project_visits"])))
        cell = int(model.layout.community_centroid_cell[c])
        Facility(model, cell, k, firm, cap, public=False, new_building=not cfg["profit_space"]["permit_exemption"],
                 needs_approval=not initial)
        model.entries[firm.kind] += 1
        model.this_month.entries += 1
        if franchise:
            model.franchisee[c] = firm.unique_id
        who = "A state-owned firm" if state_owned else "A firm"
        model.log(f"{who} applied to open {SERVICE_TYPES[k].replace('_', ' ')} in community {c}: "
                  f"expected profit {profit / 1000:.1f}k/month")


def _pending_market(model: Model) -> np.ndarray:
    """(community, service) markets where a market facility is already waiting for approval."""
    out = np.zeros((model.layout.n_communities, K), dtype=bool)
    for f in model.agents_by_type.get(Facility, []):
        if not f.public and not f.active:
            out[model.layout.community_of_cell[f.cell_index], f.service] = True
    return out


class SocialOrganization(Operator):
    """A social organisation (社会组织) living on purchase contracts (seed 004)."""

    kind = "social_org"

    def __init__(self, model: Model, community: int, stake: float):
        super().__init__(model, stake)
        self.community = community
        self.trust = model.cfg["operators"]["initial_trust"]

    @classmethod
    def found(cls, model: Model, community: int, contract: bool) -> SocialOrganization:
        """A new social organisation in ``community``; with ``contract``, it starts on a purchase
        contract for the community's largest need among the services social organisations run."""
        cfg = model.cfg
        so = cls(model, community, cfg["linkage"]["interest_binding_stake"])
        model.entries["social_org"] += 1
        model.this_month.entries += 1
        if contract:
            need = model.norm_need_per_community[community]
            options = [SERVICE_INDEX[s] for s in SOCIAL_ORG_SERVICES]
            k = max(options, key=lambda i: need[i])
            cap = min(model.terms.max_capacity[k], need[k] * cfg["social_orgs"]["contract_share_of_need"])
            Facility(model, int(model.layout.station_cell_of_community[community]), k, so, float(cap),
                     public=True, new_building=False, contracted=True, needs_approval=False, community=community)
        return so

    @property
    def autonomy(self) -> float:
        m = self.model
        so = m.cfg["social_orgs"]
        crowd = m.cfg["leading_group"]["autonomy_crowding"] * m.leading_group.authority
        return min(1.0, max(0.0, 1.0 - so["admin_dependence"] * m.cfg["government"]["admin_control"] - crowd))

    def quality_return(self) -> float:
        qc = self.model.cfg["quality"]
        return qc["mission"] * self.autonomy + self.model.quality_monitored * qc["monitoring_bonus"]

    def decision_right(self) -> float:
        """A dependent organisation follows its funder's instructions (seed 004: low autonomy)."""
        return self.autonomy


class MutualAidGroup(Operator):
    """Residents' volunteer group in one community: co-produces services.

    Output follows the co-production function Q = A·P^α·R^β of provider and
    resident inputs (``rules.coproduction_output``), recomputed every month
    from the community's volunteers by :meth:`organise`.
    """

    kind = "volunteers"
    knows_needs = True

    def __init__(self, model: Model, community: int):
        super().__init__(model)
        self.community = community

    @classmethod
    def found_all(cls, model: Model) -> list[MutualAidGroup]:
        """One group per community, with a facility for each co-produced service (no capacity yet)."""
        groups = []
        for c in range(model.layout.n_communities):
            group = cls(model, c)
            for s in COPRODUCED_SERVICES:
                Facility(model, int(model.layout.community_centroid_cell[c]), SERVICE_INDEX[s], group, 0.0,
                         public=True, new_building=False, needs_approval=False)
            groups.append(group)
        return groups

    @staticmethod
    def organise(model: Model) -> None:
        """Co-produced capacity of each community's group from its residents' volunteer hours (Q = A·P^α·R^β)."""
        cfg = model.cfg
        vol, link = cfg["volunteers"], cfg["linkage"]
        res, lay = model.residents, model.layout
        hours = np.bincount(res.community, weights=res.participation * vol["hours_per_participant"],
                            minlength=lay.n_communities)
        so_count = np.zeros(lay.n_communities)
        for so in model.agents_by_type.get(SocialOrganization, []):
            so_count[so.community] += 1
        organisers = vol["committee_organiser_input"] + vol["social_org_organiser_input"] * so_count \
            + vol["linkage_organiser_input"] * link["three_way_linkage"]
        output = vol["productivity"] * coproduction_output(organisers, hours, vol["alpha"], vol["beta"])
        weights = model.norm_need_per_community[:, [SERVICE_INDEX[s] for s in COPRODUCED_SERVICES]]
        weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        for group in model.mutual_aid:
            for j, f in enumerate(group.facilities):
                f.capacity = float(output[group.community] * weights[group.community, j])
        model.volunteer_hours = hours

    def quality_return(self) -> float:
        return self.model.cfg["quality"]["volunteer_quality"] * self.model.cfg["quality"]["cost"]

    def set_service(self) -> None:
        super().set_service()
        for f in self.facilities:
            f.voluntary = 0.0

    def can_exit(self) -> bool:
        return False


def learn_needs(model: Model, operators: list[Operator]) -> None:
    """Each operator updates what it believes every community it serves particularly needs, from this
    month's signal (``rules.update_belief``), and offers content there as far as its decision right lets
    it follow that belief (``rules.content_fit``; the template is the origin of the content space).

    Drawn for all (operator, community) pairs at once, in the operators' order.
    """
    pairs = [(op, c) for op in operators for c in sorted({f.community for f in op.facilities})]
    if not pairs:
        return
    cfg = model.cfg
    communities = np.array([c for _, c in pairs], dtype=np.int64)
    truth = model.particular_needs[communities]
    blank = np.zeros(CONTENT_DIMENSIONS)
    prior = np.array([op.beliefs.get(c, blank) for op, c in pairs])
    precision = np.array([op.information_precision() for op, _ in pairs])[:, None]
    belief = update_belief(prior, truth, precision, cfg["operators"]["content_learning"], model.rng)
    knows = np.array([op.knows_needs for op, _ in pairs])[:, None]
    belief = np.where(knows, truth, belief)
    right = np.array([op.decision_right() for op, _ in pairs])[:, None]
    fits = content_fit(right * belief, truth, cfg["quality"]["fit_tolerance"])
    for (op, c), b, fit in zip(pairs, belief, fits.tolist(), strict=True):
        op.beliefs[c] = b
        op.fits[c] = fit
