"""The co-production model: one step is one month of the service supply chain.

Schedule (docs/ODD.md "Process overview"):

1. **Upstream – planning.** Departments decide how much budget to release;
   the leading group (if any) assesses them; the street office plans new
   facilities from what it has heard through the reporting channel.
2. **Midstream – production.** Pending facilities collect department
   approvals; firms and state-owned firms enter where expected profit allows;
   volunteers organise; operators set quality, fit and voluntary supply.
3. **Downstream – use.** Residents use the facilities they can reach, afford
   and are eligible for (2SFCA); money flows; operators settle and may exit;
   residents rate the service, report unmet needs and issues; departments act
   on issues or pass the buck.
"""

from __future__ import annotations

import numpy as np
from mesa import Model
from mesa.discrete_space import OrthogonalMooreGrid

from . import outcomes
from .agents import (
    Department,
    Facility,
    Firm,
    GovernmentProvider,
    LeadingGroup,
    MutualAidGroup,
    Operator,
    SocialOrganization,
    StreetOffice,
)
from .budget import PublicFund
from .domain import (
    COPRODUCED_SERVICES,
    DEPARTMENT_LABELS,
    DEPARTMENT_NAMES,
    DEPARTMENTS,
    KIND_INDEX,
    SERVICE_INDEX,
    SERVICE_TYPES,
    SOCIAL_ORG_SERVICES,
    K,
)
from .issues import IssuePipeline
from .residents import create_residents
from .rules import approval_hazard, coproduction_output, expected_firm_profit
from .space import DecayOperator, build_layout, supply_ratio


def _per_service(table: dict) -> np.ndarray:
    return np.array([float(table[s]) for s in SERVICE_TYPES])


class CoProductionModel(Model):
    """Multi-actor co-production of embedded community services.

    Args:
        cfg: a resolved configuration (``config.load_config`` / ``resolve``).
        seed: the run's seed; all randomness flows from it.
        explain: keep a plain-language log of each step's events (for the
            browser app); off for batch runs because it costs time.
    """

    def __init__(self, cfg: dict, seed: int = 0, explain: bool = False):
        super().__init__(rng=int(seed))
        self.cfg = cfg
        self.seed = int(seed)
        self.explain = explain
        self.events: list[str] = []
        self._init_space()
        self._init_services()
        self.residents = create_residents(cfg, self.layout, self.rng)
        self.fund = PublicFund(K)
        self._init_organisations()
        self.issues = IssuePipeline(self)
        self.recorder = outcomes.Recorder()
        self._bootstrap_market()

    # ------------------------------------------------------------------ set-up
    def _init_space(self) -> None:
        cfg = self.cfg
        sp, pop, acc = cfg["space"], cfg["population"], cfg["access"]
        merge = cfg["layout"]["merge_size"] if cfg["layout"]["mode"] == "merged" else 1
        self.layout = build_layout(
            pop["residents"], pop["density"], sp["cell_size_m"], sp["community_size"],
            sp["grid_residents"], sp["periphery_share"], merge,
        )
        self.n_stations = int(self.layout.station_of_community.max()) + 1
        self.grid = OrthogonalMooreGrid((self.layout.width, self.layout.height), random=self.random)
        self.decay = DecayOperator(
            self.layout.width, self.layout.height, sp["cell_size_m"], acc["decay_sigma_m"], acc["catchment_m"]
        )

    def _init_services(self) -> None:
        cfg = self.cfg
        svc, ps, inc, link = cfg["services"], cfg["profit_space"], cfg["incentive"], cfg["linkage"]
        self.base_unit_cost = _per_service(svc["unit_cost"])
        self.unit_cost = self.base_unit_cost.copy()
        self.market_price = _per_service(svc["market_price"])
        self.guided_price = self.market_price * ps["guided_price_share"]
        self.max_capacity = _per_service(svc["max_capacity"])
        self.fixed_cost = _per_service(svc["fixed_cost"])
        self.outcome_value = self.base_unit_cost * link["outcome_value_ratio"]
        self.base_subsidy = _per_service(ps["subsidy_per_visit"])
        self.subsidy = self.base_subsidy.copy()
        self.voucher = _per_service(ps["voucher_per_visit"])
        counted = set(inc["counted_services"])
        self.assessment_weights = np.array(
            [1.0 if s in counted else inc["uncounted_attention"] for s in SERVICE_TYPES]
        )
        self.quality_monitored = 1.0 if inc["counts"] in ("quality", "both") else 0.0
        info = link["information_sharing"]
        # technology widens and sharpens the channel but changes no incentive (seed 001)
        self.channel_reach = link["channel_reach"] + (1 - link["channel_reach"]) * info * link["info_reach_gain"]
        self.channel_accuracy = link["channel_accuracy"] + (1 - link["channel_accuracy"]) * info
        self.trust_growth = cfg["operators"]["trust_growth"] * (1.0 + link["three_way_linkage"])

    def _init_organisations(self) -> None:
        cfg, lay = self.cfg, self.layout
        gov = cfg["government"]
        n = cfg["population"]["residents"]
        budget_total = gov["budget_per_resident"] * n
        # budgets follow the expected cost of the needs each department funds
        self.need_cost_share = self.residents.need.sum(axis=0) * self.base_unit_cost
        self.need_cost_share /= self.need_cost_share.sum()
        r_mean, r_conc = gov["resistance"], gov["resistance_concentration"]
        self.thin_market_months = np.zeros((lay.n_communities, K))
        self.franchisee = np.full(lay.n_communities, -1)
        self.exits = {"firm": 0, "state_owned": 0, "social_org": 0}
        self.entries = {"firm": 0, "state_owned": 0, "social_org": 0}
        self.approval_delays: list[int] = []
        self.volunteer_hours = np.zeros(lay.n_communities)
        self.binding_pay_fraction = np.ones(K)  # share of outcome-linked pay the fund honoured last month
        self.reports_this_step = 0
        self.departments = []
        for i, name in enumerate(DEPARTMENT_NAMES):
            r = float(self.rng.beta(r_mean * r_conc, (1 - r_mean) * r_conc)) if 0 < r_mean < 1 else r_mean
            share = sum(self.need_cost_share[SERVICE_INDEX[x]] for x in DEPARTMENTS[name]["funds"])
            self.departments.append(Department(self, i, r, budget_total * share))
        self.dept_resistance = np.array([d.resistance for d in self.departments])
        lg = cfg["leading_group"]
        self.leading_group = LeadingGroup(self, lg["active"], lg["authority"])
        self.street_office = StreetOffice(self)
        self.government = GovernmentProvider(self)
        pop_comm = np.bincount(self.residents.community, minlength=lay.n_communities).astype(float)
        mean_need = self.residents.need.mean(axis=0)
        self.norm_need_per_community = pop_comm[:, None] * mean_need[None, :]
        self._init_centres()
        self.mutual_aid = []
        for c in range(lay.n_communities):
            group = MutualAidGroup(self, c)
            for s in COPRODUCED_SERVICES:
                Facility(self, int(lay.community_centroid_cell[c]), SERVICE_INDEX[s], group, 0.0,
                         public=True, new_building=False, needs_approval=False)
            self.mutual_aid.append(group)
        so_cfg = cfg["social_orgs"]
        for c in range(lay.n_communities):
            for _ in range(int(self.rng.poisson(so_cfg["initial_per_community"]))):
                self._found_social_org(c, contract=True)

    def _init_centres(self) -> None:
        """One government-run service centre per station, sized by floor area.

        Capacity follows the national norm of ``layout.centre_m2_per_100_households``
        (seed 000; 2024 embedded-facility guideline) spread over all seven
        services in proportion to average need — the fragmented baseline of
        windows that do not follow local demand (seed 004).
        """
        lay, cfg = self.layout, self.cfg
        households = np.bincount(lay.station_of_community[self.residents.community]) / cfg["space"]["household_size"]
        area = households / 100.0 * cfg["layout"]["centre_m2_per_100_households"]
        need_share = self.residents.need.sum(axis=0) / self.residents.need.sum()
        for station in range(len(area)):
            comm = int(np.flatnonzero(lay.station_of_community == station)[0])
            cell = int(lay.station_cell_of_community[comm])
            cap = area[station] * cfg["layout"]["visits_per_m2"] * need_share
            for k in range(K):
                Facility(self, cell, k, self.government, float(cap[k]), public=True,
                         new_building=False, needs_approval=False)

    def _found_social_org(self, community: int, contract: bool) -> SocialOrganization:
        so = SocialOrganization(self, community, self.cfg["linkage"]["interest_binding_stake"])
        self.entries["social_org"] += 1
        if contract:
            need = self.norm_need_per_community[community]
            options = [SERVICE_INDEX[s] for s in SOCIAL_ORG_SERVICES]
            k = max(options, key=lambda i: need[i])
            cap = min(self.max_capacity[k], need[k] * self.cfg["social_orgs"]["contract_share_of_need"])
            Facility(self, int(self.layout.station_cell_of_community[community]), k, so, float(cap),
                     public=True, new_building=False, contracted=True, needs_approval=False, community=community)
        return so

    def _bootstrap_market(self) -> None:
        """Firms already present at the start: the same entry rule, without approvals."""
        res = self.residents
        self.unmet_market_reach = self.decay.apply(res.cell_market_need)
        self.voucher_eligible_share = np.ones(K)
        self._market_entry(initial=True)

    # ------------------------------------------------------------------ helpers
    def log(self, message: str) -> None:
        if self.explain:
            self.events.append(message)

    def with_feedback_fit(self, base: float) -> float:
        """Operators learn residents' particular needs through the feedback channel."""
        link = self.cfg["linkage"]
        return float(base + (1.0 - base) * link["feedback_fit_gain"] * link["feedback_loop"] * self.channel_reach)

    def capital_cost(self, k: int) -> float:
        return float(self.fixed_cost[k] * self.cfg["services"]["capital_months"])

    def active_facilities(self) -> list[Facility]:
        return [f for f in self.agents_by_type.get(Facility, []) if f.active]

    def pending_public_capacity(self) -> np.ndarray:
        """Capacity of public facilities still waiting for approval, by community and service."""
        cap = np.zeros((self.layout.n_communities, K))
        for f in self.agents_by_type.get(Facility, []):
            if f.public and not f.active:
                cap[f.community, f.service] += f.planned_capacity
        return cap

    def public_capacity(self) -> np.ndarray:
        """Planned capacity of all public facilities (open or pending), by community served and service."""
        cap = np.zeros((self.layout.n_communities, K))
        for f in self.agents_by_type.get(Facility, []):
            if f.public and f.operator.kind in ("government", "social_org"):
                cap[f.community, f.service] += f.planned_capacity
        return cap

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        self.events = []
        self.fund.new_step()
        self._apply_time_trends()
        self._street_budget()
        for d in self.departments:
            d.step()
        self.leading_group.step()
        self.street_office.step()
        self._progress_approvals()
        self._market_entry()
        self._organise_volunteers()
        for kind in (Firm, SocialOrganization, GovernmentProvider, MutualAidGroup):
            if kind in self.agents_by_type:
                self.agents_by_type[kind].do("step")
        use = self._consume()
        self._settle(use)
        self._respond(use)
        self.issues.step()
        self.last_use = use
        self.recorder.record(self, use)

    def _street_budget(self) -> None:
        """The street office's own operating budget, split by the cost of need (not subject to release)."""
        total = self.cfg["government"]["street_budget_per_resident"] * self.residents.n
        self.fund.release(list(range(K)), total * self.need_cost_share)

    def _apply_time_trends(self) -> None:
        ps, svc = self.cfg["profit_space"], self.cfg["services"]
        self.unit_cost = self.base_unit_cost * (1.0 + _per_service(svc["cost_growth"])) ** self.steps
        cut = ps["subsidy_change_step"]
        factor = ps["subsidy_change_factor"] if 0 <= cut <= self.steps else 1.0
        self.subsidy = self.base_subsidy * factor

    # -- upstream
    def commission_facility(self, community: int, k: int, capacity: float) -> None:
        """Street office commissions a publicly funded facility at the community's centre."""
        cfg = self.cfg
        cell = int(self.layout.station_cell_of_community[community])
        operator: Operator = self.government
        if self.rng.random() >= cfg["government"]["admin_control"] and SERVICE_TYPES[k] in SOCIAL_ORG_SERVICES:
            free = [so for so in self.agents_by_type.get(SocialOrganization, [])
                    if so.community == community and not so.facilities]
            if free or self.rng.random() < cfg["social_orgs"]["incubation"]:
                operator = free[0] if free else self._found_social_org(community, contract=False)
        direct = self.rng.random() < cfg["layout"]["direct_item_share"]
        f = Facility(self, cell, k, operator, float(capacity), public=True, new_building=False,
                     contracted=operator is not self.government, community=community)
        if direct:
            f.pending = [DEPARTMENT_NAMES.index("fire_rescue")]
        self.fund.pay_by_service(np.eye(K)[k] * self.capital_cost(k), "capital")
        self.log(f"Street office commissioned {SERVICE_TYPES[k].replace('_', ' ')} in community {community} "
                 f"({capacity:.0f} visits/month, run by {operator.kind.replace('_', ' ')})")

    # -- midstream
    def _progress_approvals(self) -> None:
        """Pending facilities collect sign-offs; sequential unless coordinated.

        All (facility, department) sign-offs due this month are drawn at once.
        """
        gov, lg = self.cfg["government"], self.cfg["leading_group"]
        coordinated = self.leading_group.active
        coordination = self.leading_group.authority * lg["coordination"]
        waiting = [f for f in self.agents_by_type.get(Facility, []) if not f.active]
        if not waiting:
            return
        due = [(f, d) for f in waiting for d in (f.pending if coordinated else f.pending[:1])]
        depts = np.array([d for _, d in due], dtype=np.int64)
        still_pending = np.array([len(f.pending) - 1 for f, _ in due], dtype=float)
        h = approval_hazard(gov["approval_hazard"], self.dept_resistance[depts], coordination,
                            gov["approval_conflict"] * still_pending)
        granted = self.rng.random(len(due)) < h
        for (f, d), ok in zip(due, granted, strict=True):
            if ok:
                f.pending.remove(d)
            elif self.explain and self.dept_resistance[d] > 0.5:
                self.log(f"{DEPARTMENT_LABELS[DEPARTMENT_NAMES[d]]} delayed the "
                         f"{SERVICE_TYPES[f.service].replace('_', ' ')} permit (resistance {self.dept_resistance[d]:.1f})")
        for f in waiting:
            if not f.pending:
                f.active = True
                f.approval_delay = self.steps - f.created
                self.approval_delays.append(f.approval_delay)

    def _market_entry(self, initial: bool = False) -> None:
        """Firms enter markets with positive expected profit (Bresnahan & Reiss rule)."""
        cfg = self.cfg
        ps, firm_cfg = cfg["profit_space"], cfg["operators"]
        lay = self.layout
        demand = self.unmet_market_reach[lay.community_centroid_cell] * firm_cfg["capture_share"]
        rent = self.fixed_cost * firm_cfg["rent_share"] * (1.0 if not ps["rent_free_space"] else 0.0)
        fixed = self.fixed_cost * (1 - firm_cfg["rent_share"]) + rent
        tax = cfg["operators"]["profit_tax_rate"] * (1.0 - ps["tax_relief"])
        profit = expected_firm_profit(
            demand, self.max_capacity[None, :], self.market_price[None, :], self.subsidy[None, :],
            self.unit_cost[None, :], fixed[None, :], tax,
        )
        pending = self._pending_market()
        for c, k in zip(*np.nonzero(profit > 0), strict=True):
            if pending[c, k] or (self.franchisee[c] >= 0 and not initial):
                continue
            if initial or self.rng.random() < firm_cfg["entry_rate"]:
                self._enter_firm(int(c), int(k), float(demand[c, k]), float(profit[c, k]), state_owned=False, initial=initial)
        thin = (profit <= 0) & (demand >= cfg["planning"]["min_project_visits"]) & ~pending
        self.thin_market_months = np.where(thin, self.thin_market_months + 1, 0)
        if ps["soe_entry"] and not initial:
            for c, k in zip(*np.nonzero(self.thin_market_months >= ps["soe_wait_months"]), strict=True):
                self._enter_firm(int(c), int(k), float(demand[c, k]), float(profit[c, k]), state_owned=True, initial=False)
                self.thin_market_months[c, k] = 0

    def _pending_market(self) -> np.ndarray:
        out = np.zeros((self.layout.n_communities, K), dtype=bool)
        for f in self.agents_by_type.get(Facility, []):
            if not f.public and not f.active:
                out[self.layout.community_of_cell[f.cell_index], f.service] = True
        return out

    def _enter_firm(self, c: int, k: int, demand: float, profit: float, state_owned: bool, initial: bool) -> None:
        cfg = self.cfg
        stake = cfg["linkage"]["interest_binding_stake"]
        franchise = cfg["profit_space"]["franchise"] and not state_owned and not initial
        if franchise:
            stake = min(1.0, stake + cfg["profit_space"]["franchise_stake"])
        firm = Firm(self, state_owned, stake)
        cap = float(min(self.max_capacity[k], max(demand, cfg["planning"]["min_project_visits"])))
        cell = int(self.layout.community_centroid_cell[c])
        Facility(self, cell, k, firm, cap, public=False, new_building=not cfg["profit_space"]["rent_free_space"],
                 needs_approval=not initial)
        self.entries[firm.kind] += 1
        if franchise:
            self.franchisee[c] = firm.unique_id
        who = "A state-owned firm" if state_owned else "A firm"
        self.log(f"{who} applied to open {SERVICE_TYPES[k].replace('_', ' ')} in community {c}: "
                 f"expected profit {profit / 1000:.1f}k/month")

    def _organise_volunteers(self) -> None:
        """Co-produced capacity of each community's mutual-aid group (Q = A·P^α·R^β)."""
        cfg = self.cfg
        vol, link = cfg["volunteers"], cfg["linkage"]
        res, lay = self.residents, self.layout
        hours = np.bincount(res.community, weights=res.participation * vol["hours_per_participant"],
                            minlength=lay.n_communities)
        so_count = np.zeros(lay.n_communities)
        for so in self.agents_by_type.get(SocialOrganization, []):
            so_count[so.community] += 1
        organisers = vol["committee_organiser_input"] + vol["social_org_organiser_input"] * so_count \
            + vol["linkage_organiser_input"] * link["three_way_linkage"]
        output = vol["productivity"] * coproduction_output(organisers, hours, vol["alpha"], vol["beta"])
        weights = self.norm_need_per_community[:, [SERVICE_INDEX[s] for s in COPRODUCED_SERVICES]]
        weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        for group in self.mutual_aid:
            for j, f in enumerate(group.facilities):
                f.capacity = float(output[group.community] * weights[group.community, j])
        self.volunteer_hours = hours

    # -- downstream
    def _consume(self) -> dict:
        """Residents use what they can reach, afford and are eligible for (2SFCA)."""
        res, C = self.residents, self.layout.n_cells
        facs = self.active_facilities()
        cells = np.array([f.cell_index for f in facs], dtype=np.int64)
        svc = np.array([f.service for f in facs], dtype=np.int64)
        public = np.array([f.public for f in facs], dtype=bool)
        cap = np.array([f.capacity for f in facs], dtype=float)
        vol = np.array([f.voluntary for f in facs], dtype=float)
        qf = np.array([f.quality * f.fit for f in facs], dtype=float)
        owners = [f.operator for f in facs]
        pub_cap = np.where(public, cap, 0.0) + vol
        mkt_cap = np.where(public, 0.0, cap)
        flat = cells * K + svc
        S_p = np.bincount(flat, weights=pub_cap, minlength=C * K).reshape(C, K)
        S_m = np.bincount(flat, weights=mkt_cap, minlength=C * K).reshape(C, K)
        QS_p = np.bincount(flat, weights=pub_cap * qf, minlength=C * K).reshape(C, K)
        QS_m = np.bincount(flat, weights=mkt_cap * qf, minlength=C * K).reshape(C, K)
        D_p = res.cell_public_demand
        R_p, A_p, Q_p = self._access(D_p, S_p, QS_p)
        f_p = np.minimum(1.0, A_p)
        D_m = np.maximum(res.cell_market_need - f_p * res.cell_market_public, 0.0)
        R_m, A_m, Q_m = self._access(D_m, S_m, QS_m)
        f_m = np.minimum(1.0, A_m)
        # demand each supply cell actually serves (proportional allocation)
        served_share_p = np.divide(D_p * f_p, A_p, out=np.zeros_like(A_p), where=A_p > 0)
        served_share_m = np.divide(D_m * f_m, A_m, out=np.zeros_like(A_m), where=A_m > 0)
        back = self.decay.apply(np.hstack([served_share_p, served_share_m, D_m * (1.0 - f_m), (S_p + S_m > 0)]))
        used_p_cell, used_m_cell = R_p * back[:, :K], R_m * back[:, K:2 * K]
        self.unmet_market_reach = back[:, 2 * K:3 * K]
        share_p = np.divide(pub_cap, S_p[cells, svc], out=np.zeros_like(pub_cap), where=S_p[cells, svc] > 0)
        share_m = np.divide(mkt_cap, S_m[cells, svc], out=np.zeros_like(mkt_cap), where=S_m[cells, svc] > 0)
        used_pub = used_p_cell[cells, svc] * share_p
        used_mkt = used_m_cell[cells, svc] * share_m
        for f, up, um in zip(facs, used_pub, used_mkt, strict=True):
            f.used = float(up + um)
            f.used_public = float(up)
        served_p, served_m = D_p * f_p, D_m * f_m
        elig_m = np.maximum(res.cell_voucher_market_need - f_p * res.cell_voucher_market_public, 0.0) * f_m
        self.voucher_eligible_share = np.divide(elig_m.sum(0), served_m.sum(0), out=np.ones(K), where=served_m.sum(0) > 0)
        # per-resident performance (quality- and fit-weighted share of need met)
        met, perf, met_public = self._resident_results(f_p, f_m, Q_p, Q_m)
        return {
            "facilities": facs, "service": svc, "public": public, "capacity": cap, "voluntary": vol,
            "kind": np.array([o.kind for o in owners], dtype=object),
            "kind_code": np.array([KIND_INDEX[o.kind] for o in owners], dtype=np.int64),
            "operator_id": np.array([o.unique_id for o in owners], dtype=np.int64),
            "stake": np.array([o.stake for o in owners], dtype=float),
            "quality": np.array([f.quality for f in facs]), "fit": np.array([f.fit for f in facs]),
            "used_public": used_pub, "used_market": used_mkt,
            "served_public": served_p, "served_market": served_m,
            "reach": back[:, 3 * K:] > 1e-12,
            "met": met, "performance": perf, "met_public": met_public, "cell_unmet": res.cell_need - served_p - served_m,
        }

    def _access(self, demand: np.ndarray, supply: np.ndarray, quality_supply: np.ndarray):
        """2SFCA access plus the capacity-weighted quality·fit residents reach."""
        ratio = supply_ratio(self.decay, demand, supply)
        qratio = np.divide(quality_supply, supply, out=np.zeros_like(supply), where=supply > 0) * ratio
        both = self.decay.apply(np.hstack([ratio, qratio]))
        access, qaccess = both[:, :K], both[:, K:]
        quality = np.divide(qaccess, access, out=np.zeros_like(access), where=access > 0)
        return ratio, access, quality

    def _resident_results(self, f_p, f_m, Q_p, Q_m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Share of need met, quality-weighted performance and share met by public services, per resident.

        Uses linearity: served_i = pd_i·f_p + am_i·(need_i − pd_i·f_p)·f_m, so a
        resident's result is its fixed weight row dotted with its cell's table.
        Residents are sorted by cell, so repeating the cell tables by cell
        counts lines them up with residents (much faster than fancy indexing).
        """
        res = self.residents
        counts = res.residents_per_cell_int
        # float32 halves memory traffic on the hottest per-resident arrays
        t_met = np.repeat(np.hstack([f_p, f_m, f_p * f_m]).astype(np.float32), counts, axis=0)
        t_perf = np.repeat(np.hstack([f_p * Q_p, f_m * Q_m, f_p * f_m * Q_m]).astype(np.float32), counts, axis=0)
        tot = np.maximum(res.need_total, 1e-12)
        met = np.einsum("nj,nj->n", res.result_weights, t_met).astype(float) / tot
        perf = np.einsum("nj,nj->n", res.result_weights, t_perf).astype(float) / tot
        met_public = np.einsum("nj,nj->n", res.result_weights[:, :K], t_met[:, :K]).astype(float) / tot
        return met, perf, met_public

    def _settle(self, use: dict) -> None:
        """Money flows for the month (vectorised over facilities), then profits and exits.

        Public facilities charge the guided price; the fund pays the operator's
        deficit. Market facilities charge the
        market price; the fund pays vouchers of eligible residents and the
        per-visit subsidy. Voluntary (interest-binding) visits cost the
        operator and are compensated by the outcome-linked pay s·Y(G).
        """
        cfg = self.cfg
        ps, gov, ops = cfg["profit_space"], cfg["government"], cfg["operators"]
        facs, svc, public, kind = use["facilities"], use["service"], use["public"], use["kind"]
        if not facs:
            return
        cap, quality = use["capacity"], use["quality"]
        # voluntary visits are a share of a facility's public-class use, in proportion to its offer
        vol = use["voluntary"]
        public_offer = np.where(public, cap, 0.0) + vol
        voluntary_used = use["used_public"] * np.divide(vol, public_offer, out=np.zeros_like(vol), where=public_offer > 0)
        paid_pub = np.where(public, use["used_public"] - voluntary_used, 0.0)
        paid_mkt = use["used_market"]
        unit_cost = self.unit_cost[svc] * (1.0 + ops["quality_cost_share"] * quality)
        voluntary_cost = voluntary_used * unit_cost
        var_cost = (paid_pub + paid_mkt) * unit_cost + voluntary_cost
        fixed = self.fixed_cost[svc] * (cap / self.max_capacity[svc]) ** cfg["services"]["scale_exponent"]
        staffing = np.where(kind == "government", 1.0 + gov["admin_staffing"] * gov["admin_control"], 1.0)
        rent_kept = ops["rent_share"] * (0.0 if ps["rent_free_space"] else 1.0)
        cost = var_cost + np.where(public, fixed * staffing, fixed * (1.0 - ops["rent_share"] + rent_kept))
        fees_pub = self.guided_price[svc] * paid_pub
        voucher_mkt = (self.voucher * self.residents.voucher_availability * self.voucher_eligible_share)[svc] * paid_mkt
        own_income = fees_pub + self.market_price[svc] * paid_mkt - voucher_mkt
        contracted = np.array([f.contracted for f in facs], dtype=bool)
        # the public deficit covers paid services only: voluntary visits earn outcome-linked pay instead
        deficit = np.where(public, np.maximum(cost - voluntary_cost - fees_pub, 0.0), 0.0)
        # After this month's capital commitments (paid when commissioned), entitlements and
        # contracts are paid first: outcome-linked pay, residents' vouchers and purchase
        # contracts. The street office absorbs a shortfall by cutting its own service hours and
        # paying subsidies late (pro rata), which is how a shrinking fund reaches government-run
        # windows and subsidised firms (seed 001 canteen; assumption on the order).
        binding = self._interest_binding_pay(use, svc, cap, voluntary_used)
        first = voucher_mkt + deficit * contracted
        later = self.subsidy[svc] * paid_mkt + deficit * ~contracted
        volunteers = kind == "volunteers"
        for arr in (cost, first, later, own_income):
            arr[volunteers] = 0.0
        self._ration_vouchers(svc, first - voucher_mkt, voucher_mkt, paid_mkt)
        frac_first = self.fund.pay_by_service(np.bincount(svc, first, K), "contracts_and_vouchers")[svc]
        frac = self.fund.pay_by_service(np.bincount(svc, later, K), "services")[svc]
        # a voucher the fund cannot honour is paid by the resident (vouchers are rationed, not
        # defaulted on); residents anticipate the rationing next month (``_ration_vouchers``)
        own_income += voucher_mkt * (1.0 - frac_first)
        result = own_income + first * frac_first + later * frac - cost + binding
        result = np.where((result > 0) & ~public, result * (1.0 - ops["profit_tax_rate"] * (1.0 - ps["tax_relief"])), result)
        cover = np.where((kind == "state_owned") & (result < 0), np.minimum(-result, ps["soe_loss_tolerance"]), 0.0)
        result += cover * self.fund.pay_by_service(np.bincount(svc, cover, K), "soe_deficit")[svc]
        slack = np.clip(use["used_market"] * ops["capacity_slack"], cfg["planning"]["min_project_visits"], self.max_capacity[svc])
        paid_share = np.where(contracted, frac_first, frac)
        for f, f_frac, f_slack in zip(facs, paid_share, slack, strict=True):
            if f.operator.kind == "volunteers":
                continue
            # unpaid public services shrink (staff leave, contracts are cut); firms size to demand
            f.capacity = f.planned_capacity * (1.0 - ops["unpaid_capacity_loss"] * (1.0 - f_frac)) if f.public else float(f_slack)
        owners, inverse = np.unique(use["operator_id"], return_inverse=True)
        profit = dict(zip(owners.tolist(), np.bincount(inverse, result).tolist(), strict=True))
        for op in list(self.agents_by_type.get(Firm, [])) + list(self.agents_by_type.get(SocialOrganization, [])):
            op.settle(profit.get(op.unique_id, 0.0 if op.facilities else -1.0))

    def _ration_vouchers(self, svc: np.ndarray, contracts: np.ndarray, vouchers: np.ndarray, visits: np.ndarray) -> None:
        """Share of a full voucher the fund can honour alongside contracts; residents plan with it next month.

        Called before this month's entitlements are paid: the share is what the
        earmark could pay for every voucher-eligible market visit at full value.
        """
        full = np.bincount(svc, (self.voucher * self.voucher_eligible_share)[svc] * visits, K)
        # vouchers and contracts are paid together, pro rata, so this is the share they would get
        total = full + np.bincount(svc, contracts, K)
        share = np.where(full > 0, np.minimum(1.0, np.divide(self.fund.balance, total, out=np.ones(K), where=total > 0)), 1.0)
        if np.max(np.abs(share - self.residents.voucher_availability)) > 0.05:
            self.residents.prepare(self.cfg, self.layout.n_cells, share)

    def _interest_binding_pay(self, use: dict, svc: np.ndarray, cap: np.ndarray, voluntary_used: np.ndarray) -> np.ndarray:
        """Outcome-linked pay s·Y(G) = s·a·G0·ln(1 + G/G0) for voluntary visits G used."""
        g0 = np.maximum(cap * self.cfg["linkage"]["voluntary_base_share"], 1e-9)
        pay = use["stake"] * self.outcome_value[svc] * g0 * np.log1p(voluntary_used / g0)
        claims = np.bincount(svc, pay, K)
        paid = self.fund.pay_by_service(claims, "interest_binding")
        # where nothing was claimed, operators expect to be paid if the earmark has money
        self.binding_pay_fraction = np.where(claims > 0, paid, (self.fund.balance > 0).astype(float))
        return pay * self.binding_pay_fraction[svc]

    def exit_operator(self, op: Operator) -> None:
        for f in op.facilities:
            if f.model is not None:
                f.remove()
        self.exits[op.kind] += 1
        if isinstance(op, Firm) and self.cfg["profit_space"]["franchise"]:
            self.franchisee[self.franchisee == op.unique_id] = -1
        what = ", ".join(SERVICE_TYPES[f.service].replace("_", " ") for f in op.facilities) or "no service"
        self.log(f"A {op.kind.replace('_', ' ')} closed ({what}): losses for {len(op.profit_history)} months")
        op.facilities = []
        op.remove()

    def _respond(self, use: dict) -> None:
        """Residents rate, voice unmet needs, and learn whether voicing pays."""
        res, cfg = self.residents, self.cfg
        link = cfg["linkage"]
        burden = self.issues.burden_per_resident()
        performance = np.clip(use["performance"] - burden, 0.0, 1.0)
        met_expectation = performance >= res.expectation
        res.update_satisfaction(performance, cfg, self.rng)
        res.met_share = use["met"]
        unmet = 1.0 - use["met"]
        draws = self.rng.random((2, res.n))
        reports = (draws[0] < res.participation * self.channel_reach) & (unmet > link["report_threshold"])
        # voicing pays off when the channel answers and the service lives up to expectations
        paid_off = (draws[1] < link["feedback_loop"]) & met_expectation
        eta = cfg["population"]["participation_learning"]
        res.participation[reports] += eta * (paid_off[reports] - res.participation[reports])
        # what planners hear: unmet need of the reporting share of each cell, with noise
        reporters = np.bincount(res.cell[reports], minlength=self.layout.n_cells)
        share = np.divide(reporters, res.residents_per_cell, out=np.zeros(self.layout.n_cells),
                          where=res.residents_per_cell > 0)
        comm = self.layout.community_of_cell
        noise_sd = 1.0 - self.channel_accuracy
        heard_unmet = _by_community(comm, share[:, None] * use["cell_unmet"], self.layout.n_communities)
        heard_need = _by_community(comm, share[:, None] * res.cell_need, self.layout.n_communities)
        heard_unmet *= np.exp(self.rng.normal(0.0, noise_sd, heard_unmet.shape) - noise_sd**2 / 2)
        self.street_office.observe(heard_unmet, heard_need)
        self.reports_this_step = int(reports.sum())
        if reports.any():
            self.log(f"{int(reports.sum())} needs reported through grid workers reached the street office")


def _by_community(community_of_cell: np.ndarray, cell_values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, cell_values.shape[1]))
    np.add.at(out, community_of_cell, cell_values)
    return out
