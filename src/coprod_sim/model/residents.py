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

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..config.params import GovernmentParams, NeedsParams, PopulationParams, SatisfactionParams
from ..domain import HOUSEHOLD_TYPES, K
from .rules import expectation_disconfirmation, likert
from .space import Layout

if TYPE_CHECKING:
    from .terms import ServiceTerms


class PlannedPrices(NamedTuple):
    """(K,) prices residents planned their purchases with at the last ``Residents.prepare``."""

    guided: np.ndarray  # yuan / visit at public facilities
    market: np.ndarray  # yuan / visit at firms
    voucher: np.ndarray  # yuan / visit residents expect a voucher to be worth (voucher × availability)


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
    # static aggregates filled by ``prepare`` (0 cells: not prepared yet)
    n_cells: int = 0
    prepared_registered_only: bool | None = None  # the eligibility rule the tables were prepared under
    need_total: np.ndarray = field(default_factory=_unset)  # (N,)
    result_weights: np.ndarray = field(default_factory=_unset)  # (N, 4K) see ``_prepare_cell_tables``

    @property
    def n(self) -> int:
        return len(self.cell)

    def prepare(self, terms: ServiceTerms, n_cells: int, voucher_availability: np.ndarray | None = None) -> None:
        """Compute what changes only with prices and vouchers: eligibility, affordability, cell sums.

        ``voucher_availability`` (per service, 0–1) is the share of a voucher the
        fund honoured last time; residents plan purchases with the voucher they
        expect to get.
        """
        availability = np.ones(K) if voucher_availability is None else np.asarray(voucher_availability)
        # the prices residents plan with until the next ``prepare``, whatever the terms do meanwhile
        prices = PlannedPrices(terms.guided_price.copy(), terms.market_price.copy(), terms.voucher * availability)
        if self._prepared_for(prices, availability, n_cells):
            return  # a policy that leaves prices, vouchers and eligibility alone: every table would come out the same
        self.voucher_availability = availability
        self.n_cells = n_cells
        self.planned_prices = prices
        self.prepared_registered_only = self.government.registered_only
        self.voucher_eligible = self.registered | (not self.government.registered_only)
        self.need_total = self.need.sum(axis=1)
        self.residents_per_cell_int = np.bincount(self.cell, minlength=n_cells)
        self.residents_per_cell = self.residents_per_cell_int.astype(float)
        if np.any(np.diff(self.cell) < 0):
            raise ValueError("residents must be sorted by cell")
        self.cell_blocks = cell_blocks(self.residents_per_cell_int)
        self._prepare_cell_tables()
        self.public_demand_in_reach: np.ndarray | None = None  # its 2SFCA weighting, computed when first needed
        groups = np.column_stack([~self.periphery, self.periphery, self.registered, ~self.registered]).astype(float)
        # each column averages over one group; an empty group has no mean (outcomes report it missing)
        self.group_sizes = groups.sum(axis=0)
        self.group_weights = groups / np.maximum(self.group_sizes, 1.0)

    def _prepare_cell_tables(self) -> None:
        """The weights of the per-cell tables in ``consume._cell_tables`` (public, market, overlap, free class)
        and the per-cell sums a month's use starts from (``consume.use_services``).

        Computed a block of cells at a time, so that preparing a million residents holds a block's temporaries
        rather than several (N, K) tables; a cell's residents are all in one block and are summed in their order.
        """
        shape = (self.n, 4 * K)  # refilled in place when re-prepared
        if self.result_weights.shape != shape:
            self.result_weights = np.empty(shape, np.float32)
        weights = self.result_weights
        names = ("public_demand", "market_need", "market_public", "need", "needers", "voucher_market_need",
                 "voucher_market_public")
        sums = {name: np.empty((self.n_cells, K)) for name in names}
        for cells, rows in cell_blocks(self.residents_per_cell_int, RESIDENTS_PER_PREPARED_BLOCK):
            public, market = self._planned_demand(rows)
            need, eligible = self.need[rows], self.voucher_eligible[rows, None]
            market_need, market_public = market * need, market * public
            for part, value in enumerate((public, market_need, -market_public, need)):
                weights[rows, part * K:(part + 1) * K] = value
            values = (public, market_need, market_public, need,
                      (need > self.population.coverage_need_threshold).astype(float),
                      market_need * eligible, market_public * eligible)
            size = cells.stop - cells.start
            flat = ((self.cell[rows] - cells.start)[:, None] * K + np.arange(K)[None, :]).ravel()  # (cell, type)
            for name, value in zip(names, values, strict=True):
                sums[name][cells] = np.bincount(flat, weights=value.ravel(), minlength=size * K).reshape(size, K)
        self.cell_public_demand, self.cell_market_need = sums["public_demand"], sums["market_need"]
        self.cell_market_public, self.cell_need, self.cell_needers = (sums["market_public"], sums["need"],
                                                                       sums["needers"])
        self.cell_voucher_market_need = sums["voucher_market_need"]
        self.cell_voucher_market_public = sums["voucher_market_public"]

    def _prepared_for(self, prices: PlannedPrices, availability: np.ndarray, n_cells: int) -> bool:
        """Whether the tables were prepared with these prices, vouchers, cells and eligibility rule (residents'
        own attributes never change, so ``prepare`` would then recompute the same values)."""
        return (self.n_cells == n_cells and self.prepared_registered_only == self.government.registered_only
                and np.array_equal(self.voucher_availability, availability)
                and all(np.array_equal(a, b) for a, b in zip(self.planned_prices, prices, strict=True)))

    # The prepared per-resident demand is derived when read rather than kept: at a million residents the two
    # (N, K) tables would be a fifth of the model's memory, and only ``prepare`` and diagnostics read them.
    @property
    def public_demand(self) -> np.ndarray:
        """(N, K) need that is eligible for, and affordable at, the guided price of public facilities."""
        return self._planned_demand()[0]

    @property
    def market_afford(self) -> np.ndarray:
        """(N, K) share of need payable at the market price, net of the voucher the eligible expect."""
        return self._planned_demand()[1]

    def _planned_demand(self, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Public demand and market affordability (``public_demand``, ``market_afford``) of the residents in
        ``rows`` at the planned prices. Vouchers buy from market providers; public facilities already charge
        the guided price (seed 001: vouchers create profit space)."""
        need, eligible = self.need[rows], self.voucher_eligible[rows, None]
        budget = self.population.service_budget_share * self.income[rows]
        prices = self.planned_prices
        public = need * eligible
        public *= _affordable(budget, need, np.broadcast_to(prices.guided[None, :], need.shape))
        market_net = np.maximum(prices.market[None, :] - prices.voucher[None, :] * eligible, 0.0)
        return public, _affordable(budget, need, market_net)

    def update_satisfaction(self, performance: np.ndarray, rating_rng: np.random.Generator, rated: bool = True
                            ) -> None:
        """Expectation–disconfirmation satisfaction and adaptive expectations (H1).

        Residents adapt their expectations every month; their ratings are worked out only when ``rated``
        (``Model.observed``): nothing in the simulated world reads a rating, only outcomes and views do. So
        the rating's noise comes from a stream of its own (``Model.rating_rng``) and is drawn only then: a
        month without ratings leaves the simulated world's random stream as it is.
        """
        sat = self.satisfaction_params
        if rated:
            latent = self.rate(performance, self.expectation, rating_rng.normal(0.0, sat.noise_sd, self.n))
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


RESIDENTS_PER_BLOCK = 4096  # a month's results: 4096 × 4K single-precision weights, about 0.5 MB, within cache
RESIDENTS_PER_PREPARED_BLOCK = 65536  # preparing: a few (block, K) temporaries of 3.7 MB, one block by default


def cell_blocks(residents_per_cell: np.ndarray, size: int | None = None) -> list[tuple[slice, slice]]:
    """Consecutive blocks of cells holding about ``size`` residents each (``RESIDENTS_PER_BLOCK``), as (cells,
    residents) slices: residents are sorted by cell, so a block's residents are one slice and every cell is in
    one block."""
    size = size or RESIDENTS_PER_BLOCK
    ends = np.cumsum(residents_per_cell)
    total = int(ends[-1]) if len(ends) else 0
    cuts = np.unique(np.searchsorted(ends, np.arange(size, total, size)) + 1)
    bounds = [0, *cuts.tolist(), len(residents_per_cell)]
    first = np.concatenate([[0], ends])
    return [(slice(a, b), slice(int(first[a]), int(first[b]))) for a, b in itertools.pairwise(bounds) if b > a]


def _affordable(budget: np.ndarray, need: np.ndarray, net_price: np.ndarray) -> np.ndarray:
    """Share of a resident's need it can pay for within its service budget."""
    bill = need * net_price
    share = np.divide(budget[:, None], bill, out=np.ones_like(bill), where=bill > 0)
    return np.minimum(share, 1.0, out=share)


def create_residents(population: PopulationParams, needs: NeedsParams, satisfaction: SatisfactionParams,
                     government: GovernmentParams, layout: Layout, terms: ServiceTerms, rng: np.random.Generator) -> Residents:
    """Draw the initial population (ODD "Initialization")."""
    pop = population
    n = pop.residents
    # the urban fringe is less dense than the centre (seed 000 villages, seed 001 remote community)
    weight = np.where(layout.community_is_periphery[layout.community_of_cell], pop.periphery_density_ratio, 1.0)
    # indices in the narrowest type that holds them: a million residents' cells and communities in 4 bytes each
    cell = np.sort(rng.choice(layout.n_cells, size=n, p=weight / weight.sum())).astype(np.int32)
    community = layout.community_of_cell[cell].astype(np.int32)
    periphery = layout.community_is_periphery[community]
    shares = pop.household_shares.array()
    household = rng.choice(len(HOUSEHOLD_TYPES), size=n, p=shares / shares.sum()).astype(np.int8)
    # migrants (non-registered) concentrate in the periphery where rents are low
    weight = np.where(periphery, pop.migrant_periphery_ratio, 1.0)
    p_migrant = np.clip(pop.migrant_share * weight / weight.mean(), 0.0, 1.0)
    registered = rng.random(n) >= p_migrant
    income = pop.income_median * np.exp(rng.normal(0.0, pop.income_sigma, n))
    income *= np.where(periphery, pop.periphery_income_ratio, 1.0)
    base = np.array([getattr(needs, h).array() for h in HOUSEHOLD_TYPES])
    need = rng.normal(0.0, pop.need_sigma, (n, K))  # lognormal with mean 1 around the household's need, in place
    need -= pop.need_sigma ** 2 / 2
    np.exp(need, out=need)
    need *= base[household]
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
