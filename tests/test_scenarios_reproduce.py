"""The effects docs/scenarios.md documents reproduce on seeds it did not use (issue 17).

The doc's numbers come from `experiments/scenarios.py` (root seed 0); here the headline scenarios run again at
full default size on a fresh root seed, fewer replicates (what CI can afford), and each documented significant
effect must agree with the fresh estimate within their joint sampling error (99.7%: three standard errors of
the difference of two independent means).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from coprod_sim import compare

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenarios.md"
HEADLINE = ("out_interest_binding", "in_leading_group")
CHECKED = ("quality.needs_met_share", "cost.public_spending", "governance.approval_wait_median")
FRESH_ROOT_SEED, FRESH_REPLICATES = 9001, 4
CELL = re.compile(r"^([+-][\d.,e+-]+) \[([-\d.,e+]+), ([-\d.,e+]+)\]( \*)?")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def documented() -> dict[tuple[str, str], tuple[float, float, float, int]]:
    """(scenario, outcome label) → (effect, ci_low, ci_high, paired seeds) for every cell the doc marks as excluding zero."""
    text = DOC.read_text(encoding="utf-8")
    replicates = int(re.search(r"with (\d+) paired seeds per scenario", text).group(1))
    out = {}
    for table in re.split(r"\n## ", text):
        head = next((line for line in table.splitlines() if line.startswith("| scenario |")), None)
        if head is None:
            continue
        labels = [c.strip() for c in head.strip("|").split("|")][1:]
        for line in table.splitlines():
            stem = re.search(r"\(`(\w+)`\) \|", line)
            if not stem:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")][1:]
            for label, cell in zip(labels, cells, strict=True):
                match = CELL.match(cell)
                if match and match.group(4):
                    out[stem.group(1), label] = (*map(_number, match.groups()[:3]), replicates)
    return out


@pytest.mark.slow
def test_documented_effects_reproduce_on_fresh_seeds(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("scenarios_script", ROOT / "experiments" / "scenarios.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    labels = script.OUTCOMES
    doc = documented()
    wanted = [(s, o) for s in HEADLINE for o in CHECKED if (s, labels[o]) in doc]
    assert len(wanted) >= 4, f"too few documented significant effects to check: {wanted}"
    configs = [str(ROOT / "configs" / f"{name}.yaml") for name in ("baseline", *HEADLINE)]
    table = compare(configs, replicates=FRESH_REPLICATES, seed=FRESH_ROOT_SEED, outcomes=list(CHECKED),
                    out=tmp_path / "fresh", backend="processes")
    failures = []
    for scenario, outcome in wanted:
        effect, low, high, n_doc = doc[scenario, labels[outcome]]
        row = table[table["scenario"].str.endswith(f"{scenario}.yaml") & (table["outcome"] == outcome)].iloc[0]
        se_doc = (high - low) / 2 / stats.t.ppf(0.975, n_doc - 1)
        se_fresh = (row.ci_high - row.ci_low) / 2 / stats.t.ppf(0.975, row.n_pairs - 1)
        if np.sign(row.difference) != np.sign(effect) or abs(row.difference - effect) > 3 * np.hypot(se_doc, se_fresh):
            failures.append(f"{scenario} {outcome}: documented {effect:+.4g} [{low:.4g}, {high:.4g}], "
                            f"fresh seeds {row.difference:+.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}]")
    assert not failures, "\n".join(failures)
