"""Pictures of the browser app drawn with matplotlib: the PNG downloads (map and charts) and the docs.

The live page draws SVG (``svg``), which is much faster; this module also holds what both share:
the per-cell fields, the facility positions, zone boundaries, the legend names and the chart panels.
Drawn with matplotlib's object API (no pyplot: downloads are rendered from Solara's worker threads,
and pyplot's global state is not thread-safe); identical states give byte-identical PNGs.
"""

from __future__ import annotations

import io
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..domain import OPERATOR_KINDS, OPERATOR_LABELS, SERVICE_TYPES
from ..model import shown_in

FIELDS = {
    "satisfaction": "Mean satisfaction (1–5)",
    "unmet_need": "Mean unmet need (share of need not served)",
}
OPERATOR_MARKERS = {"government": "s", "state_owned": "D", "firm": "^", "social_org": "o", "volunteers": "*"}
SERVICE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
# Colour scale of each map field: (matplotlib colormap, low, high). Unmet need runs from pale yellow to dark
# red (a community's cells span roughly 0.15–0.85, which a white-to-red scale showed as "red everywhere").
FIELD_STYLE = {"satisfaction": ("RdYlBu", 1.0, 5.0), "unmet_need": ("YlOrRd", 0.0, 1.0)}
# Facilities of a community all stand on its central cell in the model (distance is measured to the community);
# the map spreads them over the community's cells, nearest the centre first, one per cell, so each can be seen
# and clicked. A facility keeps its display cell for the run (the cache is per model), so markers never jump.
_DISPLAY_CELL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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


def _display_cells(lay, community: int) -> list[int]:
    """A community's cells in the order facilities take them: nearest its centre first, leaving out its
    top row (where the map writes the community's name)."""
    cells = np.flatnonzero(lay.community_of_cell == community)
    xs, ys = cells % lay.width, cells // lay.width
    keep = ys < ys.max()
    cx, cy = lay.cell_xy(int(lay.community_centroid_cell[community]))
    order = np.lexsort((cells[keep], (xs[keep] - cx) ** 2 + (ys[keep] - cy) ** 2))
    return [int(c) for c in cells[keep][order]]


def facility_points(model) -> list[tuple[float, float, str, int, bool, int]]:
    """(x, y, operator kind, service index, active, facility id) for every facility with capacity, each on its
    own cell of its community (``_DISPLAY_CELL``); more facilities than cells share the last ones."""
    from ..model.facility import Facility

    lay = model.layout
    placed: dict[int, int] = _DISPLAY_CELL.setdefault(model, {})
    shown = [f for f in sorted(model.agents_by_type.get(Facility, []), key=lambda f: f.unique_id)
             if not (f.capacity <= 0 and f.active)]
    present = {int(f.unique_id) for f in shown}
    for uid in [u for u in placed if u not in present]:  # closed facilities free their cells
        del placed[uid]
    taken = set(placed.values())
    out: list[tuple[float, float, str, int, bool, int]] = []
    for f in shown:
        uid = int(f.unique_id)
        if uid not in placed:
            options = _display_cells(lay, int(lay.community_of_cell[f.cell_index]))
            placed[uid] = next((c for c in options if c not in taken), options[-1])
            taken.add(placed[uid])
        x, y = lay.cell_xy(placed[uid])
        out.append((float(x), float(y), f.operator.kind, int(f.service), bool(f.active), uid))
    return out


def counts_by_zone(points: list[tuple[float, float, str, int, bool, int]], model) -> dict[str, tuple[int, int]]:
    """Open facilities per operator kind: (in central communities, in peripheral ones), for the map legend."""
    lay = model.layout
    out = {k: [0, 0] for k in OPERATOR_KINDS}
    for x, y, kind, _, active, _ in points:
        if active:
            cell = int(y) * lay.width + int(x)
            out[kind][int(bool(lay.community_is_periphery[lay.community_of_cell[cell]]))] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


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
    xs, ys = lay.cell_xy(np.arange(lay.n_cells))
    for c in range(len(lay.community_centroid_cell)):  # name in the top-left corner, clear of the facilities
        mine = lay.community_of_cell == c
        tag = "periphery" if lay.community_is_periphery[c] else "centre"
        ax.text(float(xs[mine].min()) - 0.4, float(ys[mine].max()), f"C{c} {tag}", ha="left", va="center",
                fontsize=8, zorder=6,
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
        cmap, lo, hi = FIELD_STYLE[field]
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
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#555555", "#b35900")


@dataclass(frozen=True)
class Panel:
    """One chart: its title, its lines (column of the time series, label), natural bounds, scale, stacking."""

    title: str
    series: tuple[tuple[str, str], ...]
    fixed: tuple[float, float] | None = None  # natural bounds (shares, the 1–5 scale)
    scale: float = 1.0
    stacked: bool = False  # parts of a total (spending), drawn as stacked areas so they add up


# How each chart looks: its title, natural bounds, scale and stacking, by the chart name the outcome catalogue
# uses (``chart:<name>``). Which lines it draws, and their labels, come from the catalogue (``shown_in``).
CHART_LOOKS: dict[str, tuple[str, tuple[float, float] | None, float, bool]] = {
    "satisfaction": ("Satisfaction, mean (1–5)", (1, 5), 1.0, False),
    "needs": ("Needs met and coverage (share)", (0, 1), 1.0, False),
    "equity": ("Equity (gaps in needs met; Gini: 0 equal, 1 unequal)", None, 1.0, False),
    "spending": ("Public spending (k yuan/month, stacked)", None, 1e-3, True),
    "approvals": ("Approvals: mean wait (months), number pending", None, 1.0, False),
    "budget": ("Budget released by departments (share)", (0, 1), 1.0, False),
    "facilities": ("Facilities open, by operator", None, 1.0, False),
}


def _panel(name: str) -> Panel:
    title, fixed, scale, stacked = CHART_LOOKS[name]
    return Panel(title, tuple((o.key, o.label) for o in shown_in(f"chart:{name}")), fixed, scale, stacked)


PANELS: tuple[Panel, ...] = tuple(_panel(name) for name in CHART_LOOKS)


def series(history: pd.DataFrame | None, key: str, scale: float = 1.0) -> np.ndarray:
    """One column as floats (NaN where the outcome is undefined; all NaN if the column is absent)."""
    if history is None:
        return np.array([])
    return history[key].to_numpy(dtype=float) * scale if key in history else np.full(len(history), np.nan)


def stack(history: pd.DataFrame | None, panel: Panel) -> list[np.ndarray]:
    """Cumulative sums of a stacked panel's parts (the last is the total)."""
    parts = [np.nan_to_num(series(history, k, panel.scale)) for k, _ in panel.series]
    return list(np.cumsum(parts, axis=0)) if parts and len(parts[0]) else []


def charts_png(history: pd.DataFrame, reference: pd.DataFrame | None = None, steps: int | None = None,
               window: int | None = None, title: str = "") -> bytes:
    """The app's charts as one PNG (the Download button): same panels, window shaded, reference dashed, titled
    with the run (scenario, levers, seed) so a saved picture says what it shows; each legend sits under its
    chart, clear of the lines."""
    fig = Figure(figsize=(13, 8.4))
    if title:
        fig.suptitle(title + (" (dashed: reference)" if reference is not None else ""), fontsize=11)
    axes = fig.subplots(2, 4).flat
    steps_ = int(steps or max(len(history), 1))
    for ax, panel in zip(axes, PANELS, strict=False):
        months = series(history, "step")
        if window:
            ax.axvspan(max(steps_ - window, 0), steps_, color="#fff3c4", zorder=0)
        ref_months = series(reference, "step")
        if panel.stacked:
            if len(months):
                ax.stackplot(months, *np.diff([np.zeros(len(months)), *stack(history, panel)], axis=0),
                             colors=PALETTE, labels=[lab for _, lab in panel.series], alpha=0.8)
            if reference is not None and len(ref_months):
                ax.plot(ref_months, stack(reference, panel)[-1], "k--", lw=1.5, label="reference total")
        else:
            for i, (key, label) in enumerate(panel.series):
                ax.plot(months, series(history, key, panel.scale), color=PALETTE[i], lw=1.8, label=label)
                if reference is not None:
                    ax.plot(ref_months, series(reference, key, panel.scale), color=PALETTE[i], lw=1.3, ls="--")
        if panel.fixed:
            ax.set_ylim(*panel.fixed)
        ax.set_xlim(0, max(steps_, len(history)))
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel("month", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, ncol=1)
    axes[-1].set_axis_off()
    fig.subplots_adjust(left=0.05, right=0.98, top=0.92, bottom=0.2, wspace=0.3, hspace=0.95)
    return to_png(fig)
