"""Looking at sweeps: per-design-point summaries, plots with 95% CIs, paired scenario comparisons.

Confidence intervals are Student-t intervals of the mean across replicates
(``mean ± t(0.975, n−1) · sd / √n``); with one replicate there is no interval.
Failed runs are left out and counted, never silently turned into numbers.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HEADLINE = ["quality.needs_met_share", "quality.satisfaction_mean", "equity.center_periphery_gap",
            "cost.public_spending"]
MAX_LEVELS = 12  # more distinct values than this are binned into quantile groups for plotting


def mean_ci(values: pd.Series | np.ndarray) -> dict[str, float]:
    """n, mean, sd and the 95% t-interval of the mean of finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def load_sweep(folder: str | Path) -> tuple[pd.DataFrame, dict]:
    """runs.parquet and manifest.json of a finished (or consolidated) sweep folder."""
    from .errors import UserError

    folder = Path(folder)
    runs_path, manifest_path = folder / "runs.parquet", folder / "manifest.json"
    if not runs_path.is_file() or not manifest_path.is_file():
        raise UserError(f"{folder}: not a sweep folder (expected runs.parquet and manifest.json; "
                        "run `coprod-sim sweep SPEC --out DIR` first)")
    return pd.read_parquet(runs_path), json.loads(manifest_path.read_text(encoding="utf-8"))


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
    runs, manifest = load_sweep(folder)
    varied = manifest["varied"]
    summary = point_summary(runs, varied, manifest["summary_outcomes"])
    summary.to_csv(folder / "summary.csv", index=False)
    summary.to_parquet(folder / "summary.parquet", index=False)
    chosen = outcomes or [o for o in HEADLINE if o in runs] or manifest["summary_outcomes"][:4]
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


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="sweep output folder (holds runs.parquet and manifest.json)")
    p.add_argument("--outcome", dest="outcomes", action="append", default=None, metavar="NAME",
                   help="outcome to plot (repeatable; default: the headline outcomes)")


def plot_command(args: argparse.Namespace) -> int:
    from .errors import UserError

    runs, _ = load_sweep(args.dir)
    unknown = [o for o in args.outcomes or [] if o not in runs]
    if unknown:
        raise UserError(f"--outcome: {', '.join(unknown)}: not a column of {args.dir}/runs.parquet")
    written = plot_sweep(args.dir, args.outcomes)
    print(f"wrote {args.dir}/summary.csv, summary.parquet and {len(written)} plot(s) in {args.dir}/plots/")
    return 0


# ------------------------------------------------------------------ compare
def paired_differences(runs: pd.DataFrame, labels: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Each scenario minus the first, paired by replicate (same seeds): mean difference with 95% CI."""
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
                         "ci_high": stats_["ci_high"], "n_pairs": stats_["n"]})
    return pd.DataFrame(rows[len(outcomes):])  # drop reference − reference


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    from .sweep import _add_backend_options

    p.add_argument("configs", nargs="+", help="two or more scenario YAML files; the first is the reference")
    p.add_argument("--replicates", type=int, default=10, help="runs per scenario, same seeds for all (default 10)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter in every scenario, e.g. --set population.residents=5000")
    p.add_argument("--out", default=None, help="output folder (default results/compare/<names>)")
    p.add_argument("--outcome", dest="outcomes", action="append", default=None, metavar="NAME",
                   help="outcome to report (repeatable; default: the headline outcomes)")
    _add_backend_options(p)


def compare_command(args: argparse.Namespace) -> int:
    from .errors import UserError
    from .sweep import run_sweep
    from .sweep_spec import plan_from_configs

    if len(args.configs) < 2:
        raise UserError("compare: give at least two config files")
    if args.replicates < 2:
        raise UserError(f"--replicates: expected at least 2 for a confidence interval, found {args.replicates}")
    plan = plan_from_configs(args.configs, args.overrides, args.replicates, args.seed)
    plan.backend = args.backend or ("dask" if args.scheduler else "processes")
    plan.workers = args.workers or plan.workers
    outcomes = args.outcomes or [o for o in HEADLINE if o in plan.summary_outcomes]
    unknown = [o for o in outcomes if o not in plan.summary_outcomes]
    if unknown:
        raise UserError(f"--outcome: {', '.join(unknown)}: unknown outcome")
    out = Path(args.out) if args.out else Path("results") / "compare" / "-vs-".join(Path(c).stem for c in args.configs)
    run_sweep(plan, out, scheduler=args.scheduler, batch_size=args.batch_size)
    runs = pd.read_parquet(out / "runs.parquet")
    table = paired_differences(runs, list(args.configs), outcomes)
    table.to_csv(out / "compare.csv", index=False)
    _print_compare(table)
    print(f"wrote {out}/compare.csv and {out}/runs.parquet")
    return 0


def _print_compare(table: pd.DataFrame) -> None:
    for scenario, group in table.groupby("scenario", sort=False):
        print(f"{scenario} − {group['reference'].iloc[0]} (paired over {int(group['n_pairs'].min())} seeds)")
        for _, r in group.iterrows():
            print(f"  {r['outcome']:<34} {r['reference_mean']:>12.4g} → {r['scenario_mean']:<12.4g} "
                  f"Δ {r['difference']:+.4g}  95% CI [{r['ci_low']:+.4g}, {r['ci_high']:+.4g}]")
