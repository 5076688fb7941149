"""Facilities: service points of one type in one cell, run by one operator (Mesa FixedAgent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from ..domain import SERVICE_TYPES

if TYPE_CHECKING:
    from .model import Model
    from .operators import Operator


class Facility(FixedAgent):
    """A service point of one type in one cell, run by one operator.

    Life cycle: approving (waiting for department sign-offs) → active →
    closed. ``public`` facilities are publicly funded, charge the guided price
    and serve only eligible residents; others sell at the market price.
    """

    def __init__(
        self,
        model: Model,
        cell_index: int,
        service: int,
        operator: Operator,
        capacity: float,
        public: bool,
        new_building: bool,
        contracted: bool = False,
        needs_approval: bool = True,
        community: int | None = None,
    ):
        super().__init__(model)
        self.cell_index = cell_index
        # the community it was planned for (in merged layouts not always the one it stands in)
        self.community = int(model.layout.community_of_cell[cell_index]) if community is None else community
        x, y = model.layout.cell_xy(cell_index)
        self.cell = model.grid[(int(x), int(y))]
        self.service = service
        self.operator = operator
        self.capacity = capacity
        self.planned_capacity = capacity
        self.public = public
        self.contracted = contracted
        self.quality = 0.5
        self.fit = 0.5
        self.voluntary = 0.0
        self.used = 0.0
        self.funded = 1.0  # moving average of the share of its claims the fund paid (public facilities)
        self.underfunded_months = 0
        self.created = model.month
        self.pending = model.approval_chains.departments(SERVICE_TYPES[service], new_building) if needs_approval else []
        self.needed_approval = bool(self.pending)
        self.active = not self.pending
        self.approval_delay = 0 if self.active else None  # months from planning to opening, once approved
        operator.facilities.append(self)
