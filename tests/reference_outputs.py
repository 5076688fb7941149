"""Reference outputs: what the model computes, kept to guard results across refactors.

Scholars cite versions, so a change in results must never slip in unnoticed.
This module runs three shipped scenarios × two seeds at full default size and a
small serial sweep, and keeps their summaries (``reference_outputs.json``), time
series (``reference_timeseries.parquet``) and the sweep's runs table without its
timing column (``reference_sweep_runs.parquet``). ``tests/test_reference_outputs.py``
compares a fresh computation with them.

Two levels of sameness, because the last bits of a float sum depend on the CPU:
numpy picks its vectorised loops (AVX2, AVX-512, ...) and OpenBLAS its kernels
by the processor it runs on, and they add in different orders. So

* on every machine the values must agree to a relative and absolute 1e-9
  (``TOLERANCE``): far below any precision the docs print, far above the
  1e-15 relative spread seen between CPUs;
* on a machine whose arithmetic path (``coprod_sim.runs.provenance.platform_signature``) is the one the
  reference was made on, the bytes must agree too (SHA-256 of ``summary.json``
  and of the time series CSV at full precision).

The **results id** that docs/CHANGELOG.md cites is a hash of the values rounded
to ``ID_DIGITS`` significant digits, so it is the same on every CPU.

A change that alters results regenerates the files in the same commit and adds
an entry to ``docs/CHANGELOG.md`` naming the new ``results_id`` and saying what
changed and why::

    .venv/bin/python tests/reference_outputs.py --update
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
from pathlib import Path

import pandas as pd

from coprod_sim.runs.provenance import ROUNDING_TOLERANCE, platform_signature

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_FILE = Path(__file__).with_name("reference_outputs.json")
TIMESERIES_FILE = Path(__file__).with_name("reference_timeseries.parquet")
SWEEP_RUNS_FILE = Path(__file__).with_name("reference_sweep_runs.parquet")
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
TOLERANCE = {"rtol": ROUNDING_TOLERANCE, "atol": ROUNDING_TOLERANCE}
ID_DIGITS = 8
RUN_KEYS = ("scenario", "seed")


def sha256(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """Hash of a table's values in order (CSV writes floats at full, round-trip precision)."""
    return sha256(frame.to_csv(index=False, lineterminator="\n"))


def _rounded(value: object) -> object:
    """A value as the results id sees it: floats at ID_DIGITS significant digits, noise around zero as 0."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return 0.0 if abs(value) < TOLERANCE["atol"] else float(f"{value:.{ID_DIGITS}g}")
    return value


def results_id(summaries: dict[str, dict], timeseries: pd.DataFrame, sweep_runs: pd.DataFrame) -> str:
    """Fingerprint of the results that is the same on every CPU (values rounded, not bytes)."""
    tables = [[[_rounded(v) for v in row] for row in frame.itertuples(index=False)] for frame in (timeseries, sweep_runs)]
    content = {"summaries": {name: {k: _rounded(v) for k, v in s.items()} for name, s in sorted(summaries.items())},
               "timeseries": [list(timeseries.columns), tables[0]], "sweep": [list(sweep_runs.columns), tables[1]]}
    return sha256(json.dumps(content, sort_keys=True, allow_nan=False))[:12]


def run_outputs(scenario: str, seed: int) -> tuple[dict, pd.DataFrame]:
    """One reference run's summary and time series (with the run's scenario and seed as key columns)."""
    import coprod_sim

    result = coprod_sim.run(scenario, seed=seed)
    return result.summary, result.timeseries.assign(scenario=scenario, seed=seed)[[*RUN_KEYS, *result.timeseries]]


def run_series(timeseries: pd.DataFrame, scenario: str, seed: int) -> pd.DataFrame:
    """One run's rows of the reference time series table."""
    return timeseries[(timeseries["scenario"] == scenario) & (timeseries["seed"] == seed)]


def run_digests(summary: dict, timeseries: pd.DataFrame) -> dict:
    """The bytes of a run's outputs, as a run directory writes them."""
    from coprod_sim.runs import dumps_summary

    return {"summary_sha256": sha256(dumps_summary(summary)),
            "timeseries_sha256": frame_digest(timeseries.drop(columns=list(RUN_KEYS)))}


def sweep_runs() -> pd.DataFrame:
    """The small sweep's runs table, without the columns that time it."""
    import coprod_sim

    with tempfile.TemporaryDirectory() as tmp:
        report = coprod_sim.sweep(SWEEP_SPEC, out=tmp, backend="serial")
        return coprod_sim.load_results(report.out).runs.drop(columns=list(TIMING_COLUMNS))


def compute() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Everything the reference holds: the JSON record and the two tables."""
    runs = {f"{scenario}/seed={seed}": run_outputs(scenario, seed) for scenario in SCENARIOS for seed in SEEDS}
    summaries = {name: summary for name, (summary, _) in runs.items()}
    timeseries, sweep = pd.concat([series for _, series in runs.values()], ignore_index=True), sweep_runs()
    record = {
        "results_id": results_id(summaries, timeseries, sweep),
        "platform": platform_signature(),
        "runs": {name: {"summary": summary, **run_digests(summary, series)} for name, (summary, series) in runs.items()},
        "sweep": {"rows": len(sweep), "runs_sha256": frame_digest(sweep)},
    }
    return record, timeseries, sweep


def load() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The committed reference: the JSON record and the two tables."""
    record = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    return record, pd.read_parquet(TIMESERIES_FILE), pd.read_parquet(SWEEP_RUNS_FILE)


def write(record: dict, timeseries: pd.DataFrame, runs: pd.DataFrame) -> None:
    REFERENCE_FILE.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    timeseries.to_parquet(TIMESERIES_FILE, index=False, compression="zstd")
    runs.to_parquet(SWEEP_RUNS_FILE, index=False, compression="zstd")


def differing_values(want: pd.DataFrame, got: pd.DataFrame) -> str | None:
    """None when two tables agree within TOLERANCE, else pandas' account of the first difference."""
    try:
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_exact=False,
                                      check_dtype=False, **TOLERANCE)
    except AssertionError as difference:
        return str(difference)
    return None


def differing_outcomes(want: dict, got: dict) -> list[str]:
    """The summary outcomes that differ beyond TOLERANCE, as 'key: old → new' (undefined equals undefined)."""
    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=TOLERANCE["rtol"],
                                                                      abs_tol=TOLERANCE["atol"])
        return a == b

    return [f"{k}: {want.get(k)!r} → {got.get(k)!r}" for k in sorted(set(want) | set(got))
            if not same(want.get(k), got.get(k))]


def differences(stored: tuple[dict, pd.DataFrame, pd.DataFrame], fresh: tuple[dict, pd.DataFrame, pd.DataFrame]) -> list[str]:
    """Every way fresh results differ from the reference beyond TOLERANCE, one line each."""
    lines = [f"{name}: {'; '.join(moved)}" for name, run in stored[0]["runs"].items()
             if (moved := differing_outcomes(run["summary"], fresh[0]["runs"].get(name, {}).get("summary", {})))]
    for label, want, got in (("time series", stored[1], fresh[1]), ("sweep runs table", stored[2], fresh[2])):
        if (moved_table := differing_values(want, got)) is not None:
            lines.append(f"{label}: {moved_table}")
    return lines


def byte_differences(want: dict, got: dict) -> list[str]:
    """The runs and tables whose bytes differ between two reference records, one line each (meaningful only
    between records made on the same arithmetic path)."""
    digests = ("summary_sha256", "timeseries_sha256")
    lines = [f"{name}: the bytes changed" for name, run in want["runs"].items()
             if any(run[d] != got["runs"].get(name, {}).get(d) for d in digests)]
    return lines + ["sweep runs table: the bytes changed"] * (want["sweep"] != got["sweep"])


def build_parser() -> argparse.ArgumentParser:
    """The script's options (also read by tests/test_docs.py to check the documented commands)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true",
                        help=f"rewrite {REFERENCE_FILE.name}, {TIMESERIES_FILE.name} and {SWEEP_RUNS_FILE.name}")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    fresh = compute()
    if args.update:
        write(*fresh)
        print(f"wrote the reference: results_id {fresh[0]['results_id']} (bytes from {fresh[0]['platform']['label']})")
        print(f"add an entry to docs/CHANGELOG.md that names results {fresh[0]['results_id']} and says what changed and why")
        return 0
    stored = load()
    moved = differences(stored, fresh)
    here, there = fresh[0]["platform"], stored[0]["platform"]
    if here["id"] == there["id"]:
        moved += byte_differences(stored[0], fresh[0])
        bytes_note = f"bytes compared too (this machine is on the reference's arithmetic path: {here['label']})"
    else:
        bytes_note = f"bytes not compared: this machine computes with {here['label']}, the reference with {there['label']}"
    verdict = "CHANGED" if moved else "same within rtol {rtol:g}, atol {atol:g}".format(**TOLERANCE)
    print(f"results_id: stored {stored[0]['results_id']}, now {fresh[0]['results_id']} ({verdict}); {bytes_note}",
          *moved, sep="\n")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
