"""Figures and a plain-language report of a sensitivity study (for policy analysts, not only modellers)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..runs import files
from ..sweeps.analysis import sign_stability
from ..sweeps.events import EVENTS, FIGURE, SETTLING, saved_notes

if TYPE_CHECKING:
    from .result import SensitivityReport
    from .spec import Study

METHOD_TEXT = {
    "sobol": "Sobol variance decomposition (Saltelli sampling on a scrambled Sobol sequence; SALib)",
    "morris": "Morris elementary effects screening (SALib)",
    "fast": "extended FAST (Fourier amplitude sensitivity test; SALib)",
    "rbd_fast": "RBD-FAST first-order indices from the given sample (SALib)",
    "delta": "Borgonovo's delta moment-independent measure from the given sample (SALib)",
}
# the index that ranks factors for each method, and the one drawn beside it
RANK_BY = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "rbd_fast": "S1", "delta": "delta"}
SHOWN = {"sobol": ("S1", "ST"), "fast": ("S1", "ST"), "morris": ("mu_star",), "rbd_fast": ("S1",),
         "delta": ("delta", "S1")}
MAX_BARS = 25
NOISY = 0.1  # seed-noise share of the analysed means above which the report asks for more replicates


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")


# ------------------------------------------------------------------ figures
def plot_all(study: Study, result: SensitivityReport) -> list[Path]:
    folder = result.out / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    floors = dict(zip(result.noise["outcome"], result.noise.get("morris_noise_floor", []), strict=False))
    for label, table in result.indices.groupby("outcome", sort=False):
        floor = float(floors.get(label, float("nan")))
        written.append(_bars(study.method, str(label), table, folder, floor))
        if study.method == "morris":
            written.append(_mu_sigma(str(label), table, folder, floor))
    for label, table in result.convergence.groupby("outcome", sort=False):
        written.append(_convergence(str(label), table, folder))
    return written


def _noise_line(ax, floor: float) -> None:
    """Morris: the μ* that seed noise alone would give (a factor left of it is not shown to matter)."""
    if np.isfinite(floor):
        ax.axvline(floor, color="black", ls=":", lw=1, label="seed-noise floor")


def _bars(method: str, label: str, table: pd.DataFrame, folder: Path, floor: float) -> Path:
    """Horizontal bars of each factor's indices with their confidence intervals, largest first (top 25)."""
    shown = SHOWN[method]
    order = _ranked(table, RANK_BY[method])[:MAX_BARS]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.32 * len(order) * max(1, len(shown) / 1.5)))
    height = 0.8 / len(shown)
    for k, index in enumerate(shown):
        rows = table[table["index"] == index].set_index("factor").reindex(order)
        pos = np.arange(len(order)) + (k - (len(shown) - 1) / 2) * height
        err = np.vstack([rows["value"] - rows["ci_low"], rows["ci_high"] - rows["value"]])
        ax.barh(pos, rows["value"], height=height, xerr=np.nan_to_num(np.clip(err, 0, None)), capsize=2,
                label=index.replace("mu_star", "μ*"))
    ax.set_yticks(np.arange(len(order)), order, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.6)
    _noise_line(ax, floor)
    ax.set_title(label, fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, folder / f"indices-{slug(label)}.png")


def _mu_sigma(label: str, table: pd.DataFrame, folder: Path, floor: float) -> Path:
    """Morris μ* (overall influence) against σ (non-linearity or interactions), one labelled dot per factor."""
    mu = table[table["index"] == "mu_star"].set_index("factor")["value"]
    sigma = table[table["index"] == "sigma"].set_index("factor")["value"].reindex(mu.index)
    undrawn = sigma.isna()  # a group of several factors has no σ (SALib): said in the title, not drawn
    mu, sigma = mu[~undrawn], sigma[~undrawn]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(mu, sigma, s=14)
    for name in mu.sort_values(ascending=False).index[:12]:
        ax.annotate(name, (mu[name], sigma[name]), fontsize=7, xytext=(3, 2), textcoords="offset points")
    top = float(max(mu.max(), sigma.max(), 1e-12))
    ax.plot([0, top], [0, top], color="grey", lw=0.6, ls="--", label="σ = μ*")
    _noise_line(ax, floor)
    ax.set_xlabel("μ* (mean |elementary effect| over the factor's range)")
    ax.set_ylabel("σ (spread of elementary effects)")
    ax.set_title(label + (f"\n(not drawn, no σ for a group: {', '.join(undrawn.index[undrawn])})" if undrawn.any()
                          else ""), fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, folder / f"morris-{slug(label)}.png")


def _convergence(label: str, table: pd.DataFrame, folder: Path) -> Path:
    """S1 and ST of the leading factors with their intervals as the base sample N doubles."""
    final = table[table["N"] == table["N"].max()]
    lead = _ranked(final, "ST")[:6]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, index in zip(axes, ("S1", "ST"), strict=True):
        for name in lead:
            rows = table[(table["index"] == index) & (table["factor"] == name)].sort_values("N")
            ax.errorbar(rows["N"], rows["value"], yerr=np.clip(np.vstack(
                [rows["value"] - rows["ci_low"], rows["ci_high"] - rows["value"]]), 0, None), capsize=2,
                marker="o", ms=3, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("base sample size N")
        ax.set_title(f"{index}: {label}", fontsize=8)
    axes[0].legend(fontsize=7)
    return _save(fig, folder / f"convergence-{slug(label)}.png")


def _ranked(table: pd.DataFrame, index: str) -> list[str]:
    return list(table[table["index"] == index].sort_values("value", ascending=False)["factor"])


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ------------------------------------------------------------------ report
def _num(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.2f}" if abs(x) >= 0.005 or x == 0 else f"{x:.2g}"


def _ci(row: pd.Series, pct: int) -> str:
    if not np.isfinite(row["ci_low"]):
        return f"{_num(row['value'])}"
    return f"{_num(row['value'])}, {pct}% CI {_num(row['ci_low'])} to {_num(row['ci_high'])}"


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def write_report(study: Study, result: SensitivityReport, plots: list[Path]) -> Path:
    """DIR/report.md: per outcome, the factors ranked in words with intervals, and what limits the reading."""
    pct = round(100 * study.conf_level)
    lines = [f"# Sensitivity study: {study.name}", "",
             f"- Method: {METHOD_TEXT[study.method]}.",
             f"- Factors ({len(study.factors)}): {', '.join(study.factors)}.",
             *_groups_line(study),
             f"- Design: {study.design_type}, base sample N = {study.samples}; {len(study.plan.points)} design points "
             f"× {study.plan.replicates} replicate(s) ({study.plan.seed_scheme} seeds)"
             + (f" × {len(study.plans)} scenarios" if study.effect_plans else "")
             + f" = {result.runs} runs ({result.resumed} reused from an earlier call); wall time "
             f"{result.seconds / 60:.1f} min.",
             f"- Indices are computed on the mean of the replicates at each design point; intervals are {pct}% "
             f"bootstrap intervals ({study.resamples} resamples).", ""]
    if study.effect_plans:
        lines += [f"Effects are paired differences: the outcome under the scenario minus under {study.base_label}, "
                  "run by run on the same seeds and the same factor values.", ""]
    noise = {str(row["outcome"]): row for _, row in result.noise.iterrows()}
    for label, table in result.indices.groupby("outcome", sort=False):
        lines += _outcome_section(study, str(label), table, noise[str(label)], pct)
    event_notes = saved_notes(result.out)
    if event_notes is not None:
        lines += ["## Effects after the policy's introduction", "",
                  f"Each effect month by month after its introduction, over every design point and seed: "
                  f"[{FIGURE}]({FIGURE}), `{EVENTS}`; whether each has settled by the end of the runs: `{SETTLING}`.",
                  "", *[f"- {line}" for line in event_notes or ["every effect has settled."]], ""]
    lines += ["## Figures", ""] + [f"- [{p.name}](plots/{p.name})" for p in plots] + [""]
    path = result.out / "report.md"
    files.write_text(path, "\n".join(lines))
    return path


def _groups_line(study: Study) -> list[str]:
    """The design's groups (``design.groups``), whose indices replace their factors' own."""
    if not study.groups:
        return []
    named = [f"{name} = {', '.join(keys)}" for name, keys in study.named_groups.items()]
    return [f"- Groups ({len(study.group_names)}; indices are per group, a factor in no group is its own): "
            f"{'; '.join(named)}."]


def _outcome_section(study: Study, label: str, table: pd.DataFrame, noise: pd.Series, pct: int) -> list[str]:
    lines = [f"## {label}", "",
             f"Seed noise is {_pct(noise['noise_share'])} of the variance of single runs and "
             f"{_pct(noise['noise_share_of_means'])} of the variance of the {study.plan.replicates}-run means analysed"
             f" (N = {int(table['N'].iloc[0])}; {int(noise['points_dropped'])} design points dropped for missing "
             "values).", ""]
    if "[" in label:
        lines += [_sign_text(noise), ""]
    rank = RANK_BY[study.method]
    ranked = table[table["index"] == rank].sort_values("value", ascending=False)
    by = {i: table[table["index"] == i].set_index("factor") for i in table["index"].unique()}
    start = len(lines)
    zero: list[str] = []
    noisy: list[str] = []
    floor = noise.get("morris_noise_floor", float("nan"))
    for _, row in ranked.iterrows():
        if not row["ci_low"] > 0:
            zero.append(str(row["factor"]))
            continue
        if row["value"] <= floor:
            noisy.append(str(row["factor"]))
            continue
        n = len(lines) - start + 1
        lines.append(f"{n}. {_sentence(study.method, row, by, n == 1, pct)}")
    if noisy:
        lines += ["", f"Within seed noise (μ* at or below {_num(floor)}, what seed noise alone gives about): "
                      f"{', '.join(noisy)}."]
    if zero:
        lines += ["", f"Indistinguishable from zero (the interval of {rank.replace('mu_star', 'μ*')} includes 0): "
                      f"{', '.join(zero)}."]
    if study.method == "sobol":
        s1 = by["S1"]["value"].clip(lower=0).sum()
        lines += ["", f"The factors alone (sum of S1) account for {_pct(s1)} of the variance; the rest comes from "
                      "interactions between them." if s1 <= 1 else
                  f"The first-order indices sum to {_pct(s1)}, more than all of the variance: N is too small for "
                  "reliable indices; double it (the runs done so far are reused)."]
    if noise["noise_share_of_means"] > NOISY:
        lines += ["", f"Seed noise is still {_pct(noise['noise_share_of_means'])} of the variance analysed: more "
                      "replicates would sharpen these indices."]
    return [*lines, ""]


def _sentence(method: str, row: pd.Series, by: dict[str, pd.DataFrame], first: bool, pct: int) -> str:
    name = f"**{row['factor']}**"
    if method in ("sobol", "fast"):
        s1 = by["S1"].loc[row["factor"]]
        interactions = row["value"] - s1["value"] > max(s1["value"], 0.05)
        what = ("explains most of the variance" if row["value"] >= 0.5 else "explains the largest share of the "
                "variance") if first else "matters mainly through interactions" if interactions else "matters"
        if first and interactions:
            what += ", mainly through interactions"
        return f"{name} {what} (ST {_ci(row, pct)}; S1 {_ci(s1, pct)})."
    if method == "morris":
        sigma = by["sigma"].loc[row["factor"]]["value"]
        shape = ("a group of factors: σ is not defined, so linearity is not told" if not np.isfinite(sigma) else
                 "non-linear or interacting" if sigma > row["value"] else "close to linear and additive")
        return f"{name}: μ* {_ci(row, pct)}, σ {_num(sigma)} — {shape}."
    return f"{name}: {row['index']} {_ci(row, pct)}."


def _sign_text(noise: pd.Series) -> str:
    pos = noise["share_positive"]
    sign = "positive" if pos >= 0.5 else "negative"
    share = pos if pos >= 0.5 else 1 - pos
    stability = sign_stability(pos, int(noise["points_used"]))
    flips = (stability if stability.startswith("keeps") else
             f"{stability}: some factor values flip the conclusion")
    return (f"The effect (mean over seeds at each point) is {sign} at {_pct(share)} of design points, from "
            f"{_num(noise['min'])} to {_num(noise['max'])} (mean {_num(noise['mean'])}); it {flips}.")
