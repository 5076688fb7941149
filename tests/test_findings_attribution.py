"""docs/findings.md's attribution blocks: docs/scenarios.md's split of each scenario, read back (from its tables
when here, else from its generated section) and set beside the verdicts it explains (findings_attribution.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from coprod_sim.attribution import plan_explain
from coprod_sim.attribution.result import COLUMNS
from coprod_sim.config import shipped_scenarios
from coprod_sim.experiments.claims import catalogue
from coprod_sim.experiments.findings import Experiment, scenario_changes
from coprod_sim.experiments.findings_attribution import SCENARIOS_BEHIND, attribution_head, attribution_lines
from coprod_sim.experiments.findings_report import shown_folder
from coprod_sim.experiments.scenario_attribution import (
    HEADING,
    NAMED_AFTER,
    SCENARIOS_COMMAND,
    TABLES,
    attribution_table,
    from_doc,
    from_table,
    read_splits,
)

SECTION = f"""# Scenarios compared with the fragmented baseline

### Not this (`up_incentives`)

| component | need met | share | public spending, full | share |
|---|---|---|---|---|
| Decoy | +9 [8, 10] * | 99% [98, 100] | +9 [8, 10] * | 99% [98, 100] |

{HEADING}

Each change is switched on and off, every subset runs on the same 4 paired seeds.

### Up: promotion incentives (`up_incentives`)

```bash
.venv/bin/coprod-sim explain up_incentives --replicates 4
```

| component | need met | share | public spending, full | share |
|---|---|---|---|---|
| Assessment weight | +0.0766 [0.0630, 0.0901] * | 75% [57, 93] | +584,700 [543,381, 626,018] * | 88% [86, 90] |
| Rewards and penalties | +0.0256 [0.0022, 0.0489] *† | 25% [5, 45] | +81,973 [73,661, 90,284] * | 12% [10, 14] |
| total effect | +0.102 [0.078, 0.126] *† | 100% | +665,389 [630,639, 700,140] * | 100% |
| not explained by solo effects | -0.060 [-0.166, 0.046] | -59% [-161, 44] | -75,873 [-111,597, -40,149] *† | -11% [-17, -6] |

Reading: Assessment weight, the change the scenario is named after, carries most of its effect on need met (75% [57, 93]).

### Down: mass-contact demand channel (`down_mass_contact`)

| component | need met | share | public spending, full | share |
|---|---|---|---|---|
| Feedback channel reach | +0.0060 [-0.0197, 0.0318] | – | -6,353 [-14,618, 1,911] | – |
| total effect | +0.0192 [-0.0242, 0.0626] | – | -10,638 [-25,308, 4,032] | – |

Reading: the scenario's effect on need met is not distinguishable from zero at 95%, so it is not split into shares.

Reading notes:

### Also not this (`party_led`)
"""


def test_the_generated_section_is_read_scenario_by_scenario_and_only_inside_it():
    splits = from_doc(SECTION)
    assert list(splits) == ["up_incentives", "down_mass_contact"]  # not the decoys before and after it
    up = splits["up_incentives"]
    assert up.title == "Up: promotion incentives"
    assert list(up.rows["component"]) == ["Assessment weight", "Rewards and penalties", "total effect",
                                          "not explained by solo effects"]
    weight = up.rows.set_index("component").loc["Assessment weight"]
    assert (weight["need_share"], weight["cost_share"]) == ("75% [57, 93]", "88% [86, 90]")
    assert weight["need"] == "+0.0766 [0.0630, 0.0901] *"
    assert up.reading.startswith("Reading: Assessment weight") and "75% [57, 93]" in up.reading
    down = splits["down_mass_contact"].rows.set_index("component")
    assert down.loc["Feedback channel reach", "need_share"] == "–"
    assert "not distinguishable from zero" in splits["down_mass_contact"].reading
    assert from_doc(SECTION.replace(HEADING, "## Something else")) == {}


def test_the_doc_is_read_when_the_tables_are_absent_and_says_so(tmp_path):
    assert read_splits(tmp_path) is None
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "scenarios.md").write_text(SECTION, encoding="utf-8")
    splits = read_splits(tmp_path)
    assert splits is not None and splits.seeds == 4 and set(splits.by_scenario) == {"up_incentives",
                                                                                     "down_mass_contact"}
    assert "the section of docs/scenarios.md that it generated" in splits.source


def known_table(components: dict[str, tuple[str, float]], total: tuple[float, float, float]) -> pd.DataFrame:
    """An attribution.csv for both attributed outcomes: components → (keys, share), shares ±0.1."""
    effect, low, high = total
    rows = []
    for outcome in ("quality.needs_met_share", "cost.public_spending"):
        scale = 1.0 if outcome == "quality.needs_met_share" else 100_000.0
        rows += [{"outcome": outcome, "kind": "component", "component": name, "keys": keys,
                  "shapley": scale * effect * share, "ci_low": scale * effect * (share - 0.1),
                  "ci_high": scale * effect * (share + 0.1), "share_of_effect": share,
                  "share_ci_low": share - 0.1, "share_ci_high": share + 0.1}
                 for name, (keys, share) in components.items()]
        rows += [{"outcome": outcome, "kind": "total", "component": "total effect", "shapley": scale * effect,
                  "ci_low": scale * low, "ci_high": scale * high, "share_of_effect": 1.0},
                 {"outcome": outcome, "kind": "interactions", "component": "not explained by solo effects",
                  "shapley": 0.0, "ci_low": -scale * 0.01, "ci_high": scale * 0.01, "share_of_effect": 0.0,
                  "share_ci_low": -0.1, "share_ci_high": 0.1}]
    return pd.DataFrame(rows, columns=COLUMNS)


def _write_tables(root: Path) -> None:
    for stem, named in NAMED_AFTER.items():
        folder = root / TABLES / stem
        folder.mkdir(parents=True)
        table = known_table({"the named change": (named or "x.y", 0.7), "the other change": ("a.b", 0.3)},
                            (0.2, 0.15, 0.25))
        table.to_csv(folder / "attribution.csv", index=False)
        (folder / "explain.json").write_text(json.dumps({"replicates": 5}), encoding="utf-8")


def test_the_tables_when_present_win_over_the_doc_and_print_as_the_doc_does(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "scenarios.md").write_text(SECTION, encoding="utf-8")
    _write_tables(tmp_path)
    splits = read_splits(tmp_path)
    assert splits is not None and "its tables in `results/explain/scenarios/" in splits.source
    assert splits.seeds == 5 and list(splits.by_scenario) == list(NAMED_AFTER)
    up = splits.by_scenario["up_incentives"]
    assert up.title == "Up: promotion incentives"  # from the scenario file, as the doc titles it
    named = up.rows.set_index("component").loc["the named change"]
    assert (named["need_share"], named["cost_share"]) == ("70% [60, 80]", "70% [60, 80]")
    assert named["need"] == "+0.140 [0.120, 0.160] *"
    assert "carries most of its effect on need met (70% [60, 80])" in up.reading
    assert "of the scenario's effect on need met, the named change carries the most" in \
        splits.by_scenario["party_led"].reading  # named after all its components: no named change
    # the same table, printed into a section and read back, gives the same rows
    table = pd.read_csv(tmp_path / TABLES / "up_incentives" / "attribution.csv")
    doc = "\n".join([HEADING, "", "### Up: promotion incentives (`up_incentives`)", "", *attribution_table(table)])
    pd.testing.assert_frame_equal(from_doc(doc)["up_incentives"].rows, from_table("up_incentives", table).rows)


def test_every_experiment_names_the_scenarios_its_arms_are_built_from():
    """Each mapped scenario exists, its changes are set by the experiment's arms or settings, a split one is
    attributed by docs/scenarios.md, and a single-change one really has one component."""
    experiments = {e.name: e for e in catalogue()}
    assert set(SCENARIOS_BEHIND) == set(experiments)
    committed = from_doc((ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8"))
    for name, behind in SCENARIOS_BEHIND.items():
        exp = experiments[name]
        keys = {k for arm in exp.arms.values() for k in arm} | set(exp.settings)
        for stem in (*behind.split, *behind.single):
            assert stem in shipped_scenarios(), (name, stem)
            assert set(scenario_changes(stem)) <= keys, (name, stem, set(scenario_changes(stem)) - keys)
        for stem in behind.split:
            assert stem in NAMED_AFTER and stem in committed, (name, stem)
            assert len(committed[stem].rows) >= 4, (name, stem)  # two components at least, the total, the rest
        for stem in behind.single:
            assert stem not in NAMED_AFTER and plan_explain(stem, replicates=2).k == 1, (name, stem)


def _experiment(name: str) -> Experiment:
    return next(e for e in catalogue() if e.name == name)


def test_a_block_gives_each_split_its_reading_the_command_and_how_it_differs(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "scenarios.md").write_text(SECTION, encoding="utf-8")
    splits = read_splits(tmp_path)
    text = "\n".join(attribution_lines(_experiment("four_remedies"), splits))
    assert SCENARIOS_COMMAND in text and SCENARIOS_BEHIND["four_remedies"].note in text
    assert "| Assessment weight | +0.0766 [0.0630, 0.0901] * | 75% [57, 93] | +584,700 [543,381, 626,018] * | " \
           "88% [86, 90] |" in text
    assert "Its reading: Assessment weight, the change the scenario is named after" in text
    assert "`out_interest_binding`: not attributed where this page looked" in text  # not in this small doc
    assert "(`in_leading_group`) changes one thing against the baseline" in text
    assert attribution_lines(_experiment("calibration"), splits)[0].startswith("**Attribution.** Nothing to "
                                                                              "attribute.")
    assert "on 4 paired seeds" in attribution_head(splits)[0]
    assert "not on this machine" in attribution_head(None)[0]


@pytest.fixture(scope="module")
def committed_findings() -> str:
    return (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")


def test_the_committed_page_sets_each_attribution_beside_its_verdict(committed_findings):
    """Between each experiment's verdict and its "why", the splits of docs/scenarios.md as committed; no item
    left in "Not yet examined"."""
    committed = from_doc((ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8"))
    assert "## Not yet examined here" not in committed_findings
    for exp in catalogue():
        section = committed_findings.split(f"## {exp.title}\n")[1].split("\n## ")[0]
        block = section.split("**Verdict:")[1].split("**Why the model gives this.**")[0]
        assert "**Attribution" in block, exp.name
        for stem in SCENARIOS_BEHIND[exp.name].split:
            assert f"(`{stem}` − baseline)" in block, (exp.name, stem)
            for row in committed[stem].rows.itertuples():
                assert f"| {row.component} | {row.need} | {row.need_share} | {row.cost} | {row.cost_share} |" \
                       in block, (exp.name, stem, row.component)


def test_a_results_folder_elsewhere_is_named_from_its_results_folder():
    assert shown_folder(Path("/p/results/findings/x"), Path("/p")) == "results/findings/x"
    assert shown_folder(Path("/other/results/findings/x"), Path("/p")) == "results/findings/x"
    assert shown_folder(Path("/tmp/out/x"), Path("/p")) == "x"
