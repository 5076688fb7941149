"""Facilities: service points of one type in one cell, run by one operator (Mesa FixedAgent).

Their state lives in one table (:class:`Facilities`), a row per facility, so that the month's steps read and write
every facility with one array operation (offers, service settings, resizing) instead of an attribute access each;
a ``Facility`` agent is the view of its row that the rest of the model, the app and users handle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from mesa.discrete_space import FixedAgent

from ..domain import KIND_INDEX, SERVICE_TYPES

if TYPE_CHECKING:
    from .model import Model
    from .operators import Operator


class Facilities:
    """Every facility planned so far, one row each in the order they were planned (the order in which Mesa lists
    the agents, so a bincount over the table's rows adds in the same order as one over the agents).

    ``opened``: the facility still exists (a closed facility keeps its row, never reused); ``active``: it is
    approved and serving.
    """

    COLUMNS: ClassVar[dict[str, type]] = {
        "capacity": float, "planned_capacity": float, "quality": float, "fit": float, "voluntary": float,
        "used": float, "used_public": float, "funded": float, "underfunded_months": int, "created": int,
        "service": int, "cell_index": int, "community": int, "kind_code": int,
        "public": bool, "contracted": bool, "active": bool, "opened": bool,
    }

    def __init__(self) -> None:
        self.size = 0  # rows in use
        self.agents: list[Facility] = []  # the facility of each row
        self._grow(16)

    # Each column is an attribute holding the whole array, rows not yet used included: they are zeros, so not
    # ``opened``, and every reader selects rows, so a column needs no slicing on each read (a month reads dozens).
    capacity: np.ndarray
    planned_capacity: np.ndarray
    quality: np.ndarray
    fit: np.ndarray
    voluntary: np.ndarray
    used: np.ndarray
    used_public: np.ndarray
    funded: np.ndarray
    underfunded_months: np.ndarray
    created: np.ndarray
    service: np.ndarray
    cell_index: np.ndarray
    community: np.ndarray
    kind_code: np.ndarray
    public: np.ndarray
    contracted: np.ndarray
    active: np.ndarray
    opened: np.ndarray

    def _grow(self, rows: int) -> None:
        """Room for ``rows`` rows in every column, the rows in use kept."""
        for name, kind in self.COLUMNS.items():
            column: np.ndarray = np.zeros(rows, dtype=kind)
            if self.size:
                column[:self.size] = getattr(self, name)[:self.size]
            setattr(self, name, column)

    def add(self, facility: Facility) -> int:
        """An open row (otherwise zeros) for a new ``facility``, doubling the columns when full; returns its index."""
        if self.size == len(self.capacity):
            self._grow(2 * self.size)
        self.agents.append(facility)
        self.opened[self.size] = True
        self.size += 1
        return self.size - 1

    def rows(self, facilities: Sequence[Facility]) -> np.ndarray:
        """The rows of ``facilities``, in their order."""
        return np.fromiter((f.row for f in facilities), dtype=np.int64, count=len(facilities))

    def of(self, rows: np.ndarray) -> list[Facility]:
        """The facilities of ``rows``, in their order."""
        return [self.agents[row] for row in rows.tolist()]

    def serving(self) -> np.ndarray:
        """Rows of the facilities serving this month (open and approved), in the order they were planned."""
        return np.flatnonzero(self.opened & self.active)

    def waiting(self) -> np.ndarray:
        """Rows of the facilities waiting for approval, in the order they were planned."""
        return np.flatnonzero(self.opened & ~self.active)


class _Column:
    """A facility's attribute that lives in its row of the table."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.kind = name, Facilities.COLUMNS[name]

    def __get__(self, facility: Facility | None, owner: type | None = None) -> Any:
        if facility is None:
            return self
        return self.kind(getattr(facility.table, self.name)[facility.row])

    def __set__(self, facility: Facility, value: Any) -> None:
        getattr(facility.table, self.name)[facility.row] = value


class Facility(FixedAgent):
    """A service point of one type in one cell, run by one operator.

    Life cycle: approving (waiting for department sign-offs) → active →
    closed. ``public`` facilities are publicly funded, charge the guided price
    and serve only eligible residents; others sell at the market price.
    """

    capacity = _Column()
    planned_capacity = _Column()
    quality = _Column()
    fit = _Column()
    voluntary = _Column()
    used = _Column()
    used_public = _Column()
    funded = _Column()  # moving average of the share of its claims the fund paid (public facilities)
    underfunded_months = _Column()  # months in a row its remembered funded share was below the closure share
    created = _Column()  # the month it was planned
    kind_code = _Column()  # its operator's kind, an index into ``domain.OPERATOR_KINDS``
    service = _Column()
    cell_index = _Column()
    community = _Column()  # the community it was planned for (in merged layouts not always the one it stands in)
    public = _Column()
    contracted = _Column()
    active = _Column()

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
        self.table = model.facilities
        self.row = self.table.add(self)
        self.cell_index = cell_index
        self.community = int(model.layout.community_of_cell[cell_index]) if community is None else community
        x, y = model.layout.cell_xy(cell_index)
        self.cell = model.grid[(int(x), int(y))]
        self.service = service
        self.operator = operator
        self.kind_code = KIND_INDEX[operator.kind]
        self.capacity = capacity
        self.planned_capacity = capacity
        self.public = public
        self.contracted = contracted
        self.quality = 0.5
        self.fit = 0.5
        self.voluntary = 0.0
        self.used = 0.0
        self.funded = 1.0
        self.underfunded_months = 0
        self.created = model.month
        self.pending = model.approval_chains.departments(SERVICE_TYPES[service], new_building) if needs_approval else []
        self.needed_approval = bool(self.pending)
        self.active = not self.pending
        self.approval_delay = 0 if self.active else None  # months from planning to opening, once approved
        operator.facilities.append(self)

    def remove(self) -> None:
        """Close the facility: it leaves the model and its row stops counting as open."""
        self.table.opened[self.row] = False
        super().remove()
