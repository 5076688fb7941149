"""Results are versioned: the model's outputs match the committed reference, byte for byte.

If this fails after a change that is *meant* to alter results, regenerate the
reference (``.venv/bin/python tests/reference_outputs.py --update``) and add an
entry to docs/CHANGELOG.md that names the new results id and says what changed
in the results and why. If the change was not meant to alter results, it has a bug.
"""

from __future__ import annotations

import json
import math

import pytest
import reference_outputs as ref
from conftest import ROOT


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads(ref.REFERENCE_FILE.read_text(encoding="utf-8"))


def _changed_outcomes(old: dict, new: dict, limit: int = 8) -> str:
    """The first outcomes that moved, old → new, to make a failure readable."""
    moved = [f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in sorted(set(old) | set(new))
             if not (isinstance(old.get(k), float) and isinstance(new.get(k), float)
                     and (old[k] == new[k] or (math.isnan(old[k]) and math.isnan(new[k]))))]
    return "; ".join(moved[:limit]) + (f"; … {len(moved) - limit} more" if len(moved) > limit else "")


@pytest.mark.parametrize("scenario", ref.SCENARIOS)
def test_runs_match_the_reference(stored: dict, scenario: str) -> None:
    for seed in ref.SEEDS:
        name = f"{scenario}/seed={seed}"
        want, got = stored["runs"][name], ref.run_fingerprint(scenario, seed)
        assert got["summary_sha256"] == want["summary_sha256"], \
            f"{name}: summary.json changed: {_changed_outcomes(want['summary'], got['summary'])}"
        assert got["timeseries_sha256"] == want["timeseries_sha256"], f"{name}: the time series changed"


def test_sweep_runs_table_matches_the_reference(stored: dict) -> None:
    got = ref.sweep_fingerprint()
    assert got["rows"] == stored["sweep"]["rows"]
    assert got["runs_sha256"] == stored["sweep"]["runs_sha256"], "the sweep's runs table changed"


def test_changelog_names_the_current_results(stored: dict) -> None:
    """Every results change is explained: the changelog mentions the results id in force."""
    changelog = (ROOT / "docs" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert stored["results_id"] in changelog, \
        f"docs/CHANGELOG.md does not mention results {stored['results_id']}: say what changed and why"


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
