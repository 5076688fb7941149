"""The map and the charts of the browser app as SVG text (the live views; ``figures`` makes the PNG exports).

Why SVG rather than matplotlib PNGs: a matplotlib redraw of the map and six charts took about 1.1 s
per month, so Play crawled and a click took 1.5 s to show; building this markup takes a few
milliseconds, the browser draws it, text stays sharp at any size (font sizes are set so no text is
below 12 px at the page's smallest layout), every element can carry a title and alt text, and each
facility and cell carries its id so a click can be answered (``data-f``, ``data-c``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.ticker import MaxNLocator

from ..domain import OPERATOR_KINDS, OPERATOR_LABELS, SERVICE_TYPES
from .figures import (
    FIELD_STYLE,
    FIELDS,
    PALETTE,
    PANELS,
    SERVICE_COLORS,
    Panel,
    boundary_segments,
    cell_field,
    counts_by_zone,
    facility_points,
)
from .figures import series as _values
from .figures import stack as _stack

S = 20  # map units per cell


def _hex(rgba: np.ndarray) -> list[str]:
    rgb = (np.asarray(rgba)[:, :3] * 255).round().astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb]


def marker(kind: str, x: float, y: float, fill: str, stroke: str, r: float = 6.5, extra: str = "") -> str:
    """One facility marker: the shape says who runs it (as in the matplotlib legend)."""
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="2.2" {extra}'
    if kind == "government":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {common}/>'
    if kind == "social_org":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {common}/>'
    if kind == "state_owned":
        pts = [(x, y - r * 1.2), (x + r, y), (x, y + r * 1.2), (x - r, y)]
    elif kind == "firm":
        pts = [(x, y - r * 1.1), (x + r * 1.05, y + r * 0.8), (x - r * 1.05, y + r * 0.8)]
    else:  # volunteers: a five-pointed star
        ang = np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, r * 1.25, r * 0.5)
        pts = list(zip(x + rad * np.cos(ang), y - rad * np.sin(ang), strict=True))
    return f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" {common}/>'


def map_svg(model, field: str = "satisfaction", selected: int | None = None) -> str:
    """The community map: cells coloured by ``field``, zones, labels and facility markers (north up)."""
    lay = model.layout
    w, h = lay.width, lay.height
    cmap, lo, hi = FIELD_STYLE[field]
    values = cell_field(model, field)  # (height, width), row 0 = south
    colours = _hex(colormaps[cmap](np.clip((np.nan_to_num(values, nan=lo) - lo) / (hi - lo), 0, 1).ravel()))
    has = np.isfinite(values).ravel()
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w * S} {h * S}" role="group" '
           f'aria-label="{html.escape(map_alt(model, field))}" style="width:100%;height:auto;display:block">',
           '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#333" stroke-width="1" '
           'stroke-opacity="0.45"/></pattern></defs>']
    for cell in range(lay.n_cells):
        x, y = cell % w, cell // w
        fill = colours[cell] if has[cell] else "#f4f4f4"
        out.append(f'<rect x="{x * S}" y="{(h - 1 - y) * S}" width="{S}" height="{S}" fill="{fill}" data-c="{cell}"/>')
    periphery = np.flatnonzero(lay.community_is_periphery[lay.community_of_cell])
    hatch = "".join(f"M{(c % w) * S} {(h - 1 - c // w) * S}h{S}v{S}h-{S}z" for c in periphery)
    out.append(f'<path d="{hatch}" fill="url(#hatch)" pointer-events="none"/>')
    out.append(_zone_path(lay.mgrid_of_cell, w, h, 'stroke="#555" stroke-width="1" stroke-dasharray="2 3"'))
    out.append(_zone_path(lay.community_of_cell, w, h, 'stroke="#000" stroke-width="3"'))
    xs, ys = np.arange(lay.n_cells) % w, np.arange(lay.n_cells) // w
    for c in range(len(lay.community_centroid_cell)):
        mine = lay.community_of_cell == c  # label at the community's top-left corner, clear of the facilities
        tag = "periphery" if lay.community_is_periphery[c] else "centre"
        cx, cy = xs[mine].min() * S + 4, (h - 1 - ys[mine].max()) * S + 15
        out.append(f'<text x="{cx:.0f}" y="{cy:.0f}" font-size="15" font-weight="bold" fill="#000" '
                   f'stroke="#fff" stroke-width="3.5" paint-order="stroke" pointer-events="none">C{c} {tag}</text>')
    for fx, fy, kind, service, active, uid in facility_points(model):
        colour = SERVICE_COLORS[service % len(SERVICE_COLORS)]
        px, py = (fx + 0.5) * S, (h - fy - 0.5) * S
        title = f"{OPERATOR_LABELS[kind]}: {SERVICE_TYPES[service].replace('_', ' ')}" + ("" if active else " (awaiting approvals)")
        # the group is the click and keyboard target: a tab stop with a name, Enter inspects it (map.vue)
        out.append(f'<g data-f="{uid}" tabindex="0" role="button" aria-label="{html.escape(title)}" '
                   f'style="cursor:pointer">{marker(kind, px, py, colour if active else "#fff", colour)}'
                   f"<title>{html.escape(title)}</title></g>")
        if uid == selected:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="11" fill="none" stroke="#000" stroke-width="2.5"/>')
    out.append("</svg>")
    return "".join(out)


def _zone_path(zone_of_cell: np.ndarray, w: int, h: int, style: str) -> str:
    d = "".join(f"M{(a[0] + 0.5) * S:.0f} {(h - a[1] - 0.5) * S:.0f}L{(b[0] + 0.5) * S:.0f} {(h - b[1] - 0.5) * S:.0f}"
                for a, b in boundary_segments(zone_of_cell, w, h))
    return f'<path d="{d}" fill="none" {style} pointer-events="none"/>'


def map_alt(model, field: str) -> str:
    """Alt text of the map: what it shows and the numbers a sighted reader would take from it."""
    values = cell_field(model, field)
    points = facility_points(model)
    counts = {k: sum(1 for p in points if p[2] == k) for k in OPERATOR_KINDS}
    waiting = sum(1 for p in points if not p[4])
    who = ", ".join(f"{n} {OPERATOR_LABELS[k]}" for k, n in counts.items() if n)
    return (f"Map of the district at month {model.steps}, cells coloured by {FIELDS[field].lower()} "
            f"(district mean {np.nanmean(values):.2f}); facilities: {who}; {waiting} awaiting approvals.")


def map_legend_html(field: str, model=None) -> str:
    """The map's legend as HTML text (readable size, not part of the picture). With the model, the shapes
    come as a table of open facilities per operator in centre and periphery: where the triangles are, in
    numbers (exercise 2)."""
    cmap, lo, hi = FIELD_STYLE[field]
    stops = ", ".join(_hex(colormaps[cmap](np.linspace(0, 1, 6))))
    scale = (f"<div style='display:flex;align-items:center;gap:6px'><span>{lo:g}</span>"
             f"<span style='flex:1;height:12px;background:linear-gradient(to right, {stops})'></span>"
             f"<span>{hi:g}</span></div><div>{html.escape(FIELDS[field])}</div>")
    def icon(k: str) -> str:
        return (f"<svg width='18' height='18' viewBox='0 0 18 18' aria-hidden='true'>"
                f"{marker(k, 9, 9, '#888', '#222', r=5.5)}</svg>")

    if model is not None:
        counts = counts_by_zone(facility_points(model), model)
        rows = "".join(f"<tr><td>{icon(k)} {OPERATOR_LABELS[k]}</td><td>{c}</td><td>{p}</td></tr>"
                       for k, (c, p) in counts.items())
        shapes = ("<table class='coprod-table' aria-label='Open facilities by operator and zone'><tr>"
                  "<th>Who runs it (shape)</th><th>centre</th><th>periphery</th></tr>" + rows + "</table>")
    else:
        shapes = "".join(f"<span style='white-space:nowrap;margin-right:10px'>{icon(k)} {OPERATOR_LABELS[k]}</span>"
                         for k in OPERATOR_KINDS)
    services = "".join(f"<span style='white-space:nowrap;margin-right:10px'><span style='display:inline-block;"
                       f"width:12px;height:12px;background:{SERVICE_COLORS[i]}'></span> {s.replace('_', ' ')}</span>"
                       for i, s in enumerate(SERVICE_TYPES))
    return (f"<div class='coprod-legend' style='font-size:13px;line-height:1.5;color:#222'>{scale}"
            f"<div><b>Who runs it (shape), open facilities:</b> {shapes}"
            "<span style='white-space:nowrap'>Hollow marker = awaiting approvals (not serving yet).</span></div>"
            f"<div><b>Service (colour):</b> {services}</div><div>Thick lines: community boundaries; dotted: "
            "management grids; hatched: periphery. Click a marker or a cell to inspect it.</div></div>")


# ------------------------------------------------------------------ charts
VW, VH = 240, 130  # viewBox of one panel; drawn at ≥ 240 px wide (the grid's minimum), so 12-unit text is ≥ 12 px
L, R, T, B = 38, 232, 8, 106


@dataclass
class Limits:
    """Axis ranges kept across the runs of one tab ("fixed axes"): they only grow, so two runs shown one
    after the other are drawn on the same scale."""

    y: dict[str, tuple[float, float]] = field(default_factory=dict)

    def update(self, title: str, lo: float, hi: float) -> tuple[float, float]:
        old = self.y.get(title)
        new = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))
        self.y[title] = new
        return new


def _range(panel: Panel, arrays: list[np.ndarray], limits: Limits | None) -> tuple[float, float]:
    data = np.concatenate([a[np.isfinite(a)] for a in arrays] or [np.array([])])
    if panel.fixed is not None:
        lo, hi = panel.fixed
        if data.size and data.min() < lo:
            lo = float(data.min())
    elif data.size:
        lo, hi = min(0.0, float(data.min())), float(data.max())
    else:
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + 1.0
    pad = 0.0 if panel.fixed is not None else 0.05 * (hi - lo)
    lo, hi = lo - (pad if lo < 0 else 0.0), hi + pad
    return limits.update(panel.title, lo, hi) if limits is not None else (lo, hi)


def _points(months: np.ndarray, values: np.ndarray, sx, sy) -> list[str]:
    """Polyline point lists, broken where values are missing."""
    runs, cur = [], []
    for m, v in zip(months, values, strict=True):
        if np.isfinite(v):
            cur.append(f"{sx(m):.1f},{sy(v):.1f}")
        elif cur:
            runs.append(" ".join(cur))
            cur = []
    if cur:
        runs.append(" ".join(cur))
    return runs


def panel_svg(panel: Panel, history: pd.DataFrame, reference: pd.DataFrame | None, x_max: int,
              window: tuple[int, int], limits: Limits | None) -> str:
    """One chart: the reporting window shaded, this run in solid lines, the reference dashed."""
    months = _values(history, "step", 1.0)
    ref_months = _values(reference, "step", 1.0) if reference is not None else np.array([])
    if panel.stacked:
        mine, ref = _stack(history, panel), _stack(reference, panel)
        arrays = mine[-1:] + ref[-1:]
    else:
        mine = [_values(history, k, panel.scale) for k, _ in panel.series]
        ref = [_values(reference, k, panel.scale) for k, _ in panel.series] if reference is not None else []
        arrays = mine + ref
    lo, hi = _range(panel, arrays, limits)

    def sx(m: float) -> float:
        return L + (R - L) * m / max(x_max, 1)

    def sy(v: float) -> float:
        return B - (B - T) * (v - lo) / (hi - lo)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VW} {VH}" role="img" '
           f'aria-label="{html.escape(chart_alt(panel, history, reference))}" style="width:100%;height:auto">',
           f'<rect x="{sx(window[0] - 1):.1f}" y="{T}" width="{sx(window[1]) - sx(window[0] - 1):.1f}" '
           f'height="{B - T}" fill="#fff3c4"><title>reporting window, months {window[0]}–{window[1]}</title></rect>']
    for v in MaxNLocator(4).tick_values(lo, hi):
        if lo - 1e-9 <= v <= hi + 1e-9:
            out.append(f'<line x1="{L}" x2="{R}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="#ddd"/>'
                       f'<text x="{L - 4}" y="{sy(v) + 4:.1f}" font-size="12" text-anchor="end" fill="#222">{v:g}</text>')
    for m in MaxNLocator(5, integer=True).tick_values(0, x_max):
        if 0 <= m <= x_max:
            out.append(f'<text x="{sx(m):.1f}" y="{B + 14}" font-size="12" text-anchor="middle" fill="#222">{m:g}</text>')
    out.append(f'<line x1="{L}" x2="{R}" y1="{B}" y2="{B}" stroke="#444"/>'
               f'<text x="{R}" y="{VH - 1}" font-size="12" text-anchor="end" fill="#222">month</text>')
    if panel.stacked:
        floor = np.zeros(len(months))
        for i, top in enumerate(mine):
            pts = [f"{sx(m):.1f},{sy(v):.1f}" for m, v in zip(months, top, strict=True)]
            pts += [f"{sx(m):.1f},{sy(v):.1f}" for m, v in zip(months[::-1], floor[::-1], strict=True)]
            out.append(f'<polygon points="{" ".join(pts)}" fill="{PALETTE[i]}" fill-opacity="0.75"/>')
            floor = top
        if ref:
            out += [f'<polyline points="{p}" fill="none" stroke="#000" stroke-width="2" stroke-dasharray="5 3"/>'
                    for p in _points(ref_months, ref[-1], sx, sy)]
    else:
        for i, values in enumerate(ref):
            out += [f'<polyline points="{p}" fill="none" stroke="{PALETTE[i]}" stroke-width="1.8" '
                    f'stroke-dasharray="5 3" stroke-opacity="0.7"/>' for p in _points(ref_months, values, sx, sy)]
        for i, values in enumerate(mine):
            out += [f'<polyline points="{p}" fill="none" stroke="{PALETTE[i]}" stroke-width="2.2"/>'
                    for p in _points(months, values, sx, sy)]
    if not len(months):
        out.append(f'<text x="{(L + R) / 2}" y="{(T + B) / 2}" font-size="13" text-anchor="middle" fill="#555">'
                   "press Step</text>")
    out.append("</svg>")
    return "".join(out)


def chart_alt(panel: Panel, history: pd.DataFrame, reference: pd.DataFrame | None) -> str:
    """Alt text of a chart: its title and the latest value of each line (and of the reference)."""
    def last(frame: pd.DataFrame | None, key: str) -> str:
        v = _values(frame, key, panel.scale)
        if not len(v) or not np.isfinite(v[-1]):
            return "none"
        return f"{v[-1]:.3g}" if abs(v[-1]) >= 1e-9 else "0"  # a rounding residue (-7e-15) reads 0

    parts = [f"{label} {last(history, key)}" for key, label in panel.series]
    text = f"Chart: {panel.title}. Latest month: " + "; ".join(parts) + "."
    if reference is not None:
        text += " Reference run: " + "; ".join(f"{label} {last(reference, key)}" for key, label in panel.series) + "."
    return text


def charts_html(history: pd.DataFrame, reference: pd.DataFrame | None, steps: int, window: int,
                limits: Limits | None) -> str:
    """All panels in a responsive grid, each with an HTML title and legend (text at 13 px)."""
    months = int(history["step"].max()) if len(history) else 0
    ref_months = int(reference["step"].max()) if reference is not None and len(reference) else 0
    x_max = max(steps, months, ref_months)  # the x axis always spans the scenario, window included
    span = (max(steps - window + 1, 1), steps)
    cells = []
    for panel in PANELS:
        keys = "".join(f"<span style='white-space:nowrap;margin-right:8px'><span style='display:inline-block;"
                       f"width:14px;height:4px;vertical-align:middle;background:{PALETTE[i]}'></span> "
                       f"{html.escape(label)}</span>" for i, (_, label) in enumerate(panel.series))
        cells.append(f"<div style='min-width:0'><div style='font-size:13px;font-weight:bold;color:#222'>"
                     f"{html.escape(panel.title)}</div><div style='font-size:12px;line-height:1.3;color:#222'>{keys}</div>"
                     f"{panel_svg(panel, history, reference, x_max, span, limits)}</div>")
    note = ("<div style='font-size:12px;color:#222'>Shaded: the reporting window (months "
            f"{span[0]}–{span[1]}), the months the summary averages."
            + (" Dashed: the reference run." if reference is not None else "") + "</div>")
    return ("<div style='display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:8px 14px'>"
            + "".join(cells) + f"</div>{note}")
