"""Fast tests of the browser app's non-browser parts: levers, scenarios, session, pictures, CLI."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import load_script

from coprod_sim.app import figures as fig
from coprod_sim.app import launcher as viz
from coprod_sim.app.launcher import CONFIG_ENV, CONFIGS_DIR_ENV
from coprod_sim.app.session import (
    LEVERS,
    Session,
    config_value,
    initial_scenario,
    lever_value,
    list_scenarios,
)
from coprod_sim.config import ConfigError, load_config, registry
from coprod_sim.domain import SERVICE_TYPES

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"


@pytest.fixture
def session() -> Session:
    s = Session(BASELINE, seed=3)
    s.reset()
    return s


def test_every_lever_is_a_registered_parameter_within_its_range() -> None:
    reg = registry()
    for lever in LEVERS:
        p = reg[lever.key]
        assert lever.explanation().startswith(p.description.split(' (')[0])
        assert '_' not in lever.explanation(), 'a raw key reached the students'
        if lever.kind == "slider" and p.type == "number":
            assert p.range[0] <= lever.lo < lever.hi <= p.range[1], lever.key


def test_per_service_money_lever_round_trips_as_share_of_unit_cost() -> None:
    cfg = load_config(BASELINE)
    value = config_value(cfg, "profit_space.subsidy_per_visit", 0.5)
    assert set(value) == set(SERVICE_TYPES)
    assert value["meals"] == pytest.approx(0.5 * cfg.services.unit_cost["meals"])
    changed = load_config(BASELINE, {"profit_space": {"subsidy_per_visit": value}})
    assert lever_value(changed, "profit_space.subsidy_per_visit") == pytest.approx(0.5)


def test_overrides_apply_on_reset_only(session: Session) -> None:
    assert not session.pending
    session.overrides["government.resistance"] = 0.9
    assert session.pending
    assert session.model.config.government.resistance == pytest.approx(0.6)
    session.reset()
    assert not session.pending
    assert session.model.config.government.resistance == pytest.approx(0.9)
    assert session.lever_values()["government.resistance"] == 0.9


def test_switch_lever_and_invalid_value(session: Session) -> None:
    session.overrides["leading_group.active"] = True
    session.reset()
    assert session.model.config.leading_group.active is True
    session.overrides["government.resistance"] = 5.0  # outside the registry's range
    with pytest.raises(ConfigError):
        session.reset()


def test_same_seed_same_first_frame_and_step(session: Session) -> None:
    first = fig.grid_png(session.model)
    session.step()
    stepped = fig.grid_png(session.model)
    assert stepped != first
    generation = session.generation
    session.reset()
    assert session.generation == generation + 1
    assert fig.grid_png(session.model) == first
    session.step()
    assert fig.grid_png(session.model) == stepped


def test_persistent_map_matches_one_off_picture_and_charts_png(session: Session) -> None:
    grid_view = fig.GridView(session.model.layout)
    for _ in range(2):
        session.step()
        grid_view.render(session.model, "unmet_need")
    assert grid_view.render(session.model, "satisfaction") == fig.grid_png(session.model, "satisfaction")
    history = session.history()
    png = fig.charts_png(history, None, 60, 12)
    assert png[:4] == b"\x89PNG" and png == fig.charts_png(history, None, 60, 12)
    assert fig.charts_png(history, history, 60, 12) != png  # the reference is drawn


def test_cell_field_is_the_per_cell_mean(session: Session) -> None:
    session.step()
    res, lay = session.model.residents, session.model.layout
    sat = fig.cell_field(session.model, "satisfaction")
    unmet = fig.cell_field(session.model, "unmet_need")
    assert sat.shape == (lay.height, lay.width)
    cell = int(res.cell[0])
    x, y = lay.cell_xy(cell)
    assert sat[y, x] == pytest.approx(res.satisfaction[res.cell == cell].mean())
    assert unmet[y, x] == pytest.approx(1 - fig.met_share(session.model)[res.cell == cell].mean())
    assert np.nanmin(sat) >= 1 and np.nanmax(sat) <= 5


def test_boundary_segments_between_zones() -> None:
    zones = np.array([0, 0, 1, 1, 0, 0, 1, 1])  # 4 wide, 2 high: a vertical border at x = 1.5
    segs = fig.boundary_segments(zones, 4, 2)
    assert sorted(segs) == [((1.5, -0.5), (1.5, 0.5)), ((1.5, 0.5), (1.5, 1.5))]


def test_facility_points_cover_every_operator_kind_present(session: Session) -> None:
    kinds = {p[2] for p in fig.facility_points(session.model)}
    assert "government" in kinds
    assert kinds <= set(fig.OPERATOR_MARKERS)


def test_scenarios_listed_by_name_and_initial_choice(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "baseline.yaml").write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("scenario: {name: Other}\n", encoding="utf-8")
    found = list_scenarios(tmp_path)
    assert "Other (b.yaml)" in found
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert found[initial_scenario(found)].name == "baseline.yaml"
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "b.yaml"))
    assert initial_scenario(found) == "Other (b.yaml)"


def test_load_scenario_drops_overrides(tmp_path: Path, session: Session) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("scenario: {name: Other, description: Demo.}\ngovernment: {resistance: 0.3}\n", encoding="utf-8")
    session.overrides["government.resistance"] = 0.9
    session.load_scenario(other)
    assert session.overrides == {}
    assert session.model.config.government.resistance == pytest.approx(0.3)
    assert session.description() == "Demo."


def test_missing_assets_reported(tmp_path: Path) -> None:
    assert set(viz.missing_assets(tmp_path)) == set(viz.REQUIRED_ASSETS)
    for name in viz.REQUIRED_ASSETS:
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "x.js").write_text("//")
    assert viz.missing_assets(tmp_path) == []


def test_installed_assets_present() -> None:
    """setup.sh must leave the front-end in place, or the page is blank offline."""
    assert viz.missing_assets() == []


def test_cli_parses_viz_and_defaults_to_loopback(tmp_path: Path) -> None:
    from coprod_sim.cli import build_parser

    args = build_parser().parse_args(["viz", str(BASELINE), "--port", "9001"])
    assert (args.host, args.port, args.config) == ("127.0.0.1", 9001, str(BASELINE))
    cmd = viz.server_command(args.host, args.port)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "9001"
    env = viz.app_environment(str(BASELINE), None)
    assert env["SOLARA_APP"] == "coprod_sim.app.page"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == viz.KERNEL_CULL_TIMEOUT  # closed tabs' models are freed
    assert Path(env[CONFIGS_DIR_ENV]) == BASELINE.parent.resolve() and Path(env[CONFIG_ENV]) == BASELINE.resolve()


def test_cli_viz_rejects_missing_config() -> None:
    from coprod_sim.errors import UserError

    with pytest.raises(UserError, match="no such scenario"):
        viz.launch("nope.yaml", None, "127.0.0.1", 1)


def test_invalid_scenario_keeps_the_current_run(tmp_path: Path, session: Session) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("government: {resistance: high}\n", encoding="utf-8")
    model = session.model
    with pytest.raises(ConfigError):
        session.load_scenario(bad)
    assert session.scenario_path == BASELINE and session.model is model


def test_cli_viz_needs_a_scenario_folder(tmp_path: Path) -> None:
    from coprod_sim.errors import UserError

    with pytest.raises(UserError, match="no scenario files"):
        viz.launch(None, str(tmp_path), "127.0.0.1", 1)


def test_event_log_is_grouped_counted_escaped_and_names_places_as_the_map() -> None:
    from coprod_sim.app import log

    month = ["civil_affairs released 21% of its budget <b>", "Planning bureau delayed the meals permit (resistance 0.8)",
             "Planning bureau delayed the meals permit (resistance 0.8)",
             "A firm applied to open meals in community 7: expected profit 3.0k/month"]
    rows = log.grouped(month, periphery=[False] * 7 + [True])
    assert [(k, n) for k, n, _ in rows] == [("Budgets", 1), ("Approvals", 2), ("Openings", 1)]
    assert "C7 (periphery)" in rows[2][2] and "community 7" not in rows[2][2]
    out = log.month_html(3, month, log.ALL)
    assert "Civil affairs released 21% of its budget &lt;b&gt;" in out and "<b>2×</b>" in out and "Approvals 2" in out
    only = log.month_html(3, month, "Openings")
    assert "applied to open" in only and "delayed" not in only and "Approvals 2" in only  # counts stay
    history = log.log_html([(m, month) for m in range(30)], months=24)
    assert "Month 29" in history and "Month 6" in history and "Month 5" not in history and "6 earlier" in history


def test_seed_is_parsed_with_a_friendly_message() -> None:
    from coprod_sim.app.session import parse_seed

    assert parse_seed(" 42 ") == 42
    for bad in ("-1", "abc", "", "1.5", str(2**63)):
        with pytest.raises(ValueError, match="The seed must be"):
            parse_seed(bad)


def test_slider_echo_of_a_scenario_value_is_not_an_override(session: Session) -> None:
    """A slider snapping an off-grid scenario value must not change the run (the canteen-cut bug)."""
    key = "profit_space.subsidy_per_visit"
    shown = session.lever_values()[key]
    assert not session.set_lever(key, float(shown) + 0.02)  # within half a step: the widget's echo
    assert not session.pending
    assert session.set_lever(key, float(shown) + 0.5)
    assert session.pending
    assert not session.set_lever("leading_group.active", session.lever_values()["leading_group.active"])
    assert session.set_lever(key, float(shown) + 1e-12)  # back at the scenario's value: no override left
    assert key not in session.overrides and not session.pending


def test_shipped_scenarios_open_without_pending_changes() -> None:
    for path in list_scenarios(BASELINE.parent).values():
        s = Session(path)
        for lever in LEVERS:  # what every widget reports back on first render: the value snapped to its grid
            shown = s.lever_values()[lever.key]
            s.set_lever(lever.key, shown if lever.kind == "switch" else round(float(shown) / lever.step) * lever.step)
        assert not s.overrides, path.name


def test_history_is_read_under_the_tab_lock(session: Session, monkeypatch) -> None:
    """Play steps in a worker thread; a view reading the history must wait for the month being stepped
    (a loaded machine once drew the phone controls from a half-recorded month: ValueError on the page)."""
    import threading

    session.step()
    free_while_reading: list[bool] = []
    model = session.model
    recorded = type(model).timeseries

    def probing(self):  # another thread tries to take the lock while the history is being read
        def probe() -> None:
            took = session.lock.acquire(blocking=False)
            free_while_reading.append(took)
            if took:
                session.lock.release()

        other = threading.Thread(target=probe)
        other.start()
        other.join()
        return recorded(self)

    monkeypatch.setattr(type(model), "timeseries", probing)
    assert len(session.history()) == 1
    assert free_while_reading == [False], "the history was read without the lock"


def test_run_to_month_history_monitors_and_reference(session: Session) -> None:
    session.run_to(3)
    assert session.model.steps == 3 and [m for m, _ in session.log] == [0, 1, 2, 3]
    history = session.history()
    assert len(history) == 3 and {"site.firm.centre", "site.firm.periphery"} <= set(history.columns)
    rows = session_rows = fig_rows(session)
    assert all(r["now"] != "" for r in rows) and "reference" not in rows[0]
    session.keep_reference()
    session.overrides["government.resistance"] = 0.95
    session.reset()
    session.run_to(3, go_on=lambda: session.model.steps < 2)
    assert session.model.steps == 2  # stopped when told (a closed tab)
    rows = fig_rows(session)
    assert "difference" in rows[0] and session.reference is not None and "seed 3" in session.reference.label
    assert session_rows[0]["label"] == rows[0]["label"]
    csv = session.csv().splitlines()
    assert csv[0].startswith("step,") and len(csv) == 3


def fig_rows(session: Session) -> list[dict[str, str]]:
    from coprod_sim.app.session import monitor_rows

    return monitor_rows(session.history(), session.window(), session.reference)


def test_svg_views_carry_ids_alt_text_window_and_reference(session: Session) -> None:
    from coprod_sim.app import svg

    session.run_to(2)
    markup = svg.map_svg(session.model, "unmet_need")
    assert markup.count("data-c=") == session.model.layout.n_cells and "data-f=" in markup
    assert 'aria-label="Map of the district at month 2' in markup
    limits = svg.Limits()
    charts = svg.charts_html(session.history(), None, 60, 12, limits)
    assert charts.count("<svg") == len(svg.PANELS) and "reporting window, months 49–60" in charts
    assert "Dashed" not in charts
    with_ref = svg.charts_html(session.history(), session.history(), 60, 12, limits)
    assert "stroke-dasharray" in with_ref and "Reference run" in with_ref
    # fixed axes only grow: a run with larger values widens, a smaller one keeps the scale
    big = session.history().assign(**{"governance.approvals_pending": 1e6})
    svg.charts_html(big, None, 60, 12, limits)
    title = next(p.title for p in svg.PANELS if p.title.startswith("Approvals"))
    assert limits.y[title][1] >= 1e6
    svg.charts_html(session.history(), None, 60, 12, limits)
    assert limits.y[title][1] >= 1e6


def test_inspect_a_facility_and_a_cell(session: Session) -> None:
    from coprod_sim.app import details

    session.step()
    uid = fig.facility_points(session.model)[0][5]
    rows = dict(details.facility_details(session.model, uid) or [])
    assert {"Run by", "Capacity (visits/month)", "Waiting for", "Why it is there"} <= set(rows)
    assert details.facility_details(session.model, -1) is None
    cell = int(session.model.residents.cell[0])
    cell_rows = dict(details.cell_details(session.model, cell))
    assert int(cell_rows["Residents"]) >= 1 and "Satisfaction, mean (1–5)" in cell_rows


def test_about_tab_has_the_odd_sections_and_lever_sources() -> None:
    from coprod_sim.app.about import CJK, about_html

    out = about_html()
    assert "Purpose" in out and "Process overview" in out and "<table>" in out
    assert registry()["government.resistance"].source.split()[0] in out
    # students first: what the model is, a glossary that explains Gini; developers' words only further down
    students, researchers = out.split("For researchers")
    assert "What this model is" in students and "Gini" in students and "Glossary" in students
    assert "numpy" not in students and "§" not in students and "numpy" in researchers
    # no Chinese characters (no CJK font is shipped): pinyin instead; the source papers are not "seeds"
    assert CJK.findall(out) == [] and "zhǔtǐ fēnsàn huà" in out
    assert "seed 001" not in out.lower() and "source paper 001" in out.lower()


def test_unexpected_errors_become_one_friendly_sentence() -> None:
    from coprod_sim.app.page import friendly

    assert friendly(ConfigError(["government.resistance: expected a number"])).startswith("Could not start this run")
    msg = friendly(RuntimeError("secret internals"))
    assert "RuntimeError" in msg and "secret internals" not in msg and "Traceback" not in msg


def test_keep_reference_at_month_0_is_refused_and_monitors_never_miss_a_column(session: Session) -> None:
    from coprod_sim.app.page import friendly, monitors_html
    from coprod_sim.app.session import Reference, Refused

    with pytest.raises(Refused, match="run at least one month"):
        session.keep_reference()
    assert "run at least one month" in friendly(Refused("run at least one month"))
    # a reference without any month (an older run kept empty): every column shows a dash, nothing raises
    session.reference = Reference("empty", session.history().iloc[:0])
    session.step()
    assert "<th>Difference</th>" in monitors_html(session)
    assert all(r["reference"] == "–" for r in fig_rows(session))


def test_run_to_refuses_the_past_and_negative_months(session: Session) -> None:
    from coprod_sim.app.session import Refused

    session.run_to(2)
    with pytest.raises(Refused, match="already at month 2"):
        session.run_to(1)
    with pytest.raises(Refused, match="0 or more"):
        session.run_to(-1)
    session.run_to(2)
    assert session.model.steps == 2


def test_difference_warns_about_another_month_or_seed(session: Session) -> None:
    from coprod_sim.app.page import monitors_html

    session.run_to(2)
    session.keep_reference()
    assert session.comparison_warnings() == []
    session.step()
    assert "stopped at month 2" in monitors_html(session)
    session.seed = 4
    session.reset()
    session.run_to(2)
    (warning,) = session.comparison_warnings()
    assert "seed 3" in warning and "seed 4" in warning


def test_error_boundary_shows_a_sentence_not_a_traceback(caplog) -> None:
    import ipyvuetify as v
    import solara

    from coprod_sim.app.page import Boundary

    @solara.component
    def Fragile(broken: bool) -> None:
        if broken:
            raise KeyError("reference")
        solara.Text("drawn")

    @solara.component
    def Top() -> None:
        broken, set_broken = solara.use_state(False)
        solara.Button("break", on_click=lambda: set_broken(True))
        Boundary("monitors", Fragile, broken)

    _, rc = solara.render(Top(), handle_error=False)
    rc.find(v.Btn, children=["break"]).widget.click()
    (alert,) = rc.find(v.Alert).widgets
    assert "monitors could not be shown (KeyError)" in alert.children[0] and "Traceback" not in alert.children[0]
    assert "KeyError: 'reference'" in caplog.text  # the traceback went to the server log
    rc.close()


def test_facility_markers_spread_within_their_community_and_keep_their_place(session: Session) -> None:
    lay = session.model.layout
    session.run_to(2)
    first = {p[5]: (p[0], p[1]) for p in fig.facility_points(session.model)}
    cells = [int(y) * lay.width + int(x) for x, y in first.values()]
    assert len(set(cells)) == len(cells), "two facilities drawn on the same cell"
    by_uid = {f.unique_id: f for f in session.model.agents}
    for uid, (x, y) in first.items():  # each drawn inside its own community
        assert lay.community_of_cell[int(y) * lay.width + int(x)] == lay.community_of_cell[by_uid[uid].cell_index]
    session.run_to(4)
    later = {p[5]: (p[0], p[1]) for p in fig.facility_points(session.model)}
    assert all(later[u] == first[u] for u in first.keys() & later.keys()), "a marker moved between months"
    counts = fig.counts_by_zone(fig.facility_points(session.model), session.model)
    assert sum(c + p for c, p in counts.values()) == sum(1 for p in fig.facility_points(session.model) if p[4])


def test_map_png_follows_the_colour_choice_and_charts_png_names_the_run(session: Session) -> None:
    session.step()
    assert fig.grid_png(session.model, "unmet_need") != fig.grid_png(session.model, "satisfaction")
    titled = fig.charts_png(session.history(), None, 60, 12, title=session.run_label())
    assert titled != fig.charts_png(session.history(), None, 60, 12)
    assert session.run_label() == "baseline, seed 3"


def test_allowed_hosts_and_server_environment(tmp_path: Path) -> None:
    assert viz.allowed_hosts("127.0.0.1") == sorted({"127.0.0.1", "localhost", "::1", "[::1]"})
    everywhere = viz.allowed_hosts("0.0.0.0", ["teacher.school.example"])
    assert {"localhost", "teacher.school.example"} <= set(everywhere) and "attacker.example" not in everywhere
    env = viz.app_environment(None, None, ["localhost"])
    assert env[viz.ALLOWED_HOSTS_ENV] == "localhost" and env["SOLARA_THEME_SHOW_BANNER"] == "false"
    assert env["OPENBLAS_NUM_THREADS"] == os.environ.get("OPENBLAS_NUM_THREADS", "1")
    with pytest.raises(viz.UserError, match="--servers must be 1 or more"):
        viz.launch(servers=0)
    # a port the system cannot bind is named before any server starts (it was an OverflowError from bind())
    with pytest.raises(viz.UserError, match=r"--port: expected a port from 0 to 65535, found -1"):
        viz.launch(port=-1)
    with pytest.raises(viz.UserError, match=r"--port: expected a port from 0 to 65532 \(for 4 servers on consecutive "
                                            r"ports\), found 65534"):
        viz.launch(port=65534, servers=4)


def test_a_second_tab_on_the_same_run_starts_from_the_cached_month_0_and_steps_identically() -> None:
    from coprod_sim.app import session as app_session
    from coprod_sim.model import Model

    first, second = Session(BASELINE, seed=11), Session(BASELINE, seed=11)
    first.reset()
    key = app_session._month0_key(BASELINE, {}, 11)
    assert key in app_session._MONTH0
    second.reset()  # unpickled from the cache: its own model, not the first tab's
    assert second.model is not first.model
    fresh = Model(rng=11, scenario=load_config(BASELINE), explain=True)
    for model in (first.model, second.model, fresh):
        for _ in range(3):
            model.step()
    assert first.model.timeseries().equals(fresh.timeseries()) and second.model.timeseries().equals(fresh.timeseries())
    assert list(second.model.events) == list(fresh.events)


def test_the_lesson_answers_are_what_the_page_shows() -> None:
    """scripts/lesson_answers.py, which docs/app.md's stated answers come from, gives a step's Difference
    exactly as the page's monitors show it: the guide's exercise 3.3 walked in a session as a student would
    (reference kept at month 60, a lever moved, Reset, run to 60 again)."""
    from coprod_sim.app.session import monitor_rows

    answers = load_script(ROOT / "scripts" / "lesson_answers.py")
    step = next(s for s in answers.STEPS if s.name.startswith("3.3"))
    computed = {(key, column): values[0] for key, column, values in answers.answers(step, (0,), {})}
    session = Session(BASELINE, seed=0)
    session.reset()
    session.run_to(answers.MONTH)
    session.keep_reference()
    for lever, value in step.levers.items():
        assert session.set_lever(lever, value)
    session.reset()
    session.run_to(answers.MONTH)
    page = {row["key"]: row for row in monitor_rows(session.history(), session.window(), session.reference)}
    assert step.differences
    for key in step.differences:
        assert page[key]["difference"] == answers.shown(key, computed[key, "difference"], signed=True), key
