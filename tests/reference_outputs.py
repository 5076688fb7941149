"""Reference outputs: fingerprints of what the model computes, to guard results across refactors.

Scholars cite versions, so a change in results must never slip in unnoticed.
This module computes, for three shipped scenarios × two seeds at full default
size, the SHA-256 of ``summary.json`` (canonical bytes) and of the time series
(CSV at full float precision), plus the runs table of a small serial sweep
without its timing column. ``tests/test_reference_outputs.py`` compares them
with ``tests/reference_outputs.json``.

A change that alters results regenerates the file in the same commit and adds
an entry to ``docs/CHANGELOG.md`` naming the new ``results_id`` and saying what
changed and why::

    .venv/bin/python tests/reference_outputs.py --update
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_FILE = Path(__file__).with_name("reference_outputs.json")
SCENARIOS = ("baseline", "party_led", "one_station_many_committees")
SEEDS = (0, 1)
SWEEP_SPEC = {
    "base": str(ROOT / "configs" / "baseline.yaml"),
    "set": {"population.residents": 1000, "run.steps": 12, "run.outcome_window": 6},
    "seed": 7,
    "replicates": 2,
    "design": {"type": "factorial", "parameters": {"incentive.assessment_weight": [0.025, 0.3],
                                                   "leading_group.active": [False, True]}},
}
TIMING_COLUMNS = ("runtime_s",)


def sha256(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """Hash of a table's values in order (CSV writes floats at full, round-trip precision)."""
    return sha256(frame.to_csv(index=False, lineterminator="\n"))


def run_fingerprint(scenario: str, seed: int) -> dict:
    import coprod_sim
    from coprod_sim.runs import dumps_summary

    result = coprod_sim.run(scenario, seed=seed)
    return {"summary_sha256": sha256(dumps_summary(result.summary)), "timeseries_sha256": frame_digest(result.timeseries),
            "summary": result.summary}


def sweep_fingerprint() -> dict:
    import coprod_sim

    with tempfile.TemporaryDirectory() as tmp:
        report = coprod_sim.sweep(SWEEP_SPEC, out=tmp, backend="serial")
        runs = coprod_sim.load_results(report.out).runs.drop(columns=list(TIMING_COLUMNS))
    return {"runs_sha256": frame_digest(runs), "rows": len(runs)}


def compute() -> dict:
    runs = {f"{s}/seed={seed}": run_fingerprint(s, seed) for s in SCENARIOS for seed in SEEDS}
    sweep = sweep_fingerprint()
    digests = [r["summary_sha256"] + r["timeseries_sha256"] for r in runs.values()] + [sweep["runs_sha256"]]
    return {"results_id": sha256("".join(digests))[:12], "runs": runs, "sweep": sweep}


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help=f"rewrite {REFERENCE_FILE.name}")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    fresh = compute()
    if args.update:
        REFERENCE_FILE.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {REFERENCE_FILE.relative_to(ROOT)}: results_id {fresh['results_id']}")
        print(f"add an entry to docs/CHANGELOG.md that names results {fresh['results_id']} and says what changed and why")
        return 0
    stored = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    same = stored["results_id"] == fresh["results_id"]
    print(f"results_id: stored {stored['results_id']}, now {fresh['results_id']} ({'same' if same else 'CHANGED'})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
