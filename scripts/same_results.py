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

A change that reorders a sum (fewer terms of exact zeros, another grouping) moves the last bits but no
value beyond rounding and no choice: its results id stays, and only the reference's bytes are regenerated
(docs/CHANGELOG.md). ``--rounding-ok`` checks exactly that, exiting 0 when every difference is rounding:

    .venv/bin/python scripts/same_results.py --against HEAD --rounding-ok --full-size --seeds 10

With ``--arithmetic`` it compares this tree with itself computed as another CPU would compute it
(numpy's vector loops off and another OpenBLAS kernel; ``provenance.other_arithmetic_env``). The last
bits of a float sum depend on the processor, so rounding differences (relative ≤ 1e-9) are expected
there; the exit status is 1 when a run *took another path*, i.e. a last-bit difference tipped a discrete
choice. ``--full-size --seeds 10`` asks that of every scenario at its default size (about five minutes):

    .venv/bin/python scripts/same_results.py --arithmetic --full-size --seeds 10
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


# a difference within this, relative and absolute, is the last bits of a sum: coprod_sim.runs.provenance's
# ROUNDING_TOLERANCE (tested equal), not imported here because the --dump child runs other commits' code
ROUNDING = 1e-9


class Difference(NamedTuple):
    """How one run differs between two versions."""

    run: str
    where: str  # the first (month, outcome) or summary key that differs
    max_abs: float
    max_rel: float
    rounding_only: bool = False  # every value within ROUNDING: the run made the same choices, not another path

    def __str__(self) -> str:
        return f"{self.run}: first at {self.where}; largest difference {self.max_abs:.3g} (relative {self.max_rel:.3g})"


class Runs(NamedTuple):
    """Which runs are compared: the scenarios (None: every shipped one), the seeds, and the size."""

    scenarios: list[str] | None = None
    seeds: tuple[int, ...] = SEEDS
    full_size: bool = False

    def __str__(self) -> str:
        size = "default size" if self.full_size else ", ".join(f"{k} = {v}" for k, v in SMALL.items())
        return f"{size}; seeds {', '.join(map(str, self.seeds))}"

    def options(self) -> list[str]:
        """The same choice as command-line options (for the child processes that run them)."""
        return ([*(["--scenarios", *self.scenarios] if self.scenarios else []), "--seed-list", *map(str, self.seeds)]
                + (["--full-size"] if self.full_size else []))


DEFAULT_RUNS = Runs()


def runs(chosen: Runs = DEFAULT_RUNS) -> list[tuple[str, str, int, dict]]:
    """The runs compared: (label, scenario, seed, parameters)."""
    names = chosen.scenarios or sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    size = {} if chosen.full_size else SMALL
    out = [(f"{name}-seed{seed}", name, seed, size) for name in names for seed in chosen.seeds]
    name, seed = INTRODUCTION
    if chosen.scenarios is None or name in chosen.scenarios:
        out.append((f"{name}-seed{seed}-introduction", name, seed, {**size, "run.design": "introduction"}))
    return out


def dump(out: Path, chosen: Runs = DEFAULT_RUNS) -> None:
    """Run every compared run with the model on ``sys.path`` and keep its monthly outcomes and summary."""
    import coprod_sim
    from coprod_sim.runs.provenance import platform_signature

    out.mkdir(parents=True, exist_ok=True)
    (out / "platform.txt").write_text(platform_signature()["label"], encoding="utf-8")
    for label, scenario, seed, params in runs(chosen):
        result = coprod_sim.run(scenario, seed=seed, params=params or None, cache=False)
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
        return Difference(label, f"summary {sorted(keys)[0] if keys else '(non-numeric columns)'}", math.nan, math.nan,
                          not _summary_beyond_rounding(*summaries, keys))
    row, column = np.argwhere(~same)[0]
    gap = np.abs(x - y)[~same]
    scale = np.maximum(np.abs(x), np.abs(y))[~same]
    month = a["step"].iloc[row] if "step" in a.columns else row
    where = f"month {month}, {a.select_dtypes('number').columns[column]}"
    return Difference(label, where, float(np.nanmax(gap)), float(np.nanmax(gap / np.where(scale > 0, scale, 1.0))),
                      not np.any(gap > ROUNDING * np.maximum(1.0, scale)))


def _summary_beyond_rounding(this: dict, other: dict, keys: list[str]) -> bool:
    """Whether summary values that differ do so beyond rounding (a text or a missing value always does)."""
    for key in keys:
        a, b = this.get(key), other.get(key)
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        if not numbers or not math.isclose(a, b, rel_tol=ROUNDING, abs_tol=ROUNDING):
            return True
    return False


def _commit(text: str) -> str:
    """``--against``: a commit of this repository (``cli.runs.commit_option``), imported when an option is checked,
    not with this script: the ``--dump`` child runs another commit's package."""
    from coprod_sim.cli.runs import commit_option

    return commit_option(ROOT)(text)


def _seeds(text: str) -> int:
    """``--seeds``: a whole number ≥ 1 (``cli.runs.whole_number_option``), imported when checked, as ``_commit``."""
    from coprod_sim.cli.runs import whole_number_option

    return whole_number_option(1)(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    against = parser.add_mutually_exclusive_group()
    against.add_argument("--against", metavar="REV", default=None, type=_commit,
                         help="the commit to compare with (default HEAD)")
    against.add_argument("--arithmetic", action="store_true",
                         help="compare this tree with itself computed as another CPU would (numpy's vector loops off, "
                              "another OpenBLAS kernel)")
    parser.add_argument("--rounding-ok", action="store_true",
                        help="with --against: exit 0 when every difference is rounding only (a change that reorders "
                             "sums: values and results id unchanged, the reference's bytes regenerated)")
    parser.add_argument("--scenarios", nargs="+", metavar="NAME", help="only these shipped scenarios (default all)")
    parser.add_argument("--seeds", type=_seeds, metavar="N", help="seeds 0 … N−1 (default: seeds 0 and 3)")
    parser.add_argument("--full-size", action="store_true", help="each scenario at its default size, not small")
    parser.add_argument("--seed-list", type=int, nargs="+", help=argparse.SUPPRESS)  # the seeds, in a worker
    parser.add_argument("--dump", type=Path, metavar="DIR", help=argparse.SUPPRESS)  # one version's runs, in a worker
    return parser


def _dump_in_child(out: Path, chosen: Runs, src: Path, env: dict[str, str] | None = None) -> None:
    """Run the compared runs in a fresh process with ``src`` first on its path (and ``env`` set before numpy loads)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--dump", str(out), *chosen.options()]
    subprocess.run(command, check=True, env={**os.environ, **(env or {}), "PYTHONPATH": str(src)})


def _versions(tmp: Path, args: argparse.Namespace, chosen: Runs) -> str:
    """Run both versions into ``tmp/this`` and ``tmp/other``; return how the other is named."""
    if args.arithmetic:
        from coprod_sim.runs.provenance import other_arithmetic_env

        _dump_in_child(tmp / "this", chosen, ROOT / "src")
        env = other_arithmetic_env()
        _dump_in_child(tmp / "other", chosen, ROOT / "src", env)
        return "this tree on another arithmetic path (" + " ".join(f"{k}='{v}'" for k, v in env.items()) + ")"
    tree = tmp / "tree"
    against = args.against or "HEAD"  # no default in the parser: a default would be checked in the --dump child too
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), against], cwd=ROOT, check=True)
    try:
        _dump_in_child(tmp / "this", chosen, ROOT / "src")
        _dump_in_child(tmp / "other", chosen, tree / "src")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    return against


def main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    if args.scenarios and not args.dump:
        from coprod_sim import shipped_scenarios

        unknown = sorted(set(args.scenarios) - set(shipped_scenarios()))
        if unknown:
            parser.error(f"--scenarios: expected shipped scenarios ({', '.join(shipped_scenarios())}), found "
                         f"{', '.join(unknown)}")
    seeds = tuple(args.seed_list or (range(args.seeds) if args.seeds else SEEDS))
    chosen = Runs(args.scenarios, seeds, args.full_size)
    if args.dump:
        dump(args.dump, chosen)
        return 0
    with tempfile.TemporaryDirectory(prefix="same_results_") as tmp:
        other = _versions(Path(tmp), args, chosen)
        platforms = [(Path(tmp) / name / "platform.txt").read_text(encoding="utf-8") for name in ("this", "other")]
        total, differences = compare(Path(tmp) / "this", Path(tmp) / "other")
    print(f"{total} runs ({chosen})")
    if args.arithmetic:
        print(f"  arithmetic here:  {platforms[0]}\n  arithmetic there: {platforms[1]}")
    if not differences:
        print(f"this tree and {other}: identical to the bit in all {total} runs")
        return 0
    print(f"this tree and {other}: {len(differences)} of {total} runs differ")
    for difference in differences:
        print(f"  {difference}" + ("  [rounding only]" if difference.rounding_only else "  [took another path]"))
    if args.arithmetic or args.rounding_ok:
        paths = sum(not d.rounding_only for d in differences)
        print(f"{paths} of {total} runs took another path (a last-bit difference tipped a discrete choice)")
    return exit_status(differences, args.arithmetic or args.rounding_ok)


def exit_status(differences: list[Difference], rounding_ok: bool) -> int:
    """0 when no run differs, or when ``rounding_ok`` and every difference is the last bits of a sum; else 1."""
    if rounding_ok:
        return int(any(not d.rounding_only for d in differences))
    return int(bool(differences))


if __name__ == "__main__":
    raise SystemExit(main())
