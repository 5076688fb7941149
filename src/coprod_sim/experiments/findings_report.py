"""docs/findings.md, written from the tables an experiment left in its folder (never from memory).

Every number in the doc is formatted by ``interval_cell`` from ``contrasts.csv``, ``levels.csv`` or
``predictions.csv``, so a test can check the doc against the tables, and the doc can be rewritten from the
folder alone (``--report-only``) without running anything.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from ..sweeps.events import EVENTS, FIGURE, SETTLING, plot_path
from .findings import (
    PRECISION,
    SUPPORTED,
    VERDICT_RULE,
    Experiment,
    claim_verdict,
    interval_cell,
    signed_number,
)
from .findings_attribution import attribution_head, attribution_lines
from .generated import results_stamp
from .robustness import Screen, read_screen, robustness_head, robustness_lines
from .scenario_attribution import Splits, read_splits

# what the findings issue asks for and these experiments do not yet answer, one item a line: said, not hidden
NOT_YET: list[str] = []
TABLES = ("contrasts.csv", "levels.csv", "predictions.csv", "meta.json")


def read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    contrasts, levels, predictions = (pd.read_csv(folder / name) for name in TABLES[:3])
    predictions["condition"] = predictions["condition"].fillna("")
    return contrasts, levels, predictions, json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def figure(exp: Experiment, folder: Path, contrasts: pd.DataFrame, levels: pd.DataFrame) -> Path:
    """The first outcome's contrasts (or, without contrasts, its levels) with their 95% intervals."""
    outcome = next(iter(exp.outcomes))
    rows = contrasts[contrasts["outcome"] == outcome] if len(contrasts) else levels[levels["outcome"] == outcome]
    labels = list(rows["contrast"] if len(contrasts) else rows["arm"])
    middle = rows["estimate" if len(contrasts) else "mean"].to_numpy()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(labels) + 1.2))
    ax.errorbar(middle, range(len(labels)), xerr=[middle - rows["ci_low"], rows["ci_high"] - middle], fmt="o",
                color="#1f4e79", capsize=3)
    if len(contrasts):
        ax.axvline(0, color="#888", lw=0.8)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(exp.outcomes[outcome] + (" (effect, 95% interval)" if len(contrasts) else " (mean, 95% interval)"))
    ax.set_title(exp.title, fontsize=10)
    fig.tight_layout()
    path = folder / f"{exp.name}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def path_figure(exp: Experiment, folder: Path, path: pd.DataFrame) -> Path | None:
    """The time path's figure (``events.png``): each arm minus the first, month by month, the event marked."""
    assert exp.time_path is not None
    event, month = exp.time_path.event, exp.time_path.event_month
    return plot_path(path, folder, xlabel=f"month ({event} at month {month})", event=month, labels=exp.outcomes,
                     title=f"{exp.title}: each arm − {next(iter(exp.arms))}, month by month (mean, 95% CI over "
                           "paired runs)")


def required(exp: Experiment) -> tuple[str, ...]:
    """The files an experiment's folder must hold before the doc has its section."""
    return TABLES + ((EVENTS, SETTLING, FIGURE) if exp.time_path else ())


def _time_path_lines(exp: Experiment, folder: Path, doc: Path) -> list[str]:
    """The effect month by month at the months the experiment shows, its figure, and whether each effect has
    settled by the end of the runs (``events_settling.csv``)."""
    if exp.time_path is None:
        return []
    tp = exp.time_path
    path, settled = pd.read_csv(folder / EVENTS), pd.read_csv(folder / SETTLING)
    png = _copy_figure(folder / FIGURE, doc, f"{exp.name}_path.png")
    outcomes = [o for o in tp.outcomes if o in set(path["outcome"])]
    lines = [f"**Time path.** Each arm minus *{next(iter(exp.arms))}*, paired by seed, month by month; "
             f"{tp.event} comes at month {tp.event_month}. The figure has every month; the table the months "
             "around the event and then yearly.", "",
             "| month | contrast | " + " | ".join(exp.outcomes[o] for o in outcomes) + " |",
             "|---|---|" + "---|" * len(outcomes)]
    for (scenario, month), rows in path[path["month"].isin(tp.shown)].groupby(["scenario", "month"], sort=False):
        by = rows.set_index("outcome")
        lines.append(f"| {month} | {scenario} − {next(iter(exp.arms))} | " + " | ".join(
            interval_cell(by.loc[o, "difference"], by.loc[o, "ci_low"], by.loc[o, "ci_high"]) for o in outcomes)
            + " |")
    lines += ["", f"![{exp.title}: time path]({png.relative_to(doc.parent).as_posix()})", ""]
    return [*lines, *_settling_lines(exp, settled), ""]


def _settling_lines(exp: Experiment, settled: pd.DataFrame) -> list[str]:
    """Per effect: its last-window size against the window before, settled or not, and when it reached 90%."""
    out = []
    for r in settled.to_dict("records"):
        label = exp.outcomes.get(r["outcome"], r["outcome"])
        state = "settling not checkable" if pd.isna(r["settled"]) else (
            "settled" if str(r["settled"]) == "True" else "not settled: read it as a transient")
        to_90 = float(r["months_to_90pct"])
        reached = f"; 90% of it from month {int(to_90)} on" if math.isfinite(to_90) else ""
        effect, previous = float(r["effect"]), float(r["previous_effect"])
        scale = max((abs(v) for v in (effect, previous) if math.isfinite(v)), default=0.0)
        out.append(f"- {r['scenario']} − {r['reference']}, {label}: {signed_number(effect, scale)} over the last "
                   f"{r['window']} months against {signed_number(previous, scale)} the {r['window']} before "
                   f"({state}){reached}.")
    return out


def _copy_figure(source: Path, doc: Path, name: str) -> Path:
    """A figure copied beside the doc (``img/findings/``), so the doc shows it without the results folder."""
    png = doc.parent / "img" / "findings" / name
    png.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, png)
    return png


def _extended(meta: dict, exp: Experiment) -> str:
    """Why this many replicates: the pilot's count (the experiment's own, and why), or how far the precision
    rule extended it."""
    pilot, used, cap = meta.get("pilot_replicates", meta["replicates"]), meta["replicates"], meta.get("max_replicates")
    if exp.pilot and used <= pilot:
        capped = "; the cap, so some intervals may stay wider than ±20%" if used == cap else ""
        return f" (this experiment's own pilot: {exp.pilot_why}{capped})"
    if used <= pilot:
        return f" (the pilot's {pilot} already gave every decided prediction an interval within ±{PRECISION:.0%})"
    capped = " (the cap: some intervals stay wider)" if used == cap else ""
    return (f" (a pilot of {pilot}, extended until every decided prediction's interval was within "
            f"±{PRECISION:.0%} of its effect, at most {cap}{capped})")


def _contrast_lines(exp: Experiment, contrasts: pd.DataFrame) -> list[str]:
    if contrasts.empty:
        return []
    lines = ["| contrast | " + " | ".join(exp.outcomes.values()) + " |", "|---|" + "---|" * len(exp.outcomes)]
    for label, rows in contrasts.groupby("contrast", sort=False):
        by = rows.set_index("outcome")
        lines.append(f"| {label} | " + " | ".join(interval_cell(by.loc[o, "estimate"], by.loc[o, "ci_low"],
                                                                by.loc[o, "ci_high"]) for o in exp.outcomes) + " |")
    return [*lines, ""]


def _level_lines(exp: Experiment, levels: pd.DataFrame) -> list[str]:
    lines = ["| arm | " + " | ".join(exp.outcomes.values()) + " |", "|---|" + "---|" * len(exp.outcomes)]
    for arm, rows in levels.groupby("arm", sort=False):
        by = rows.set_index("outcome")
        lines.append(f"| {arm} | " + " | ".join(interval_cell(by.loc[o, "mean"], by.loc[o, "ci_low"], by.loc[o, "ci_high"],
                                                              effect=False) for o in exp.outcomes) + " |")
    return [*lines, ""]


def _prediction_lines(predictions: pd.DataFrame) -> list[str]:
    lines = ["| prediction | contrast or arm | outcome | expected | found | verdict |", "|---|---|---|---|---|---|"]
    for p in predictions.itertuples():
        found = interval_cell(p.estimate, p.ci_low, p.ci_high, effect=not str(p.expected).startswith("within"))
        lines.append(f"| {p.condition} | {p.contrast} | {p.outcome_label} | {p.expected} | {found} | {p.verdict} |")
    return [*lines, ""]


def carrying_number(predictions: pd.DataFrame) -> str:
    """The one number that carries a claim's verdict: its first supported prediction, else its first."""
    held = predictions[predictions["verdict"] == SUPPORTED]
    p = (held if len(held) else predictions).iloc[0]
    found = interval_cell(p.estimate, p.ci_low, p.ci_high, effect=not str(p.expected).startswith("within"))
    return f"{p.outcome_label}, {p.contrast}: {found}"


def shown_folder(folder: Path, root: Path) -> str:
    """An experiment's folder as the page names it: from the project's root, or, for an ``--out`` elsewhere
    (another checkout's results), from its ``results`` folder, which is where the printed command writes it."""
    if folder.is_relative_to(root):
        return folder.relative_to(root).as_posix()
    parts = folder.parts
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("results"):]) if "results" in parts else folder.name


def section(exp: Experiment, folder: Path, doc: Path, root: Path, screen: Screen | None = None,
            splits: Splits | None = None) -> tuple[list[str], tuple[str, str, str]]:
    """One experiment's section of the doc, and its summary row (claim, verdict, carrying number).

    The figure is copied beside the doc (``img/findings/``) so the doc shows it without the results folder."""
    contrasts, levels, predictions, meta = read(folder)
    verdict = claim_verdict(predictions)
    png = _copy_figure(folder / f"{exp.name}.png", doc, f"{exp.name}.png")
    arms = [f"- **{arm}**: " + (", ".join(f"`{k}` = {json.dumps(v, ensure_ascii=False)}" for k, v in changes.items())
                                or "the fragmented baseline") + (f" at {exp.arm_size[arm]:g}× the population "
                                                                 "(same density)" if arm in exp.arm_size else "")
            for arm, changes in exp.arms.items()]
    lines = [
        f"## {exp.title}",
        "",
        f"**Question.** {exp.question}",
        "",
        *(f"> {quote} — seed `{seed}` (translated; the Chinese original is in the seed file)\n" for seed, quote in
          exp.quotes),
        f"**Claim tested.** {exp.claim}",
        "",
        f"**Design.** {len(exp.arms)} arm{'s' if len(exp.arms) > 1 else ''} × {meta['replicates']} paired "
        f"replicates{_extended(meta, exp)} = {meta['runs']} runs "
        f"({meta['size']}; root seed {meta['seed']}, common random numbers: every arm runs on the same seeds); "
        f"wall time {meta['seconds'] / 60:.1f} min on {meta['cores']} cores. Command: `{meta['command']}`. "
        f"Tables: `{shown_folder(folder, root)}/`.",
        "",
        *arms,
        "",
        *_contrast_lines(exp, contrasts),
        *([] if len(contrasts) else _level_lines(exp, levels)),
        f"![{exp.title}]({png.relative_to(doc.parent).as_posix()})",
        "",
        *_time_path_lines(exp, folder, doc),
        "**Predictions and verdict.**",
        "",
        *_prediction_lines(predictions),
        f"**Verdict: {verdict}.**",
        "",
        *attribution_lines(exp, splits),
        *robustness_lines(exp, predictions, screen),
        f"**Why the model gives this.** {exp.why}",
        "",
    ]
    return lines, (exp.claim, verdict, carrying_number(predictions))


def tables_results(metas: list[dict]) -> str:
    """Which results the page's numbers come from: those its tables were computed on (each experiment records
    its own, so a page rewritten from older tables names their results, not today's)."""
    found = sorted({m.get("results_id") or "unknown" for m in metas})
    if len(found) <= 1:
        return results_stamp(found[0] if found else "unknown")
    return (results_stamp("unknown") + f" Its experiments' tables come from different results ({', '.join(found)}): "
            "rerun the experiments whose results are not the ones in force.")


def write_doc(experiments: list[Experiment], out: Path, doc: Path, root: Path) -> Path:
    """docs/findings.md from the experiments' folders under ``out`` (those that have run)."""
    sections: list[str] = []
    summary: list[tuple[str, str, str]] = []
    metas: list[dict] = []
    doc.parent.mkdir(parents=True, exist_ok=True)
    screen, splits = read_screen(root), read_splits(root)
    for exp in experiments:
        folder = out / exp.name
        if not all((folder / name).exists() for name in required(exp)):
            continue
        lines, row = section(exp, folder, doc, root, screen, splits)
        sections += lines
        summary.append(row)
        metas.append(read(folder)[3])
    head = [
        "# Findings: the source papers' claims put to the model",
        "",
        "Generated by `experiments/findings.py` from the tables in its output folder (do not edit by hand; "
        "rerun the command printed in each section). Each claim is quoted from its seed paper (`../shared/seeds/` "
        "of the project brief; translated), turned into arms over the fragmented baseline, run on paired seeds "
        "the other docs never used, and judged by one rule:",
        "",
        VERDICT_RULE,
        "",
        tables_results(metas),
        "",
        "Cells are effects (arm − reference, or a factorial contrast) with their 95% interval over paired "
        f"replicates; `*` marks an interval that excludes zero, `†` one that excludes zero but is wider than "
        f"±{PRECISION:.0%} of the effect (the sign is established, the size is not). Public spending is the full "
        "public cost, concessions included (docs/ODD.md §7.12).",
        "",
        *robustness_head(screen, experiments),
        *attribution_head(splits),
        f"The whole set: {sum(m['runs'] for m in metas):,} runs, {sum(m['seconds'] for m in metas) / 60:.0f} min "
        f"of wall time on {metas[0]['cores'] if metas else '?'} cores. It resumes where it stopped; `--only NAME` "
        "runs one experiment, `--report-only` rewrites this page from the tables, `--quick` checks the pipeline "
        "in a minute at a size too small to judge anything:",
        "",
        "```bash",
        ".venv/bin/python experiments/findings.py",
        ".venv/bin/python experiments/findings.py --report-only",
        "```",
        "",
        "| claim | verdict | the number that carries it |",
        "|---|---|---|",
        *(f"| {claim} | {verdict} | {carrying} |" for claim, verdict, carrying in summary),
        "",
    ]
    doc.write_text("\n".join(head + sections + _pattern_lines(root) + _not_yet_lines()) + "\n", encoding="utf-8")
    return doc


def _not_yet_lines() -> list[str]:
    """The page's closing list of what is not yet examined (``NOT_YET``); nothing when the list is empty."""
    return ["## Not yet examined here", "", *(f"- {item}" for item in NOT_YET), ""] if NOT_YET else []


def _pattern_lines(root: Path) -> list[str]:
    """Which validation patterns of DESIGN.md §7 the model reproduces, as docs/patterns.md (generated by
    experiments/patterns.py) last found them."""
    patterns = root / "docs" / "patterns.md"
    found = re.findall(r"^## (Pattern \d+): (.+)$", patterns.read_text(encoding="utf-8"), re.MULTILINE) \
        if patterns.exists() else []
    if not found:
        return []
    held = sum(1 for _, state in found if state.strip() == "reproduced")
    return ["## Validation patterns (DESIGN.md §7)", "",
            f"As docs/patterns.md (`.venv/bin/python experiments/patterns.py`) last found them: {held} of "
            f"{len(found)} reproduced.", "",
            *(f"- {name}: {state}" for name, state in found), ""]
