"""Robustness of the findings' verdicts to the uncertain assumptions, from the assumptions screen.

``experiments/sensitivity.py assumptions`` screens every assumption (Morris, ±50% around its default) for the
effects of the up, down, in and out scenarios on the key outcomes, and records for each effect which
assumptions lead its sensitivity and at how many design points its sign flips. A prediction of the findings
that is the same effect (or names the screened effect it stands for, ``Prediction.screened``) is tied to that
row here, so a reader sees beside the verdict whether plausible assumptions could reverse it.

The screen is read from its tables (``results/sensitivity/assumptions/``: ``indices.csv``, ``noise.csv``)
when they are on this machine, else from the section of docs/sensitivity.md the same study generated (the
same numbers, rounded as printed there); the doc says which. Nothing is rerun here: the screen takes an hour.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..sweeps.analysis import leading_factors, sign_stability
from .findings import Experiment
from .generated import doc_source, table_cells, tables_source

SCREEN = "assumptions"
SCREEN_COMMAND = ".venv/bin/python experiments/sensitivity.py assumptions"
COLUMNS = ["effect", "leading", "noise", "sign", "flipped", "points"]
ROBUSTNESS_RULE = (
    "an effect *keeps its sign* when its mean over seeds has the same sign at every design point of the screen; "
    "it *flips at k of N points* when some combination of plausible assumption values reverses it there. The "
    "screen's points are means of two seeds, so where seed noise is a large share of the effect's variance, "
    "some flips are noise rather than assumptions.")


@dataclass(frozen=True)
class Screen:
    """The screen's rows (``COLUMNS``, one per screened effect) and where they were read from."""

    rows: pd.DataFrame
    source: str

    def row(self, effect: str) -> pd.Series | None:
        found = self.rows[self.rows["effect"] == effect]
        return found.iloc[0] if len(found) else None


def read_screen(root: Path) -> Screen | None:
    """The assumptions screen from its tables if they are here, else from docs/sensitivity.md; None if neither."""
    folder = root / "results" / "sensitivity" / SCREEN
    if all((folder / name).exists() for name in ("indices.csv", "noise.csv")):
        return Screen(from_tables(folder), tables_source(f"results/sensitivity/{SCREEN}"))
    doc = root / "docs" / "sensitivity.md"
    rows = from_doc(doc.read_text(encoding="utf-8")) if doc.exists() else pd.DataFrame(columns=COLUMNS)
    if rows.empty:
        return None
    return Screen(rows, doc_source(doc))


def from_tables(folder: Path) -> pd.DataFrame:
    """One row per screened effect from the study's ``indices.csv`` and ``noise.csv``."""
    indices, noise = pd.read_csv(folder / "indices.csv"), pd.read_csv(folder / "noise.csv")
    rows = []
    for n in noise.to_dict("records"):
        stability = sign_stability(float(n["share_positive"]), int(n["points_used"]))
        noise_share = float(n["noise_share"])
        rows.append({"effect": n["outcome"],
                     "leading": leading_factors(indices[indices["outcome"] == n["outcome"]], "mu_star",
                                                float(n["morris_noise_floor"])),
                     "noise": f"{100 * noise_share:.0f}%" if math.isfinite(noise_share) else "–",
                     "sign": stability, **_flips(stability)})
    return pd.DataFrame(rows, columns=COLUMNS)


def from_doc(text: str) -> pd.DataFrame:
    """The same rows from the screen's generated table in docs/sensitivity.md (``| effect | leading factors |
    seed noise | effect sign stable? |``); empty when the section or its table is missing."""
    section = re.search(rf"<!-- study:{SCREEN} begin.*?<!-- study:{SCREEN} end -->", text, re.S)
    rows = []
    for line in (section.group(0) if section else "").splitlines():
        cells = table_cells(line)
        if len(cells) != 4 or not re.match(r"(yes|no): ", cells[3]):
            continue
        stability = cells[3].split(": ", 1)[1]
        rows.append({"effect": cells[0], "leading": cells[1], "noise": cells[2], "sign": stability,
                     **_flips(stability)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _flips(stability: str) -> dict[str, float]:
    """Flipped points and points from ``sign_stability``'s words (NaN points where it keeps its sign: the words
    do not say how many)."""
    found = re.match(r"flips at (\d+) of (\d+) points", stability)
    return {"flipped": int(found.group(1)), "points": int(found.group(2))} if found else {"flipped": 0,
                                                                                         "points": math.nan}


def robustness_head(screen: Screen | None, experiments: list[Experiment]) -> list[str]:
    """The page's paragraph on the screen: what it is, which experiments it covers, the rule its words follow,
    and where it was read from."""
    covered = [f"*{e.title}*" for e in experiments if any(p.screened for p in e.predictions)]
    if not covered:
        return []
    if screen is None:
        return [f"Robustness: the assumptions screen (`{SCREEN_COMMAND}`) has not been run here, so the verdicts' "
                "sensitivity to the assumptions is not reported.", ""]
    return [f"Robustness: the headline predictions of the experiments {', '.join(covered)} are set beside the same effect in the "
            f"assumptions screen of docs/sensitivity.md (`{SCREEN_COMMAND}`: Morris over every uncertain "
            f"assumption, ±50% around its default), read from {screen.source}; the other experiments' effects are "
            "not in the screen. The leading assumptions are those whose plausible range moves the effect most "
            f"(μ*), where a reversal would come from; {ROBUSTNESS_RULE}", ""]


def robustness_lines(exp: Experiment, predictions: pd.DataFrame, screen: Screen | None) -> list[str]:
    """The experiment's paragraph: for each prediction tied to a screened effect, its verdict here, the
    assumptions that lead the effect's sensitivity and whether its sign flips; the others named as not
    screened. Nothing for an experiment none of whose predictions is screened."""
    tied = [p for p in exp.predictions if p.screened]
    if not tied:
        return []
    if screen is None:
        return ["**Robustness to the assumptions.** The assumptions screen has not been run here "
                f"(`{SCREEN_COMMAND}`).", ""]
    verdicts = predictions.set_index("condition")["verdict"]
    lines = ["**Robustness to the assumptions** (the assumptions screen, as the top of this page says)."
             + (f" {exp.screen_note}" if exp.screen_note else ""), "",
             "| prediction | verdict here | effect screened | leading assumptions, μ* [95% CI] | seed noise | "
             "sign over the assumption space |", "|---|---|---|---|---|---|"]
    for p in tied:
        row = screen.row(p.screened)
        cells = ([row["leading"], row["noise"], row["sign"]] if row is not None else
                 ["–", "–", "not in the screen's tables"])
        lines.append(f"| {p.condition} | {verdicts.get(p.condition, '–')} | {p.screened} | " + " | ".join(cells)
                     + " |")
    untied = [p.condition for p in exp.predictions if not p.screened]
    if untied:
        lines += ["", "Not screened (the screen holds the four scenarios' effects only): " + "; ".join(untied) + "."]
    return [*lines, ""]
