"""The market for community services: firms enter and exit by expected profit; the state fills thin markets.

A potential entrant at a community's centre sees the paying demand left
unserved around it last month (``consume.Consumption.unmet_market_reach``) and
enters where expected after-tax profit pays the required return on the capital
it ties up (Bresnahan & Reiss 1991). Profit-space rules (seed 001) act on that
decision: subsidies raise the margin, rent-free space lowers the fixed cost, tax
relief lowers the tax, franchising grants one firm a community, state-owned
firms enter markets that stay thin. Firms' efficiency drifts, so some become
unprofitable and exit (Hopenhayn 1992). The market also keeps the count of
outside operators (firms, state-owned firms, social organisations) that entered
and exited since the start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config.params import LinkageParams, PlanningParams, ProfitSpaceParams
from ..domain import SERVICE_TYPES, K
from .facility import Facility
from .operators import Firm, Operator, OperatorRules
from .rules import enters_market, expected_firm_profit, outcome_pay_surplus

if TYPE_CHECKING:
    from .model import Model

OUTSIDE_KINDS = ("firm", "state_owned", "social_org")


class Market:
    """Entry, exit and costs of firms, by (community, service) market."""

    def __init__(self, model: Model, rules: OperatorRules, profit_space: ProfitSpaceParams, linkage: LinkageParams,
                 planning: PlanningParams):
        self.model = model
        self.rules = rules
        self.profit_space = profit_space
        self.linkage = linkage  # the interest-binding stake every new operator gets
        self.planning = planning  # the smallest market worth a facility (planning.min_project_visits)
        n = model.layout.n_communities
        self.thin_market_months = np.zeros((n, K))
        self.franchisee = np.full(n, -1)  # the franchised firm's id per community, −1: none
        self.entries = dict.fromkeys(OUTSIDE_KINDS, 0)  # since the start, by kind
        self.exits = dict.fromkeys(OUTSIDE_KINDS, 0)

    def record_entry(self, operator: Operator) -> None:
        self.entries[operator.kind] += 1

    def record_exit(self, operator: Operator) -> None:
        """An operator left: count it, and free its community's franchise if it held one."""
        self.exits[operator.kind] += 1
        if self.profit_space.franchise and isinstance(operator, Firm):
            self.franchisee[self.franchisee == operator.unique_id] = -1

    def evolve_costs(self) -> None:
        """Each firm's efficiency drifts: its log cost factor is an AR(1) with persistence ρ and stationary
        log-sd σ (x ← ρx + √(1 − ρ²)·σ·ε), so a firm can become unprofitable and exit and there are no
        permanent survivors: entry and exit go on in a stationary state (Hopenhayn 1992; persistence and
        dispersion of productivity: Foster, Haltiwanger & Syverson 2008; Syverson 2011)."""
        model = self.model
        firms = list(model.agents_by_type.get(Firm, []))
        sigma, rho = self.rules.operators.cost_dispersion, self.rules.operators.cost_persistence
        if not firms or sigma <= 0:
            return
        x = np.array([f.log_cost for f in firms])
        x = rho * x + np.sqrt(1.0 - rho**2) * sigma * model.rng.standard_normal(len(firms))
        factor = np.exp(x - sigma**2 / 2)
        for f, xi, ci in zip(firms, x.tolist(), factor.tolist(), strict=True):
            f.log_cost, f.cost_factor = xi, ci

    # ------------------------------------------------------------------ entry
    def expected_profit(self, unmet_market_reach: np.ndarray, pay_expected: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Demand a newcomer could capture and its expected monthly after-tax profit, by (community, service).

        A potential entrant at a community's centre sees the paying demand left
        unserved around it last month and expects the type's average unit cost (it
        cannot know its own efficiency before it operates); rent-free space removes the rent part of the fixed cost
        and tax relief lowers the tax on profit (profit space, seed 001). With a stake in residents' outcomes
        it also counts the net income it expects from outcome-linked pay, at the share of it operators expect
        the street office to honour (``pay_expected``, by service; all of it if not given).
        """
        terms, ps, ops = self.model.terms, self.profit_space, self.rules.operators
        demand = unmet_market_reach * ops.capture_share
        rent = terms.fixed_cost * ops.rent_share * (1.0 if not ps.rent_free_space else 0.0)
        fixed = terms.fixed_cost * (1 - ops.rent_share) + rent
        tax = ops.profit_tax_rate * (1.0 - ps.tax_relief)
        volume = np.minimum(demand, terms.max_capacity[None, :])
        honoured = np.ones(K) if pay_expected is None else pay_expected
        outcome = outcome_pay_surplus(self.linkage.interest_binding_stake, honoured[None, :], terms.outcome_value[None, :],
                                      terms.unit_cost[None, :], volume * self.linkage.voluntary_base_share)
        profit = expected_firm_profit(
            demand, terms.max_capacity[None, :], terms.market_price[None, :], terms.subsidy[None, :],
            terms.unit_cost[None, :], fixed[None, :], tax, outcome,
        )
        return demand, profit

    def enter(self, unmet_market_reach: np.ndarray, pay_expected: np.ndarray | None = None, initial: bool = False) -> None:
        """Firms enter markets with positive expected profit (Bresnahan & Reiss rule); state-owned
        firms fill markets that stay thin. ``initial``: the firms already present at the start
        enter by the same rule, at once and without approvals."""
        model, ps = self.model, self.profit_space
        demand, profit = self.expected_profit(unmet_market_reach, pay_expected)
        capital = model.terms.fixed_cost * model.terms.capital_months
        worth_it = enters_market(profit, capital[None, :], self.rules.operators.required_return)
        pending = self._pending()
        for c, k in zip(*np.nonzero(worth_it), strict=True):
            if pending[c, k] or (self.franchisee[c] >= 0 and not initial):
                continue
            if initial or model.rng.random() < self.rules.operators.entry_rate:
                self._enter(int(c), int(k), float(demand[c, k]), float(profit[c, k]), False, initial)
        thin = ~worth_it & (demand >= self.planning.min_project_visits) & ~pending
        self.thin_market_months = np.where(thin, self.thin_market_months + 1, 0)
        if ps.soe_entry and not initial:
            for c, k in zip(*np.nonzero(self.thin_market_months >= ps.soe_wait_months), strict=True):
                self._enter(int(c), int(k), float(demand[c, k]), float(profit[c, k]), True, False)
                self.thin_market_months[c, k] = 0

    def _enter(self, c: int, k: int, demand: float, profit: float, state_owned: bool, initial: bool) -> None:
        """A new firm applies to open one facility at community ``c``'s centre, sized to the demand it saw."""
        model, ps = self.model, self.profit_space
        stake = self.linkage.interest_binding_stake
        franchise = ps.franchise and not state_owned and not initial
        if franchise:
            stake = min(1.0, stake + ps.franchise_stake)
        firm = Firm(model, self.rules, state_owned, stake)
        cap = float(min(model.terms.max_capacity[k], max(demand, self.planning.min_project_visits)))
        cell = int(model.layout.community_centroid_cell[c])
        Facility(model, cell, k, firm, cap, public=False, new_building=not ps.permit_exemption, needs_approval=not initial)
        self.record_entry(firm)
        model.this_month.entries += 1
        if franchise:
            self.franchisee[c] = firm.unique_id
        who = "A state-owned firm" if state_owned else "A firm"
        model.log(f"{who} applied to open {SERVICE_TYPES[k].replace('_', ' ')} in community {c}: "
                  f"expected profit {profit / 1000:.1f}k/month")

    def _pending(self) -> np.ndarray:
        """(community, service) markets where a market facility is already waiting for approval."""
        model, table = self.model, self.model.facilities
        out = np.zeros((model.layout.n_communities, K), dtype=bool)
        rows = table.waiting()
        rows = rows[~table.public[rows]]
        out[model.layout.community_of_cell[table.cell_index[rows]], table.service[rows]] = True
        return out
