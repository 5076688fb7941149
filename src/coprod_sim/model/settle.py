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
from ..domain import K
from .facility import Facility
from .operators import Firm, SocialOrganization

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


class Payments:
    """The fund's payments to operators and operators' results, under the profit-space rules in force."""

    def __init__(self, profit_space: ProfitSpaceParams, government: GovernmentParams, operators: OperatorsParams,
                 linkage: LinkageParams, planning: PlanningParams):
        self.profit_space = profit_space
        self.government = government
        self.operators = operators
        self.linkage = linkage
        self.planning = planning  # firms keep at least planning.min_project_visits of capacity

    def pay_and_settle(self, model: Model, use: Consumption, before: Settlement) -> Settlement:
        """Pay for the month's services in order of entitlement, resize facilities, and let operators settle;
        ``before`` is what last month's payments taught the actors."""
        terms = model.terms
        ps, gov, ops = self.profit_space, self.government, self.operators
        facs, svc, public, kind = use.facilities, use.service, use.public, use.kind
        if not facs:
            return before
        cap, quality = use.capacity, use.quality
        # free visits (the third class) earn only outcome-linked pay; the other two classes are paid visits
        voluntary_used = use.used_voluntary
        paid_pub = np.where(public, use.used_public, 0.0)
        paid_mkt = use.used_market
        own_cost = np.array([f.operator.cost_factor for f in facs])
        unit_cost = terms.unit_cost[svc] * own_cost * (1.0 + ops.quality_cost_share * quality)
        voluntary_cost = voluntary_used * unit_cost
        var_cost = (paid_pub + paid_mkt) * unit_cost + voluntary_cost
        fixed = terms.fixed_cost_at(svc, cap)
        staffing = np.where(kind == "government", 1.0 + gov.admin_staffing * gov.admin_control, 1.0)
        rent_kept = ops.rent_share * (0.0 if ps.rent_free_space else 1.0)
        cost = var_cost + np.where(public, fixed * staffing, fixed * (1.0 - ops.rent_share + rent_kept))
        fees_pub = terms.guided_price[svc] * paid_pub
        voucher_mkt = (terms.voucher * model.residents.voucher_availability * use.voucher_eligible_share)[svc] * paid_mkt
        own_income = fees_pub + terms.market_price[svc] * paid_mkt - voucher_mkt
        contracted = np.array([f.contracted for f in facs], dtype=bool)
        # the public deficit covers paid services only: voluntary visits earn outcome-linked pay instead
        deficit = np.where(public, np.maximum(cost - voluntary_cost - fees_pub, 0.0), 0.0)
        # After this month's capital commitments (paid when commissioned), entitlements and
        # contracts are paid first, pro rata together: residents' vouchers, purchase contracts and
        # outcome-linked pay. The street office absorbs a shortfall by cutting its own service hours
        # and paying subsidies late (pro rata), which is how a shrinking fund reaches government-run
        # windows and subsidised firms (seed 001 canteen; assumption on the order).
        binding = self._interest_binding_claims(model, use, svc, cap, voluntary_used)
        first = voucher_mkt + deficit * contracted
        later = terms.subsidy[svc] * paid_mkt + deficit * ~contracted
        volunteers = kind == "volunteers"
        for arr in (cost, first, later, own_income):
            arr[volunteers] = 0.0
        _ration_vouchers(model, svc, first - voucher_mkt + binding, voucher_mkt, paid_mkt, use.voucher_eligible_share)
        claims_first = {"contracts_and_vouchers": np.bincount(svc, first, K), "interest_binding": np.bincount(svc, binding, K)}
        paid_first = model.fund.pay_together(claims_first)
        pay_expected = self._expect_binding_pay(model, claims_first["interest_binding"], paid_first,
                                                before.binding_pay_expected)
        binding = binding * paid_first[svc]
        paid_later = model.fund.pay_by_service(np.bincount(svc, later, K), "services")
        frac_first, frac = paid_first[svc], paid_later[svc]
        # a voucher the fund cannot honour is paid by the resident (vouchers are rationed, not
        # defaulted on); residents anticipate the rationing next month (``_ration_vouchers``)
        own_income += voucher_mkt * (1.0 - frac_first)
        result = own_income + first * frac_first + later * frac - cost + binding
        result = np.where((result > 0) & ~public, result * (1.0 - ops.profit_tax_rate * (1.0 - ps.tax_relief)), result)
        cover = np.where((kind == "state_owned") & (result < 0), np.minimum(-result, ps.soe_loss_tolerance), 0.0)
        result += cover * model.fund.pay_by_service(np.bincount(svc, cover, K), "soe_deficit")[svc]
        slack = np.clip(use.used_market * ops.capacity_slack, self.planning.min_project_visits, terms.max_capacity[svc])
        paid_share = np.where(contracted, frac_first, frac)
        for f, f_frac, f_slack in zip(facs, paid_share, slack, strict=True):
            if f.operator.kind == "volunteers":
                continue
            if f.public:
                self._follow_funding(f, float(f_frac))
            else:  # firms size to demand
                f.capacity = float(f_slack)
        profit = np.bincount(use.operator_id, result).tolist()  # by operator id
        serving = set(use.operator_id.tolist())
        for op in list(model.agents_by_type.get(Firm, [])) + list(model.agents_by_type.get(SocialOrganization, [])):
            # an operator whose facilities all wait for approval neither earns nor loses; one with none loses
            op.settle(profit[op.unique_id] if op.unique_id in serving else 0.0 if op.facilities else -1.0)
        if model.month % FISCAL_YEAR_MONTHS == 0:
            model.fund.lapse(gov.budget_carryover)
        # what the planner learns about its bills: the share of running claims its earmarks could pay
        return Settlement(running_paid_share=np.minimum(paid_first, paid_later), binding_pay_expected=pay_expected)

    def _follow_funding(self, f: Facility, paid: float) -> None:
        """A public facility's staff follow its pay: capacity tracks the remembered funded share, and a facility
        left underfunded for ``exit_patience`` months closes (the street office cuts the window, or the contract ends)."""
        ops = self.operators
        f.funded += ops.funding_memory * (paid - f.funded)
        f.capacity = f.planned_capacity * (1.0 - ops.unpaid_capacity_loss * (1.0 - f.funded))
        f.underfunded_months = f.underfunded_months + 1 if f.funded < ops.closure_funding_share else 0
        if f.underfunded_months >= ops.exit_patience:
            f.operator.close(f, f"unpaid for {f.underfunded_months} months")

    def _interest_binding_claims(self, model: Model, use: Consumption, svc: np.ndarray, cap: np.ndarray,
                                 voluntary_used: np.ndarray) -> np.ndarray:
        """Outcome-linked pay claimed, s·Y(G) = s·a·G0·ln(1 + G/G0) for the free visits G used (need met that no
        other class met), per facility."""
        g0 = np.maximum(cap * self.linkage.voluntary_base_share, 1e-9)
        return use.stake * model.terms.outcome_value[svc] * g0 * np.log1p(voluntary_used / g0)

    def _expect_binding_pay(self, model: Model, claims: np.ndarray, paid: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """Operators revise the share of outcome-linked pay they expect honoured gradually (adaptive expectations),
        so pay does not swing month to month; where nothing was claimed they expect payment if the earmark has money."""
        honoured = np.where(claims > 0, paid, (model.fund.balance > 0).astype(float))
        return expected + self.linkage.pay_expectation_adjustment * (honoured - expected)


def _ration_vouchers(model: Model, svc: np.ndarray, contracts: np.ndarray, vouchers: np.ndarray,
                     visits: np.ndarray, eligible_share: np.ndarray) -> None:
    """Share of a full voucher the fund can honour alongside the other contracts; residents plan with it next month.

    Called before this month's entitlements are paid: the share is what the
    earmark could pay for every voucher-eligible market visit at full value.
    """
    full = np.bincount(svc, (model.terms.voucher * eligible_share)[svc] * visits, K)
    # vouchers, purchase contracts and outcome-linked pay are paid together, pro rata, so this is the share they would get
    total = full + np.bincount(svc, contracts, K)
    share = np.where(full > 0, np.minimum(1.0, np.divide(model.fund.balance, total, out=np.ones(K), where=total > 0)), 1.0)
    if np.max(np.abs(share - model.residents.voucher_availability)) > 0.05:
        model.residents.prepare(model.terms, model.layout.n_cells, share)
