"""Looking at sweeps: per-design-point summaries, plots with 95% CIs, paired scenario comparisons.

Confidence intervals are Student-t intervals of the mean across replicates
(``mean ± t(0.975, n−1) · sd / √n``); with one replicate there is no interval.
Failed runs are left out and counted, never silently turned into numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import UserError
from ..model import KEY_OUTCOMES
from ..runs import RunResult, read_run
from ..runs.result import is_run_folder
from .integrity import check_tables, read_manifest

MAX_LEVELS = 12  # more distinct values than this are binned into quantile groups for plotting


def share_cell(share: float, low: float, high: float) -> str:
    """A share of an effect in percent with its interval, as every attribution table and reading shows it
    (here, below both the attribution and the findings that quote it)."""
    if not math.isfinite(share):
        return "–"
    inner = f" [{100 * low:.0f}, {100 * high:.0f}]" if math.isfinite(low) else ""
    return f"{100 * share:.0f}%{inner}"


def mean_ci(values: pd.Series | np.ndarray) -> dict[str, float]:
    """n, mean, sd and the 95% t-interval of the mean of finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


@dataclass
class SweepResults:
    """A sweep folder read back: one row per run, per-step rows if recorded, and the manifest."""

    folder: Path
    runs: pd.DataFrame
    manifest: dict
    steps: pd.DataFrame | None = None

    def _repr_html_(self) -> str:
        """Jupyter: the sweep's size and statuses, and each design point's mean of the first key outcome."""
        from ..runs.notebook import card

        outcome = next((o for o in KEY_OUTCOMES if o in self.runs), None)
        table = self.summary([outcome]).drop(columns=["outcome"]).head(12) if outcome else None
        statuses = ", ".join(f"{n} {s}" for s, n in self.runs["status"].value_counts().sort_index().items())
        return card("SweepResults", {"folder": self.folder, "runs": len(self.runs), "statuses": statuses,
                                     "varied": ", ".join(self.manifest.get("varied", [])),
                                     "table": f"{outcome} by design point (first 12)" if outcome else "-"}, table)

    def summary(self, outcomes: list[str] | None = None) -> pd.DataFrame:
        """One row per design point and outcome: n, mean, sd, 95% CI and failed runs."""
        return point_summary(self.runs, self.manifest["varied"], outcomes or self.manifest["summary_outcomes"])


def is_sweep_folder(folder: Path) -> bool:
    """A sweep's folder: its manifest, and its tables or the shards of a sweep stopped before writing them."""
    return (folder / "manifest.json").is_file() and ((folder / "runs.parquet").is_file() or (folder / "shards").is_dir())


def load_sweep(folder: str | Path) -> SweepResults:
    """runs.parquet, steps.parquet (if any) and manifest.json of a finished (or consolidated) sweep folder,
    checked against the manifest's checksums: a damaged file is an error naming it."""
    folder = Path(folder)
    if not is_sweep_folder(folder):
        raise UserError(f"{folder}: not a sweep folder (expected runs.parquet and manifest.json; "
                        "run `coprod-sim sweep SPEC --out DIR` first)")
    manifest = read_manifest(folder)
    if not (folder / "runs.parquet").is_file():
        shards = len(list((folder / "shards").glob("runs-*.parquet")))
        raise UserError(f"{folder}: the sweep (status: {manifest.get('status')}) stopped before writing its tables; "
                        f"{shards} finished batch(es) are kept in {folder}/shards; run the sweep's command again "
                        "to finish it and write runs.parquet")
    check_tables(folder, manifest)
    tables = {name: _read_table(folder / name) for name in ("runs.parquet", "steps.parquet")
              if (folder / name).is_file()}
    return SweepResults(folder, tables["runs.parquet"], manifest, tables.get("steps.parquet"))


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise UserError(f"{path}: damaged, not a readable Parquet table ({type(exc).__name__}); re-run the sweep's "
                        "command to rebuild it from the shards") from None


def load_results(folder: str | Path) -> RunResult | SweepResults:
    """The results in a folder: a run's (summary, time series, manifest) or a sweep's (runs, steps, manifest)."""
    folder = Path(folder)
    if is_sweep_folder(folder):
        return load_sweep(folder)
    if is_run_folder(folder):
        return read_run(folder)
    raise UserError(f"{folder}: no results here (a run folder holds manifest.json and summary.json; a sweep folder "
                    "holds manifest.json and runs.parquet)")


def point_summary(runs: pd.DataFrame, varied: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Tidy table: one row per design point and outcome with n, mean, sd, 95% CI and failed count."""
    rows = []
    for pid, group in runs.groupby("point_id", sort=True):
        ok = group[group["status"] == "ok"]
        params = {k: group[k].iloc[0] for k in varied}
        for outcome in outcomes:
            rows.append({"point_id": pid, **params, "outcome": outcome, **mean_ci(ok[outcome]),
                         "failed": int((group["status"] != "ok").sum())})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ plot
def _groups(runs: pd.DataFrame, param: str) -> pd.Series:
    """The x grouping: the values themselves, or quantile bins (labelled by bin centre) for continuous designs."""
    values = runs[param]
    if values.nunique() <= MAX_LEVELS or not pd.api.types.is_numeric_dtype(values):
        return values
    bins = pd.qcut(values.astype(float), q=MAX_LEVELS // 2 + 2, duplicates="drop")
    return bins.map(lambda iv: iv.mid).astype(float)


def plot_sweep(folder: str | Path, outcomes: list[str] | None = None) -> list[Path]:
    """One PNG per varied parameter: each outcome's mean ± 95% CI against that parameter.

    With several varied parameters each panel shows the marginal mean over the others;
    the tidy per-design-point tables (summary.csv / summary.parquet) hold the exact cells.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    results = load_sweep(folder)
    runs, manifest = results.runs, results.manifest
    varied = manifest["varied"]
    summary = point_summary(runs, varied, manifest["summary_outcomes"])
    summary.to_csv(folder / "summary.csv", index=False)
    summary.to_parquet(folder / "summary.parquet", index=False)
    chosen = outcomes or [o for o in KEY_OUTCOMES if o in runs] or manifest["summary_outcomes"][:4]
    ok = runs[runs["status"] == "ok"]
    (folder / "plots").mkdir(exist_ok=True)
    written = []
    for param in varied:
        fig, axes = plt.subplots(1, len(chosen), figsize=(4 * len(chosen), 3.4), squeeze=False)
        for ax, outcome in zip(axes[0], chosen, strict=True):
            _panel(ax, ok, param, outcome)
        fig.suptitle(f"{manifest.get('name', folder.name)}: outcomes vs {param} (mean ± 95% CI)", fontsize=10)
        fig.tight_layout()
        path = folder / "plots" / f"{param}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def _panel(ax, ok: pd.DataFrame, param: str, outcome: str) -> None:
    groups = ok.groupby(_groups(ok, param), sort=True)[outcome]
    cells = [(x, mean_ci(v)) for x, v in groups]
    xs = list(range(len(cells))) if cells and not _numeric(cells[0][0]) else [float(x) for x, _ in cells]
    means = [c["mean"] for _, c in cells]
    lo = [c["mean"] - c["ci_low"] if math.isfinite(c["ci_low"]) else 0 for _, c in cells]
    hi = [c["ci_high"] - c["mean"] if math.isfinite(c["ci_high"]) else 0 for _, c in cells]
    ax.errorbar(xs, means, yerr=[lo, hi], marker="o", capsize=3)
    if cells and not _numeric(cells[0][0]):
        ax.set_xticks(xs, [str(x) for x, _ in cells])
    ax.set_xlabel(param, fontsize=8)
    ax.set_title(outcome, fontsize=9)


def _numeric(x) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, (bool, np.bool_))


# ------------------------------------------------------------------ compare
def paired_differences(runs: pd.DataFrame, labels: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Each scenario minus the first, paired by replicate (same seeds): mean difference with 95% CI.

    ``usable_pairs``: seeds where both runs are ok; ``n_pairs``: those where the outcome is defined in both."""
    ok = runs[runs["status"] == "ok"]
    ref = ok[ok["point_id"] == 0].set_index("replicate")
    rows = []
    for pid, label in enumerate(labels):
        other = ok[ok["point_id"] == pid].set_index("replicate")
        both = ref.index.intersection(other.index)
        for outcome in outcomes:
            diff = other.loc[both, outcome] - ref.loc[both, outcome]
            stats_ = mean_ci(diff)
            rows.append({"scenario": label, "reference": labels[0], "outcome": outcome,
                         "reference_mean": float(ref.loc[both, outcome].mean()),
                         "scenario_mean": float(other.loc[both, outcome].mean()),
                         "difference": stats_["mean"], "sd": stats_["sd"], "ci_low": stats_["ci_low"],
                         "ci_high": stats_["ci_high"], "n_pairs": stats_["n"], "usable_pairs": len(both)})
    return pd.DataFrame(rows[len(outcomes):])  # drop reference − reference


# Words and cells that sensitivity reports and the findings page both print, in the layer below both.
def leading_factors(rows: pd.DataFrame, index: str, floor: float, k: int = 3) -> str:
    """The k leading factors of one outcome with their intervals, "factor 0.10 [0.06, 0.15]; …"; † marks a
    Morris μ* within seed noise (``floor``). docs/sensitivity.md's tables and docs/findings.md's robustness
    paragraphs both write them, so they read alike (here, below both)."""
    ranked = rows[rows["index"] == index].sort_values("value", ascending=False).head(k)
    return "; ".join(f"{r['factor']} {_short(r['value'])} [{_short(r['ci_low'])}, {_short(r['ci_high'])}]"
                     + ("†" if r["value"] <= floor else "") for r in ranked.to_dict("records"))


def _short(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.2f}" if abs(x) >= 0.01 else f"{x:.1g}"


def sign_stability(share_positive: float, points: int) -> str:
    """Whether an effect keeps its sign over the design points, in words: "keeps its sign at every point", or
    "flips at 3 of 640 points (0.5%)" (a count, so a rare flip never reads as "0%")."""
    share = max(share_positive, 1 - share_positive)
    flipped = round((1 - share) * points)
    if flipped == 0:
        return "keeps its sign at every point"
    pct = 100 * flipped / points
    digits = f"{pct:.1g}" if pct < 1 else f"{pct:.1f}" if pct < 10 else f"{pct:.0f}"
    return f"flips at {flipped} of {points} points ({digits}%)"
