"""The terms of service in force: per-service costs, prices, capacity limits and public money per visit.

One array per quantity, indexed by service type (``domain.SERVICE_TYPES``).
Costs follow their trend and subsidies can be cut at a set month (seed 001: the
elder canteen that fails when the subsidy shrinks and costs rise), so the terms
are updated at the start of every month by :meth:`ServiceTerms.follow_trends`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.params import LinkageParams, ProfitSpaceParams, ServicesParams


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
    scale_exponent: float  # fixed cost grows with capacity to this power (economies of scale, seed 000)
    subsidy_change_step: int  # month from which subsidies change (−1: never)
    subsidy_change_factor: float

    @classmethod
    def from_params(cls, services: ServicesParams, profit_space: ProfitSpaceParams, linkage: LinkageParams) -> ServiceTerms:
        base_unit_cost = services.unit_cost.array()
        market_price = services.market_price.array()
        base_subsidy = profit_space.subsidy_per_visit.array()
        return cls(
            base_unit_cost=base_unit_cost, unit_cost=base_unit_cost.copy(), market_price=market_price,
            guided_price=market_price * profit_space.guided_price_share, max_capacity=services.max_capacity.array(),
            fixed_cost=services.fixed_cost.array(), outcome_value=base_unit_cost * linkage.outcome_value_ratio,
            base_subsidy=base_subsidy, subsidy=base_subsidy.copy(), voucher=profit_space.voucher_per_visit.array(),
            capital_months=services.capital_months, cost_growth=services.cost_growth.array(),
            cost_growth_months=services.cost_growth_months, scale_exponent=services.scale_exponent,
            subsidy_change_step=profit_space.subsidy_change_step, subsidy_change_factor=profit_space.subsidy_change_factor,
        )

    def follow_trends(self, month: int) -> None:
        """Unit costs grow from month 0 for ``cost_growth_months``; from the change month on, subsidies are
        scaled by the change factor."""
        self.unit_cost = self.base_unit_cost * (1.0 + self.cost_growth) ** min(month, self.cost_growth_months)
        cut = self.subsidy_change_step
        factor = self.subsidy_change_factor if 0 <= cut <= month else 1.0
        self.subsidy = self.base_subsidy * factor

    def fixed_cost_at(self, services: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Monthly fixed cost of facilities of the given services and capacities (economies of scale)."""
        return self.fixed_cost[services] * (capacity / self.max_capacity[services]) ** self.scale_exponent

    def capital_cost(self, k: int) -> float:
        """Yuan to build a facility of service ``k`` (paid when commissioned)."""
        return float(self.fixed_cost[k] * self.capital_months)
