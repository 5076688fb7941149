"""Residents held as arrays (one row per resident).

Residents are the many agents of the model, so their state and decisions are
numpy arrays rather than Mesa agents: the same rules applied row-wise, about a
hundred times faster than per-agent Python (ENVIRONMENT.md). Organisations,
which are few and make richer decisions, are Mesa agents (``agents.py``).

Most of a resident's service use depends only on the cell it lives in (2SFCA
access is per cell), so the static per-resident sums that the cell-level
computation needs are aggregated once at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..config.params import GovernmentParams, NeedsParams, PopulationParams, SatisfactionParams
from ..domain import HOUSEHOLD_TYPES, K
from .rules import expectation_disconfirmation, likert
from .space import Layout

if TYPE_CHECKING:
    from .terms import ServiceTerms


def _unset() -> np.ndarray:
    """Placeholder for a state array that ``create_residents`` or ``prepare`` fills in."""
    return np.zeros(0)


@dataclass
class Residents:
    """Per-resident state; see docs/ODD.md "Entities" for each variable.

    ``population`` and ``satisfaction_params`` are the parameters of residents' rules (budgets, learning,
    rating); ``government`` says whether public services serve registered residents only (seed 000).
    """

    population: PopulationParams
    satisfaction_params: SatisfactionParams
    government: GovernmentParams
    cell: np.ndarray  # (N,) cell index
    community: np.ndarray  # (N,)
    household: np.ndarray  # (N,) index into HOUSEHOLD_TYPES
    registered: np.ndarray  # (N,) bool, local 户籍
    periphery: np.ndarray  # (N,) bool
    income: np.ndarray  # (N,) yuan / month
    need: np.ndarray  # (N, K) visits / month
    participation: np.ndarray  # (N,) probability of voicing / volunteering
    expectation: np.ndarray  # (N,) expected performance, 0–1
    performance: np.ndarray = field(default_factory=_unset)  # (N,) last experienced, 0–1
    satisfaction: np.ndarray = field(default_factory=_unset)  # (N,) Likert 1–5
    met_share: np.ndarray = field(default_factory=_unset)  # (N,) share of need met last step, 0–1
    issue_burden: np.ndarray = field(default_factory=_unset)  # (N,) performance lost to open issues this month
    # static aggregates filled by ``prepare``
    n_cells: int = 0
    need_total: np.ndarray = field(default_factory=_unset)  # (N,)
    public_demand: np.ndarray = field(default_factory=_unset)  # (N, K)
    market_afford: np.ndarray = field(default_factory=_unset)  # (N, K) share payable at market price

    @property
    def n(self) -> int:
        return len(self.cell)

    def cell_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum a (N,) or (N, K) array over the residents of each cell."""
        if values.ndim == 1:
            return np.bincount(self.cell, weights=values, minlength=self.n_cells)
        flat = self._flat_index
        return np.bincount(flat, weights=values.ravel(), minlength=self.n_cells * K).reshape(self.n_cells, K)

    def prepare(self, terms: ServiceTerms, n_cells: int, voucher_availability: np.ndarray | None = None) -> None:
        """Compute what changes only with prices and vouchers: eligibility, affordability, cell sums.

        ``voucher_availability`` (per service, 0–1) is the share of a voucher the
        fund honoured last time; residents plan purchases with the voucher they
        expect to get.
        """
        self.voucher_availability = np.ones(K) if voucher_availability is None else np.asarray(voucher_availability)
        self.n_cells = n_cells
        self._flat_index = (self.cell[:, None] * K + np.arange(K)[None, :]).ravel()
        price = terms.market_price
        guided = terms.guided_price
        voucher = terms.voucher * self.voucher_availability
        eligible = self.registered | (not self.government.registered_only)
        budget = self.population.service_budget_share * self.income
        # vouchers buy from market providers (firms, state-owned firms); public
        # facilities already charge the guided price (seed 001: vouchers create profit space)
        pub_net = np.broadcast_to(guided[None, :], self.need.shape)
        mkt_net = np.maximum(price[None, :] - voucher[None, :] * eligible[:, None], 0.0)
        self.need_total = self.need.sum(axis=1)
        self.public_demand = self.need * eligible[:, None] * _affordable(budget, self.need, pub_net)
        self.market_afford = _affordable(budget, self.need, mkt_net)
        self.voucher_eligible = eligible
        self.residents_per_cell_int = np.bincount(self.cell, minlength=n_cells)
        self.residents_per_cell = self.residents_per_cell_int.astype(float)
        if np.any(np.diff(self.cell) < 0):
            raise ValueError("residents must be sorted by cell")
        # weights of the per-cell tables in consume._cell_tables (public, market, overlap, free class)
        self.result_weights = np.hstack([self.public_demand, self.market_afford * self.need,
                                         -self.market_afford * self.public_demand, self.need]).astype(np.float32)
        # cell sums used every step (see model._consume)
        self.cell_public_demand = self.cell_sum(self.public_demand)
        self.public_demand_in_reach: np.ndarray | None = None  # its 2SFCA weighting, computed when first needed
        self.cell_market_need = self.cell_sum(self.market_afford * self.need)
        self.cell_market_public = self.cell_sum(self.market_afford * self.public_demand)
        self.cell_need = self.cell_sum(self.need)
        groups = np.column_stack([~self.periphery, self.periphery, self.registered, ~self.registered]).astype(float)
        # each column averages over one group; an empty group has no mean (outcomes report it missing)
        self.group_sizes = groups.sum(axis=0)
        self.group_weights = groups / np.maximum(self.group_sizes, 1.0)
        self.cell_needers = self.cell_sum((self.need > self.population.coverage_need_threshold).astype(float))
        self.cell_voucher_market_need = self.cell_sum(self.market_afford * self.need * eligible[:, None])
        self.cell_voucher_market_public = self.cell_sum(self.market_afford * self.public_demand * eligible[:, None])

    def update_satisfaction(self, performance: np.ndarray, rng: np.random.Generator) -> None:
        """Expectation–disconfirmation satisfaction and adaptive expectations (H1)."""
        sat = self.satisfaction_params
        latent = self.rate(performance, self.expectation, rng.normal(0.0, sat.noise_sd, self.n))
        self.latent_satisfaction = latent
        self.rated_expectation = self.expectation.copy()  # what this month's ratings were made against
        self.satisfaction = likert(latent, np.asarray(sat.cutpoints))
        self.expectation += sat.expectation_adaptation * (performance - self.expectation)
        self.performance = performance

    def rate(self, performance: np.ndarray, expectation: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Latent satisfaction of experienced ``performance`` against ``expectation`` (Van Ryzin 2004, 2006);
        the monthly rating and the survey's per-service ratings use this one rule."""
        sat = self.satisfaction_params
        return expectation_disconfirmation(performance, expectation, sat.intercept, sat.b_performance,
                                           sat.b_disconfirmation, noise)

    def rating_scale(self, latent: np.ndarray) -> np.ndarray:
        """Latent satisfaction on the 5-point scale by the calibrated cut-points."""
        return likert(latent, np.asarray(self.satisfaction_params.cutpoints))


def _affordable(budget: np.ndarray, need: np.ndarray, net_price: np.ndarray) -> np.ndarray:
    """Share of a resident's need it can pay for within its service budget."""
    bill = need * net_price
    return np.minimum(1.0, np.divide(budget[:, None], bill, out=np.ones_like(bill), where=bill > 0))


def create_residents(population: PopulationParams, needs: NeedsParams, satisfaction: SatisfactionParams,
                     government: GovernmentParams, layout: Layout, terms: ServiceTerms, rng: np.random.Generator) -> Residents:
    """Draw the initial population (ODD "Initialization")."""
    pop = population
    n = pop.residents
    # the urban fringe is less dense than the centre (seed 000 villages, seed 001 remote community)
    weight = np.where(layout.community_is_periphery[layout.community_of_cell], pop.periphery_density_ratio, 1.0)
    cell = np.sort(rng.choice(layout.n_cells, size=n, p=weight / weight.sum()))
    community = layout.community_of_cell[cell]
    periphery = layout.community_is_periphery[community]
    shares = pop.household_shares.array()
    household = rng.choice(len(HOUSEHOLD_TYPES), size=n, p=shares / shares.sum())
    # migrants (non-registered) concentrate in the periphery where rents are low
    weight = np.where(periphery, pop.migrant_periphery_ratio, 1.0)
    p_migrant = np.clip(pop.migrant_share * weight / weight.mean(), 0.0, 1.0)
    registered = rng.random(n) >= p_migrant
    income = pop.income_median * np.exp(rng.normal(0.0, pop.income_sigma, n))
    income *= np.where(periphery, pop.periphery_income_ratio, 1.0)
    base = np.array([getattr(needs, h).array() for h in HOUSEHOLD_TYPES])
    need = base[household] * np.exp(rng.normal(0.0, pop.need_sigma, (n, K)) - pop.need_sigma ** 2 / 2)
    participation = rng.beta(2.0, 2.0 * (1.0 / max(pop.participation_mean, 1e-6) - 1.0) + 1e-9, n)
    expectation = np.full(n, satisfaction.initial_expectation)
    res = Residents(
        population=population,
        satisfaction_params=satisfaction,
        government=government,
        cell=cell,
        community=community,
        household=household,
        registered=registered,
        periphery=periphery,
        income=income,
        need=need,
        participation=participation,
        expectation=expectation,
    )
    res.performance = np.zeros(n)
    res.satisfaction = np.full(n, 3, dtype=np.int8)
    res.met_share = np.zeros(n)
    res.prepare(terms, layout.n_cells)
    return res
