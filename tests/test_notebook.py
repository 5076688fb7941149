"""Rich notebook display: results show what matters as HTML (identity, key numbers, a figure for a run)."""

from __future__ import annotations

import coprod_sim
from coprod_sim.model import KEY_OUTCOMES, OUTCOME_BY_KEY

TINY = {"population.residents": 1000, "space.community_size": 1000, "run.steps": 4, "run.outcome_window": 2,
        "run.spin_up": 0}


def test_a_run_shows_its_identity_key_outcomes_and_a_figure() -> None:
    result = coprod_sim.run("party_led", params=TINY, seed=2)
    page = result._repr_html_()
    assert "party_led" in page and "<img" in page and "data:image/png;base64," in page
    for key in KEY_OUTCOMES:
        assert OUTCOME_BY_KEY[key].format(result.summary.get(key)) in page


def test_a_sweep_and_a_study_show_their_tables(tmp_path) -> None:
    spec = {"base": "baseline", "set": TINY, "replicates": 2, "seed": 1,
            "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.05, 0.15]}}}
    report = coprod_sim.sweep(spec, out=tmp_path / "s", backend="serial")
    assert "4 ok" in report._repr_html_()
    tables = coprod_sim.load_results(report.out)
    page = tables._repr_html_()
    assert "4 ok" in page and "incentive.assessment_weight" in page and "<table" in page
    assert page.count("<tr>") >= 2 + 2  # the facts, and one row per design point
    study = coprod_sim.sensitivity({"model": "ishigami", "seed": 1, "backend": "serial",
                                    "design": {"type": "sobol", "samples": 64,
                                               "parameters": {"x1": {}, "x2": {}, "x3": {}}}},
                                   out=tmp_path / "study")
    page = study._repr_html_()
    assert all(f"<td>{x}</td>" in page for x in ("x1", "x2", "x3")) and "SensitivityReport" in page


def test_what_is_shown_is_escaped(tmp_path) -> None:
    from coprod_sim.runs.notebook import card

    assert "&lt;script&gt;" in card("t", {"name": "<script>"}) and "<script>" not in card("t", {"name": "<script>"})
