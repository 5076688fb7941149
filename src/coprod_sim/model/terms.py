"""The terms of service in force: per-service costs, prices, capacity limits and public money per visit.

One array per quantity, indexed by service type (``domain.SERVICE_TYPES``).
Costs follow their trend and subsidies can be cut at a set month (seed 001: the
elder canteen that fails when the subsidy shrinks and costs rise), so the terms
are updated at the start of every month by :meth:`ServiceTerms.follow_trends`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain import SERVICE_TYPES


def per_service(table: dict) -> np.ndarray:
    """A ``{service: value}`` config table as an array in ``SERVICE_TYPES`` order."""
    return np.array([float(table[s]) for s in SERVICE_TYPES])


@dataclass
class ServiceTerms:
    """Yuan and visits per service type; ``unit_cost`` and ``subsidy`` move with time, the rest is fixed."""

    base_unit_cost: np.ndarray  # yuan / visit at month 0
    unit_cost: np.ndarray  # yuan / visit this month
    market_price: np.ndarray  # yuan / visit charged by market providers
    guided_price: np.ndarray  # yuan / visit charged by publicly funded facilities
    max_capacity: np.ndarray  # visits / month of one facility
    fixed_cost: np.ndarray  # yuan / month of a full-size facility
    outcome_value: np.ndarray  # yuan of community value per voluntary visit (interest-binding, §7.11)
    base_subsidy: np.ndarray  # yuan / visit paid to market providers before any cut
    subsidy: np.ndarray  # yuan / visit this month
    voucher: np.ndarray  # yuan / visit for eligible residents
    capital_months: float  # capital cost of a new facility, in months of its fixed cost
    cost_growth: np.ndarray  # monthly growth of unit costs
    cost_growth_months: int  # months over which they grow
    subsidy_change_step: int  # month from which subsidies change (−1: never)
    subsidy_change_factor: float

    @classmethod
    def from_config(cls, cfg: dict) -> ServiceTerms:
        svc, ps, link = cfg["services"], cfg["profit_space"], cfg["linkage"]
        base_unit_cost = per_service(svc["unit_cost"])
        market_price = per_service(svc["market_price"])
        base_subsidy = per_service(ps["subsidy_per_visit"])
        return cls(
            base_unit_cost=base_unit_cost, unit_cost=base_unit_cost.copy(), market_price=market_price,
            guided_price=market_price * ps["guided_price_share"], max_capacity=per_service(svc["max_capacity"]),
            fixed_cost=per_service(svc["fixed_cost"]), outcome_value=base_unit_cost * link["outcome_value_ratio"],
            base_subsidy=base_subsidy, subsidy=base_subsidy.copy(), voucher=per_service(ps["voucher_per_visit"]),
            capital_months=svc["capital_months"], cost_growth=per_service(svc["cost_growth"]),
            cost_growth_months=svc["cost_growth_months"],
            subsidy_change_step=ps["subsidy_change_step"], subsidy_change_factor=ps["subsidy_change_factor"],
        )

    def follow_trends(self, month: int) -> None:
        """Unit costs grow from month 0 for ``cost_growth_months``; from the change month on, subsidies are
        scaled by the change factor."""
        self.unit_cost = self.base_unit_cost * (1.0 + self.cost_growth) ** min(month, self.cost_growth_months)
        cut = self.subsidy_change_step
        factor = self.subsidy_change_factor if 0 <= cut <= month else 1.0
        self.subsidy = self.base_subsidy * factor

    def capital_cost(self, k: int) -> float:
        """Yuan to build a facility of service ``k`` (paid when commissioned)."""
        return float(self.fixed_cost[k] * self.capital_months)
