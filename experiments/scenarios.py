"""Compare every shipped scenario with the fragmented baseline and write docs/scenarios.md.

Uses `coprod-sim compare` (same seeds for every scenario, paired differences with
95% confidence intervals), so the numbers can be reproduced with that command too;
then the interest-binding stake's dose–response (a sweep of the stake in the
`out_interest_binding` scenario, paired with stake 0); then, for every scenario that
changes more than one thing, which of its changes carry its effect (`coprod-sim explain`,
Shapley values over paired runs), so no scenario is credited for what its name says
without the evidence.

    .venv/bin/python experiments/scenarios.py [--replicates 20] [--dose-replicates 8] [--attribution-replicates 6]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from coprod_sim import cli
from coprod_sim.attribution import differing, parameter_key
from coprod_sim.cli.runs import whole_number_option
from coprod_sim.config import load_config, read_yaml
from coprod_sim.experiments.claims import REMEDIES
from coprod_sim.experiments.findings import PRECISION, interval_cell, number
from coprod_sim.experiments.generated import GENERATED_DOCS, results_stamp
from coprod_sim.experiments.scenario_attribution import (
    ATTRIBUTED,
    NAMED_AFTER,
    attribution_reading,
    attribution_table,
    named_component,
)
from coprod_sim.experiments.stationarity import drifting

ROOT = Path(__file__).resolve().parents[1]
SERVICE_OUTCOMES = {
    "quality.needs_met_share": "need met",
    "quality.match": "match",
    "quality.satisfaction_mean": "satisfaction (1–5)",
    "equity.center_periphery_gap": "centre − periphery gap",
    "equity.migrant_gap": "registered − migrant gap",
}
COST_OUTCOMES = {
    "cost.public_spending": "public spending, full (yuan/month)",
    "cost.cash_outlays": "of which cash",
    "cost.concessions": "of which concessions",
    "governance.resources_released_share": "budget released",
    "governance.approval_wait_median": "approval wait, median (months)",
    "governance.approval_waiting_after_24": "still waiting after 24 months",
}
OUTCOMES = {**SERVICE_OUTCOMES, **COST_OUTCOMES}
STAKES = (0.0, 0.25, 0.5, 0.75, 1.0)
DOSE_OUTCOMES = {
    "quality.needs_met_share": "need met",
    "quantity.services_delivered.firm": "visits by firms",
    "quantity.services_delivered.social_org": "visits by social organisations",
    "operators.firms_active": "firms active",
    "cost.public_spending.interest_binding": "outcome-linked pay (yuan/month)",
    "cost.public_spending": "public spending, full (yuan/month)",
}


def _cell(row: pd.Series) -> str:
    """The difference and its interval, marked as every generated doc marks them (``interval_cell``)."""
    return interval_cell(row.difference, row.ci_low, row.ci_high)


def _precision_notes(table: pd.DataFrame, replicates: int) -> list[str]:
    """How many paired seeds would make every interval that excludes zero precise (half-width ≤ PRECISION of
    the effect): the half-width shrinks as 1/sqrt(n)."""
    rows = table[table["outcome"].isin(list(OUTCOMES)) & table["difference"].notna()]
    half = (rows["ci_high"] - rows["ci_low"]) / 2
    excludes_zero = (rows["ci_low"] > 0) | (rows["ci_high"] < 0)
    wide = rows[excludes_zero & (half > PRECISION * rows["difference"].abs())]
    significant = int(excludes_zero.sum())
    if wide.empty:
        return [f"- Every one of the {significant} intervals that exclude zero is within ±{PRECISION:.0%} of its effect."]
    ratio = (half[wide.index] / (PRECISION * wide["difference"].abs())).max()
    return [f"- {significant} intervals exclude zero (`*`); {len(wide)} of them are wider than ±{PRECISION:.0%} of "
            f"the effect (`†`): their sign is established, their size is not. About "
            f"{int(np.ceil(replicates * ratio ** 2))} paired seeds would make them all precise. An interval that "
            "includes zero is not significant at this number of seeds."]


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=whole_number_option(2), default=20)
    parser.add_argument("--dose-replicates", type=whole_number_option(2), default=8,
                        help="paired seeds per stake in the dose-response")
    parser.add_argument("--attribution-replicates", type=whole_number_option(2), default=6,
                        help="paired seeds per subset of components in each scenario's attribution")
    parser.add_argument("--out", default=str(ROOT / "results" / "compare" / "all"))
    return parser


def stake_dose_response(replicates: int, out: Path, scenario_effect: pd.Series) -> list[str]:
    """The stake 0 → 1 in `out_interest_binding`, everything else as there; each stake paired with stake 0."""
    from coprod_sim import sweep
    from coprod_sim.sweeps.analysis import paired_differences

    spec = {"base": str(ROOT / "configs" / "out_interest_binding.yaml"), "replicates": replicates, "seed": 0,
            "seed_scheme": "common", "outputs": {"summary": list(DOSE_OUTCOMES)},
            "design": {"type": "factorial", "parameters": {"linkage.interest_binding_stake": list(STAKES)}}}
    report = sweep(spec, out=out)
    runs = pd.read_parquet(Path(report.out) / "runs.parquet")
    table = paired_differences(runs, [f"stake {s:g}" for s in STAKES], list(DOSE_OUTCOMES))
    levels = runs[runs["status"] == "ok"].groupby("point_id")[list(DOSE_OUTCOMES)].mean()
    lines = [
        "## The interest-binding stake: dose–response",
        "",
        f"`out_interest_binding` with the stake (`linkage.interest_binding_stake`, held by firms and social "
        f"organisations alike) set from 0 to 1, everything else as in the scenario; {replicates} paired seeds, "
        "each stake minus stake 0 with its 95% interval (marks as above). The stake-0 level is in the first row. "
        f"Tables: `{out.relative_to(ROOT)}`.",
        "",
        "| stake | " + " | ".join(DOSE_OUTCOMES.values()) + " |",
        "|---|" + "---|" * len(DOSE_OUTCOMES),
        "| 0 (level) | " + " | ".join(number(levels.loc[0, o]) for o in DOSE_OUTCOMES) + " |",
    ]
    for label in [f"stake {s:g}" for s in STAKES[1:]]:
        rows = table[table["scenario"] == label].set_index("outcome")
        lines.append(f"| {label.split()[1]} | " + " | ".join(_cell(rows.loc[o]) for o in DOSE_OUTCOMES) + " |")
    full = table[(table["scenario"] == f"stake {STAKES[-1]:g}") & (table["outcome"] == "quality.needs_met_share")].iloc[0]
    share = full.difference / scenario_effect.difference
    lines += ["", f"Reading: the stake the scenario is named after moves need met by {_cell(full)} from 0 to "
              f"{STAKES[-1]:g}, against the scenario's {_cell(scenario_effect)} over the baseline "
              f"({share:.0%} of it). "
              + ("So the scenario's gain comes mostly from its other components; the attribution below "
                 "(\"Why each scenario works\") splits it among them."
                 if abs(share) < 0.5 else "The stake carries much of the scenario's gain.")]
    return [*lines, ""]


# ------------------------------------------------------------------ attribution: what carries each scenario's effect
# Per-visit subsidies and vouchers are the two cash supports of "profit space" (seed 001); switched together so the
# out scenario has 7 components (exact Shapley over 128 subsets) and the cash support reads as one policy.
CASH_SUPPORT = {"cash support (subsidies and vouchers)": ["profit_space.subsidy_per_visit",
                                                         "profit_space.voucher_per_visit"]}
# merging communities is one decision: the layout mode and how many communities share a centre
MERGER = {"merged communities": ["layout.mode", "layout.merge_size"]}
MEAL_SUBSIDY = {"meal subsidy, cut after two years": ["profit_space.subsidy_per_visit", "profit_space.subsidy_change_step",
                                                      "profit_space.subsidy_change_factor"],
                "rising meal costs": ["services.cost_growth"],
                "reading window 12 months later": ["run.steps"]}
# party_led is the four remedies together: each remedy is what its own scenario changes against the baseline
REMEDY_GROUPS = {f"{remedy} ({name})": list(dict.fromkeys(parameter_key(k) for k in
                                                           differing(load_config(name), load_config("baseline"))))
                 for remedy, name in REMEDIES.items()}


class Attributed(NamedTuple):
    """How one scenario is split: named groups (the rest one component per parameter) and the parameter its
    name promises (None: the scenario is named after all of them together)."""

    groups: dict[str, list[str]] | None = None
    named_after: str | None = None


# the scenarios attributed and the parameter each is named after are the package's (NAMED_AFTER), which
# docs/findings.md reads the attribution back by; the groups are this script's
GROUPS = {"out_interest_binding": CASH_SUPPORT, "party_led": REMEDY_GROUPS, "big_community": MERGER,
          "canteen_subsidy_cut": MEAL_SUBSIDY}
ATTRIBUTION = {stem: Attributed(GROUPS.get(stem), named) for stem, named in NAMED_AFTER.items()}


def explain_command(stem: str, how: Attributed, replicates: int) -> str:
    """The `coprod-sim explain` command that reproduces one scenario's attribution (printed in the doc)."""
    groups = "".join(f" --group '{name}={','.join(keys)}'" for name, keys in (how.groups or {}).items())
    outcomes = "".join(f" --outcome {o}" for o in ATTRIBUTED)
    return (f".venv/bin/coprod-sim explain {stem} --replicates {replicates}{groups}{outcomes} "
            f"--out results/explain/scenarios/{stem}")


def attribution_section(replicates: int) -> list[str]:
    """Run `coprod_sim.explain` on every scenario that changes more than one thing and write what carries it."""
    from coprod_sim import explain

    lines = ["## Why each scenario works: attribution", "",
             "A scenario changes several parameters at once; its name says which one it is about. Here each "
             "change (or named group of changes) is switched on and off, every subset runs on the same "
             f"{replicates} paired seeds, and the effect is split by exact Shapley values "
             "(docs/explain.md): the value of a component is its average contribution over the orders in which "
             "the changes could be added. Each cell is the component's Shapley value with its 95% interval "
             "(marks as above) and its share of the total effect with the share's interval; shares are not "
             "given when the total is not distinguishable from zero. `not explained by solo effects` is the "
             "total minus the sum of what each change does alone: negative when the changes substitute for one "
             "another. Public spending is the full public cost, so a concession's share includes the value "
             "given away. The totals here rest on fewer seeds than the tables above, so they can differ from "
             "them within their intervals.", ""]
    for stem, how in ATTRIBUTION.items():
        out = ROOT / "results" / "explain" / "scenarios" / stem
        result = explain(stem, replicates=replicates, groups=how.groups, outcomes=list(ATTRIBUTED), out=out)
        name = read_yaml(ROOT / "configs" / f"{stem}.yaml")["scenario"]["name"]
        lines += [f"### {name} (`{stem}`)", "", "```bash", explain_command(stem, how, replicates), "```", "",
                  *attribution_table(result.table), "",
                  attribution_reading(result.table, named_component(result.table, how.named_after)), ""]
    return lines


def _table(title: str, outcomes: dict[str, str], configs: list[Path], table: pd.DataFrame) -> list[str]:
    lines = [f"## {title}", "", "| scenario | " + " | ".join(outcomes.values()) + " |", "|---|" + "---|" * len(outcomes)]
    for config in configs:
        name = read_yaml(config).get("scenario", {}).get("name", config.stem)
        rows = table[table["scenario"].str.endswith(config.name)].set_index("outcome")
        cells = [_cell(rows.loc[o]) if o in rows.index else "–" for o in outcomes]
        lines.append(f"| {name} (`{config.stem}`) | " + " | ".join(cells) + " |")
    return [*lines, ""]


# an equity gap is a difference of two shares of need met; an interval narrower than this is informative
# even when it includes zero (the same tolerance as need met's in docs/stationarity.md)
EQUITY_PRECISION = 0.02


STATIONARITY_TABLE = ROOT / "results" / "stationarity" / "stationarity.csv"  # experiments/stationarity.py's table
STATIONARITY_COMMAND = next(d.command for d in GENERATED_DOCS if d.doc == "docs/stationarity.md")


def settling_notes(path: Path = STATIONARITY_TABLE) -> list[str]:
    """The readings docs/stationarity.md found still moving at their scenario's length (drifting at both checks):
    a difference here that involves one reads a level on its way, so the page says so beside the tables.
    Outcomes are read at a stationary state; where one is not yet, the reader must be told."""
    if not path.is_file():
        return [f"- Whether every reading here has settled is docs/stationarity.md's to say (`{STATIONARITY_COMMAND}`"
                "); it had not been run on this machine when this page was written."]
    still = drifting(pd.read_csv(path))
    if still.empty:
        return ["- Every scenario's readings agree with a window twice as late (docs/stationarity.md)."]
    return [f"- Still settling at its scenario's length (docs/stationarity.md): `{r.scenario}`, `{r.outcome}` "
            f"moves by {number(r.drift)} [{number(r.drift_ci_low)}, {number(r.drift_ci_high)}] from its "
            f"{int(r.months)}-month reading to one twice as late, "
            + (f"and reads settled from {int(r.settles_by)} months: read a difference here that involves it as "
               "provisional." if pd.notna(r.settles_by) else
               "and has not settled within the horizon followed: do not read its level as a settled state.")
            for r in still.itertuples()]


def _equity_notes(table: pd.DataFrame, replicates: int) -> list[str]:
    """How informative the equity intervals are, and how many paired seeds would make each one so.

    The half-width of a paired-difference interval shrinks as 1/sqrt(n), so n · (half-width / target)²
    seeds would bring it to ``EQUITY_PRECISION``."""
    notes = []
    for outcome in ("equity.center_periphery_gap", "equity.migrant_gap"):
        rows = table[(table["outcome"] == outcome) & table["difference"].notna()]
        half = (rows["ci_high"] - rows["ci_low"]) / 2
        excludes_zero = (rows["ci_low"] > 0) | (rows["ci_high"] < 0)
        vague = rows[~excludes_zero & (half > EQUITY_PRECISION)]
        if vague.empty:
            notes.append(f"- `{outcome}`: every interval excludes zero or is narrower than ±{EQUITY_PRECISION}.")
            continue
        needed = int(np.ceil(replicates * (half[vague.index].max() / EQUITY_PRECISION) ** 2))
        notes.append(f"- `{outcome}`: {len(vague)} of {len(rows)} intervals include zero and are wider than "
                     f"±{EQUITY_PRECISION} (widest ±{half[vague.index].max():.3f}); about {needed} paired seeds "
                     f"would narrow them all to ±{EQUITY_PRECISION} (`--replicates {needed}`).")
    return notes


def main() -> None:
    args = build_parser().parse_args()
    started = time.perf_counter()
    configs = [ROOT / "configs" / "baseline.yaml", *sorted(p for p in (ROOT / "configs").glob("*.yaml") if p.stem != "baseline")]
    cmd = [sys.executable, "-m", "coprod_sim", "compare", *map(str, configs), "--replicates",
           str(args.replicates), "--out", args.out]
    for outcome in OUTCOMES:
        cmd += ["--outcome", outcome]
    subprocess.run(cmd, check=True, cwd=ROOT)
    table = pd.read_csv(Path(args.out) / "compare.csv")
    dose = stake_dose_response(args.dose_replicates, Path(args.out).parent / "stake_dose",
                               table[table["scenario"].str.endswith("out_interest_binding.yaml")
                                     & (table["outcome"] == "quality.needs_met_share")].iloc[0])
    attribution = attribution_section(args.attribution_replicates)
    minutes = (time.perf_counter() - started) / 60
    lines = [
        "# Scenarios compared with the fragmented baseline",
        "",
        "Generated by `experiments/scenarios.py` (do not edit by hand): `coprod-sim compare` with "
        f"{args.replicates} paired seeds per scenario, default size (22,500 residents, 60 reported months after "
        "a 120-month spin-up, mean of the last 12). Each cell is the difference scenario − baseline with its 95% "
        "confidence interval; `*` marks an interval that excludes zero, `†` one that excludes zero but is wider "
        f"than ±{PRECISION:.0%} of the effect. Public spending is the full public cost: cash paid out of the fund "
        "plus concessions at their value (rent and tax forgone; docs/ODD.md §7.12). Approval waits are the "
        "Kaplan–Meier survival measure (applications still waiting count; §7.4). Read levels in "
        f"`results/compare/all/compare.csv`. Wall time {minutes:.0f} min on {os.cpu_count()} cores. " + results_stamp(),
        "",
        *_table("Services and equity", SERVICE_OUTCOMES, configs[1:], table),
        *_table("Cost and governance", COST_OUTCOMES, configs[1:], table),
        *dose,
        *attribution,
        "Reading notes:",
        "",
        *_precision_notes(table, args.replicates),
        "- `canteen_subsidy_cut` has a meal subsidy for two years that is then cut by 70%; against the "
        "baseline (no subsidy at all) it can look better. Its question is the change over time: read "
        "`quantity.services_delivered.meals` in its `timeseries.parquet` before and after month 24.",
        "- `up_incentives` and `kpi_partial` raise the assessment weight: departments release most of their "
        "budget, so public spending rises; publicly funded services serve registered residents only "
        "(`government.registered_only`), which is why the registered − migrant gap widens.",
        *_equity_notes(table, args.replicates),
        *settling_notes(),
        "- Differences are for these parameter values; `coprod-sim sweep` explores how they depend on them.",
    ]
    (ROOT / "docs" / "scenarios.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("wrote docs/scenarios.md")


if __name__ == "__main__":
    sys.exit(cli.guarded(main))
