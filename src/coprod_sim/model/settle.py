"""Downstream stage, part 2: the month's money flows, then operators' results and exits (docs/ODD.md §7.12).

Public facilities charge the guided price and the fund pays the operator's
deficit; market facilities charge the market price and the fund pays vouchers of
eligible residents and the per-visit subsidy; voluntary (interest-binding) visits
cost the operator and earn outcome-linked pay s·Y(G). Computed for all
facilities at once; what the fund cannot pay is paid pro rata. What the month's
payments teach the planner and the operators travels on as a :class:`Settlement`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..config.params import GovernmentParams, LinkageParams, OperatorsParams, PlanningParams, ProfitSpaceParams
from ..domain import KIND_INDEX, K
from .facility import Facilities
from .operators import Books, Firm, SocialOrganization

FEN_PER_YUAN = 100  # operators book results in whole fen, the currency's unit (``_settle_operators``)
FISCAL_YEAR_MONTHS = 12  # budgets are annual: unspent money lapses at the year's end (government.budget_carryover)

if TYPE_CHECKING:
    from .consume import Consumption
    from .model import Model


@dataclass(frozen=True)
class Settlement:
    """What a month's payments told the actors who plan the next one."""

    running_paid_share: np.ndarray  # (K,) share of running claims each earmark paid: the planner builds only where ≥ a floor
    binding_pay_expected: np.ndarray  # (K,) share of outcome-linked pay operators expect the fund to honour

    @classmethod
    def before_start(cls) -> Settlement:
        """Before the first month the planner and operators expect every claim to be paid."""
        return cls(np.ones(K), np.ones(K))


@dataclass
class _Bill:
    """What each active facility cost this month and what it is owed, by claim (F,) arrays."""

    cost: np.ndarray  # operating cost, yuan
    own_income: np.ndarray  # fees and sales, net of the voucher part residents do not pay
    voucher: np.ndarray  # vouchers of eligible residents, owed by the fund
    contract: np.ndarray  # deficit of contracted public facilities (purchase contracts)
    subsidy: np.ndarray  # per-visit subsidies to market providers
    own_window: np.ndarray  # deficit of the street office's own (government-run) windows
    outcome_pay: np.ndarray  # outcome-linked pay claimed (interest-binding)
    contracted: np.ndarray  # bool
    paid_market: np.ndarray  # market visits sold
    eligible_share: np.ndarray  # (K,) share of market visits bought by voucher-eligible residents


@dataclass(frozen=True)
class _Paid:
    """Fractions of each tier's claims paid, per service earmark, and of outcome-linked pay honoured."""

    tiers: tuple[np.ndarray, np.ndarray, np.ndarray]  # obligations, commitments, own windows
    honoured: np.ndarray  # (K,)


class Payments:
    """The fund's payments to operators and operators' results, under the profit-space rules in force."""

    def __init__(self, profit_space: ProfitSpaceParams, government: GovernmentParams, operators: OperatorsParams,
                 linkage: LinkageParams, planning: PlanningParams):
        self.profit_space = profit_space
        self.government = government
        self.operators = operators
        self.linkage = linkage
        self.planning = planning  # firms keep at least planning.min_project_visits of capacity
        self.books = Books(operators.exit_patience)  # outside operators' results, for the exit rule

    def pay_and_settle(self, model: Model, use: Consumption, before: Settlement) -> Settlement:
        """Pay for the month's services in order of entitlement, resize facilities, and let operators settle;
        ``before`` is what last month's payments taught the actors."""
        if not use.facilities:
            return before
        bill = self._bill(model, use)
        paid, pay_expected = self._pay_in_order(model, use.service, bill, before.binding_pay_expected)
        result = self._results(model, use, bill, paid)
        self._resize(model, use, paid)
        self._settle_operators(model, use, result)
        if model.month % FISCAL_YEAR_MONTHS == 0:
            model.fund.lapse(self.government.budget_carryover)
        # what the planner learns about its bills: the share of running claims its earmarks could pay
        running = np.minimum(np.minimum(paid.tiers[0], paid.tiers[1]), paid.tiers[2])
        return Settlement(running_paid_share=running, binding_pay_expected=pay_expected)

    def _bill(self, model: Model, use: Consumption) -> _Bill:
        """Each facility's cost this month and what it is owed, by whom; concessions are recorded at their value."""
        terms, ps, gov, ops = model.terms, self.profit_space, self.government, self.operators
        svc, public, kind = use.service, use.public, use.kind_code
        mutual_aid = kind == KIND_INDEX["volunteers"]
        # free visits (the third class) earn only outcome-linked pay; the other two classes are paid visits
        paid_pub = np.where(public, use.used_public, 0.0)
        paid_mkt = use.used_market
        unit_cost = terms.unit_cost[svc] * use.cost_factor * (1.0 + ops.quality_cost_share * use.quality)
        voluntary_cost = use.used_voluntary * unit_cost
        var_cost = (paid_pub + paid_mkt) * unit_cost + voluntary_cost
        fixed = terms.fixed_cost_at(svc, use.capacity)
        staffing = np.where(kind == KIND_INDEX["government"], 1.0 + gov.admin_staffing * gov.admin_control, 1.0)
        rent_kept = ops.rent_share * (0.0 if ps.rent_free_space else 1.0)
        cost = var_cost + np.where(public, fixed * staffing, fixed * (1.0 - ops.rent_share + rent_kept))
        # rent-free space: the premises' market rent, which market operators no longer pay, is forgone
        # (mutual aid runs in residents' own rooms: no premises are lent to it)
        lent = ~public & ~mutual_aid
        model.fund.forgo("rent_forgone", float(np.where(lent, fixed * (ops.rent_share - rent_kept), 0.0).sum()))
        fees_pub = terms.guided_price[svc] * paid_pub
        voucher = (terms.voucher * model.residents.voucher_availability * use.voucher_eligible_share)[svc] * paid_mkt
        own_income = fees_pub + terms.market_price[svc] * paid_mkt - voucher
        contracted = use.contracted
        # the public deficit covers paid services only: voluntary visits earn outcome-linked pay instead
        deficit = np.where(public, np.maximum(cost - voluntary_cost - fees_pub, 0.0), 0.0)
        bill = _Bill(cost=cost, own_income=own_income, voucher=voucher, contract=deficit * contracted,
                     subsidy=terms.subsidy[svc] * paid_mkt, own_window=deficit * ~contracted,
                     outcome_pay=self._interest_binding_claims(model, use, svc, use.capacity, use.used_voluntary),
                     contracted=contracted, paid_market=paid_mkt, eligible_share=use.voucher_eligible_share)
        for arr in (bill.cost, bill.own_income, bill.voucher, bill.contract, bill.subsidy, bill.own_window):
            arr[mutual_aid] = 0.0  # residents' mutual aid costs the public nothing
        return bill

    def _pay_in_order(self, model: Model, svc: np.ndarray, bill: _Bill, expected: np.ndarray
                      ) -> tuple[_Paid, np.ndarray]:
        """Pay the month's claims by the priority rule (docs/ODD.md §7.12), each tier pro rata within an earmark:

        1. obligations: residents' vouchers and purchase contracts;
        2. announced per-unit commitments: per-visit subsidies and outcome-linked pay, the latter only up to
           the budget the street office set for it (``linkage.outcome_pay_budget_share`` of the month's release);
        3. the office's own windows: government-run services, cut first when money is short (seed 001 canteen).

        Capital was paid when facilities were commissioned, before any of these. Returns the fractions paid
        and the share of outcome-linked pay operators now expect to be honoured.
        """
        fund = model.fund
        _ration_vouchers(model, svc, bill.contract, bill.paid_market, bill.eligible_share)
        first = fund.pay_by_service(np.bincount(svc, bill.voucher + bill.contract, K), "contracts_and_vouchers")
        claims = np.bincount(svc, bill.outcome_pay, K)
        budget = self.linkage.outcome_pay_budget_share * fund.step_released_by_service
        within = np.minimum(1.0, np.divide(budget, claims, out=np.ones(K), where=claims > 0))
        second = fund.pay_together({"subsidies": np.bincount(svc, bill.subsidy, K), "interest_binding": claims * within})
        third = fund.pay_by_service(np.bincount(svc, bill.own_window, K), "services")
        honoured = within * second
        offered = budget > 0
        return _Paid((first, second, third), honoured), self._expect_binding_pay(claims, honoured, offered, expected)

    def _results(self, model: Model, use: Consumption, bill: _Bill, paid: _Paid) -> np.ndarray:
        """Each facility's result after tax: what it earned and was paid less its cost (tax relief is forgone
        revenue, recorded as a concession); state-owned firms' losses are covered up to a limit."""
        ps, ops, svc = self.profit_space, self.operators, use.service
        first, second, third = (tier[svc] for tier in paid.tiers)
        # a voucher the fund cannot honour is paid by the resident (vouchers are rationed, not
        # defaulted on); residents anticipate the rationing next month (``_ration_vouchers``)
        income = bill.own_income + bill.voucher * (1.0 - first) + (bill.voucher + bill.contract) * first
        result = income + bill.subsidy * second + bill.own_window * third - bill.cost + bill.outcome_pay * paid.honoured[svc]
        taxed = (result > 0) & ~use.public
        model.fund.forgo("tax_forgone", float(np.where(taxed, result * ops.profit_tax_rate * ps.tax_relief, 0.0).sum()))
        result = np.where(taxed, result * (1.0 - ops.profit_tax_rate * (1.0 - ps.tax_relief)), result)
        cover = np.where((use.kind_code == KIND_INDEX["state_owned"]) & (result < 0), np.minimum(-result, ps.soe_loss_tolerance), 0.0)
        return result + cover * model.fund.pay_by_service(np.bincount(svc, cover, K), "soe_deficit")[svc]

    def _resize(self, model: Model, use: Consumption, paid: _Paid) -> None:
        """Public facilities follow their funding; firms size capacity to the demand they served."""
        svc, table, ops = use.service, model.facilities, self.operators
        rows = use.rows
        slack = np.clip(use.used_market * ops.capacity_slack, self.planning.min_project_visits,
                        model.terms.max_capacity[svc])
        paid_share = np.where(use.contracted, paid.tiers[0][svc], paid.tiers[2][svc])
        # residents' groups follow their volunteers (``MutualAidGroup.organise``)
        staffed = use.kind_code != KIND_INDEX["volunteers"]
        market = staffed & ~use.public
        table.capacity[rows[market]] = slack[market]
        public = np.flatnonzero(staffed & use.public)
        for i in public[self._follow_funding(table, rows[public], paid_share[public])].tolist():
            f = use.facilities[i]
            f.operator.close(f, f"unpaid for {f.underfunded_months} months")

    def _follow_funding(self, table: Facilities, rows: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Public facilities' staff follow their pay (``paid``: the share of their claims paid this month):
        capacity tracks the remembered funded share. Returns which have been left underfunded for
        ``exit_patience`` months and close (the street office cuts the window, or the contract ends)."""
        ops = self.operators
        funded = table.funded[rows] + ops.funding_memory * (paid - table.funded[rows])
        table.funded[rows] = funded
        table.capacity[rows] = table.planned_capacity[rows] * (1.0 - ops.unpaid_capacity_loss * (1.0 - funded))
        table.underfunded_months[rows] = np.where(funded < ops.closure_funding_share, table.underfunded_months[rows] + 1, 0)
        return table.underfunded_months[rows] >= ops.exit_patience

    def _settle_operators(self, model: Model, use: Consumption, result: np.ndarray) -> None:
        """Each operator books its month's result in whole fen (0.01 yuan), as accounts are kept.

        An operator paid exactly its cost (a social organisation on a cost-covering contract) breaks even;
        in floating point its result is ±1e-12 yuan, and without rounding to the currency's unit the last bit
        of a sum, which differs between CPUs, would decide whether it "keeps losing money" and exits
        (docs/ODD.md §7.5, Exit)."""
        operators = [*model.agents_by_type.get(Firm, []), *model.agents_by_type.get(SocialOrganization, [])]
        if not operators:
            return
        ids = np.fromiter((op.unique_id for op in operators), dtype=np.int64, count=len(operators))
        size = max(int(ids.max()), int(use.operator_id.max())) + 1
        profit = np.rint(np.bincount(use.operator_id, result, size) * FEN_PER_YUAN).astype(np.int64)
        serving = np.bincount(use.operator_id, minlength=size) > 0
        has_facilities = np.fromiter((bool(op.facilities) for op in operators), dtype=bool, count=len(operators))
        # an operator whose facilities all wait for approval neither earns nor loses; one with none loses
        booked = np.where(serving[ids], profit[ids], np.where(has_facilities, 0, -FEN_PER_YUAN))
        for i in np.flatnonzero(self.books.book(operators, booked)).tolist():
            if operators[i].can_exit():
                operators[i].exit()

    def _interest_binding_claims(self, model: Model, use: Consumption, svc: np.ndarray, cap: np.ndarray,
                                 voluntary_used: np.ndarray) -> np.ndarray:
        """Outcome-linked pay claimed, s·Y(G) = s·a·G0·ln(1 + G/G0) for the free visits G used (need met that no
        other class met), per facility."""
        g0 = np.maximum(cap * self.linkage.voluntary_base_share, 1e-9)
        return use.stake * model.terms.outcome_value[svc] * g0 * np.log1p(voluntary_used / g0)

    def _expect_binding_pay(self, claims: np.ndarray, honoured: np.ndarray, offered: np.ndarray,
                            expected: np.ndarray) -> np.ndarray:
        """Operators revise the share of outcome-linked pay they expect honoured gradually (adaptive expectations),
        so pay does not swing month to month. Where nothing was claimed they learn from the offer itself: pay is
        expected only where the street office budgeted money for it (``offered``), so a promise it does not fund
        stops buying free visits."""
        observed = np.where(claims > 0, honoured, offered.astype(float))
        return expected + self.linkage.pay_expectation_adjustment * (observed - expected)


def _ration_vouchers(model: Model, svc: np.ndarray, contracts: np.ndarray, visits: np.ndarray,
                     eligible_share: np.ndarray) -> None:
    """Share of a full voucher the fund can honour alongside the other contracts; residents plan with it next month.

    Called before this month's entitlements are paid: the share is what the
    earmark could pay for every voucher-eligible market visit at full value.
    """
    full = np.bincount(svc, (model.terms.voucher * eligible_share)[svc] * visits, K)
    # vouchers and purchase contracts are paid together, pro rata, so this is the share they would get
    total = full + np.bincount(svc, contracts, K)
    share = np.where(full > 0, np.minimum(1.0, np.divide(model.fund.balance, total, out=np.ones(K), where=total > 0)), 1.0)
    if np.max(np.abs(share - model.residents.voucher_availability)) > 0.05:
        model.residents.prepare(model.terms, model.layout.n_cells, share)
