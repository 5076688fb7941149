"""An attribution's outputs: the tidy tables, a waterfall figure per outcome and the plain-words reading.

The text is computed from ``attribution.csv`` (never typed by hand): per outcome, the paired
total effect with its interval, each component's share of it with the share's interval, and what
the components do not explain alone (the total minus the sum of their solo effects).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..model import OUTCOME_BY_KEY
from ..runs import files
from ..sweeps.analysis import share_cell
from .result import COMPONENT, INTERACTIONS, TOTAL, Attribution, ExplainPlan

LISTED = 6  # components named in a paragraph; the others are summed


def _label(outcome: str) -> str:
    found = OUTCOME_BY_KEY.get(outcome)
    return (found.label or outcome) if found else outcome


def _num(outcome: str, value: float, signed: bool = True) -> str:
    found = OUTCOME_BY_KEY.get(outcome)
    if found is not None:
        return found.format(value, signed)
    return "–" if not math.isfinite(value) else f"{value:{'+' if signed else ''}.4g}"


def _unit(outcome: str) -> str:
    found = OUTCOME_BY_KEY.get(outcome)
    return found.display_unit if found else ""


def _interval(outcome: str, low: float, high: float) -> str:
    return f"[{_num(outcome, low)}, {_num(outcome, high)}]" if math.isfinite(low) else "[no interval]"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _significant(low: float, high: float) -> bool:
    return math.isfinite(low) and (low > 0 or high < 0)


# ------------------------------------------------------------------ text
def paragraph(rows: pd.DataFrame, plan: ExplainPlan) -> str:
    """The plain-words reading of one outcome's rows of ``attribution.csv``."""
    outcome = str(rows["outcome"].iloc[0])
    total = rows[rows["kind"] == TOTAL].iloc[0]
    label = _label(outcome)
    if not total["n_seeds"] or total["n_seeds"] < 2:
        found = OUTCOME_BY_KEY.get(outcome)
        when = f" (it is undefined when {found.missing_when})" if found and found.missing_when else ""
        return (f"**{label}**: no attribution: fewer than two seeds ({int(total['n_seeds'])}) where every subset's "
                f"run is usable and the outcome defined{when}; the runs' `status` and `error` columns say which failed.")
    parts = rows[rows["kind"] == COMPONENT].sort_values("shapley", key=abs, ascending=False)
    rest = rows[rows["kind"] == INTERACTIONS].iloc[0]
    method = ("exact Shapley values over all subsets" if plan.method == "exact" else
              f"Shapley values from {plan.permutations} sampled orders")
    head = (f"**{label}** ({_unit(outcome)}): {plan.scenario} moves it from {_num(outcome, total['base_mean'], False)} "
            f"to {_num(outcome, total['scenario_mean'], False)} against {plan.base}, "
            f"{_num(outcome, total['shapley'])} {_interval(outcome, total['ci_low'], total['ci_high'])} "
            f"(paired on {int(total['n_seeds'])} seeds; {method} of {plan.k} component{'s' if plan.k > 1 else ''}).")
    if not _significant(total["ci_low"], total["ci_high"]):
        each = "; ".join(f"{r['component']} {_num(outcome, r['shapley'])} {_interval(outcome, r['ci_low'], r['ci_high'])}"
                         for _, r in parts.head(LISTED).iterrows())
        return (f"{head} The effect is not distinguishable from zero at 95%, so no share of it is given; the "
                f"components' Shapley values: {each}.")
    word = "rise" if total["shapley"] > 0 else "fall"
    if plan.k == 1:
        return (f"{head} {plan.components[0].name} is the only change against {plan.base}, so it carries the whole "
                f"{word}; there is nothing to split.")
    named = [(r["component"], share_cell(r["share_of_effect"], r["share_ci_low"], r["share_ci_high"]),
              "" if _significant(r["share_ci_low"], r["share_ci_high"]) else " (not distinguishable from zero)")
             for _, r in parts.head(LISTED).iterrows()]
    name, share, note = named[0]
    first = f"{name[:1].upper()}{name[1:]} carries {share} of the {word}{note}"
    lines = [head, "; ".join([first, *(f"{n} {s}{t}" for n, s, t in named[1:])]) + "."]
    others = parts.iloc[LISTED:]
    if len(others):
        lines.append(f"The other {len(others)} components together carry "
                     f"{100 * others['share_of_effect'].sum():.0f}%.")
    lines.append(f"What the components do not explain alone (the total minus the sum of their solo effects): "
                 f"{_num(outcome, rest['shapley'])} {_interval(outcome, rest['ci_low'], rest['ci_high'])}, "
                 f"{share_cell(rest['share_of_effect'], rest['share_ci_low'], rest['share_ci_high'])} of the {word}.")
    return " ".join(lines)


# ------------------------------------------------------------------ figures
def waterfall(rows: pd.DataFrame, plan: ExplainPlan, path: Path) -> Path:
    """Bars from the base (0) to the scenario's total effect, one step per component's Shapley value
    (largest first) with its 95% interval, then the total with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcome = str(rows["outcome"].iloc[0])
    parts = rows[rows["kind"] == COMPONENT].sort_values("shapley", key=abs, ascending=False)
    total = rows[rows["kind"] == TOTAL].iloc[0]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * (len(parts) + 2)), 3.8))
    level = 0.0
    for x, (_, r) in enumerate(parts.iterrows()):
        step = float(r["shapley"])
        ax.bar(x, step, bottom=level, color="tab:green" if step >= 0 else "tab:red", width=0.7)
        end = level + step
        if math.isfinite(r["ci_low"]):
            ax.errorbar(x, end, yerr=[[step - r["ci_low"]], [r["ci_high"] - step]], color="black", capsize=3)
        ax.plot([x - 0.35, x + 1.35], [end, end], color="grey", linewidth=0.6)
        level = end
    x = len(parts)
    ax.bar(x, float(total["shapley"]), color="tab:blue", width=0.7)
    if math.isfinite(total["ci_low"]):
        ax.errorbar(x, total["shapley"], yerr=[[total["shapley"] - total["ci_low"]],
                                               [total["ci_high"] - total["shapley"]]], color="black", capsize=3)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(parts) + 1), [*parts["component"], "total"], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"effect on {_label(outcome)} ({_unit(outcome)})", fontsize=8)
    ax.set_title(f"{plan.scenario} − {plan.base}: {_label(outcome)}, from {_num(outcome, total['base_mean'], False)} "
                 f"to {_num(outcome, total['scenario_mean'], False)}\nShapley values with 95% CIs "
                 f"({plan.method}, {int(total['n_seeds'])} seeds)", fontsize=9)
    _axis_in_display_unit(ax, outcome)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _axis_in_display_unit(ax, outcome: str) -> None:
    """Tick labels in the unit the axis names (an outcome in yuan is shown in k yuan)."""
    if _unit(outcome).startswith("k "):
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v / 1000:g}")


def path_figure(rows: pd.DataFrame, plan: ExplainPlan, path: Path) -> Path | None:
    """Months since the policy's introduction against each component's Shapley value (line and 95% band) and the
    total effect (black): which change pays off when."""
    rows = rows[np.isfinite(rows["shapley"].astype(float))]
    if rows.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcome = str(rows["outcome"].iloc[0])
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for name, part in rows[rows["kind"] == COMPONENT].groupby("component", sort=False):
        line = ax.plot(part["month"], part["shapley"], lw=1.3, label=str(name))[0]
        ax.fill_between(part["month"], part["ci_low"], part["ci_high"], color=line.get_color(), alpha=0.15, lw=0)
    total = rows[rows["kind"] == TOTAL]
    ax.plot(total["month"], total["shapley"], color="black", lw=1.8, label="total effect")
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.set_xlabel("months since introduction")
    ax.set_ylabel(f"effect on {_label(outcome)} ({_unit(outcome)})", fontsize=8)
    ax.set_title(f"{plan.scenario} − {plan.base}: {_label(outcome)}, who carries the effect when\n"
                 f"Shapley values by month with 95% CIs ({plan.method}, {int(total['n_seeds'].max())} seeds)", fontsize=9)
    ax.legend(fontsize=7)
    _axis_in_display_unit(ax, outcome)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _window_cell(outcome: str, row: pd.Series | None) -> str:
    if row is None or not row.get("n_seeds") or not math.isfinite(row["shapley"]):
        return "–"
    return f"{_num(outcome, row['shapley'])} {_interval(outcome, row['ci_low'], row['ci_high'])}"


def time_path_section(result: Attribution) -> list[str]:
    """attribution.md's section on the introduction design's time path: per outcome, the total and each
    component over the first and the last outcome window, when the effect reaches 90% of its final size, the
    figure, and whether it has settled."""
    plan, windows, events = result.plan, result.windows, result.events
    if windows is None or events is None:
        return []
    lines = ["## After the introduction", "",
             f"The runs use the introduction design: every subset's levers arrive at reported month 0 in the world "
             f"spun up under {plan.base}'s, so month m is m months under the policy. `events.csv` holds the total "
             "effect month by month, `attribution_events.csv` each component's Shapley value month by month and "
             "`attribution_windows.csv` over the first and the last outcome window (the last is the summary's: its "
             "values are the table's above).", ""]
    settling = events.settling.set_index("outcome")
    for key, rows in windows.groupby("outcome", sort=False):
        outcome = str(key)
        first, last = (rows[rows["window"] == w].set_index("component") for w in ("first", "last"))
        span = [f"months {int(w['first_month'].iloc[0])}–{int(w['last_month'].iloc[0])}" for w in (first, last)]
        lines += [f"**{_label(outcome)}** ({_unit(outcome)})", "", f"| component | {span[0]} | {span[1]} |", "|---|---|---|"]
        for name in dict.fromkeys(rows["component"]):
            cells = [_window_cell(outcome, w.loc[name] if name in w.index else None) for w in (first, last)]
            lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
        reach = float(settling["months_to_90pct"].get(outcome, math.nan))
        lines += ["", f"The total effect reaches 90% of its last-window size from month {int(reach)} on."
                  if math.isfinite(reach) else "The total effect does not stay at 90% of its last-window size: read "
                  "the figure before the table.", ""]
        figure = next((p for p in result.figures if p.name == f"events_{outcome}.png"), None)
        if figure is not None:
            lines += [f"![{figure.stem}](figures/{figure.name})", ""]
    lines += [f"Note: {note}" for note in events.notes]
    return lines


# ------------------------------------------------------------------ files
def write_outputs(result: Attribution) -> None:
    """attribution.csv, attribution_by_seed.csv, explain.json, the figures and attribution.md."""
    out, plan, table = result.out, result.plan, result.table
    # full precision: a page printed from this file (docs/findings.md) and one printed from the table in
    # memory (docs/scenarios.md) must round alike; at 6 digits 10575.46 came back as 10575.5 and printed 10,576
    files.write_text(out / "attribution.csv", table.to_csv(index=False))
    files.write_text(out / "attribution_by_seed.csv", result.by_seed.to_csv(index=False))
    (out / "figures").mkdir(exist_ok=True)
    texts = []
    for outcome, rows in table.groupby("outcome", sort=False):
        texts.append(paragraph(rows, plan))
        if rows["n_seeds"].iloc[0] >= 2:
            result.figures.append(waterfall(rows, plan, out / "figures" / f"waterfall_{outcome}.png"))
    result.text = "\n\n".join(texts)
    if result.path is not None and result.windows is not None:
        files.write_text(out / "attribution_events.csv", result.path.to_csv(index=False))
        files.write_text(out / "attribution_windows.csv", result.windows.to_csv(index=False))
        for outcome, rows in result.path.groupby("outcome", sort=False):
            drawn = path_figure(rows, plan, out / "figures" / f"events_{outcome}.png")
            if drawn is not None:
                result.figures.append(drawn)
    record = {"kind": "coprod-sim explain", "scenario": plan.scenario, "base": plan.base, "method": plan.method,
              "components": [{"name": c.name, "changes": c.changes, "base": c.base} for c in plan.components],
              "subsets": len(plan.masks), "permutations": plan.permutations if plan.orders is not None else 0,
              "replicates": plan.sweep.replicates, "seed": plan.sweep.root_seed, "runs": len(plan.sweep.tasks),
              "outcomes": list(dict.fromkeys(table["outcome"]))}
    files.write_text(out / "explain.json", json.dumps(record, indent=1, default=str) + "\n")
    files.write_text(out / "attribution.md", markdown(result))


def markdown(result: Attribution) -> str:
    """attribution.md: what was switched, the reading per outcome, the figures and the table."""
    plan = result.plan
    lines = [f"# Attribution: {plan.scenario} against {plan.base}", "",
             "Each component is switched from the base's value to the scenario's; every subset of components runs "
             f"on the same {plan.sweep.replicates} seeds, so each seed gives its own Shapley values. Intervals are "
             "95% t-intervals over seeds (shares: of the ratio estimator); docs/explain.md says how to read them.", "",
             "## Components", "", "| component | changes (base → scenario) |", "|---|---|"]
    for c in plan.components:
        changes = ", ".join(f"`{k}` {json.dumps(c.base[k])} → {json.dumps(v)}" for k, v in c.changes.items())
        lines.append(f"| {c.name} | {changes} |")
    lines += ["", "## Reading", "", result.text, ""]
    for path in result.figures:
        if path.name.startswith("waterfall_"):
            lines.append(f"![{path.stem}](figures/{path.name})")
    lines += ["", "## Table", "", "Shapley value and solo effect in each outcome's unit; share of the total effect.",
              "", "| outcome | component | Shapley [95% CI] | share | solo effect | Shapley − solo |", "|---|---|---|---|---|---|"]
    for key, rows in result.table.groupby("outcome", sort=False):
        outcome = str(key)
        total = rows[rows["kind"] == TOTAL].iloc[0]
        shared = _significant(total["ci_low"], total["ci_high"])  # a share of an effect that may be zero means nothing
        for _, r in rows[np.isfinite(rows["shapley"])].iterrows():
            solo = _num(outcome, r["solo_effect"]) if r["kind"] == COMPONENT else ""
            inter = _num(outcome, r["interaction"]) if r["kind"] == COMPONENT else ""
            share = share_cell(r["share_of_effect"], r["share_ci_low"], r["share_ci_high"]) if shared else "–"
            lines.append(f"| {_label(outcome)} | {r['component']} | {_num(outcome, r['shapley'])} "
                         f"{_interval(outcome, r['ci_low'], r['ci_high'])} | {share} | {solo} | {inter} |")
    section = time_path_section(result)
    return "\n".join([*lines, *(["", *section] if section else [])]) + "\n"
