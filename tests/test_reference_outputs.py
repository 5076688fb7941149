"""Results are versioned: the model's outputs match the committed reference.

On every machine the values agree to 1e-9 (relative and absolute); on a machine whose
arithmetic path is the reference's own (same numpy loops, same OpenBLAS kernel) they
agree byte for byte as well. The last bits of a float sum depend on the CPU's vector
instructions, which is why bytes are compared only there (tests/reference_outputs.py says more).

If this fails after a change that is *meant* to alter results, regenerate the
reference (``.venv/bin/python tests/reference_outputs.py --update``) and add an
entry to docs/CHANGELOG.md that names the new results id and says what changed
in the results and why. If the change was not meant to alter results, it has a bug.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import reference_outputs as ref
from conftest import ROOT

from coprod_sim.runs.provenance import dispatch_targets, platform_signature


@pytest.fixture(scope="module")
def stored() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    return ref.load()


@pytest.fixture(scope="module")
def same_arithmetic(stored: tuple[dict, pd.DataFrame, pd.DataFrame]) -> bool:
    """Whether this machine computes with the reference's numpy loops and BLAS kernel (then bytes must match)."""
    return platform_signature()["id"] == stored[0]["platform"]["id"]


@pytest.mark.parametrize("scenario", ref.SCENARIOS)
def test_runs_match_the_reference(stored: tuple, same_arithmetic: bool, scenario: str) -> None:
    record, timeseries, _ = stored
    for seed in ref.SEEDS:
        name = f"{scenario}/seed={seed}"
        want = record["runs"][name]
        summary, series = ref.run_outputs(scenario, seed)
        moved = ref.differing_outcomes(want["summary"], summary)
        assert not moved, f"{name}: summary.json changed beyond {ref.TOLERANCE}: {'; '.join(moved[:8])}"
        moved_series = ref.differing_values(ref.run_series(timeseries, scenario, seed), series)
        assert moved_series is None, f"{name}: the time series changed: {moved_series}"
        if same_arithmetic:
            digests = ref.run_digests(summary, series)
            assert digests["summary_sha256"] == want["summary_sha256"], f"{name}: summary.json changed in its bytes"
            assert digests["timeseries_sha256"] == want["timeseries_sha256"], f"{name}: the time series changed in its bytes"


def test_sweep_runs_table_matches_the_reference(stored: tuple, same_arithmetic: bool) -> None:
    record, _, want = stored
    got = ref.sweep_runs()
    assert len(got) == record["sweep"]["rows"] == len(want)
    moved = ref.differing_values(want, got)
    assert moved is None, f"the sweep's runs table changed: {moved}"
    if same_arithmetic:
        assert ref.frame_digest(got) == record["sweep"]["runs_sha256"], "the sweep's runs table changed in its bytes"


def test_results_hold_on_numpy_baseline_loops(stored: tuple) -> None:
    """Another CPU, simulated: with numpy's vector dispatch turned off (NPY_DISABLE_CPU_FEATURES), sums run
    in another order, as on an older processor, and a run must still agree with the reference within the
    tolerance. This is the path CI takes on a machine unlike the reference's."""
    record, timeseries, _ = stored
    script = ("import json, sys; sys.path.insert(0, 'tests'); import reference_outputs as ref; "
              "summary, series = ref.run_outputs('party_led', 1); series.to_parquet(sys.argv[1]); "
              "print(json.dumps({'summary': summary, 'platform': ref.platform_signature()}))")
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "series.parquet"
        env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=" ".join(dispatch_targets()))
        done = subprocess.run([sys.executable, "-c", script, str(table)], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stderr
        other = json.loads(done.stdout.splitlines()[-1])
        series = pd.read_parquet(table)
    assert all(loop.startswith("baseline") for loop in other["platform"]["loops"]), other["platform"]
    assert ref.differing_outcomes(record["runs"]["party_led/seed=1"]["summary"], other["summary"]) == []
    assert ref.differing_values(ref.run_series(timeseries, "party_led", 1), series) is None


def test_the_reference_is_consistent(stored: tuple) -> None:
    """The committed files agree with each other: the results id is the stored values' own, and each run's
    digests are its stored time series' bytes (a hand edit or a partial update fails here)."""
    record, timeseries, runs = stored
    summaries = {name: run["summary"] for name, run in record["runs"].items()}
    assert ref.results_id(summaries, timeseries, runs) == record["results_id"]
    assert len(record["runs"]) == len(ref.SCENARIOS) * len(ref.SEEDS)
    for name, run in record["runs"].items():
        scenario, seed = name.split("/seed=")
        series = ref.run_series(timeseries, scenario, int(seed))
        assert len(series) > 0
        assert ref.run_digests(run["summary"], series) == {k: run[k] for k in ("summary_sha256", "timeseries_sha256")}
    assert ref.frame_digest(runs) == record["sweep"]["runs_sha256"]
    # the script's own comparisons find nothing between the reference and itself (undefined outcomes included)
    assert ref.differences(stored, stored) == [] and ref.byte_differences(record, record) == []
    name = next(iter(record["runs"]))
    altered = {**record, "runs": {**record["runs"], name: {**record["runs"][name], "timeseries_sha256": "0" * 64}}}
    assert ref.byte_differences(record, altered) == [f"{name}: the bytes changed"]


def test_the_tolerance_tells_a_last_bit_from_a_change(stored: tuple) -> None:
    """The comparison forgives what CPUs differ by (1e-15 relative, noise around zero) and nothing a result
    change could be: a shift of one part in a million fails, in a summary and in a table."""
    record, timeseries, _ = stored
    summary = record["runs"]["baseline/seed=0"]["summary"]
    key = next(k for k, v in summary.items() if isinstance(v, float) and abs(v) > 1)
    last_bit = dict(summary, **{key: summary[key] * (1 + 4e-16)})
    assert ref.differing_outcomes(summary, last_bit) == []
    assert len(ref.differing_outcomes(summary, dict(summary, **{key: summary[key] * (1 + 1e-6)}))) == 1
    column = next(c for c in timeseries.columns if timeseries[c].dtype == float and timeseries[c].abs().max() > 1)
    assert ref.differing_values(timeseries, timeseries.assign(**{column: timeseries[column] * (1 + 4e-16)})) is None
    assert column in (ref.differing_values(timeseries, timeseries.assign(**{column: timeseries[column] * (1 + 1e-6)}))
                      or "")


def test_changelog_names_the_current_results(stored: tuple) -> None:
    """Every results change is explained: the changelog mentions the results id in force."""
    changelog = (ROOT / "docs" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert stored[0]["results_id"] in changelog, \
        f"docs/CHANGELOG.md does not mention results {stored[0]['results_id']}: say what changed and why"


def test_the_environment_has_the_pinned_versions() -> None:
    """The reference holds bit for bit only under the versions in constraints.txt (a numpy or pandas release
    can change a sum's last bit); a set-up that drifted from them fails here, not as a puzzling digest."""
    from importlib.metadata import PackageNotFoundError, version

    pins = [line.split("==") for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert len(pins) > 20 and all(len(pin) == 2 for pin in pins)
    drifted = []
    for name, pinned in pins:
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        if installed != pinned:
            drifted.append(f"{name} {installed} (pinned {pinned})")
    assert not drifted, "re-run scripts/setup.sh; installed versions differ from constraints.txt: " + ", ".join(drifted)
