"""The students' browser app (Solara), started by ``coprod-sim viz``.

The layout follows Mesa's SolaraViz (app bar, a sidebar with controls and
parameters, the model views in the main area), but the page is built from
Solara components directly rather than through ``mesa.visualization.SolaraViz``
because the issue needs things SolaraViz 3.5.1 does not give:

* a scenario picker that reloads *all* parameters, with lever widgets that then
  show the new scenario's values (SolaraViz's ``model_params`` are fixed);
* one model per browser tab with no shared module-level state (SolaraViz keeps a
  module-level ``update_counter`` that makes every tab redraw on any tab's step);
* an integer seed (its example seed field returns a string, upstream issue 3516);
* run to a month, a kept reference run, monitors, export and click-to-inspect.

All per-tab state lives in a :class:`~coprod_sim.app.session.Session` created
inside ``Page`` with ``use_memo``, so every browser tab gets its own model.
Slow work (building a model takes 1–3 s with its spin-up; running to a month)
runs in a worker thread behind a busy sign, and any unexpected error is shown
as a short message on the page; its traceback goes to the server log only.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import solara
import solara.lab

from ..config import ConfigError
from . import figures, guard, log, svg
from .about import about_html
from .details import cell_details, facility_details
from .launcher import CONFIG_ENV
from .session import LEVERS, Lever, Refused, Session, initial_scenario, list_scenarios, monitor_rows, parse_seed

guard.install()  # this module is imported by the Solara server: harden that process (app/guard.py)

logger = logging.getLogger(__name__)
SPEEDS = {"1 month/s": 1.0, "2 months/s": 2.0, "4 months/s": 4.0, "8 months/s": 8.0, "as fast as possible": 1000.0}
MAX_MONTHS_PER_FRAME = 12  # Play draws at least every 12 months, however slow drawing is
COLOUR_BY = {"Satisfaction": "satisfaction", "Unmet need": "unmet_need"}  # toggle label → field
SMALL = {"font-size": "13px", "color": "#333", "line-height": "1.3"}
CSS = """
.coprod-select { display: flex; flex-direction: column; font-size: 13px; color: #333; margin: 6px 0; }
.coprod-select select { font-size: 15px; color: #111; border: 1px solid #767676; border-radius: 4px; padding: 4px 6px;
  background: #fff; max-width: 100%; }
.v-navigation-drawer.solara-content-main { min-width: 310px !important; max-width: 310px !important; }
.coprod-map svg { max-height: 70vh; }
.coprod-table { border-collapse: collapse; }
.coprod-table td, .coprod-table th { padding: 0 6px; line-height: 1.35; font-size: 13px; text-align: right; color: #222; }
.coprod-table td:first-child, .coprod-table th:first-child { text-align: left; }
.coprod-log { font-size: 13px; color: #222; }
.coprod-lever .v-input__slider .v-label, .coprod-number .v-label { position: absolute !important; width: 1px;
  height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.coprod-lever .v-input__prepend-outer { display: none; }
.coprod-lever .v-input--selection-controls { margin-top: 0; }
.coprod-lever .v-slider { margin: 0 4px; }
.coprod-lever .v-input__slot { margin-bottom: 0 !important; }
.coprod-lever .v-messages { display: none; }
.coprod-number { max-width: 76px; flex: 0 0 76px; }
.coprod-number .v-input { margin-top: 0; padding-top: 0; }
.coprod-number input { text-align: right; font-size: 14px; }
.coprod-range { display: flex; justify-content: space-between; font-size: 12px; color: #444; margin: -6px 4px 2px; }
.coprod-lever-label { font-size: 14px; color: #222; flex: 1; }
.coprod-h { font-size: 17px; font-weight: 600; margin: 4px 0 6px; color: #111; }
.coprod-title { font-size: 20px; font-weight: 500; margin: 0; white-space: normal; line-height: 1.2; }
.coprod-month { font-size: 1.3em; font-weight: bold; }
div.v-sheet.coprod-phonebar { display: none !important; padding: 6px 0; }
@media (max-width: 959px) { div.v-sheet.coprod-phonebar { display: flex !important; } .coprod-title { font-size: 15px; } }
*:focus-visible { outline: 3px solid #0b57d0 !important; outline-offset: 2px !important; }
.coprod-map [data-f]:focus { outline: none; }
.coprod-map [data-f]:focus > * { stroke: #000; stroke-width: 4; }
.coprod-warning { color: #6d4c00; background: #fff8e1; border-left: 4px solid #b26a00; padding: 4px 8px; font-size: 13px; }
.coprod-message { color: #0d2b4e; background: #e8f0fb; border-left: 4px solid #1f4e8c; padding: 4px 8px; font-size: 14px; }
"""
FRIENDLY = "Something went wrong ({what}). Your current run is kept; press Reset to start again."


@solara.component_vue("select.vue")
def NativeSelect(label: str, options: list[str], value: str, event_choose: Callable[[str], None]) -> None:
    """A labelled native ``<select>``: keyboard and screen-reader friendly as browsers make it (Vuetify's
    select nests a text input inside a button, which axe-core reports as a serious violation)."""


@solara.component_vue("map.vue")
def MapView(svg: str, event_inspect: Callable[[dict], None]) -> None:
    """The map as SVG; a click on a marker or cell calls ``event_inspect`` with its id (and sets the page
    language, which Solara's page template leaves unset, for screen readers)."""


def _new_session() -> tuple[Session | None, dict[str, Path], str | None]:
    """Scenarios on disk and a fresh session on the initial one (or the error why not)."""
    extra = os.environ.get(CONFIG_ENV)
    scenarios = list_scenarios(extra=Path(extra) if extra else None)
    try:
        session = Session(scenarios[initial_scenario(scenarios)])
        session.reset()
    except ConfigError as err:
        return None, scenarios, "\n".join(err.problems)
    return session, scenarios, None


def _tab_open() -> Callable[[], bool]:
    """A check that this tab is still connected, so Play and Run to month stop when it is closed."""
    try:
        from solara.server.kernel_context import PageStatus, get_current_context

        ctx = get_current_context()
    except Exception:  # not under a Solara server (tests rendering the page directly)
        return lambda: True
    return lambda: any(s == PageStatus.CONNECTED for s in ctx.page_status.values())


def friendly(err: Exception) -> str:
    """The page's message for an error: a bad scenario or lever names the problem, a refused action
    (:class:`~coprod_sim.app.session.Refused`) says why; anything else is logged with its traceback on
    the server and shown as one plain sentence."""
    if isinstance(err, ConfigError):
        return "Could not start this run: " + "; ".join(err.problems)
    if isinstance(err, Refused):
        return str(err)
    logger.error("unexpected error in the app", exc_info=err)
    return FRIENDLY.format(what=type(err).__name__)


def guarded(error: solara.Reactive[str], action: Callable[[], object], refresh: Callable[[], None]) -> Callable[..., None]:
    """An event handler that never lets an error escape to the page: the error becomes a sentence under the
    run controls (``friendly``), the controls keep working, and the page redraws either way."""
    def handler(*_ignored: object) -> None:
        try:
            action()
            error.set("")
        except Exception as err:
            error.set(friendly(err))
        refresh()

    return handler


@solara.component
def Boundary(part: str, child: Callable[..., object], *args: object) -> None:
    """Error boundary around one part of the page: an error while drawing ``child`` (or in one of its
    event handlers) shows a short message with a *Try again* button in place of that part only; the
    traceback goes to the server log (once per error), never to the browser."""
    exc, clear = solara.use_exception()
    solara.use_effect(lambda: None if exc is None else logger.error("error in the %s", part, exc_info=exc), [exc])
    if exc is None:
        child(*args)
        return
    with solara.Column(gap="4px"):
        solara.Error(f"The {part} could not be shown ({type(exc).__name__}). Your run is kept: press Try again; "
                     "if the message stays, press Reset.", dense=True)
        solara.Button("Try again", on_click=clear, color="primary", outlined=True)


@solara.component
def LeverControl(lever: Lever, value: float | bool, on_change) -> None:
    """One lever with its explanation right below, so cause and meaning sit together.

    A slider gets the panel's full width (its label above the track, not beside it: beside it, long labels
    left tracks of 0–20 px), its minimum and maximum under the ends, and a number box for an exact value
    (typing 0.9 is easier than hitting it with a mouse)."""
    problem = solara.use_reactive("")

    def typed(v: float | None) -> None:
        if v is None or not lever.lo <= v <= lever.hi:
            problem.set(f"Type a number from {lever.lo:g} to {lever.hi:g}.")
            return
        problem.set("")
        on_change(lever.key, v)

    with solara.Column(gap="0px", classes=["coprod-lever"], style={"margin-bottom": "12px"}):
        if lever.kind == "switch":
            solara.Switch(label=lever.label, value=bool(value), on_value=lambda v: on_change(lever.key, v))
        else:
            with solara.Row(gap="6px", style={"align-items": "flex-end", "justify-content": "space-between"}):
                solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(lever.label)}</b>",
                            classes=["coprod-lever-label"])
                solara.InputFloat(f"{lever.label}, value", value=float(value), on_value=typed,
                                  continuous_update=False, classes=["coprod-number"])
            solara.SliderFloat(lever.label, value=float(value), min=lever.lo, max=lever.hi, step=lever.step,
                               on_value=lambda v: on_change(lever.key, v), thumb_label=True)
            solara.HTML(tag="div", unsafe_innerHTML=f"<span>{lever.lo:g}</span><span>{lever.hi:g}</span>",
                        classes=["coprod-range"])
            if problem.value:
                solara.HTML(tag="div", unsafe_innerHTML=f"<div role='alert' class='coprod-message'>"
                            f"{html.escape(problem.value)}</div>")
        solara.Text(lever.explanation(), style=SMALL)


@solara.component
def Controls(session: Session, scenarios: dict[str, Path], playing: solara.Reactive[bool], start, busy: str,
             error: solara.Reactive[str], speed: solara.Reactive[str], refresh, tick: int) -> None:
    """Scenario picker, seed, Reset / Play / Step, Run to month, speed and the month counter.

    ``tick`` is unused in the body: it changes whenever the session does, which
    makes reacton re-render this component (it skips children with equal props).
    """
    label = next((k for k, p in scenarios.items() if p == session.scenario_path), None)
    seed_text = solara.use_reactive(str(session.seed))
    seed_error = solara.use_reactive("")
    target = solara.use_reactive(str(session.model.config.run.steps))

    def pick(new_label: str | None) -> None:
        if new_label is not None:
            start(f"Loading {new_label}…", lambda: session.load_scenario(scenarios[new_label]))

    def set_seed(text: str) -> None:
        """Every keystroke: a valid seed is taken at once (so no later re-render can lose it)."""
        seed_text.set(text)
        try:
            session.seed = parse_seed(text)
            seed_error.set("")
        except ValueError as err:
            seed_error.set(str(err))
        refresh()

    def run_to() -> None:
        try:
            month = int(target.value)
        except ValueError:
            error.set(f"Run to month: type a whole number of months (found '{target.value}').")
            return
        if month < 0 or month < session.model.steps:  # refused at once, with the reason (no busy sign for nothing)
            guarded(error, lambda: session.run_to(month), refresh)()
            return
        start(f"Running to month {month}…", lambda: session.run_to(month, _tab_open()))

    step = guarded(error, session.step, refresh)

    # Step, Play and Reset come first: the first stops after the menu button for keyboard users
    with solara.Card(margin=0):
        heading("Run")
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button("Step", color="primary", on_click=step, disabled=playing.value or bool(busy))
            solara.Button("Pause" if playing.value else "Play", color="primary", disabled=bool(busy),
                          on_click=lambda: (error.set(""), playing.set(not playing.value)))
            solara.Button("Reset", color="primary", on_click=lambda: start("Building the model…", session.reset),
                          disabled=bool(busy))
        solara.HTML(tag="div", unsafe_innerHTML=f"Month: {session.model.steps}", classes=["coprod-month"],
                    attributes={"aria-live": "polite", "aria-atomic": "true"})
        if busy:
            solara.HTML(tag="div", unsafe_innerHTML=f"<span role='status' aria-label='busy' style='font-weight:bold'>"
                        f"⏳ {html.escape(busy)}</span>")
        if error.value:
            solara.HTML(tag="div", unsafe_innerHTML=f"<div role='alert' class='coprod-message'>{html.escape(error.value)}</div>")
        if session.pending:
            solara.HTML(tag="div", unsafe_innerHTML=f"<div class='coprod-warning' role='note'>Lever or seed changed (seed "
                        f"{session.seed}): press Reset to start a new run with them.</div>")
        with solara.Row(gap="6px", style={"align-items": "baseline"}):
            solara.InputText("Target month", value=target, continuous_update=True, style={"max-width": "110px"})
            solara.Button("Run to month", color="primary", on_click=run_to, disabled=playing.value or bool(busy))
        NativeSelect(label="Play speed", options=list(SPEEDS), value=speed.value, event_choose=speed.set)
        heading("Scenario and seed")
        NativeSelect(label="Scenario", options=list(scenarios), value=label or "", event_choose=pick)
        solara.Text(session.description(), style=SMALL)
        solara.InputText("Seed (whole number ≥ 0)", value=seed_text.value, on_value=set_seed, continuous_update=True)
        if seed_error.value:
            solara.Error(seed_error.value, dense=True)


@solara.component
def CompareExport(session: Session, refresh, error: solara.Reactive[str], colour: str, tick: int) -> None:
    """Keep the current run as reference; download its time series (CSV) and the pictures (PNG)."""
    ref = session.reference
    name = session.scenario_path.stem
    keep = guarded(error, session.keep_reference, refresh)

    def clear() -> None:
        session.reference = None
        refresh()

    def charts_png() -> bytes:
        with session.lock:
            ref = session.reference.history if session.reference else None
            return figures.charts_png(session.history(), ref, session.last_month(), session.window(),
                                      title=f"{session.run_label()}, month {session.model.steps}")

    def map_png() -> bytes:
        with session.lock:
            return figures.grid_png(session.model, COLOUR_BY[colour])

    with solara.Card(margin=0):
        heading("Compare and export")
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button("Keep as reference", on_click=keep, color="secondary")
            if ref is not None:
                solara.Button("Clear reference", on_click=clear, text=True)
        solara.Text(f"Reference: {ref.label} ({len(ref.history)} months)" if ref else
                    "No reference yet: keep a run, change a lever, Reset and run again to compare.", style=SMALL)
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.FileDownload(session.csv, filename=f"coprod-{name}-seed{session.applied[1]}.csv",
                                children=[solara.Button("Download CSV", text=True)], mime_type="text/csv")
            solara.FileDownload(charts_png, filename=f"coprod-{name}-charts.png",
                                children=[solara.Button("Charts PNG", text=True)], mime_type="image/png")
            solara.FileDownload(map_png, filename=f"coprod-{name}-map.png",
                                children=[solara.Button("Map PNG", text=True)], mime_type="image/png")


@solara.component
def LeverPanel(session: Session, refresh, state: tuple) -> None:
    """All levers. ``state`` (scenario + overrides) changes only when a lever or the scenario does,
    so a Step does not re-render the thirteen sliders (reacton skips components with equal props)."""
    def change(key: str, value: float | bool) -> None:
        if session.set_lever(key, value):
            refresh()

    def undo() -> None:
        session.overrides.clear()
        refresh()

    values = session.lever_values()
    with solara.Card(margin=0):
        heading("Levers (apply on Reset)")
        solara.Button("Undo lever changes", on_click=undo, text=True, disabled=not session.overrides)
        solara.Text("The tag after a lever names its remedy: (up) officials' assessment, (down) residents' voice, "
                    "(in) coordination inside government, (out) profit space for firms and organizations, "
                    "(technology) data sharing. More in the About tab.", style=SMALL)
        for lever in LEVERS:
            LeverControl(lever, values[lever.key], change)


def heading(text: str, level: int = 2) -> None:
    """A real heading (screen readers jump between them), styled as the card titles were."""
    solara.HTML(tag=f"h{level}", unsafe_innerHTML=html.escape(text), classes=["coprod-h"])


@solara.component
def PhoneBar(session: Session, playing: solara.Reactive[bool], step: Callable[..., None], busy: str, error,
             tick: int) -> None:
    """On a phone the controls panel is closed: Step, Play and the key monitors sit at the top of the page
    (hidden by CSS on wider screens)."""
    with session.lock:  # one month's monitors and month number, never a month being stepped
        rows = {r["key"]: r for r in monitor_rows(session.history(), session.window(), None)}
        month = session.model.steps
    keys = ("quality.needs_met_share", "quality.satisfaction_mean", "equity.center_periphery_gap")
    cells = "".join(f"<tr><td>{html.escape(rows[k]['label'])}</td><td>{rows[k]['now']}</td></tr>" for k in keys if k in rows)
    with solara.Column(gap="4px", classes=["coprod-phonebar"]):
        with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Button("Step", color="primary", on_click=step, disabled=playing.value or bool(busy))
            solara.Button("Pause" if playing.value else "Play", color="primary", disabled=bool(busy),
                          on_click=lambda: (error.set(""), playing.set(not playing.value)))
            solara.HTML(tag="span", unsafe_innerHTML=f"month {month} of {session.last_month()}",
                        classes=["coprod-month"])
        solara.HTML(tag="div", unsafe_innerHTML=f"<table class='coprod-table' aria-label='Key monitors'>{cells}</table>")


def monitors_html(session: Session) -> str:
    """The monitors as an HTML table: this month, the window mean and the reference comparison (with a
    warning above it when the reference stopped at another month or used another seed)."""
    history, window = session.history(), session.window()
    rows = monitor_rows(history, window, session.reference)
    n = len(history)
    span = f"mean, months {max(n - window + 1, 1)}–{n}" if n else "mean (no months yet)"
    cols = ["This month", span] + (["Reference", "Difference"] if session.reference else [])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["Monitor", *cols])
    keys = ["now", "window"] + (["reference", "difference"] if session.reference else [])
    body = "".join("<tr>" + f"<td>{html.escape(r['label'])}</td>" + "".join(f"<td>{r[k]}</td>" for k in keys) + "</tr>"
                   for r in rows)
    warn = "".join(f"<div class='coprod-warning' role='note'>⚠ {html.escape(w)}</div>"
                   for w in session.comparison_warnings())
    return f"{warn}<table class='coprod-table' aria-label='Monitors'><tr>{head}</tr>{body}</table>"


@solara.component
def Inspector(session: Session, selected: solara.Reactive[dict | None]) -> None:
    """What the clicked facility or cell is, from the current month's state."""
    pick = selected.value
    if not pick:
        solara.Text("Click a marker or a cell on the map to see what it is.", style=SMALL)
        return
    with session.lock:
        rows = (facility_details(session.model, pick["facility"]) if "facility" in pick
                else cell_details(session.model, pick["cell"]))
    if rows is None:
        solara.Text("That facility has closed.", style=SMALL)
        return
    body = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    solara.HTML(tag="div", unsafe_innerHTML=f"<table class='coprod-table' aria-label='Inspected'>{body}</table>")


@solara.component
def ModelViews(session: Session, choice: solara.Reactive[str], tick: int) -> None:
    """Monitors, map with inspector, charts and the event log (``choice``: what colours the map, shared with
    the Map PNG download)."""
    fixed = solara.use_reactive(True)
    kind = solara.use_reactive(log.ALL)
    selected: solara.Reactive[dict | None] = solara.use_reactive(None)
    limits = solara.use_memo(svg.Limits, [])
    field = COLOUR_BY[choice.value]
    with session.lock:
        model = session.model
        history = session.history()
        map_markup = svg.map_svg(model, field, (selected.value or {}).get("facility"))
        ref = session.reference.history if session.reference else None
        charts = svg.charts_html(history, ref, int(model.config.run.steps), session.window(),
                                 limits if fixed.value else None)
        periphery = [bool(p) for p in model.layout.community_is_periphery]
        log_markup = log.log_html(session.log, kind.value, periphery)
        monitors = monitors_html(session)
        legend = svg.map_legend_html(field, model)
    with solara.ColumnsResponsive(12, large=[5, 7]):
        with solara.Column(gap="6px"):
            heading("The district map")
            with solara.Row(gap="0px", style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Text("Colour residents by:", style={"margin-right": "8px"})
                for option in COLOUR_BY:  # two buttons that say which one is pressed (aria-pressed)
                    solara.Button(option, on_click=lambda o=option: choice.set(o), color="primary",
                                  outlined=choice.value != option, attributes={"aria-pressed": str(choice.value == option).lower()})
            MapView(svg=map_markup, event_inspect=selected.set)
            solara.HTML(tag="div", unsafe_innerHTML=legend)
            with solara.Card(margin=0):
                heading("Inspect")
                Inspector(session, selected)
            with solara.Card(margin=0):
                heading(f"What happened (log, month {model.steps})")
                NativeSelect(label="Show", options=list(log.KIND_NAMES), value=kind.value, event_choose=kind.set)
                solara.HTML(tag="div", unsafe_innerHTML=log_markup, classes=["coprod-log"],
                            attributes={"tabindex": "0", "role": "region", "aria-label": "Event log"},
                            style={"max-height": "420px", "overflow-y": "auto"})
        with solara.Column(gap="6px"):
            heading("Monitors")
            solara.HTML(tag="div", unsafe_innerHTML=monitors)
            heading("Charts")
            solara.Switch(label="Fixed axes (same scale across runs)", value=fixed)
            solara.HTML(tag="div", unsafe_innerHTML=charts)


@solara.component
def Page() -> None:
    session, scenarios, load_error = solara.use_memo(_new_session, [])
    tick, set_tick = solara.use_state(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("4 months/s")
    colour = solara.use_reactive(next(iter(COLOUR_BY)))
    busy = solara.use_reactive("")
    error = solara.use_reactive("")
    job: solara.Reactive[tuple[int, Callable[[], object] | None]] = solara.use_reactive((0, None))
    tab_open = solara.use_memo(_tab_open, [])

    def refresh() -> None:
        set_tick(lambda t: t + 1)

    def start(label: str, action: Callable[[], object]) -> None:
        """Run slow work (building a model, running many months) in the worker thread behind a busy sign."""
        playing.set(False)
        busy.set(label)
        job.set((job.value[0] + 1, action))

    def run_job() -> None:
        _, action = job.value
        if action is None or session is None:
            return
        try:
            with session.lock:
                action()
            error.set("")
        except Exception as err:
            error.set(friendly(err))
        finally:
            refresh()  # views first, then the busy sign goes: whoever waits for it sees the finished run
            busy.set("")

    play_generation = solara.use_ref(0)

    def play_loop() -> None:
        """Step while Play is on and the tab is open; runs in a worker thread (solara.lab.use_task).

        Keeps the chosen speed in months per second of wall clock: when drawing a frame takes longer than
        a month's share of a second (a busy machine), the next frame simulates as many months as fell
        due (at most ``MAX_MONTHS_PER_FRAME``), so Play slows the pictures, not the simulation.
        """
        months = 1
        if session is None or not playing.value:
            return
        # A loop from an earlier press may still be finishing its frame when Play is pressed again (Pause and
        # Play in quick succession, or Play right after it stopped at the last month): only the newest loop
        # steps, and an older one leaves without touching the Play state the student just set.
        play_generation.current += 1
        mine = play_generation.current

        def still_mine() -> bool:
            return playing.value and play_generation.current == mine

        # Play stops at the scenario's last month; pressed again there, it continues past it (on request)
        stop_at = session.last_month() if session.model.steps < session.last_month() else math.inf
        while still_mine():
            if not tab_open():
                playing.set(False)
                return
            begin = time.monotonic()
            try:
                session.run_to(int(min(session.model.steps + months, stop_at)), tab_open)
            except Exception as err:
                error.set(friendly(err))
                playing.set(False)
                refresh()
                return
            if session.model.steps >= stop_at:
                error.set(f"Play stopped at month {session.model.steps}, the scenario's last month (the reporting "
                          "window ends here). Press Play again to continue past it.")
                playing.set(False)
                refresh()
                return
            refresh()
            per_month = 1.0 / SPEEDS[speed.value]
            elapsed = time.monotonic() - begin
            months = min(MAX_MONTHS_PER_FRAME, max(1, math.ceil(elapsed / per_month - 1e-9)))
            time.sleep(max(0.0, months * per_month - elapsed))

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    solara.lab.use_task(run_job, dependencies=[job.value[0]], prefer_threaded=True)
    solara.Title("coprod-sim: community services")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(children=[solara.HTML(tag="h1", unsafe_innerHTML="coprod-sim — who provides community services, "
                                                 "and why?", classes=["coprod-title"])])
    if session is None:
        solara.Error(f"Could not load a scenario: {load_error}")
        return
    with solara.Sidebar(), solara.Column():
        Boundary("run controls", Controls, session, scenarios, playing, start, busy.value, error, speed, refresh, tick)
        Boundary("compare and export panel", CompareExport, session, refresh, error, colour.value, tick)
        Boundary("levers", LeverPanel, session, refresh, (session.scenario_path, tuple(sorted(session.overrides.items()))))
    Boundary("phone controls", PhoneBar, session, playing, guarded(error, session.step, refresh), busy.value, error, tick)
    with solara.lab.Tabs():
        with solara.lab.Tab("Model"):
            Boundary("map, monitors and charts", ModelViews, session, colour, tick)
        with solara.lab.Tab("About"):
            Boundary("About tab", About)


@functools.lru_cache(maxsize=1)
def about_text() -> str:
    """The About tab's HTML, built once per server (the same text for every tab; markdown takes 0.1 s)."""
    return about_html()


@solara.component
def About() -> None:
    html_text = about_text()
    solara.HTML(tag="div", unsafe_innerHTML=html_text, style={"max-width": "60em", "font-size": "15px", "color": "#222"})
