"""The students' browser app (Solara), started by ``coprod-sim viz``.

The layout follows Mesa's SolaraViz (app bar, a sidebar with controls and
parameters, the model views in the main area), but the page is built from
Solara components directly rather than through ``mesa.visualization.SolaraViz``
because the issue needs three things SolaraViz 3.5.1 does not give:

* a scenario picker that reloads *all* parameters, with lever widgets that then
  show the new scenario's values (SolaraViz's ``model_params`` are fixed);
* one model per browser tab with no shared module-level state (SolaraViz keeps a
  module-level ``update_counter`` that makes every tab redraw on any tab's step);
* an integer seed (its example seed field returns a string, upstream issue 3516).

All per-tab state lives in a :class:`~coprod_sim.app.session.Session` created
inside ``Page`` with ``use_memo``, so every browser tab gets its own model.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import solara
import solara.lab

from ..config import ConfigError
from . import guard
from .figures import ChartsView, GridView
from .launcher import CONFIG_ENV
from .session import LEVERS, Lever, Session, initial_scenario, list_scenarios

guard.install()  # this module is imported by the Solara server: harden that process (app/guard.py)

PLAY_INTERVAL_S = 0.6  # pause between steps while playing, so students can read the log
COLOUR_BY = {"Satisfaction": "satisfaction", "Unmet need": "unmet_need"}  # toggle label → field
SMALL = {"font-size": "0.8em", "color": "#555", "line-height": "1.25"}


def _new_session() -> tuple[Session | None, dict[str, Path], str | None]:
    """Scenarios on disk and a fresh session on the initial one (or the error why not)."""
    import os

    extra = os.environ.get(CONFIG_ENV)
    scenarios = list_scenarios(extra=Path(extra) if extra else None)
    try:
        session = Session(scenarios[initial_scenario(scenarios)])
        session.reset()
    except ConfigError as err:
        return None, scenarios, "\n".join(err.problems)
    return session, scenarios, None


def _event_html(events: list[str], month: int) -> str:
    """The event log as escaped HTML (not solara.Markdown: that pulls KaTeX from a CDN, breaking offline use)."""
    if not events:
        return f"<i>Nothing to report for month {month}. Press <b>Step</b> to run one month.</i>"
    return "<ul>" + "".join(f"<li>{html.escape(_readable(e))}</li>" for e in events) + "</ul>"


def _readable(event: str) -> str:
    """Model identifiers such as ``civil_affairs`` read as words in the log."""
    text = event.replace("_", " ")
    return text[:1].upper() + text[1:]


@solara.component
def LeverControl(lever: Lever, value: float | bool, on_change) -> None:
    """One lever with its explanation right below, so cause and meaning sit together."""
    with solara.Column(gap="0px", style={"margin-bottom": "10px"}):
        if lever.kind == "switch":
            solara.Switch(label=lever.label, value=bool(value), on_value=lambda v: on_change(lever.key, v))
        else:
            solara.SliderFloat(f"{lever.label}: {float(value):g}", value=float(value), min=lever.lo, max=lever.hi,
                               step=lever.step, on_value=lambda v: on_change(lever.key, v), thumb_label=True)
        solara.Text(lever.explanation(), style=SMALL)


@solara.component
def Controls(session: Session, scenarios: dict[str, Path], playing: solara.Reactive[bool], refresh, tick: int) -> None:
    """Scenario picker, seed, Reset / Play / Step and the month counter.

    ``tick`` is unused in the body: it changes whenever the session does, which
    makes reacton re-render this component (it skips children with equal props).
    """
    label = next((k for k, p in scenarios.items() if p == session.scenario_path), None)
    error = solara.use_reactive("")

    def guarded(action) -> None:
        """Run a rebuild; a bad scenario file or lever combination is shown, not raised."""
        playing.set(False)
        try:
            with session.lock:
                action()
            error.set("")
        except ConfigError as err:
            error.set("; ".join(err.problems))
        refresh()

    def pick(new_label: str | None) -> None:
        if new_label is not None:
            guarded(lambda: session.load_scenario(scenarios[new_label]))

    def set_seed(value: int | None) -> None:
        session.seed = int(value or 0)
        refresh()

    def reset() -> None:
        guarded(session.reset)

    def step() -> None:
        session.step()
        refresh()

    with solara.Card("Scenario and run", margin=0):
        solara.Select("Scenario", values=list(scenarios), value=label, on_value=pick)  # type: ignore[arg-type]
        solara.Text(session.description(), style=SMALL)
        solara.InputInt("Seed (integer)", value=session.seed, on_value=set_seed)
        with solara.Row(gap="6px"):
            solara.Button("Reset", color="primary", on_click=reset)
            solara.Button("Pause" if playing.value else "Play", color="primary",
                          on_click=lambda: playing.set(not playing.value))
            solara.Button("Step", color="primary", on_click=step, disabled=playing.value)
        solara.Text(f"Month: {session.model.steps}", style={"font-size": "1.3em", "font-weight": "bold"})
        if error.value:
            solara.Error(f"Could not start this run: {error.value}", dense=True)
        if session.pending:
            solara.Warning("Lever or seed changed: press Reset to start a new run with them.", dense=True)


@solara.component
def LeverPanel(session: Session, refresh, state: tuple) -> None:
    """All levers. ``state`` (scenario + overrides) changes only when a lever or the scenario does,
    so a Step does not re-render the thirteen sliders (reacton skips components with equal props)."""
    def change(key: str, value: float | bool) -> None:
        session.overrides[key] = value
        refresh()

    values = session.lever_values()
    with solara.Card("Levers (apply on Reset)", margin=0):
        for lever in LEVERS:
            LeverControl(lever, values[lever.key], change)


@solara.component
def ModelViews(session: Session, tick: int) -> None:
    """Grid map, event log and charts; images are cached per (run, month, colouring)."""
    choice = solara.use_reactive(next(iter(COLOUR_BY)))
    field = COLOUR_BY[choice.value]
    model = session.model
    key = (session.generation, model.steps)

    # one pair of figures per run, updated in place each month (building them costs more than drawing)
    grid_view, charts_view = solara.use_memo(lambda: (GridView(model.layout), ChartsView()), [session.generation])

    def draw_grid() -> bytes:
        with session.lock:
            return grid_view.render(model, field)

    def draw_charts() -> bytes:
        with session.lock:
            return charts_view.render(model.timeseries())

    grid = solara.use_memo(draw_grid, [*key, field])
    charts = solara.use_memo(draw_charts, list(key))
    with solara.Row(style={"align-items": "center"}):
        solara.Text("Colour residents by:")
        solara.ToggleButtonsSingle(value=choice, values=list(COLOUR_BY))
    with solara.Columns([3, 2]):
        solara.Image(grid, width="100%")
        with solara.Card(f"What happened in month {model.steps}", margin=0):
            solara.HTML(tag="div", unsafe_innerHTML=_event_html(list(model.events), model.steps),
                        style={"max-height": "430px", "overflow-y": "auto", "font-size": "0.85em"})
    with solara.Div(style={"padding-bottom": "48px"}):  # keep the last charts clear of Solara's corner badge
        solara.Image(charts, width="100%")


@solara.component
def Page() -> None:
    session, scenarios, error = solara.use_memo(_new_session, [])
    tick, set_tick = solara.use_state(0)
    playing = solara.use_reactive(False)

    def refresh() -> None:
        set_tick(lambda t: t + 1)

    def play_loop() -> None:
        """Step while Play is on; runs in a worker thread (solara.lab.use_task)."""
        while playing.value and session is not None:
            start = time.monotonic()
            session.step()
            refresh()
            time.sleep(max(0.05, PLAY_INTERVAL_S - (time.monotonic() - start)))

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    solara.Title("coprod-sim: community services")
    with solara.AppBar():
        solara.AppBarTitle("coprod-sim — who provides community services, and why?")
    if session is None:
        solara.Error(f"Could not load a scenario: {error}")
        return
    with solara.Sidebar(), solara.Column():
        Controls(session, scenarios, playing, refresh, tick)
        LeverPanel(session, refresh, (session.scenario_path, tuple(sorted(session.overrides.items()))))
    ModelViews(session, tick)
