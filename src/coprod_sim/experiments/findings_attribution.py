"""Beside each verdict, which components carry the effect: the attribution of docs/scenarios.md, quoted.

An experiment's arms are shipped scenarios (or their parts) over the baseline, and a scenario changes several
things at once. docs/scenarios.md ("Why each scenario works", ``experiments/scenarios.py``) splits every
scenario that changes more than one thing among its components by exact Shapley values over paired runs.
Rather than rerun that inside each experiment's design (hours), the page quotes the split of the scenarios
behind each experiment beside its verdict, read as ``scenario_attribution.read_splits`` finds it (tables, else
the generated section), and says plainly how the scenario against the baseline differs from the experiment.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import read_yaml, shipped_scenarios
from .findings import Experiment
from .scenario_attribution import ATTRIBUTED, SCENARIOS_COMMAND, Split, Splits


@dataclass(frozen=True)
class Behind:
    """The scenarios an experiment's arms are built from: those docs/scenarios.md splits (``split``), those that
    change one thing against the baseline and so carry their whole effect (``single``), and how the scenario
    against the baseline differs from the experiment's own design (``note``)."""

    split: tuple[str, ...] = ()
    single: tuple[str, ...] = ()
    note: str = ""


SCENARIOS_BEHIND = {
    "calibration": Behind(note="The calibration runs the baseline alone: no scenario, nothing changed."),
    "four_remedies": Behind(
        ("up_incentives", "down_mass_contact", "out_interest_binding"), ("in_leading_group",),
        "Each split is one remedy's scenario alone against the baseline; a main effect here averages the same "
        "remedy over the other remedies' combinations, which the interactions above show can differ."),
    "resistance_leading_group": Behind(
        single=("in_leading_group",),
        note="Resistance, the approval chains and the district's size are this experiment's own factors, not "
             "scenarios."),
    "interest_binding_profit_space": Behind(
        ("out_interest_binding",),
        note="The split is the out scenario (this profit space with a stake of 0.3) against the baseline in the "
             "default district; here profit space and a full stake are separate factors in a district three times "
             "as large, so it says which parts of profit space carry need met and cost, not firms' supply or the "
             "gap."),
    "canteen_subsidy_cut": Behind(
        ("canteen_subsidy_cut",),
        note="The split is the whole scenario (subsidy and cut, rising meal costs, the longer run) against the "
             "baseline, which never subsidised meals; this experiment holds the costs and the run's length in "
             "every arm and compares the cut with the subsidy kept, so the split separates the subsidy from its "
             "context, not the cut from the subsidy kept."),
    "spatial_restructuring": Behind(
        ("big_community", "one_station_many_committees"),
        note="The splits are this experiment's two arms against the baseline, on need met and the full public "
             "cost (not cost per need met or the gaps), on fewer seeds than here."),
    "technology": Behind(
        ("party_led",), ("technology_only",),
        "The split is party_led against the baseline, into its four remedies; this experiment's prediction is "
        "party-led minus technology only."),
    "takeover_kpi": Behind(
        ("kpi_partial",), ("admin_takeover",),
        "The split is kpi_partial against the baseline (the assessment weight raised, and counting only meals "
        "and health); this experiment's KPI contrast holds the raised weight in both arms and compares partial "
        "with full counting, so the weight's share is what that contrast removes; its prediction is about need "
        "met in the counted minus the uncounted types, which the split does not cover."),
}


def _title(stem: str) -> str:
    return str(read_yaml(shipped_scenarios()[stem])["scenario"]["name"])


def attribution_head(splits: Splits | None) -> list[str]:
    """The page's paragraph on the attribution: what it is, where it was read from, and what it is not."""
    if splits is None:
        return [f"Attribution: docs/scenarios.md's attribution (`{SCENARIOS_COMMAND}`) is not on this machine, so "
                "no effect is split into its components here.", ""]
    return [f"Attribution: beside each verdict, the scenarios its arms are built from are split into their "
            "components as docs/scenarios.md (\"Why each scenario works\", "
            f"`{SCENARIOS_COMMAND}`) splits them: exact Shapley values over every subset of a scenario's changes, "
            f"on {f'{splits.seeds} ' if splits.seeds else ''}paired seeds, with 95% intervals, and each component's "
            "share of the effect on need met and on the "
            f"full public cost; read from {splits.source}. A split is the scenario against the baseline at the "
            "default size, not inside the experiment's own design; each block says how the two differ.", ""]


def attribution_lines(exp: Experiment, splits: Splits | None) -> list[str]:
    """The experiment's attribution block: each split scenario's table and reading, each single-change scenario
    in one line, and the note on how the split differs from this design."""
    behind = SCENARIOS_BEHIND.get(exp.name, Behind())
    if not behind.split and not behind.single:
        return [f"**Attribution.** Nothing to attribute. {behind.note}".rstrip(), ""]
    lines = [f"**Attribution** (docs/scenarios.md, `{SCENARIOS_COMMAND}`; the scenario against the baseline, "
             f"not inside this experiment's design). {behind.note}".rstrip(), ""]
    for stem in behind.split:
        found = splits.by_scenario.get(stem) if splits else None
        lines += _split_lines(found) if found else [f"- `{stem}`: not attributed where this page looked.", ""]
    lines += [f"- {_title(stem)} (`{stem}`) changes one thing against the baseline, so that change carries its "
              "whole effect: nothing to split." for stem in behind.single]
    return [*lines, ""] if behind.single else lines


def _split_lines(split: Split) -> list[str]:
    """One scenario's split: its components' Shapley values and shares, and its computed reading."""
    labels = list(ATTRIBUTED.values())
    return [f"*{split.title}* (`{split.scenario}` − baseline):", "",
            f"| component | {labels[0]} | share | {labels[1]} | share |", "|---|---|---|---|---|",
            *(f"| {r.component} | {r.need} | {r.need_share} | {r.cost} | {r.cost_share} |"
              for r in split.rows.itertuples()),
            "", split.reading.replace("Reading:", "Its reading:", 1), ""]
