"""Example sensitivity studies; each run regenerates its own section of docs/sensitivity.md.

    .venv/bin/python experiments/sensitivity.py levers        # Sobol: levers ranked for quantity, quality, equity, cost
    .venv/bin/python experiments/sensitivity.py assumptions   # Morris: which assumptions drive the headline effects

``levers`` runs experiments/sensitivity_levers.yaml. ``assumptions`` builds its
spec from the parameter registry at run time (every parameter whose source is
an assumption, in a plausible range around its default) and saves it as
``DIR/spec.yaml``. Both resume when run again (finished runs are kept).
``--samples`` and ``--replicates`` make a smaller study (its doc section says it
is reduced and names the command); ``--set`` changes the world, for checking the
machinery only (its section then says it is a smoke test, not a result).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import coprod_sim
from coprod_sim import cli
from coprod_sim.cli.runs import whole_number_option
from coprod_sim.config import read_yaml
from coprod_sim.config.registry import ASSUMPTION, by_role, study_levers
from coprod_sim.experiments.generated import results_stamp
from coprod_sim.model import KEY_OUTCOMES
from coprod_sim.sweeps.analysis import leading_factors, sign_stability

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "sensitivity.md"
LEVER_SPEC = ROOT / "experiments" / "sensitivity_levers.yaml"
HEADLINE_SCENARIOS = ["up_incentives", "down_mass_contact", "in_leading_group", "out_interest_binding"]
SPREAD = 0.5  # plausible range: default × (1 ± SPREAD), within the registry's range


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=("levers", "assumptions"))
    parser.add_argument("--out", default=None, help="study folder (default results/sensitivity/<study>)")
    parser.add_argument("--samples", type=whole_number_option(1), default=None,
                        help="base N / Morris trajectories (default: the study's)")
    parser.add_argument("--replicates", type=whole_number_option(1), default=None, help="replicates per point (default: the study's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="fixed override for every run, e.g. --set run.spin_up=0 (marks a smoke test)")
    parser.add_argument("--backend", default=None, help="serial, processes or dask (default: processes)")
    parser.add_argument("--workers", type=whole_number_option(1), default=None)
    parser.add_argument("--dry-run", action="store_true", help="print the run count and a time estimate only")
    return parser


# ------------------------------------------------------------------ specs
def lever_spec() -> dict[str, Any]:
    """The lever study: its settings from experiments/sensitivity_levers.yaml, its factors from the registry
    (every lever with a ``study`` range); a test keeps the file's list equal to the registry's."""
    spec = read_yaml(LEVER_SPEC)
    return {**spec, "design": {**spec["design"], "parameters": study_levers()}}


def plausible(p: Any) -> Any:
    """A factor entry around a parameter's default: ±50% within its registry range, both booleans, every choice."""
    if p.type == "boolean":
        return [False, True]
    if p.type == "enum":
        return list(p.choices)
    return around(float(p.default), p.range, p.type == "integer")


def around(default: float, valid: Any, integer: bool = False) -> dict[str, list[float]] | None:
    """The range default × (1 ± SPREAD) within the valid range (a quarter of it above its low end for a zero
    default, which gives no scale), or None when that leaves nothing to vary."""
    lo, hi = (float(v) for v in valid)
    d = default
    low, high = (max(lo, d * (1 - SPREAD)), min(hi, d * (1 + SPREAD))) if d else (lo, lo + (hi - lo) / 4)
    if integer:
        low, high = math.floor(low), math.ceil(high)
        return {"range": [int(low), int(high)]} if high > low else None
    return {"range": [low, high]} if high > low else None


def table_entries(p: Any) -> dict[str, dict[str, list[float]]]:
    """A per-service / per-household table as factors, one per entry (``table.entry``), each ±SPREAD around
    its own default within the table's range. An entry whose default is 0 stays 0: ±50% of zero is zero, and
    these zeros say a household type has no such need (the elderly do not use children's play), not that a
    need is small; the zero-default rule for scalars would invent a need of a quarter of the range."""
    out = {}
    for name, default in p.default.items():
        entry = around(float(default), p.range) if default else None
        if entry is not None:
            out[f"{p.key}.{name}"] = entry
    return out


def assumption_spec() -> dict[str, Any]:
    """Morris over every parameter of role ``assumption`` whose value is itself an assumption (the registry's
    source says so), for the headline outcomes' scenario effects. Levers and run settings (length, population
    size) are not assumptions about the world.

    A scalar is one factor. A per-service / per-household table is one Morris group (``design.groups``, named
    by the table's key) of one factor per entry (:func:`table_entries`): its entries move together in a
    trajectory, so the screen costs one step per table instead of one per entry, and μ* is the table's.

    ``population.household_shares`` is a table whose entries are read jointly: the model normalises them to
    sum to 1 (``residents.create_residents``), and the config only requires one of them to be positive. Its
    entries are therefore varied as relative weights, each ±50% of its default, which keeps every design
    point valid (every weight in (0, 1)) and explores the household mix in every direction: a type's share
    then lies between d / (3 − 2d) and 3d / (1 + 2d), d being its default share (elderly: 0.10 to 0.50
    around 0.25). Moving every weight by the same factor changes nothing after normalisation; a Morris step that
    happens to do so gives a zero effect, which dilutes the table's μ* rather than inflating it.
    """
    factors: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    for p in by_role(ASSUMPTION):
        if not p.source.startswith("assumption"):
            continue
        if p.type.startswith("per_"):
            entries = table_entries(p)
            factors.update(entries)
            groups[p.key] = list(entries)
            continue
        entry = plausible(p)
        if entry is not None:
            factors[p.key] = entry
    return {"name": "assumptions", "base": "baseline", "seed": 17, "seed_scheme": "common", "replicates": 2,
            "design": {"type": "morris", "samples": 4, "levels": 4, "parameters": factors, "groups": groups},
            "analysis": {"outcomes": list(KEY_OUTCOMES), "effects": HEADLINE_SCENARIOS, "levels": False,
                         "missing": "drop_points"},
            "backend": "processes", "workers": 2}


def with_options(spec: dict[str, Any], args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The spec with the command line's size and overrides, and what the doc section must say about it:
    a smoke test when the world itself was changed (``--set``), a reduced size when only N or the
    replicates are smaller than the study's, nothing at full size."""
    full = {"samples": spec["design"]["samples"], "replicates": spec.get("replicates")}
    spec = {**spec, "design": dict(spec["design"]), "set": dict(spec.get("set") or {})}
    if args.samples:
        spec["design"]["samples"] = args.samples
    if args.replicates:
        spec["replicates"] = args.replicates
    for item in args.overrides:
        key, _, value = item.partition("=")
        spec["set"][key] = yaml.safe_load(value)
    if args.overrides:
        return spec, ("**Smoke test, not a result:** this section was generated on a changed world to check the "
                      "machinery.")
    smaller = [f"{what} {spec['design']['samples'] if what == 'N =' else spec['replicates']} instead of the study's "
               f"{full['samples'] if what == 'N =' else full['replicates']}"
               for what, given in (("N =", args.samples), ("replicates", args.replicates))
               if given and given < (full["samples"] if what == "N =" else full["replicates"] or 0)]
    if smaller:
        return spec, (f"**Reduced size:** {', '.join(smaller)}, to fit the time available; intervals are wider "
                      "than at full size.")
    return spec, ""


# ------------------------------------------------------------------ doc section
def section(name: str, command: str, report: Any, size_note: str) -> str:
    """The study's part of docs/sensitivity.md: what was run, how long it took, the leading factors."""
    meta = pd.read_json(report.out / "sensitivity.json", typ="series")
    rank = "ST" if meta["method"] == "sobol" else "mu_star"
    noise = report.noise.set_index("outcome")
    lines = [f"<!-- study:{name} begin (generated by `{command}`; do not edit by hand) -->", ""]
    if size_note:
        lines += [f"> {size_note} The full study: `.venv/bin/python experiments/sensitivity.py {name}`.", ""]
    lines += [f"Generated by `{command}`: {meta['method']} ({meta['design']} design), N = {meta['samples']}, "
              f"{meta['replicates']} replicates ({meta['seed_scheme']} seeds), {_factors(meta)}, "
              f"{meta['runs']} runs taking {report.run_seconds / 60:.1f} min of compute in all (wall time "
              f"{_wall(report)} on this {os.cpu_count()}-core machine). Full report: `{_rel(report.out)}/report.md`; "
              "table: "
              f"`{_rel(report.out)}/indices.csv`. " + results_stamp(), "",
              f"| outcome | leading factors by {rank.replace('mu_star', 'μ*')} [95% CI] | seed noise (single runs) |"
              + (" effect sign stable? |" if meta["effects"] else ""),
              "|---|---|---|" + ("---|" if meta["effects"] else "")]
    for label, rows in report.indices.groupby("outcome", sort=False):
        n = noise.loc[label]
        cells = [str(label), leading_factors(rows, rank, n["morris_noise_floor"]), f"{100 * n['noise_share']:.0f}%" if math.isfinite(
            n["noise_share"]) else "–"]
        if meta["effects"]:
            stability = sign_stability(n["share_positive"], int(n["points_used"]))
            cells.append(f"yes: {stability}" if stability.startswith("keeps") else f"no: {stability}")
        lines.append("| " + " | ".join(cells) + " |")
    if rank == "mu_star":
        lines += ["", "† μ* at or below what seed noise alone would give (`morris_noise_floor` in noise.csv): not "
                      "shown to matter; more replicates would tell."]
    lines += ["", f"<!-- study:{name} end -->"]
    return "\n".join(lines)


def _factors(meta: pd.Series) -> str:
    """How many factors, and in how many groups when tables were screened as one group each."""
    groups = meta.get("groups") or {}
    if not groups:
        return f"{len(meta['factors'])} factors"
    count = len(meta["factors"]) - sum(len(keys) for keys in groups.values()) + len(groups)
    tables = f"{len(groups)} table" + ("s, one group each" if len(groups) > 1 else " as one group")
    return f"{len(meta['factors'])} factors in {count} groups ({tables})"


def _wall(report: Any) -> str:
    """This call's wall time, or (when runs were reused) an estimate from the runs' compute time."""
    if not report.resumed:
        return f"{report.seconds / 60:.1f} min"
    workers = min(2, os.cpu_count() or 1)
    return f"≈ {report.run_seconds / 60 / workers:.1f} min on {workers} workers, from the runs' compute time"


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def write_section(name: str, text: str) -> None:
    """Replace the study's marked section of docs/sensitivity.md (the rest of the page is written by hand)."""
    doc = DOC.read_text(encoding="utf-8")
    pattern = re.compile(rf"<!-- study:{name} begin.*?<!-- study:{name} end -->", re.S)
    if not pattern.search(doc):
        raise SystemExit(f"{DOC}: no section marked <!-- study:{name} begin … end -->")
    DOC.write_text(pattern.sub(lambda _: text, doc), encoding="utf-8")


def main() -> None:
    args = build_parser().parse_args()
    spec, size_note = with_options(lever_spec() if args.study == "levers" else assumption_spec(), args)
    out = Path(args.out or ROOT / "results" / "sensitivity" / args.study)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if args.dry_run:
        from coprod_sim.cli import main as cli_main

        extra = ["--backend", args.backend] if args.backend else []
        raise SystemExit(cli_main(["sensitivity", str(out / "spec.yaml"), "--out", str(out), "--dry-run", *extra]))
    report = coprod_sim.sensitivity(spec, out, backend=args.backend, workers=args.workers)
    command = " ".join([".venv/bin/python experiments/sensitivity.py", args.study,
                        *([f"--samples {args.samples}"] if args.samples else []),
                        *([f"--replicates {args.replicates}"] if args.replicates else []),
                        *(f"--set {item}" for item in args.overrides)])
    write_section(args.study, section(args.study, command, report, size_note))
    print(f"{args.study}: {report.runs} runs in {report.seconds / 60:.1f} min → {out}/report.md; updated {DOC}")


if __name__ == "__main__":
    sys.exit(cli.guarded(main))
