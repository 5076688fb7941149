"""What a sensitivity study call did and found: its own module, so the report, the study runner and the
public API can all name it without importing one another."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class SensitivityReport:
    """What a study call did and found (the tables are also in ``out``)."""

    out: Path
    indices: pd.DataFrame
    noise: pd.DataFrame
    convergence: pd.DataFrame
    runs: int
    resumed: int
    failed: int
    seconds: float
    run_seconds: float = 0.0  # compute time of every run of the study, this call's or earlier ones'
