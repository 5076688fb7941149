"""Findings (experiments/findings.py, docs/findings.md): the verdict rule, the factorial contrasts on a known
answer, and the whole pipeline at --quick size, with the doc checked against the tables it came from."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, load_script

from coprod_sim.config import load_config
from coprod_sim.experiments.claims import catalogue
from coprod_sim.experiments.findings import (
    CONTRADICTED,
    SUPPORTED,
    UNCLEAR,
    Experiment,
    Prediction,
    Size,
    TimePath,
    claim_verdict,
    combine,
    contrast_table,
    factorial_contrasts,
    judge,
    pilot_size,
    replicates_needed,
    run_settings,
    scenario_changes,
    seed_slots,
    time_path_tables,
    window_means,
)
from coprod_sim.experiments.findings_attribution import SCENARIOS_BEHIND
from coprod_sim.experiments.findings_report import interval_cell
from coprod_sim.model.approvals import ApprovalChains


@pytest.mark.parametrize(("prediction", "low", "high", "verdict"), [
    (Prediction("c", "y", sign=1), 0.1, 0.3, SUPPORTED),
    (Prediction("c", "y", sign=1), -0.3, -0.1, CONTRADICTED),
    (Prediction("c", "y", sign=1), -0.1, 0.3, UNCLEAR),
    (Prediction("c", "y", sign=-1), -0.3, -0.1, SUPPORTED),
    (Prediction("c", "y", sign=-1), 0.1, 0.3, CONTRADICTED),
    (Prediction("c", "y", sign=1), float("nan"), float("nan"), UNCLEAR),
    (Prediction("a", "y", band=(0.2, 0.3)), 0.22, 0.28, SUPPORTED),
    (Prediction("a", "y", band=(0.2, 0.3)), 0.31, 0.35, CONTRADICTED),
    (Prediction("a", "y", band=(0.2, 0.3)), 0.18, 0.28, UNCLEAR),
])
def test_the_verdict_rule(prediction, low, high, verdict):
    assert judge(prediction, low, high) == verdict


def test_a_claim_is_supported_only_as_far_as_its_predictions():
    def table(*verdicts: str) -> pd.DataFrame:
        return pd.DataFrame({"verdict": list(verdicts), "condition": [f"c{i}" for i in range(len(verdicts))],
                             "outcome_label": "y", "contrast": "k"})

    assert claim_verdict(table(SUPPORTED, SUPPORTED)) == "supported"
    assert claim_verdict(table(SUPPORTED, UNCLEAR)) == "supported under conditions: c0"
    assert claim_verdict(table(UNCLEAR, SUPPORTED, CONTRADICTED)) == \
        "supported under conditions: c1 (contradicted: c2)"
    assert claim_verdict(table(UNCLEAR, CONTRADICTED)) == "not supported by this model (contradicted: c1)"


def test_replicates_needed_follow_the_square_root_law():
    """Half-width shrinks as 1/sqrt(n): an interval twice as wide as ±20% of its effect needs 4× the seeds;
    an interval that holds zero asks for none (it is reported as not distinguishable)."""
    table = pd.DataFrame({"expected": ["rise", "rise", "within [0, 1]"], "estimate": [1.0, 0.01, 0.5],
                          "ci_low": [0.6, -0.5, 0.0], "ci_high": [1.4, 0.5, 1.0]})
    assert replicates_needed(table, 12) == 48
    assert replicates_needed(table.iloc[1:], 12) == 12
    precise = table.assign(ci_low=[0.9, -0.5, 0.0], ci_high=[1.1, 0.5, 1.0])
    assert replicates_needed(precise, 12) == 12


def test_factorial_contrasts_recover_known_effects():
    """y = 1·A + 2·B − 0.5·A·B + 3·C + seed noise shared by every arm of a replicate (common random numbers):
    the main effects are averages over the other factors (A: 1 − 0.5/2, B: 2 − 0.5/2, C: 3), the A × B
    interaction is −0.5, the others 0, and the shared noise cancels, so the intervals have no width."""
    factors = ("A", "B", "C")

    def arm(on: frozenset[str]) -> str:
        return "+".join(f for f in factors if f in on) or "none"

    rng = np.random.default_rng(1)
    rows = []
    for replicate, noise in enumerate(rng.normal(size=5)):
        for mask in range(8):
            on = frozenset(f for i, f in enumerate(factors) if mask >> i & 1)
            a, b, c = ("A" in on), ("B" in on), ("C" in on)
            rows.append({"replicate": replicate, "arm": arm(on), "y": a + 2 * b - 0.5 * a * b + 3 * c + noise})
    exp = Experiment(name="t", title="t", question="", quotes=(), claim="", why="", arms={}, outcomes={"y": "y"},
                     contrasts=factorial_contrasts(factors, arm), predictions=())
    got = contrast_table(exp, pd.DataFrame(rows)).set_index("contrast")
    want = {"main effect: A": 0.75, "main effect: B": 1.75, "main effect: C": 3.0, "interaction: A × B": -0.5,
            "interaction: A × C": 0.0, "interaction: B × C": 0.0}
    for label, value in want.items():
        assert got.loc[label, "estimate"] == pytest.approx(value, abs=1e-12)
        assert got.loc[label, "ci_high"] - got.loc[label, "ci_low"] == pytest.approx(0, abs=1e-9)
    assert (got["n_pairs"] == 5).all()


def test_arms_are_scenarios_combined_and_a_conflict_is_refused():
    party = scenario_changes("party_led")
    parts = combine(*(scenario_changes(s) for s in ("up_incentives", "down_mass_contact", "in_leading_group",
                                                      "out_interest_binding")))
    assert parts == party  # the shipped party-led scenario is the four remedies together
    with pytest.raises(ValueError, match=r"government\.resistance"):
        combine({"government.resistance": 0.3}, {"government.resistance": 0.9})


def test_every_prediction_names_a_contrast_or_arm_and_an_outcome_of_its_experiment():
    for exp in catalogue():
        labels = {c.label for c in exp.contrasts}
        for p in exp.predictions:
            assert p.outcome in exp.outcomes, (exp.name, p)
            assert (p.contrast in exp.arms) if p.band else (p.contrast in labels), (exp.name, p)
        for contrast in exp.contrasts:
            assert set(contrast.weights) <= set(exp.arms), (exp.name, contrast.label)
            assert sum(contrast.weights.values()) == pytest.approx(0), (exp.name, contrast.label)


def _script():
    return load_script(ROOT / "experiments" / "findings.py")


@pytest.mark.slow
def test_quick_findings_write_every_table_figure_and_section_and_the_doc_matches_the_tables(tmp_path):
    out, doc = tmp_path / "findings", tmp_path / "docs" / "findings.md"
    assert _script().guarded(["--quick", "--replicates", "2", "--max-replicates", "3", "--out", str(out),
                              "--doc", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    for exp in catalogue():
        folder = out / exp.name
        for name in ("contrasts.csv", "levels.csv", "predictions.csv", "meta.json", f"{exp.name}.png"):
            assert (folder / name).stat().st_size > 0, folder / name
        assert f"## {exp.title}" in text
        assert (doc.parent / "img" / "findings" / f"{exp.name}.png").exists()
        predictions = pd.read_csv(folder / "predictions.csv")
        predictions["condition"] = predictions["condition"].fillna("")
        assert f"**Verdict: {claim_verdict(predictions)}.**" in text
        section = text.split(f"## {exp.title}")[1].split("\n## ")[0]
        for row in pd.read_csv(folder / "contrasts.csv").itertuples():
            assert interval_cell(row.estimate, row.ci_low, row.ci_high) in section, (exp.name, row.contrast)
        assert f"--only {exp.name}" in section
        if exp.time_path:  # the event study's table, figure and settling lines, from its tables
            path = pd.read_csv(folder / "events.csv")
            for row in path[path["month"].isin(exp.time_path.shown)].itertuples():
                assert f"| {row.month} | {row.scenario} − {row.reference} |" in section
                assert interval_cell(row.difference, row.ci_low, row.ci_high) in section, (row.month, row.outcome)
            assert (doc.parent / "img" / "findings" / f"{exp.name}_path.png").exists()
            assert len(pd.read_csv(folder / "events_settling.csv")) == (len(exp.arms) - 1) * len(
                exp.time_path.outcomes)
        block = section.split("**Verdict:")[1].split("**Why the model gives this.**")[0]
        assert "**Attribution" in block, exp.name  # beside the verdict: the splits of the scenarios behind it
        for stem in SCENARIOS_BEHIND[exp.name].split:
            assert f"(`{stem}` − baseline)" in block and "Its reading:" in block, (exp.name, stem)
        for p in exp.predictions:  # the robustness paragraph names every screened prediction
            if p.screened:
                assert f"| {p.condition} | " in section.split("**Robustness to the assumptions**")[1], p.condition
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        assert meta["pilot_replicates"] == (3 if exp.pilot else 2) and meta["replicates"] in (2, 3)
        assert meta["runs"] == len(exp.arms) * meta["replicates"]
    summary = re.findall(r"^\| (.+?) \| (.+?) \| .+ \|$", text.split("\n## ")[0], re.MULTILINE)
    assert [claim for claim, _ in summary] == ["claim", *(e.claim for e in catalogue())]
    assert "\nAttribution: beside each verdict" in text.split("\n## ")[0]


def test_the_committed_doc_has_every_experiment():
    text = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert "Generated by `experiments/findings.py`" in text
    for exp in catalogue():
        assert f"## {exp.title}" in text
        assert (ROOT / "docs" / "img" / "findings" / f"{exp.name}.png").exists()


def test_seed_slots_keep_earlier_experiments_seeds_when_one_is_added_in_between():
    def exp(name: str, slot: int | None = None) -> Experiment:
        return Experiment(name=name, title=name, question="", quotes=(), claim="", why="", arms={}, outcomes={},
                          contrasts=(), predictions=(), slot=slot)

    assert seed_slots([exp("a"), exp("b"), exp("new", slot=9), exp("c")]) == {"a": 0, "b": 1, "new": 9, "c": 2}


def test_the_chain_arms_have_the_documented_lengths():
    """Short: planning, construction and fire (3 sign-offs for a new building, 1 in existing premises); the
    default 5 and 3 for meals; long: all seven (5 in existing premises). The group rides on each unchanged."""
    arms = next(e for e in catalogue() if e.name == "resistance_leading_group").arms

    def lengths(arm: str) -> tuple[int, int]:
        chains = ApprovalChains(load_config("baseline", arms[arm]).approvals)
        return len(chains.departments("meals", True)), len(chains.departments("meals", False))

    assert lengths("short chain") == lengths("short chain + group") == (3, 1)
    assert lengths("baseline") == lengths("group") == (5, 3)
    assert lengths("long chain") == lengths("long chain + group") == (7, 5)
    assert load_config("baseline", arms["long chain + group"]).leading_group.active
    assert not load_config("baseline", arms["long chain"]).leading_group.active


def test_the_canteen_arms_differ_by_the_cut_alone_and_share_the_scenarios_context():
    exp = next(e for e in catalogue() if e.name == "canteen_subsidy_cut")
    kept, cut, none = (exp.arms[a] for a in ("subsidy kept", "subsidy cut", "no subsidy"))
    assert next(iter(exp.arms)) == "subsidy kept"  # the time path's reference
    assert {k: v for k, v in cut.items() if k not in kept} == {"profit_space.subsidy_change_step": 24,
                                                                "profit_space.subsidy_change_factor": 0.3}
    assert kept == {"profit_space.subsidy_per_visit": {"meals": 8}} and none == {}
    settings = run_settings(exp, Size(residents=4000, community_size=1000, quick=True))
    assert settings["run.steps"] == 72 and settings["services.cost_growth"] == {"meals": 0.004}
    assert settings["run.spin_up"] == 12  # the quick size's, which the experiment does not set
    assert exp.time_path is not None and exp.time_path.event_month == 24
    assert {23, 24, 25, 72} <= set(exp.time_path.shown) and max(exp.time_path.shown) == 72


def test_the_time_path_is_each_arm_minus_the_first_month_by_month(tmp_path):
    """Arm b equals the reference a until month 3, then lies 2 below it; arm c lies 1 above throughout. Paired
    by replicate, the path is 0 then −2 for b and +1 for c, with no width (the seed noise is shared)."""
    exp = Experiment(name="t", title="t", question="", quotes=(), claim="", why="", arms={"a": {}, "b": {}, "c": {}},
                     outcomes={"y": "y"}, contrasts=(), predictions=(),
                     time_path=TimePath(outcomes=("y",), event_month=3, event="the event", shown=(1, 3)))
    rng = np.random.default_rng(0)
    runs, steps = [], []
    for replicate, noise in enumerate(rng.normal(size=4)):
        for point, shift in enumerate((lambda m: 0.0, lambda m: -2.0 * (m >= 3), lambda m: 1.0)):
            runs.append({"point_id": point, "replicate": replicate, "status": "ok"})
            steps += [{"point_id": point, "replicate": replicate, "step": m, "y": noise + m + shift(m)}
                      for m in range(1, 13)]
    pd.DataFrame(runs).to_parquet(tmp_path / "runs.parquet")
    pd.DataFrame(steps).to_parquet(tmp_path / "steps.parquet")
    path, settled = time_path_tables(exp, Size(residents=4000, community_size=1000, quick=True), tmp_path)
    b = path[path["scenario"] == "b"].set_index("month")["difference"]
    assert list(b) == pytest.approx([0, 0, *[-2.0] * 10])
    assert list(path[path["scenario"] == "c"]["difference"]) == pytest.approx([1.0] * 12)
    assert (path["ci_high"] - path["ci_low"]).abs().max() == pytest.approx(0, abs=1e-9)
    assert set(path["reference"]) == {"a"} and (path["n_pairs"] == 4).all()
    assert list(settled["scenario"]) == ["b", "c"] and list(settled["effect"]) == pytest.approx([-2.0, 1.0])
    assert settled["window"].iloc[0] == 6  # the quick size's outcome window


def test_an_experiments_own_pilot_is_used_within_the_cap():
    canteen = next(e for e in catalogue() if e.name == "canteen_subsidy_cut")
    others = [e for e in catalogue() if e.pilot is None]
    assert canteen.pilot == 48 and canteen.pilot_why and others
    assert pilot_size(canteen, 12, 48) == 48
    assert pilot_size(canteen, 2, 3) == 3  # --quick's cap wins
    assert pilot_size(canteen, 60, 64) == 60  # more asked for than its own: given
    assert pilot_size(others[0], 12, 48) == 12


def test_window_means_average_each_runs_months_in_the_span():
    """y = month + 10·point: the mean over months 3–5 is 4 + 10·point for every replicate; a run the steps
    table lacks gets no value rather than another run's."""
    runs = pd.DataFrame({"point_id": [0, 1, 1], "replicate": [0, 0, 1], "status": "ok"})
    steps = pd.DataFrame([{"point_id": p, "replicate": r, "step": m, "y": m + 10 * p}
                          for p, r in ((0, 0), (1, 0)) for m in range(1, 9)])
    out = window_means(runs, steps, {"y [3–5]": ("y", 3, 5)})
    assert list(out["y [3–5]"][:2]) == [4.0, 14.0] and np.isnan(out["y [3–5]"].iloc[2])
    assert "y [3–5]" not in runs  # the runs table it was given is left as it was
