"""Pictures for the browser app: the community grid and the live outcome charts.

Drawn with matplotlib's object API (no pyplot: the Play loop renders from a
worker thread, and pyplot's global state is not thread-safe) and returned as
PNG bytes, which the page shows as plain images. This needs no JavaScript
charting library, so nothing has to be fetched from a CDN, and identical model
states give byte-identical images (the reproducibility test relies on that).
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .domain import OPERATOR_KINDS, SERVICE_TYPES

FIELDS = {
    "satisfaction": "Mean satisfaction (1–5)",
    "unmet_need": "Mean unmet need (share)",
}
OPERATOR_MARKERS = {"government": "s", "state_owned": "D", "firm": "^", "social_org": "o", "volunteers": "*"}
OPERATOR_LABELS = {"government": "government", "state_owned": "state-owned firm", "firm": "private firm",
                   "social_org": "social organization", "volunteers": "volunteers (mutual aid)"}
SERVICE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
# Facilities sharing a cell (a service centre hosts a dozen) are spread on a sunflower spiral around it,
# so none hides another; the n-th facility of a cell sits at radius 0.42·√n cells.
_GOLDEN_ANGLE = np.pi * (3 - np.sqrt(5))


def _slot(n: int) -> tuple[float, float]:
    r = 0.42 * np.sqrt(n)
    return float(r * np.cos(n * _GOLDEN_ANGLE)), float(r * np.sin(n * _GOLDEN_ANGLE))
SAT_LEVELS = ("1 very dissatisfied", "2 dissatisfied", "3 average", "4 satisfied", "5 very satisfied")
SAT_SHORT = ("1 very bad", "2 bad", "3 average", "4 good", "5 very good")
SAT_COLORS = ("#b2182b", "#ef8a62", "#e0e0e0", "#67a9cf", "#2166ac")


def cell_field(model, field: str) -> np.ndarray:
    """Per-cell mean of a resident variable (NaN where nobody lives), shape (height, width)."""
    lay, res = model.layout, model.residents
    values = res.satisfaction.astype(float) if field == "satisfaction" else 1.0 - res.performance
    counts = np.bincount(res.cell, minlength=lay.n_cells).astype(float)
    sums = np.bincount(res.cell, weights=values, minlength=lay.n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return mean.reshape(lay.height, lay.width)


def boundary_segments(zone_of_cell: np.ndarray, width: int, height: int) -> list[tuple[tuple, tuple]]:
    """Line segments between neighbouring cells of different zones (communities or management grids)."""
    zone = zone_of_cell.reshape(height, width)
    segs = []
    ys, xs = np.nonzero(zone[:, 1:] != zone[:, :-1])
    segs += [((x + 0.5, y - 0.5), (x + 0.5, y + 0.5)) for y, x in zip(ys, xs, strict=True)]
    ys, xs = np.nonzero(zone[1:, :] != zone[:-1, :])
    segs += [((x - 0.5, y + 0.5), (x + 0.5, y + 0.5)) for y, x in zip(ys, xs, strict=True)]
    return segs


def facility_points(model) -> list[tuple[float, float, str, int, bool]]:
    """(x, y, operator kind, service index, active) for every facility with capacity."""
    from .agents import Facility

    lay = model.layout
    out, used = [], {}
    for f in sorted(model.agents_by_type.get(Facility, []), key=lambda f: f.unique_id):
        if f.capacity <= 0 and f.active:
            continue
        x, y = lay.cell_xy(f.cell_index)
        slot = used.get(f.cell_index, 0)
        used[f.cell_index] = slot + 1
        dx, dy = _slot(slot)
        out.append((float(x) + dx, float(y) + dy, f.operator.kind, int(f.service), bool(f.active)))
    return out


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return buf.getvalue()


def _draw_zones(ax, model) -> None:
    lay = model.layout
    from matplotlib.collections import LineCollection

    periphery = lay.community_is_periphery[lay.community_of_cell].reshape(lay.height, lay.width)
    ax.contourf(np.arange(lay.width), np.arange(lay.height), periphery.astype(float), levels=[0.5, 1.5],
                colors="none", hatches=["///"], zorder=2)
    ax.add_collection(LineCollection(boundary_segments(lay.mgrid_of_cell, lay.width, lay.height),
                                     colors="#555555", linewidths=0.5, linestyles=":", zorder=3))
    ax.add_collection(LineCollection(boundary_segments(lay.community_of_cell, lay.width, lay.height),
                                     colors="black", linewidths=2.0, zorder=4))
    for c, cell in enumerate(lay.community_centroid_cell):
        x, y = lay.cell_xy(int(cell))
        tag = "periphery" if lay.community_is_periphery[c] else "centre"
        ax.text(float(x), float(y) - 0.9, f"C{c} {tag}", ha="center", va="center", fontsize=8, zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _draw_facilities(ax, model) -> None:
    for kind in OPERATOR_KINDS:
        pts = [p for p in facility_points(model) if p[2] == kind]
        if not pts:
            continue
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        colors = [SERVICE_COLORS[p[3] % len(SERVICE_COLORS)] for p in pts]
        faces = [c if p[4] else "white" for c, p in zip(colors, pts, strict=True)]
        ax.scatter(xs, ys, marker=OPERATOR_MARKERS[kind], s=60, c=faces, edgecolors=colors, linewidths=1.5,
                   zorder=5)


def _legend(fig: Figure) -> None:
    kinds = [Line2D([], [], marker=OPERATOR_MARKERS[k], ls="", mfc="grey", mec="black", label=OPERATOR_LABELS[k])
             for k in OPERATOR_KINDS]
    kinds.append(Line2D([], [], marker="o", ls="", mfc="white", mec="black", label="hollow = awaiting approvals"))
    services = [Patch(color=SERVICE_COLORS[i], label=s.replace("_", " ")) for i, s in enumerate(SERVICE_TYPES)]
    zones = [Line2D([], [], color="black", lw=2, label="community boundary"),
             Line2D([], [], color="#555555", lw=0.8, ls=":", label="management grid"),
             Patch(fc="white", ec="black", hatch="///", label="periphery")]
    fig.legend(handles=kinds + zones, loc="upper left", bbox_to_anchor=(0.70, 0.97), fontsize=8,
               title="Operator (marker)", title_fontsize=8, frameon=False)
    fig.legend(handles=services, loc="lower left", bbox_to_anchor=(0.70, 0.03), fontsize=8,
               title="Service (colour)", title_fontsize=8, frameon=False)


def grid_png(model, field: str = "satisfaction") -> bytes:
    """The community map: residents' cells coloured by ``field``, facilities, zones, legend."""
    lay = model.layout
    fig = Figure(figsize=(8.4, 5.6))
    ax = fig.add_axes((0.02, 0.04, 0.62, 0.88))
    data = cell_field(model, field)
    if field == "satisfaction":
        im = ax.imshow(data, origin="lower", cmap="RdYlBu", vmin=1, vmax=5, zorder=1)
    else:
        im = ax.imshow(data, origin="lower", cmap="Reds", vmin=0, vmax=1, zorder=1)
    _draw_zones(ax, model)
    _draw_facilities(ax, model)
    ax.set_xlim(-0.5, lay.width - 0.5)
    ax.set_ylim(-0.5, lay.height - 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{FIELDS[field]} per cell — month {model.steps}", fontsize=10)
    cax = fig.add_axes((0.655, 0.1, 0.015, 0.75))
    fig.colorbar(im, cax=cax)
    _legend(fig)
    return to_png(fig)


# ------------------------------------------------------------------ charts
CHARTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Quantity (visits/month)", (("quantity.capacity", "capacity"),
                                 ("quantity.services_delivered", "delivered"))),
    ("Quality (share)", (("quality.needs_met_share", "needs met"), ("quality.match", "supply–need match"),
                         ("quantity.coverage", "coverage"))),
    ("Equity", (("equity.center_periphery_gap", "centre − periphery gap"),
                ("equity.migrant_gap", "registered − migrant gap"), ("equity.access_gini", "access Gini"))),
    ("Public spending (yuan/month)", (("cost.public_spending", "total"),
                                      ("cost.public_spending.services", "services"),
                                      ("cost.public_spending.capital", "buildings"))),
    ("Governance", (("governance.resources_released_share", "budget released (share)"),)),
)


def series(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(r.get(key, np.nan)) for r in rows])


def _satisfaction_panel(ax, rows: list[dict]) -> None:
    steps = series(rows, "step") if rows else np.array([])
    shares = [series(rows, f"quality.satisfaction_share.{i}") for i in range(1, 6)]
    if rows:
        ax.stackplot(steps, *shares, colors=SAT_COLORS, labels=SAT_LEVELS)
        mean = series(rows, "quality.satisfaction_mean")
        ax.set_title(f"Satisfaction (5 levels); mean {mean[-1]:.2f}/5", fontsize=9)
    else:
        ax.set_title("Satisfaction (5 levels)", fontsize=9)
    ax.set_ylim(0, 1)
    ax.legend(handles=[Patch(color=c, label=lab) for c, lab in zip(SAT_COLORS, SAT_SHORT, strict=True)][::-1],
              fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def _delay_axis(ax, rows: list[dict]) -> None:
    """Approval delay (months) on its own right-hand scale in the governance panel."""
    twin = ax.twinx()
    twin.plot(series(rows, "step"), series(rows, "governance.approval_delay_mean"), color="#d62728", lw=1.5,
              ls="--", label="approval delay (months)")
    twin.tick_params(labelsize=7)
    twin.legend(fontsize=6, loc="lower right", frameon=False)


def charts_png(rows: list[dict]) -> bytes:
    """Six small time-series panels of the outcome groups the issue asks for."""
    fig = Figure(figsize=(11, 5.2))
    axes = fig.subplots(2, 3)
    panels = list(axes.flat)
    _satisfaction_panel(panels[2], rows)
    for ax, (title, keys) in zip([panels[0], panels[1], panels[3], panels[4], panels[5]], CHARTS, strict=True):
        steps = series(rows, "step")
        for key, label in keys:
            ax.plot(steps, series(rows, key), label=label, lw=1.5)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6, loc="best", frameon=False)
    _delay_axis(panels[5], rows)
    for ax in panels:
        ax.tick_params(labelsize=7)
        ax.set_xlabel("month", fontsize=7)
        if not rows:
            ax.text(0.5, 0.5, "press Step", ha="center", va="center", transform=ax.transAxes, color="grey")
    fig.subplots_adjust(left=0.06, right=0.9, top=0.93, bottom=0.09, wspace=0.45, hspace=0.45)
    return to_png(fig)
