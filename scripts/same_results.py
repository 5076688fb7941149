"""Does a change keep the model's results, bit for bit, on this machine? Compare this tree with a commit.

A change meant to leave results alone ("results unchanged" in docs/CHANGELOG.md: a speed-up, a
restructuring) is checked by running every shipped scenario (``configs/*.yaml``) on two seeds at a
small size, and one run in the introduction design, with this tree and with commit ``REV`` in fresh
processes, and comparing every monthly outcome and every summary value. The reference test
(``tests/test_reference_outputs.py``) guards three scenarios at full size; this check covers every
scenario and so every lever, in about ten seconds a tree. Usage:

    .venv/bin/python scripts/same_results.py --against HEAD

Exit status 0 when every run is identical, 1 when any differs; for those it names the run, the first
month and outcome that differ, and the largest differences (a change in the last bits shows as a
relative difference of about 1e-16; a trajectory that took another turn, as a large one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 3)
SMALL = {"population.residents": 1500, "run.spin_up": 36, "run.steps": 24}
INTRODUCTION = ("party_led", 5)  # a lever package introduced into a spun-up world (run.design: introduction)


class Difference(NamedTuple):
    """How one run differs between two versions."""

    run: str
    where: str  # the first (month, outcome) or summary key that differs
    max_abs: float
    max_rel: float

    def __str__(self) -> str:
        return f"{self.run}: first at {self.where}; largest difference {self.max_abs:.3g} (relative {self.max_rel:.3g})"


def runs(scenarios: list[str] | None = None) -> list[tuple[str, str, int, dict]]:
    """The runs compared: (label, scenario, seed, parameters)."""
    names = scenarios or sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    chosen = [(f"{name}-seed{seed}", name, seed, SMALL) for name in names for seed in SEEDS]
    name, seed = INTRODUCTION
    if scenarios is None or name in scenarios:
        chosen.append((f"{name}-seed{seed}-introduction", name, seed, {**SMALL, "run.design": "introduction"}))
    return chosen


def dump(out: Path, scenarios: list[str] | None = None) -> None:
    """Run every compared run with the model on ``sys.path`` and keep its monthly outcomes and summary."""
    import coprod_sim

    out.mkdir(parents=True, exist_ok=True)
    for label, scenario, seed, params in runs(scenarios):
        result = coprod_sim.run(scenario, seed=seed, params=params)
        result.timeseries.to_parquet(out / f"{label}.parquet")
        summary = {key: value for key, value in result.summary.items() if isinstance(value, (int, float, str, bool))}
        (out / f"{label}.json").write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")


def compare(this: Path, other: Path) -> tuple[int, list[Difference]]:
    """Runs compared, and how each run that is not identical to the bit differs."""
    labels = sorted(p.stem for p in this.glob("*.parquet"))
    missing = sorted({p.stem for p in other.glob("*.parquet")} ^ set(labels))
    if missing:
        raise SystemExit(f"the two versions ran different runs: {', '.join(missing)}")
    differences = [d for label in labels if (d := _difference(label, this, other)) is not None]
    return len(labels), differences


def _difference(label: str, this: Path, other: Path) -> Difference | None:
    a, b = (pd.read_parquet(root / f"{label}.parquet") for root in (this, other))
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return Difference(label, "the outcomes recorded (columns or months differ)", math.inf, math.inf)
    x, y = a.select_dtypes("number").to_numpy(float), b.select_dtypes("number").to_numpy(float)
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    summaries = [json.loads((root / f"{label}.json").read_text(encoding="utf-8")) for root in (this, other)]
    if same.all() and a.equals(b) and summaries[0] == summaries[1]:
        return None
    if same.all():
        keys = [k for k in summaries[0].keys() | summaries[1].keys() if summaries[0].get(k) != summaries[1].get(k)]
        return Difference(label, f"summary {sorted(keys)[0] if keys else '(non-numeric columns)'}", math.nan, math.nan)
    row, column = np.argwhere(~same)[0]
    gap = np.abs(x - y)[~same]
    scale = np.maximum(np.abs(x), np.abs(y))[~same]
    month = a["step"].iloc[row] if "step" in a.columns else row
    where = f"month {month}, {a.select_dtypes('number').columns[column]}"
    return Difference(label, where, float(np.nanmax(gap)), float(np.nanmax(gap / np.where(scale > 0, scale, 1.0))))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", default="HEAD", help="the commit to compare with (default HEAD)")
    parser.add_argument("--scenarios", nargs="+", metavar="NAME", help="only these shipped scenarios (default all)")
    parser.add_argument("--dump", type=Path, metavar="DIR", help=argparse.SUPPRESS)  # one version's runs, in a worker
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.dump:
        dump(args.dump, args.scenarios)
        return 0
    with tempfile.TemporaryDirectory(prefix="same_results_") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), args.against], cwd=ROOT, check=True)
        try:
            for name, src in (("this", ROOT / "src"), ("other", tree / "src")):
                command = [sys.executable, str(Path(__file__).resolve()), "--dump", str(Path(tmp) / name)]
                command += ["--scenarios", *args.scenarios] if args.scenarios else []
                subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(src)})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
        total, differences = compare(Path(tmp) / "this", Path(tmp) / "other")
    print(f"{total} runs ({', '.join(f'{k} = {v}' for k, v in SMALL.items())}; seeds {SEEDS[0]} and {SEEDS[1]})")
    if not differences:
        print(f"this tree and {args.against}: identical to the bit in all {total} runs")
        return 0
    print(f"this tree and {args.against}: {len(differences)} of {total} runs differ")
    for difference in differences:
        print(f"  {difference}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
