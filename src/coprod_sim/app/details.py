"""What a click on the map shows: who runs a facility, its capacity, use, quality, waiting approvals
and why it is there; or, for a cell, who lives there and what they get."""

from __future__ import annotations

import numpy as np

from ..domain import DEPARTMENT_LABELS, DEPARTMENT_NAMES, OPERATOR_LABELS, SERVICE_TYPES
from .figures import met_share


def _place(model, community: int) -> str:
    zone = "periphery" if model.layout.community_is_periphery[community] else "centre"
    return f"C{community} ({zone})"


def why_there(facility) -> str:
    """The rule that put the facility on the map, in words (docs/ODD.md §7.3, §7.5, §7.6, §7.8)."""
    kind = facility.operator.kind
    if facility.public and kind == "government":
        return "Planned by the street office and run by the government itself."
    if facility.public:
        return "Planned by the street office and contracted out to this operator."
    if kind == "state_owned":
        return "A state-owned firm entered a thin market that private firms left unserved."
    if kind == "firm":
        return "A private firm entered because it expected a profit here."
    if kind == "volunteers":
        return "Residents organised mutual aid (co-production) for a need nobody met."
    return "A social organization chose to serve here."


def facility_details(model, uid: int) -> list[tuple[str, str]] | None:
    """(label, value) rows describing facility ``uid``, or None when it is gone."""
    from ..model.facility import Facility

    f = next((f for f in model.agents_by_type.get(Facility, []) if f.unique_id == uid), None)
    if f is None:
        return None
    waiting = ", ".join(DEPARTMENT_LABELS[DEPARTMENT_NAMES[d]] for d in f.pending) or "none"
    return [
        ("Facility", f"{SERVICE_TYPES[f.service].replace('_', ' ')} in {_place(model, f.community)}"),
        ("Run by", OPERATOR_LABELS[f.operator.kind] + (" (public contract)" if f.contracted else "")),
        ("Status", "open" if f.active else "awaiting approvals"),
        ("Capacity (visits/month)", f"{f.capacity:.0f}"),
        ("Used last month (visits)", f"{f.used:.0f}"),
        ("Quality (0–1)", f"{f.quality:.2f}"),
        ("Fit to residents' wishes (0–1)", f"{f.fit:.2f}"),
        ("Waiting for", waiting),
        ("Planned", f"in month {f.created}" if f.created > 0 else "before this run started (month 0)" if f.created == 0
         else f"during the spin-up, {-f.created} months before month 0"),
        ("Why it is there", why_there(f)),
    ]


def cell_details(model, cell: int) -> list[tuple[str, str]]:
    """(label, value) rows describing one cell: place, residents, their satisfaction and unmet need."""
    lay, res = model.layout, model.residents
    here = res.cell == cell
    x, y = lay.cell_xy(cell)
    rows = [("Cell", f"x {int(x)}, y {int(y)} in {_place(model, int(lay.community_of_cell[cell]))}"),
            ("Management grid", str(int(lay.mgrid_of_cell[cell]))),
            ("Residents", str(int(here.sum())))]
    if here.any():
        rows += [("Satisfaction, mean (1–5)", f"{float(np.mean(res.satisfaction[here])):.2f}"),
                 ("Unmet need (share)", f"{1 - float(np.mean(met_share(model)[here])):.2f}")]
    return rows
