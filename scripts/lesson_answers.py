"""The answers of docs/app.md's exercises, as the app's monitors show them, for seed 0 and seeds 0–5.

docs/app.md tells a class what each step's monitors should show ("the approval wait rises by years,
Difference about +90 months; seeds 0–5: +50 to +116"). Those figures come from the model, so a change that
moves results can make a lesson's answer wrong. This script recomputes every stated answer the way the page
computes it: the app's own session (scenario, lever overrides, seed), run to month 60, the monitor's window
mean and its difference from the reference kept at the same month with the same seed. It prints, for each
step, the value with seed 0 and the range over seeds 0–5; docs/app.md's figures are read from it (the browser
test, ``tests/test_app_browser.py::test_exercises``, walks the steps in Chromium and checks seed 0's values
within these ranges, slightly widened). Run from the repo root (about three minutes on one core):

    .venv/bin/python scripts/lesson_answers.py
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from coprod_sim.app.session import MONITORS, Session, window_mean
from coprod_sim.cli.runs import whole_number_option
from coprod_sim.runs import results_id

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"
MONTH = 60  # the exercises run to month 60, the baseline's last month: the window mean is the summary's reading
SEEDS = tuple(range(6))

RESISTANCE = {"government.resistance": 0.9}
PROFIT_SPACE = {"profit_space.subsidy_per_visit": 0.5, "profit_space.voucher_per_visit": 0.3}
STRONG_GROUP = {"leading_group.active": True, "leading_group.authority": 0.8}


@dataclass(frozen=True)
class Step:
    """One step of an exercise: a run with ``levers`` against a reference run with ``reference_levers`` (both
    on the baseline, same seed, month 60), and the monitors whose values the guide states."""

    name: str
    reference_levers: dict
    levers: dict
    differences: tuple[str, ...]  # monitors read in the Difference column (this run − reference)
    levels: tuple[str, ...] = ()  # monitors read as this run's window mean
    reference_levels: tuple[str, ...] = ()  # monitors read as the reference's window mean


STEPS = (
    Step("1.3 resistance 0.9 (reference: baseline)", {}, RESISTANCE,
         ("governance.approval_wait_mean", "governance.approvals_pending", "quality.needs_met_share")),
    Step("1.4 + assessment weight 0.3 (reference: resistance 0.9)", RESISTANCE,
         {**RESISTANCE, "incentive.assessment_weight": 0.3},
         ("governance.resources_released_share", "quality.needs_met_share", "cost.public_spending"),
         levels=("governance.approval_wait_mean",)),
    Step("1.4 the baseline's approval wait", {}, {}, (), levels=("governance.approval_wait_mean",)),
    Step("2.2 no profit space (reference: subsidy 0.5, vouchers 0.3)", PROFIT_SPACE, {},
         ("site.firm.periphery", "equity.center_periphery_gap")),
    Step("2.3 state-owned firms on (reference: no profit space)", {}, {"profit_space.soe_entry": True},
         ("site.state_owned.periphery", "site.firm.periphery", "quality.needs_met_share")),
    Step("3.2 leading group, authority 0.8 (reference: baseline)", {}, STRONG_GROUP,
         ("governance.approval_wait_mean", "quality.needs_met_share"),
         levels=("governance.cases_coordinated", "cost.public_spending.coordination")),
    Step("3.3 leading group, authority 0.2 (reference: baseline)", {},
         {**STRONG_GROUP, "leading_group.authority": 0.2},
         ("governance.approval_wait_mean", "quality.needs_met_share")),
)

HEADING = {m.key: m.heading for m in MONITORS}
FORMAT = {m.key: m for m in MONITORS}


def window_means(levers: dict, seed: int, cache: dict) -> dict[str, float]:
    """The monitors' window means at month 60 of the baseline with ``levers`` and ``seed``, as the page shows
    them (the app's session: its lever overrides, its facility counts by zone)."""
    key = (tuple(sorted(levers.items())), seed)
    if key not in cache:
        session = Session(BASELINE, seed=seed)
        for lever, value in levers.items():
            session.set_lever(lever, value)
        session.reset()
        session.run_to(MONTH)
        means = window_mean(session.history(), session.window())
        cache[key] = {m.key: float(means.get(m.key, float("nan"))) for m in MONITORS}
    return cache[key]


def answers(step: Step, seeds: tuple[int, ...], cache: dict) -> list[tuple[str, str, list[float]]]:
    """(monitor, column, value per seed) for every value the step states."""
    runs = [window_means(step.levers, s, cache) for s in seeds]
    refs = [window_means(step.reference_levers, s, cache) for s in seeds]
    return ([(k, "difference", [v[k] - r[k] for v, r in zip(runs, refs, strict=True)]) for k in step.differences]
            + [(k, "this run", [v[k] for v in runs]) for k in step.levels]
            + [(k, "reference", [r[k] for r in refs]) for k in step.reference_levels])


def shown(key: str, value: float, signed: bool) -> str:
    """A value as the monitor prints it (its unit's scale and precision)."""
    return FORMAT[key].format(value, signed=signed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=whole_number_option(1), default=len(SEEDS), help="seeds 0 to N−1 (default 6, as the guide)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    seeds = tuple(range(args.seeds))
    cache: dict = {}
    print(f"docs/app.md's exercises on configs/baseline.yaml, month {MONTH}, results id {results_id()}; "
          f"seed 0 and the range over seeds 0–{seeds[-1]}\n")
    print("| step | monitor | column | seed 0 | all seeds |")
    print("|---|---|---|---|---|")
    for step in STEPS:
        for key, column, values in answers(step, seeds, cache):
            signed = column == "difference"
            low, high = min(values), max(values)
            print(f"| {step.name} | {HEADING[key]} | {column} | {shown(key, values[0], signed)} | "
                  f"{shown(key, low, signed)} to {shown(key, high, signed)} "
                  f"({', '.join(shown(key, v, signed) for v in values)}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
