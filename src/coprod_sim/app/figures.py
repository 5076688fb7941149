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
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..domain import OPERATOR_KINDS, SERVICE_TYPES

FIELDS = {
    "satisfaction": "Mean satisfaction (1–5)",
    "unmet_need": "Mean unmet need (share of need not served)",
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
    values = res.satisfaction.astype(float) if field == "satisfaction" else 1.0 - met_share(model)
    counts = np.bincount(res.cell, minlength=lay.n_cells).astype(float)
    sums = np.bincount(res.cell, weights=values, minlength=lay.n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return mean.reshape(lay.height, lay.width)


def met_share(model) -> np.ndarray:
    """Each resident's share of need served last month (before the first month: its performance, 0)."""
    if model.consumption is None:
        return np.asarray(model.residents.performance, dtype=float)
    return np.asarray(model.consumption.met, dtype=float)


def boundary_segments(zone_of_cell: np.ndarray, width: int, height: int) -> list[tuple[tuple, tuple]]:
    """Line segments between neighbouring cells of different zones (communities or management grids)."""
    zone = zone_of_cell.reshape(height, width)
    segs = []
    ys, xs = np.nonzero(zone[:, 1:] != zone[:, :-1])
    segs += [((x + 0.5, y - 0.5), (x + 0.5, y + 0.5)) for y, x in zip(ys, xs, strict=True)]
    ys, xs = np.nonzero(zone[1:, :] != zone[:-1, :])
    segs += [((x - 0.5, y + 0.5), (x + 0.5, y + 0.5)) for y, x in zip(ys, xs, strict=True)]
    return segs


def facility_points(model) -> list[tuple[float, float, str, int, bool, int]]:
    """(x, y, operator kind, service index, active, facility id) for every facility with capacity."""
    from ..model.facility import Facility

    lay = model.layout
    out: list[tuple[float, float, str, int, bool, int]] = []
    used: dict[int, int] = {}
    for f in sorted(model.agents_by_type.get(Facility, []), key=lambda f: f.unique_id):
        if f.capacity <= 0 and f.active:
            continue
        x, y = lay.cell_xy(f.cell_index)
        slot = used.get(f.cell_index, 0)
        used[f.cell_index] = slot + 1
        dx, dy = _slot(slot)
        out.append((float(x) + dx, float(y) + dy, f.operator.kind, int(f.service), bool(f.active), int(f.unique_id)))
    return out


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return buf.getvalue()


def _polyline(segments: list[tuple[tuple, tuple]]) -> tuple[np.ndarray, np.ndarray]:
    """Segments as one NaN-separated line: one artist instead of hundreds (much faster to draw)."""
    if not segments:
        return np.array([]), np.array([])
    pts = np.array([[a[0], a[1], b[0], b[1], np.nan, np.nan] for a, b in segments])
    return pts[:, [0, 2, 4]].ravel(), pts[:, [1, 3, 5]].ravel()


def _draw_zones(ax, lay) -> None:
    periphery = lay.community_is_periphery[lay.community_of_cell].reshape(lay.height, lay.width)
    ax.contourf(np.arange(lay.width), np.arange(lay.height), periphery.astype(float), levels=[0.5, 1.5],
                colors="none", hatches=["///"], zorder=2)
    ax.plot(*_polyline(boundary_segments(lay.mgrid_of_cell, lay.width, lay.height)), color="#555555", lw=0.6,
            ls=":", zorder=3)
    ax.plot(*_polyline(boundary_segments(lay.community_of_cell, lay.width, lay.height)), color="black", lw=2.0,
            zorder=4)
    for c, cell in enumerate(lay.community_centroid_cell):
        x, y = lay.cell_xy(int(cell))
        tag = "periphery" if lay.community_is_periphery[c] else "centre"
        ax.text(float(x), float(y) - 0.9, f"C{c} {tag}", ha="center", va="center", fontsize=8, zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _draw_facilities(ax, model) -> list:
    artists = []
    points = facility_points(model)
    for kind in OPERATOR_KINDS:
        pts = [p for p in points if p[2] == kind]
        if not pts:
            continue
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        colors = [SERVICE_COLORS[p[3] % len(SERVICE_COLORS)] for p in pts]
        faces = [c if p[4] else "white" for c, p in zip(colors, pts, strict=True)]
        artists.append(ax.scatter(xs, ys, marker=OPERATOR_MARKERS[kind], s=60, c=faces, edgecolors=colors,
                                  linewidths=1.5, zorder=5))
    return artists


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


_FIELD_STYLE = {"satisfaction": ("RdYlBu", 1.0, 5.0), "unmet_need": ("Reds", 0.0, 1.0)}


class GridView:
    """The community map of one run. Zones and legend are drawn once; each frame only updates
    the cell colours, the facility markers and the title (a fresh figure per step took ~3× longer)."""

    def __init__(self, layout) -> None:
        self.layout = layout
        self.fig = Figure(figsize=(8.4, 5.6))
        self.ax = self.fig.add_axes((0.02, 0.04, 0.62, 0.88))
        self.im = self.ax.imshow(np.full((layout.height, layout.width), np.nan), origin="lower", zorder=1)
        _draw_zones(self.ax, layout)
        self.ax.set_xlim(-0.5, layout.width - 0.5)
        self.ax.set_ylim(-0.5, layout.height - 0.5)
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        self.title = self.ax.set_title("", fontsize=10)
        self.fig.colorbar(self.im, cax=self.fig.add_axes((0.655, 0.1, 0.015, 0.75)))
        _legend(self.fig)
        self.markers: list = []

    def render(self, model, field: str = "satisfaction") -> bytes:
        """PNG of ``model``'s current state coloured by ``field`` (deterministic bytes)."""
        cmap, lo, hi = _FIELD_STYLE[field]
        self.im.set_data(cell_field(model, field))
        self.im.set_cmap(cmap)
        self.im.set_clim(lo, hi)
        for artist in self.markers:
            artist.remove()
        self.markers = _draw_facilities(self.ax, model)
        self.title.set_text(f"{FIELDS[field]} per cell — month {model.steps}")
        return to_png(self.fig)


def grid_png(model, field: str = "satisfaction") -> bytes:
    """One-off community map (tests, docs); the app keeps a :class:`GridView` per run."""
    return GridView(model.layout).render(model, field)


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


def series(history: pd.DataFrame, key: str) -> np.ndarray:
    return history[key].to_numpy(dtype=float) if key in history else np.full(len(history), np.nan)


class ChartsView:
    """Six time-series panels of one run, updated in place each step (axes are built once)."""

    def __init__(self) -> None:
        self.fig = Figure(figsize=(11, 5.2))
        panels = list(self.fig.subplots(2, 3).flat)
        self.sat_ax = panels[2]
        self.line_axes = [panels[0], panels[1], panels[3], panels[4], panels[5]]
        self.lines: list[tuple[Line2D, str]] = []
        for ax, (title, keys) in zip(self.line_axes, CHARTS, strict=True):
            for key, label in keys:
                (line,) = ax.plot([], [], label=label, lw=1.5)
                self.lines.append((line, key))
            ax.set_title(title, fontsize=9)
            ax.legend(fontsize=6, loc="upper left", frameon=False)
        self.delay_ax = panels[5].twinx()
        (line,) = self.delay_ax.plot([], [], color="#d62728", lw=1.5, ls="--", label="approval wait (months)")
        # waiting time including approvals still pending, so high resistance never looks fast
        self.lines.append((line, "governance.approval_wait_mean"))
        self.delay_ax.legend(fontsize=6, loc="lower right", frameon=False)
        self.delay_ax.tick_params(labelsize=7)
        self.sat_ax.set_ylim(0, 1)
        self.sat_ax.legend(handles=[Patch(color=c, label=lab) for c, lab in zip(SAT_COLORS, SAT_SHORT, strict=True)][::-1],
                           fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        self.sat_title = self.sat_ax.set_title("Satisfaction (5 levels)", fontsize=9)
        self.stack: list = []
        self.hints = []
        for ax in panels:
            ax.tick_params(labelsize=7)
            ax.set_xlabel("month", fontsize=7)
            self.hints.append(ax.text(0.5, 0.5, "press Step", ha="center", va="center", transform=ax.transAxes,
                                      color="grey"))
        self.fig.subplots_adjust(left=0.06, right=0.9, top=0.93, bottom=0.09, wspace=0.45, hspace=0.45)

    def render(self, history: pd.DataFrame) -> bytes:
        """PNG of the outcome history (``model.timeseries()``: one row per month)."""
        steps = series(history, "step")
        for line, key in self.lines:
            line.set_data(steps, series(history, key))
        for ax in [*self.line_axes, self.delay_ax]:
            ax.relim()
            ax.autoscale_view()
        for artist in self.stack:
            artist.remove()
        self.stack = []
        months = len(history)
        if months:
            shares = [series(history, f"quality.satisfaction_share.{i}") for i in range(1, 6)]
            self.stack = self.sat_ax.stackplot(steps, *shares, colors=SAT_COLORS)
            self.sat_ax.set_xlim(steps[0], max(steps[-1], steps[0] + 1))
            self.sat_title.set_text(f"Satisfaction (5 levels); mean {history['quality.satisfaction_mean'].iloc[-1]:.2f}/5")
        for hint in self.hints:
            hint.set_visible(not months)
        return to_png(self.fig)


def charts_png(history: pd.DataFrame) -> bytes:
    """One-off charts (tests, docs); the app keeps a :class:`ChartsView` per run."""
    return ChartsView().render(history)
