"""Operators (Mesa agents): who runs facilities, and the decisions each kind makes.

The government provider, private and state-owned firms, social organisations
and residents' mutual-aid groups each set the quality, fit and voluntary supply
of their facilities every month; social organisations are founded on contracts,
and operators that keep losing money exit. Firms' entry into markets is the
market's rule (``market.py``). Each decision is a rule from ``rules.py``. No
operator writes an outcome: outcomes are measured from what residents receive
(``outcomes.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from ..config.params import (
    GovernmentParams,
    LayoutParams,
    LinkageParams,
    OperatorsParams,
    QualityParams,
    SocialOrgsParams,
    SpaceParams,
    VolunteersParams,
)
from ..domain import CONTENT_DIMENSIONS, COPRODUCED_SERVICES, SERVICE_INDEX, SERVICE_TYPES, SOCIAL_ORG_SERVICES, K
from .facility import Facilities, Facility
from .institutions import Assessment, DemandChannel
from .rules import content_fit, coproduction_output, quality_effort, update_belief, voluntary_supply

if TYPE_CHECKING:
    from .government import LeadingGroup
    from .model import Model


@dataclass(frozen=True)
class OperatorRules:
    """What every operator's decisions depend on: the same for all operators of a run."""

    operators: OperatorsParams
    quality: QualityParams
    linkage: LinkageParams
    assessment: Assessment  # whether contracts monitor quality
    channel: DemandChannel  # residents' reports reach operators through it when the loop is closed
    trust_growth: float  # monthly growth of residents' trust (institutions.trust_growth)

    def information_precision(self, trust: np.ndarray) -> np.ndarray:
        """Precision of an operator's monthly signal of what a community particularly needs: contact with its
        users (which grows with their ``trust``) and, where the feedback loop is closed, residents' reports
        through the channel (seed 003: full-process grid; seed 004: outsiders lack the neighbourhood's social
        capital)."""
        return (self.operators.contact_information * trust
                + self.linkage.channel_information * self.channel.feedback_loop * self.channel.reach)


class Operator(Agent):
    """Anything that runs facilities; subclasses set how quality is rewarded."""

    kind = "operator"
    knows_needs = False  # residents organising themselves know what their community needs
    offers_free_visits = True  # with a stake in outcomes (residents' own groups co-produce instead)

    def __init__(self, model: Model, rules: OperatorRules, stake: float = 0.0):
        super().__init__(model)
        self.rules = rules
        self.facilities: list[Facility] = []
        self.books_row = -1  # its row in the ``Books`` once it has booked a result
        self.stake = stake
        self.trust = 1.0
        self.cost_factor = 1.0  # its unit costs relative to the type's (firms differ, §7.5)
        self.beliefs_row = -1  # its row in the model's ``NeedBeliefs`` once it has learnt about a community

    @property
    def beliefs(self) -> dict[int, np.ndarray]:
        """What it believes each community it has served particularly needs, by community (an outsider starts from
        the template; ``Roster.learn_needs``)."""
        return self.model.need_beliefs.of(self.beliefs_row)

    def quality_return(self) -> float:
        raise NotImplementedError

    def decision_right(self) -> float:
        """Share of its services' content it decides itself; the rest follows the street office's template."""
        return 1.0

    # An operator's return to quality and its decision right follow from what every operator of its kind shares
    # (the run's ``OperatorRules``, the district's institutions, its kind's parameters), so a kind is asked once
    # a month for all its operators; a kind whose operators differ (firms: their contracts) overrides these.
    @classmethod
    def quality_returns(cls, members: Sequence[Operator], holds_contract: np.ndarray) -> np.ndarray | float:
        """The return to quality of each of ``members``, operators of this kind (``holds_contract``: whether
        each holds a purchase contract)."""
        return members[0].quality_return()

    @classmethod
    def decision_rights(cls, members: Sequence[Operator]) -> np.ndarray | float:
        """The decision right of each of ``members``, operators of this kind."""
        return members[0].decision_right()

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
        m.market.record_exit(self)
        m.this_month.exits += 1
        what = ", ".join(SERVICE_TYPES[f.service].replace("_", " ") for f in self.facilities) or "no service"
        m.log(f"A {self.kind.replace('_', ' ')} closed ({what}): losses for {self.rules.operators.exit_patience} months")
        self.facilities = []
        self.remove()


class Books:
    """The monthly results firms and social organisations booked over the exit rule's memory
    (``operators.exit_patience`` months), in whole fen, so that a sum of results is exact.

    One row per operator, in one array: a month's bookings and the exit rule are then one operation for all
    operators rather than a method call each (docs/performance.md).
    """

    def __init__(self, patience: int):
        self.results = np.zeros((0, patience), dtype=np.int64)  # each row a ring of its last ``patience`` months
        self.booked = np.zeros(0, dtype=np.int64)  # months each row has booked

    def book(self, operators: Sequence[Operator], results: np.ndarray) -> np.ndarray:
        """Book each operator's month (``results`` in fen); returns which have booked a full memory of months and
        lost money over it, and so would exit (docs/ODD.md §7.5, Exit)."""
        rows = self._rows(operators)
        patience = self.results.shape[1]
        self.results[rows, self.booked[rows] % patience] = results
        self.booked[rows] += 1
        return (self.booked[rows] >= patience) & (self.results[rows].sum(axis=1) < 0)

    def _rows(self, operators: Sequence[Operator]) -> np.ndarray:
        """The operators' rows, opening an empty one for each operator booking its first month."""
        rows, new = rows_of(operators, "books_row", len(self.booked))
        if new:
            self.results = np.vstack([self.results, np.zeros((new, self.results.shape[1]), dtype=np.int64)])
            self.booked = np.concatenate([self.booked, np.zeros(new, dtype=np.int64)])
        return rows


class NeedBeliefs:
    """What operators believe the communities they have served particularly need (a point of the content space),
    one row per (operator, community) pair in one array, sorted by pair: a month's learning reads and writes every
    pair in one operation instead of a dictionary entry each (docs/performance.md). Only pairs an operator has
    learnt about are kept (a million-resident district has thousands of operators and of communities, each
    operator serving a few); any other community is believed to need the template (the origin)."""

    def __init__(self, n_communities: int):
        self.n_communities = n_communities
        self.operators = 0  # operators numbered so far (``Operator.beliefs_row``)
        self.pairs = np.zeros(0, dtype=np.int64)  # operator row × n_communities + community, ascending
        self.values = np.zeros((0, CONTENT_DIMENSIONS))

    def pairs_of(self, operators: Sequence[Operator], owner: np.ndarray, communities: np.ndarray) -> np.ndarray:
        """The pair keys of ``operators[owner]`` and ``communities``, numbering operators learning for the first
        time."""
        rows, new = rows_of(operators, "beliefs_row", self.operators)
        self.operators += new
        return rows[owner] * self.n_communities + communities

    def recall(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What each pair believes (the template for a pair not learnt yet), with where each pair is or would go
        in the table and whether it is there (for :meth:`learn`)."""
        at = np.searchsorted(self.pairs, pairs)
        known = np.zeros(len(pairs), dtype=bool)
        inside = at < len(self.pairs)
        known[inside] = self.pairs[at[inside]] == pairs[inside]
        beliefs = np.zeros((len(pairs), CONTENT_DIMENSIONS))
        beliefs[known] = self.values[at[known]]
        return beliefs, at, known

    def learn(self, pairs: np.ndarray, beliefs: np.ndarray, at: np.ndarray, known: np.ndarray) -> None:
        """Each of ``pairs`` (distinct; ``at`` and ``known`` from :meth:`recall`) now believes the matching row of
        ``beliefs``; new pairs join the table in order."""
        self.values[at[known]] = beliefs[known]
        if not known.all():
            new = ~known
            pairs, values = np.concatenate([self.pairs, pairs[new]]), np.concatenate([self.values, beliefs[new]])
            order = np.argsort(pairs, kind="stable")
            self.pairs, self.values = pairs[order], values[order]

    def of(self, row: int) -> dict[int, np.ndarray]:
        """The beliefs of operator ``row`` by community (none for −1: an operator that has learnt nothing yet)."""
        mine = np.flatnonzero(self.pairs // self.n_communities == row) if row >= 0 else np.zeros(0, dtype=np.int64)
        return {int(self.pairs[i] % self.n_communities): self.values[i] for i in mine.tolist()}


def rows_of(operators: Sequence[Operator], attribute: str, opened: int) -> tuple[np.ndarray, int]:
    """Each operator's row in a table of ``opened`` rows (its ``attribute``), numbering the next rows for those
    without one (−1) in the operators' order; returns the rows and how many were numbered."""
    rows = np.fromiter((getattr(op, attribute) for op in operators), dtype=np.int64, count=len(operators))
    new = np.flatnonzero(rows < 0)
    if len(new):
        rows[new] = opened + np.arange(len(new))
        for i, row in zip(new.tolist(), rows[new].tolist(), strict=True):
            setattr(operators[i], attribute, row)
    return rows, len(new)


class GovernmentProvider(Operator):
    """Street-office-run services with posted staff (administrative control)."""

    kind = "government"

    def __init__(self, model: Model, rules: OperatorRules, *, government: GovernmentParams, layout: LayoutParams,
                 space: SpaceParams):
        super().__init__(model, rules)
        self.government = government
        self.layout = layout
        self.space = space

    def quality_return(self) -> float:
        qc = self.rules.quality
        # low-powered incentive: staff keep only a fraction of gains (HSV 1997)
        return qc.government_base + self.rules.assessment.quality_monitored * qc.monitoring_bonus * qc.government_pass_through

    def decision_right(self) -> float:
        """Under administrative control the street office decides hours and content (seed 001 takeover)."""
        return 1.0 - self.government.admin_control

    def open_centres(self) -> None:
        """One service centre per station, sized by floor area, open from the start.

        Capacity follows the national norm of ``layout.centre_m2_per_100_households``
        (seed 000; 2024 embedded-facility guideline) spread over all seven
        services in proportion to average need: the fragmented baseline of
        windows that do not follow local demand (seed 004).
        """
        m = self.model
        lay = m.layout
        households = np.bincount(lay.station_of_community[m.residents.community]) / self.space.household_size
        area = households / 100.0 * self.layout.centre_m2_per_100_households
        need_share = m.residents.need.sum(axis=0) / m.residents.need.sum()
        for station in range(len(area)):
            comm = int(np.flatnonzero(lay.station_of_community == station)[0])
            cell = int(lay.station_cell_of_community[comm])
            cap = area[station] * self.layout.visits_per_m2 * need_share
            for k in range(K):
                Facility(m, cell, k, self, float(cap[k]), public=True, new_building=False, needs_approval=False)

    def can_exit(self) -> bool:
        return False


class Firm(Operator):
    """A private or state-owned firm; it enters and exits markets by expected profit (``market.Market``)."""

    def __init__(self, model: Model, rules: OperatorRules, state_owned: bool, stake: float):
        super().__init__(model, rules, stake)
        self.state_owned = state_owned
        self.kind = "state_owned" if state_owned else "firm"
        self.trust = rules.operators.initial_trust
        # its efficiency: log of its unit costs relative to the type's, drawn from the stationary distribution
        # of ``Market.evolve_costs`` (it learns it once it operates; Jovanovic 1982)
        sigma = rules.operators.cost_dispersion
        self.log_cost = float(model.rng.normal(0.0, sigma)) if sigma > 0 else 0.0
        self.cost_factor = float(np.exp(self.log_cost - sigma**2 / 2))  # mean 1 over firms

    def quality_return(self) -> float:
        return float(self.quality_returns([self], np.asarray(any(f.contracted for f in self.facilities))))

    @classmethod
    def quality_returns(cls, members: Sequence[Operator], holds_contract: np.ndarray) -> np.ndarray:
        """A firm earns the market's return to quality, and a bonus where it holds a purchase contract whose
        quality is monitored."""
        rules = members[0].rules
        qc = rules.quality
        return qc.market_return + rules.assessment.quality_monitored * holds_contract * qc.monitoring_bonus


class SocialOrganization(Operator):
    """A social organisation (社会组织) living on purchase contracts (seed 004)."""

    kind = "social_org"

    def __init__(self, model: Model, rules: OperatorRules, community: int, stake: float, *,
                 social_orgs: SocialOrgsParams, government: GovernmentParams, leading_group: LeadingGroup):
        super().__init__(model, rules, stake)
        self.community = community
        self.trust = rules.operators.initial_trust
        self.social_orgs = social_orgs
        self.government = government
        self.leading_group = leading_group  # its authority crowds out autonomy (leading_group.autonomy_crowding)

    @classmethod
    def found(cls, model: Model, community: int, contract: bool) -> SocialOrganization:
        """A new social organisation in ``community``; with ``contract``, it starts on a purchase
        contract for the community's largest need among the services social organisations run."""
        cfg = model.config
        so = cls(model, model.operator_rules, community, cfg.linkage.interest_binding_stake,
                 social_orgs=cfg.social_orgs, government=cfg.government, leading_group=model.leading_group)
        model.market.record_entry(so)
        model.this_month.entries += 1
        if contract:
            need = model.norm_need_per_community[community]
            options = [SERVICE_INDEX[s] for s in SOCIAL_ORG_SERVICES]
            k = max(options, key=lambda i: need[i])
            cap = min(model.terms.max_capacity[k], need[k] * cfg.social_orgs.contract_share_of_need)
            Facility(model, int(model.layout.station_cell_of_community[community]), k, so, float(cap),
                     public=True, new_building=False, contracted=True, needs_approval=False, community=community)
        return so

    @property
    def autonomy(self) -> float:
        crowd = self.leading_group.params.autonomy_crowding * self.leading_group.authority
        return min(1.0, max(0.0, 1.0 - self.social_orgs.admin_dependence * self.government.admin_control - crowd))

    def quality_return(self) -> float:
        qc = self.rules.quality
        return qc.mission * self.autonomy + self.rules.assessment.quality_monitored * qc.monitoring_bonus

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
    offers_free_visits = False

    def __init__(self, model: Model, rules: OperatorRules, community: int):
        super().__init__(model, rules)
        self.community = community

    @classmethod
    def found_all(cls, model: Model) -> list[MutualAidGroup]:
        """One group per community, with a facility for each co-produced service (no capacity yet)."""
        groups = []
        for c in range(model.layout.n_communities):
            group = cls(model, model.operator_rules, c)
            for s in COPRODUCED_SERVICES:
                Facility(model, int(model.layout.community_centroid_cell[c]), SERVICE_INDEX[s], group, 0.0,
                         public=True, new_building=False, needs_approval=False)
            groups.append(group)
        return groups

    @staticmethod
    def organise(model: Model, groups: list[MutualAidGroup], volunteers: VolunteersParams,
                 three_way_linkage: float) -> np.ndarray:
        """Co-produced capacity of each community's group from its residents' volunteer hours (Q = A·P^α·R^β);
        returns the hours volunteered, by community."""
        vol = volunteers
        res, lay = model.residents, model.layout
        hours = np.bincount(res.community, weights=res.participation * vol.hours_per_participant,
                            minlength=lay.n_communities)
        so_count = np.bincount(np.array([so.community for so in model.agents_by_type.get(SocialOrganization, [])],
                                        dtype=np.int64), minlength=lay.n_communities).astype(float)
        organisers = vol.committee_organiser_input + vol.social_org_organiser_input * so_count \
            + vol.linkage_organiser_input * three_way_linkage
        output = vol.productivity * coproduction_output(organisers, hours, vol.alpha, vol.beta)
        weights = model.norm_need_per_community[:, [SERVICE_INDEX[s] for s in COPRODUCED_SERVICES]]
        weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        capacity = (output[:, None] * weights).tolist()
        # a group's facilities are its co-produced services, in their order
        facilities = [f for group in groups for f in group.facilities]
        model.facilities.capacity[model.facilities.rows(facilities)] = [
            value for group in groups for value in capacity[group.community][:len(group.facilities)]]
        return hours

    def quality_return(self) -> float:
        return self.rules.quality.volunteer_quality * self.rules.quality.cost

    def can_exit(self) -> bool:
        return False


@dataclass(frozen=True)
class Roster:
    """This month's operators and their facilities, as arrays.

    Every operator decides by the same rules from its own state, so one array operation per rule gives each
    operator's own decision; the steps below read as the month's verbs (gain trust, learn needs, set service).
    """

    operators: list[Operator]
    facilities: list[Facility]  # every operator's facilities in turn, approving ones too
    owner: np.ndarray  # (F,) each facility's operator, an index into ``operators``
    kinds: tuple[tuple[type[Operator], slice], ...]  # each kind's operators, one slice of ``operators`` each
    table: Facilities  # the facilities' state
    rows: np.ndarray  # (F,) each facility's row in ``table``

    @classmethod
    def of(cls, kinds: Sequence[Sequence[Operator]], table: Facilities) -> Roster:
        """The roster of operators listed kind by kind (every operator in ``kinds[i]`` is of one class)."""
        operators = [op for members in kinds for op in members]
        facilities = [f for op in operators for f in op.facilities]
        owner = np.repeat(np.arange(len(operators)), [len(op.facilities) for op in operators])
        ends = np.cumsum([len(members) for members in kinds]).tolist()
        slices = tuple((type(members[0]), slice(end - len(members), end))
                       for members, end in zip(kinds, ends, strict=True) if members)
        return cls(operators, facilities, owner, slices, table, table.rows(facilities))

    def by_kind(self, decision: Callable[[type[Operator], list[Operator], slice], np.ndarray | float]) -> np.ndarray:
        """A kind-level ``decision`` (``Operator.quality_returns``, ``Operator.decision_rights``) of every
        operator, in the roster's order: each kind decides for its own operators (``decision(kind, members,
        rows)``, ``rows`` their places in the roster)."""
        out = np.empty(len(self.operators))
        for kind, rows in self.kinds:
            out[rows] = decision(kind, self.operators[rows], rows)
        return out

    def kind_flag(self, name: str) -> np.ndarray:
        """A yes-or-no trait every operator of a kind shares (a class attribute such as ``knows_needs``), for every
        operator in the roster's order."""
        return self.by_kind(lambda kind, _members, _rows: getattr(kind, name)) > 0

    def quality_returns(self) -> np.ndarray:
        """Each operator's return to quality (``Operator.quality_return``), asked of each kind for its operators."""
        contracted = self.table.contracted[self.rows]
        holds_contract = np.bincount(self.owner[contracted], minlength=len(self.operators)) > 0
        return self.by_kind(lambda kind, members, rows: kind.quality_returns(members, holds_contract[rows]))

    def decision_rights(self) -> np.ndarray:
        """Each operator's decision right (``Operator.decision_right``), asked of each kind for its operators."""
        return self.by_kind(lambda kind, members, rows: kind.decision_rights(members))

    def read(self, name: str) -> np.ndarray:
        """One attribute of every operator, in the roster's order."""
        return np.array([getattr(op, name) for op in self.operators], dtype=float)

    def gain_trust(self, rules: OperatorRules) -> np.ndarray:
        """Residents' trust in an operator grows with the months it has served them (seed 004); returns it."""
        trust = self.read("trust")
        trust = trust + rules.trust_growth * (1.0 - trust)
        for op, value in zip(self.operators, trust.tolist(), strict=True):
            op.trust = value
        return trust

    def learn_needs(self, model: Model, rules: OperatorRules, trust: np.ndarray) -> np.ndarray:
        """Each operator updates what it believes every community it serves particularly needs, from this
        month's signal (``rules.update_belief``), and offers content there as far as its decision right lets
        it follow that belief (``rules.content_fit``; the template is the origin of the content space).
        Returns each facility's fit.

        Drawn for all (operator, community) pairs at once, in the operators' order and each operator's
        communities in ascending order.
        """
        if not self.facilities:
            return np.zeros(0)
        n_communities = model.layout.n_communities
        communities = self.table.community[self.rows]
        pair_keys, pair_of_facility = np.unique(self.owner * n_communities + communities, return_inverse=True)
        owner, community = np.divmod(pair_keys, n_communities)
        truth = model.particular_needs[community]
        beliefs = model.need_beliefs
        pairs = beliefs.pairs_of(self.operators, owner, community)
        # what an operator knows and decides is its own, the same in every community it serves
        precision = rules.information_precision(trust)[owner, None]
        prior, at, known = beliefs.recall(pairs)
        belief = update_belief(prior, truth, precision, rules.operators.content_learning, model.rng)
        belief = np.where(self.kind_flag("knows_needs")[owner, None], truth, belief)
        beliefs.learn(pairs, belief, at, known)
        right = self.decision_rights()[owner, None]
        return content_fit(right * belief, truth, rules.quality.fit_tolerance)[pair_of_facility]

    def set_service(self, model: Model, rules: OperatorRules, trust: np.ndarray, fit: np.ndarray,
                    pay_expected: np.ndarray) -> None:
        """Each operator sets quality, fit and voluntary supply of each of its facilities for this month.

        Quality is the effort its incentives pay for (``rules.quality_effort``), delivered as far as residents'
        trust lets it; an operator with a stake offers free visits (``rules.voluntary_supply``): a free visit
        costs the visit at this quality, and the stake is worth the share of outcome-linked pay the operator
        expects the fund to honour (``pay_expected``, per service: ``settle.Settlement.binding_pay_expected``;
        free visits meet need nobody else met, so they displace no sale of its own).
        """
        ops, quality, terms = rules.operators, rules.quality, model.terms
        owner = self.owner
        q = quality_effort(self.quality_returns(), quality.cost, quality.floor)
        effective = (q * (ops.trust_floor + (1.0 - ops.trust_floor) * trust))[owner]
        table, rows = self.table, self.rows
        service, capacity = table.service[rows], table.capacity[rows]
        cost = terms.unit_cost[service] * self.read("cost_factor")[owner] * (1.0 + ops.quality_cost_share * effective)
        stake = self.read("stake")[owner]
        offers = (stake > 0.0) & self.kind_flag("offers_free_visits")[owner]
        voluntary = np.where(offers, voluntary_supply(stake * pay_expected[service], terms.outcome_value[service],
                                                      cost, capacity * rules.linkage.voluntary_base_share), 0.0)
        table.quality[rows], table.fit[rows], table.voluntary[rows] = effective, fit, voluntary
