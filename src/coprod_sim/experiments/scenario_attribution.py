"""docs/scenarios.md's attribution ("Why each scenario works"): how it is printed, and how it is read back.

``experiments/scenarios.py`` splits the effect of every scenario that changes more than one thing among its
components (exact Shapley values over paired runs, ``coprod-sim explain``) and prints one table and one
computed reading per scenario. The findings page quotes those splits beside the verdicts they explain, so
the printing lives here, in the package, where both can use it: the findings page reads each scenario's
``attribution.csv`` (``results/explain/scenarios/<scenario>/``) when it is on this machine and prints it the
way docs/scenarios.md does, else reads the section docs/scenarios.md generated (the same numbers, as printed
there), and says which. Nothing is rerun here: the attribution takes hours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import read_yaml, shipped_scenarios
from ..sweeps.analysis import share_cell
from .findings import interval_cell
from .generated import doc_source, table_cells, tables_source

# the outcomes every scenario's effect is split on, as docs/scenarios.md labels them
ATTRIBUTED = {"quality.needs_met_share": "need met", "cost.public_spending": "public spending, full"}
# the scenarios docs/scenarios.md attributes (those that change more than one thing), in its order, and the
# parameter each is named after (None: named after all its components together, as party_led is)
NAMED_AFTER: dict[str, str | None] = {
    "up_incentives": "incentive.assessment_weight",
    "down_mass_contact": "linkage.channel_reach",
    "out_interest_binding": "linkage.interest_binding_stake",
    "party_led": None,
    "kpi_partial": "incentive.counted_services",
    "big_community": "layout.mode",
    "one_station_many_committees": "layout.mode",
    "canteen_subsidy_cut": "profit_space.subsidy_change_factor",
}
SCENARIOS_COMMAND = ".venv/bin/python experiments/scenarios.py"
HEADING = "## Why each scenario works: attribution"
TABLES = Path("results") / "explain" / "scenarios"  # under the project's root: <scenario>/attribution.csv
ROW = ("component", "need", "need_share", "cost", "cost_share")  # a table row's cells, as printed


# ------------------------------------------------------------------ printing (docs/scenarios.md)
def named_component(table: pd.DataFrame, keys: str | None) -> str | None:
    """The component that holds the parameter a scenario is named after (its ``keys`` cell lists them, space-separated)."""
    if keys is None:
        return None
    parts = table[table["kind"] == "component"]
    holds = parts["keys"].map(lambda ks: any(k == keys or k.startswith(keys + ".") for k in str(ks).split()))
    return str(parts.loc[holds, "component"].iloc[0]) if holds.any() else None


def effect_significant(total: pd.Series) -> bool:
    """Whether a total effect's interval excludes zero: only then is a share of it given."""
    return bool(total["ci_low"] > 0 or total["ci_high"] < 0)


def attribution_table(table: pd.DataFrame) -> list[str]:
    """One row per component (largest need-met share first), then the total and the interactions: the Shapley
    value and the share of each attributed outcome. A share of an effect that may be zero is not given."""
    by_outcome = {o: table[table["outcome"] == o].set_index("component") for o in ATTRIBUTED}
    need = by_outcome["quality.needs_met_share"]
    order = need[need["kind"] == "component"].sort_values("shapley", key=abs, ascending=False).index.tolist()
    order += [need.index[need["kind"] == "total"][0], need.index[need["kind"] == "interactions"][0]]
    head = " | ".join(f"{label} | share" for label in ATTRIBUTED.values())
    lines = [f"| component | {head} |", "|---|" + "---|---|" * len(ATTRIBUTED)]
    for name in order:
        cells = []
        for rows in by_outcome.values():
            r, total = rows.loc[name], rows[rows["kind"] == "total"].iloc[0]
            share = (share_cell(r["share_of_effect"], r["share_ci_low"], r["share_ci_high"])
                     if effect_significant(total) else "–")
            cells += [interval_cell(r["shapley"], r["ci_low"], r["ci_high"]), share]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def attribution_reading(table: pd.DataFrame, named: str | None) -> str:
    """Plain words, computed from the table: whether the component the scenario is named after carries its
    need-met effect, and which component carries most of it."""
    rows = table[table["outcome"] == "quality.needs_met_share"]
    total = rows[rows["kind"] == "total"].iloc[0]
    if not effect_significant(total):
        return ("Reading: the scenario's effect on need met is not distinguishable from zero at 95%, so it is "
                "not split into shares.")
    parts = rows[rows["kind"] == "component"].sort_values("share_of_effect", ascending=False)
    top = parts.iloc[0]
    carried = f"{top['component']} carries the most, {share_cell(top['share_of_effect'], top['share_ci_low'], top['share_ci_high'])}"
    if named is None:
        return f"Reading: of the scenario's effect on need met, {carried}."
    mine = parts[parts["component"] == named].iloc[0]
    share = share_cell(mine["share_of_effect"], mine["share_ci_low"], mine["share_ci_high"])
    if mine["share_ci_high"] < 0.5:
        return (f"Reading: the effect on need met comes mostly from components other than the one the scenario is "
                f"named after: {named} carries {share}; {carried}.")
    if mine["share_ci_low"] > 0.5:
        return f"Reading: {named}, the change the scenario is named after, carries most of its effect on need met ({share})."
    largest = " (the largest share)" if top["component"] == named else ""
    others = "" if largest else f" {carried[:1].upper()}{carried[1:]}."
    return (f"Reading: {named}, the change the scenario is named after, carries {share} of the effect on need "
            f"met{largest}; whether that is most of it is not settled at this number of seeds.{others}")


# ------------------------------------------------------------------ reading back (for docs/findings.md)
@dataclass(frozen=True)
class Split:
    """One scenario's attribution as docs/scenarios.md prints it: its rows (``ROW`` cells, components first,
    then the total and what solo effects leave unexplained) and its computed reading."""

    scenario: str
    title: str
    rows: pd.DataFrame
    reading: str


@dataclass(frozen=True)
class Splits:
    """Every attributed scenario's split, by scenario, and where they were read from."""

    by_scenario: dict[str, Split]
    source: str
    seeds: int | None = None  # paired seeds per subset of components, as the study states it


def read_splits(root: Path) -> Splits | None:
    """The attribution from its tables if every scenario's is here, else from docs/scenarios.md; None if
    neither."""
    folders = {stem: root / TABLES / stem for stem in NAMED_AFTER}
    if all((f / "attribution.csv").exists() for f in folders.values()):
        record = folders[next(iter(NAMED_AFTER))] / "explain.json"
        seeds = json.loads(record.read_text(encoding="utf-8")).get("replicates") if record.exists() else None
        return Splits({stem: from_table(stem, pd.read_csv(f / "attribution.csv")) for stem, f in folders.items()},
                      tables_source(f"{TABLES.as_posix()}/<scenario>"), seeds)
    doc = root / "docs" / "scenarios.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    found, stated = from_doc(text), re.search(r"on the same (\d+) paired seeds", text)
    return Splits(found, doc_source(doc), int(stated.group(1)) if stated else None) if found else None


def from_table(stem: str, table: pd.DataFrame) -> Split:
    """A scenario's split from its ``attribution.csv``, printed as docs/scenarios.md prints it and read back
    by the same parser as the doc, so the two sources cannot differ in form."""
    title = str(read_yaml(shipped_scenarios()[stem])["scenario"]["name"])
    reading = attribution_reading(table, named_component(table, NAMED_AFTER[stem]))
    return Split(stem, title, _rows(attribution_table(table)), reading)


def from_doc(text: str) -> dict[str, Split]:
    """Every scenario's split from docs/scenarios.md's section (from its heading to the next ``## `` or its
    closing notes): ``### title (`scenario`)``, a table, a ``Reading:`` line. Empty without the section."""
    start = text.find(HEADING)
    if start < 0:
        return {}
    body = re.split(r"^## |^Reading notes:", text[start + len(HEADING):], maxsplit=1, flags=re.M)[0]
    parts = re.split(r"^### (.+) \(`(\w+)`\)$", body, flags=re.M)
    splits = {}
    for title, stem, chunk in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        reading = next((line for line in chunk.splitlines() if line.startswith("Reading:")), "")
        splits[stem] = Split(stem, title, _rows(chunk.splitlines()), reading)
    return splits


def _rows(lines: list[str]) -> pd.DataFrame:
    """The table's body rows (``ROW``), header and rule left out."""
    cells = [table_cells(line) for line in lines if line.startswith("|")]
    return pd.DataFrame([c for c in cells if len(c) == len(ROW) and c[0] != "component"
                         and not set(c[0]) <= set("-")], columns=list(ROW))
