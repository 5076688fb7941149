"""The co-production model: one step is one month of the community-service supply chain.

Each month (docs/ODD.md §3):

1. **Upstream – planning** (``plan.py``). Money is released: the street office's
   budget, and what each department chooses to release; the leading group (if
   any) assesses departments; the street office commissions facilities.
2. **Midstream – production** (``produce.py``). Pending facilities collect
   department sign-offs; firms enter where expected profit allows; volunteers
   organise; operators set quality, fit and voluntary supply.
3. **Downstream – use** (``consume.py``, ``settle.py``, ``respond.py``).
   Residents use what they can reach, afford and are eligible for; money
   flows and operators settle or exit; residents rate the service and report
   unmet needs; departments act on multi-department issues or pass the buck.

Then the month's outcomes are measured and collected (``outcomes.py``).

Parameters arrive typed (``config.Config``) and each agent and process receives
the groups it uses when it is built (``_build_world``); what one stage tells the
next travels as a record: the month's use (``consume.Consumption``), what its
payments taught the actors (``settle.Settlement``), the month's events
(``month.MonthRecord``). docs/architecture.md maps them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import OrthogonalMooreGrid
from threadpoolctl import ThreadpoolController

from ..config import Config, ScenarioLike, load_config
from ..domain import CONTENT_DIMENSIONS, DEPARTMENT_NAMES, DEPARTMENTS, SERVICE_INDEX, K
from . import consume, plan, produce, respond
from .approvals import ApprovalChains, Approvals
from .consume import Consumption
from .facility import Facilities
from .fund import PublicFund
from .government import Department, LeadingGroup, StreetOffice
from .institutions import Assessment, DemandChannel, trust_growth
from .introduction import hand_over, levers_to_introduce
from .issues import IssuePipeline
from .market import Market
from .month import MonthRecord
from .operators import Firm, GovernmentProvider, MutualAidGroup, NeedBeliefs, OperatorRules, SocialOrganization
from .outcomes import PUBLIC_ACCESS_KEYS, OutcomeCollector, measure, unmeasured
from .residents import create_residents
from .settle import Payments, Settlement
from .space import DecayOperator, build_layout
from .terms import ServiceTerms

SeedLike = int | np.integer | np.random.Generator | None
OBSERVATION_STREAM = 0x0B5E  # spawn key of the observation stream; the simulation uses the seed itself
RATING_STREAM = 0x0B5F  # spawn key of residents' monthly rating noise (``Residents.update_satisfaction``)


def seed_from(rng: SeedLike) -> int:
    """The integer seed a run is reproduced from.

    An int is used as given. ``None`` draws a fresh seed from the operating
    system's entropy, and a Generator gives one draw; either way the seed is
    recorded (``model.seed``, the manifest), so every run can be repeated.
    """
    if isinstance(rng, bool):
        raise TypeError(f"rng: expected None, an int or a numpy Generator, found {rng!r}")
    if isinstance(rng, (int, np.integer)):
        if rng < 0:
            raise ValueError(f"rng: a seed must be a whole number ≥ 0, found {rng}")
        return int(rng)
    if rng is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    raise TypeError(f"rng: expected None, an int or a numpy Generator, found {type(rng).__name__}")


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The process's thread pools (BLAS, OpenMP), found once: looking them up costs 1.5 ms, a few percent of
    a short run, and the libraries do not change once numpy and scipy are loaded."""
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager:
    """Run the enclosed code with one BLAS thread: parallelism belongs to the sweep backends (one run per
    core), and a fixed thread count keeps floating-point results identical on every backend."""
    return _thread_pools().limit(limits=1, user_api="blas")


class Model(mesa.Model):
    """Multi-actor co-production of embedded community services (Mesa model).

    Args:
        rng: the seed (an int), a numpy Generator to draw one from, or ``None``
            for a fresh one; the seed used is kept in ``model.seed``.
        scenario: a shipped scenario's name (``"baseline"``), a YAML file, a
            mapping like a config file, or a resolved ``Config`` (``load_config``);
            not a ``mesa`` Scenario object.
        explain: keep a plain-language log of each month's events in
            ``model.events`` (for the browser app; off by default because it costs time).
        **params: parameters by dotted key, e.g. ``**{"government.resistance": 0.3}``,
            or by group, e.g. ``government={"resistance": 0.3}``; numpy scalars are fine.

    The model stops (``running = False``) after ``run.steps`` months, so
    ``model.run_model()`` and ``mesa.batch_run`` run the scenario's length;
    ``model.step()`` can go on beyond it. ``model.datacollector`` holds every
    outcome per month (``outcomes.OUTCOMES``); ``model.config`` the typed parameters.

    Raises:
        ConfigError: a bad scenario or parameter, with the key path, what was expected and what was found.
    """

    def __init__(self, rng: SeedLike = None, scenario: ScenarioLike = "baseline", *, explain: bool = False,
                 **params: Any):
        config = load_config(scenario, params or None)  # a Config without params is used as it is
        seed = seed_from(rng)
        super().__init__(rng=seed)
        self.seed = seed
        # observations (the monthly satisfaction survey) draw from their own stream, so
        # measuring more or less never changes the simulated world
        self.observation_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(OBSERVATION_STREAM,)))
        # residents' monthly ratings: only outcomes read them, so their noise is drawn in the months that are
        # rated (``observed``) from a stream of its own, and a spin-up month draws none
        self.rating_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(RATING_STREAM,)))
        # the introduction design spins up the world with every lever at its default and introduces the
        # config's levers at reported month 0 (``introduce``)
        self.config: Config = config.world() if config.run.design == "introduction" else config
        self.explain = explain
        self.events: list[str] = []
        # the simulated month: spin-up months are −spin_up+1 … 0, reported months 1, 2, … (= ``steps``)
        self.month = -config.run.spin_up
        self._build_world()
        self.consumption: Consumption | None = None  # last month's use (``consume.use_services``)
        self.settlement = Settlement.before_start()  # what last month's payments taught the actors
        self.outcomes: dict[str, float] = {}
        self.datacollector = OutcomeCollector()
        self._spin_up()
        if self.config is not config:
            self.introduce(config)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One reported month of the service supply chain (docs/ODD.md §3), then its outcomes."""
        self.outcomes = measure(self, self._month(), self.datacollector.unmeasured)
        self.datacollector.collect(self)
        self.running = self.steps < self.config.run.steps

    def _month(self) -> Consumption:
        """Upstream planning, midstream production, downstream use, money and response; returns the month's use."""
        self.month += 1
        self.events = []
        outside = sum(len(self.agents_by_type.get(kind, [])) for kind in (Firm, SocialOrganization))
        self.this_month = MonthRecord(outside_operators=outside)
        self.fund.new_step()
        self.terms.follow_trends(max(self.month, 0))
        before = self.settlement
        plan.release_and_plan(self, before)
        produce.approve_enter_and_staff(self, self.unmet_market_seen, before.binding_pay_expected)
        use = self.consumption = consume.use_services(self)
        self.settlement = self.payments.pay_and_settle(self, use, before)
        respond.rate_and_report(self, use, self.channel)
        self.issues.step()
        return use

    @property
    def unmet_market_seen(self) -> np.ndarray:
        """(communities, K) the paying demand left unserved within reach of each community's centre last month:
        what potential entrants there see (before the first month, all paying demand)."""
        return self.consumption.unmet_market_reach if self.consumption is not None else self.market_reach_at_start

    def _spin_up(self) -> None:
        """Simulate ``run.spin_up`` months before reported month 1, unrecorded, so that outcomes are read once
        the district has settled (docs/ODD.md §5), not during the start-up transient. Time trends and shocks
        (subsidy cuts, cost growth) start at reported month 0."""
        with one_blas_thread():
            while self.month < 0:
                self._month()

    def introduce(self, config: Config) -> None:
        """Bring ``config``'s levers into this world from the next month on: the policy of the introduction
        design (``run.design``), introduced into a spun-up world (docs/ODD.md §5, ``introduction.py``).

        Every agent and process that holds a lever's group, or an institution derived from the levers, receives
        the new one; ``config`` must describe the same world (assumptions, population, spin-up).
        """
        old, changed = self.config, levers_to_introduce(self.config, config)
        self.config = config
        if changed:
            hand_over(self, old, config)

    def run_model(self, on_step: Callable[[int], None] | None = None) -> None:
        """Run to the end of the scenario (``run.steps`` months); ``on_step(month)`` after each month.

        One BLAS thread (``one_blas_thread``): parallelism belongs to the sweep backends (one run per
        core), and a fixed thread count keeps floating-point results identical on every backend.
        """
        with one_blas_thread():
            while self.running:
                self.step()
                if on_step is not None:
                    on_step(self.steps)

    def log(self, message: str) -> None:
        """Record a plain-language event for this month (only when ``explain`` is on)."""
        if self.explain:
            self.events.append(message)

    def measure_only(self, outcomes: Collection[str] | None) -> None:
        """From the next month on, measure only what the caller will read: the groups of optional outcomes
        (``outcomes.OPTIONAL_GROUPS``: the survey's per-type ratings, access to public services) of which
        ``outcomes`` names none are left out of ``outcomes``, the time series and the summary; None measures
        all. The simulated world is the same either way, and so is every outcome measured."""
        self.datacollector.unmeasured = unmeasured(outcomes)

    @property
    def observed(self) -> bool:
        """Whether anyone but the simulated world reads this month: every month from month 0, the last spin-up
        month (what a newly built model shows, and the world a policy is introduced into), on.

        Earlier spin-up months skip what only outcomes and views read — coverage, each resident's access to
        public services, ratings on the 1–5 scale — and draw the same random numbers, so the world they
        simulate is the same to the bit (``scripts/same_results.py``).
        """
        return self.month >= 0

    @property
    def measures_public_access(self) -> bool:
        """Whether this month measures residents' access to public services (``outcomes.PUBLIC_ACCESS_KEYS``):
        an observed month of a run that reads it."""
        return self.observed and PUBLIC_ACCESS_KEYS[0] not in self.datacollector.unmeasured

    def summary(self) -> dict[str, float]:
        """Each outcome's mean over the last ``run.outcome_window`` months (fewer if fewer were run), and the
        convergence diagnostic's verdict (:meth:`convergence`)."""
        run = self.config.run
        return self.datacollector.summary(run.outcome_window, run.convergence_tolerance)

    def convergence(self) -> dict[str, dict]:
        """For each headline outcome, its drift between the last two outcome windows and whether it is flagged."""
        run = self.config.run
        return self.datacollector.convergence(run.outcome_window, run.convergence_tolerance)

    def timeseries(self) -> pd.DataFrame:
        """Every outcome per month so far, one row per month with its ``step``."""
        return self.datacollector.timeseries()

    # ------------------------------------------------------------------ set-up (docs/ODD.md §5)
    def _build_world(self) -> None:
        """Space, terms of service, residents, the fund, organisations and the market present at the start.

        The order is part of the model: it fixes the agents' ids and the random draws.
        """
        cfg = self.config
        self._build_space()
        self.terms = ServiceTerms.from_params(cfg.services, cfg.profit_space, cfg.linkage)
        self.assessment = Assessment.from_params(cfg.incentive)
        self.channel = DemandChannel.from_params(cfg.linkage)
        self.operator_rules = OperatorRules(cfg.operators, cfg.quality, cfg.linkage, self.assessment, self.channel,
                                            trust_growth(cfg.operators, cfg.linkage))
        self.residents = create_residents(cfg.population, cfg.needs, cfg.satisfaction, cfg.government, self.layout,
                                          self.terms, self.rng)
        # what each community particularly needs, around the district's standard template (the origin)
        self.particular_needs = self.rng.normal(0.0, cfg.population.particular_needs_sd,
                                                (self.layout.n_communities, CONTENT_DIMENSIONS))
        # need within reach of each cell (2SFCA step 1 with need as demand; static) for coverage
        self.need_in_reach = self.decay.apply(self.residents.cell_need)
        self.fund = PublicFund(K)
        self.facilities = Facilities()  # every facility's state, a row each (``facility.py``)
        self.need_beliefs = NeedBeliefs(self.layout.n_communities)  # what operators believe communities need
        self.payments = Payments(cfg.profit_space, cfg.government, cfg.operators, cfg.linkage, cfg.planning)
        self.approval_chains = ApprovalChains(cfg.approvals)
        self._found_organisations()
        self.approvals = Approvals(self, cfg.government)
        self.issues = IssuePipeline(self, cfg.issues, self.channel)
        # firms already present at the start enter by the same rule, without approvals
        self.market_reach_at_start = self.decay.apply_at(self.layout.community_centroid_cell,
                                                         self.residents.cell_market_need)
        self.market.enter(self.market_reach_at_start, initial=True)
        self._age_initial_operators()

    def _age_initial_operators(self) -> None:
        """Firms and social organisations present at the start have operated for different numbers of months,
        so residents trust them to different degrees: no cohort moves in lockstep (docs/ODD.md §5)."""
        growth = self.operator_rules.trust_growth
        for op in [*self.agents_by_type.get(Firm, []), *self.agents_by_type.get(SocialOrganization, [])]:
            age = int(self.rng.integers(0, self.config.operators.initial_age_max + 1))
            op.trust += (1.0 - op.trust) * (1.0 - (1.0 - growth) ** age)  # as ``age`` months of Roster.gain_trust

    def _build_space(self) -> None:
        cfg = self.config
        sp, pop, acc = cfg.space, cfg.population, cfg.access
        merge = cfg.layout.merge_size if cfg.layout.mode == "merged" else 1
        self.layout = build_layout(
            pop.residents, pop.density, sp.cell_size_m, sp.community_size, sp.grid_residents, sp.periphery_share, merge,
        )
        self.n_stations = int(self.layout.station_of_community.max()) + 1
        self.grid = OrthogonalMooreGrid((self.layout.width, self.layout.height), random=self.random)
        self.decay = DecayOperator(self.layout.width, self.layout.height, sp.cell_size_m, acc.decay_sigma_m, acc.catchment_m)

    def _found_organisations(self) -> None:
        """Departments, leading group, street office, government provider and its centres,
        mutual-aid groups, and the social organisations present at the start."""
        cfg, lay = self.config, self.layout
        budget_total = cfg.government.budget_per_resident * cfg.population.residents
        # budgets follow the expected cost of the needs each department funds
        self.need_cost_share = self.residents.need.sum(axis=0) * self.terms.base_unit_cost
        self.need_cost_share /= self.need_cost_share.sum()
        self.market = Market(self, self.operator_rules, cfg.profit_space, cfg.linkage, cfg.planning)
        self.this_month = MonthRecord()
        self.departments = self._create_departments(budget_total)
        self.leading_group = LeadingGroup(self, cfg.leading_group, cfg.population.residents)
        self.street_office = StreetOffice(self, planning=cfg.planning, government=cfg.government, layout=cfg.layout,
                                          social_orgs=cfg.social_orgs, assessment=self.assessment, channel=self.channel)
        self.government = GovernmentProvider(self, self.operator_rules, government=cfg.government, layout=cfg.layout,
                                             space=cfg.space)
        pop_comm = np.bincount(self.residents.community, minlength=lay.n_communities).astype(float)
        mean_need = self.residents.need.mean(axis=0)
        self.norm_need_per_community = pop_comm[:, None] * mean_need[None, :]
        self.government.open_centres()
        self.mutual_aid = MutualAidGroup.found_all(self)
        for c in range(lay.n_communities):
            for _ in range(int(self.rng.poisson(cfg.social_orgs.initial_per_community))):
                SocialOrganization.found(self, c, contract=True)

    def _create_departments(self, budget_total: float) -> list[Department]:
        """Seven bureaus with resistance drawn around the configured mean (Beta) and budgets by cost of need."""
        gov = self.config.government
        r_mean, r_conc = gov.resistance, gov.resistance_concentration
        departments = []
        for i, name in enumerate(DEPARTMENT_NAMES):
            r = float(self.rng.beta(r_mean * r_conc, (1 - r_mean) * r_conc)) if 0 < r_mean < 1 else r_mean
            departments.append(Department(self, i, r, self.department_budget(name, budget_total),
                                          incentive=self.config.incentive, government=gov, assessment=self.assessment))
        return departments

    def department_budget(self, name: str, budget_total: float) -> float:
        """A department's monthly budget: the district's, split by the cost of the needs it funds."""
        share = sum(self.need_cost_share[SERVICE_INDEX[x]] for x in DEPARTMENTS[name]["funds"])
        return budget_total * share
