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

    def _repr_html_(self) -> str:
        """Jupyter: the study's size and, per outcome, its strongest factors by the first index."""
        from ..runs.notebook import card

        table = None
        if len(self.indices):
            first = self.indices["index"].iloc[0]
            chosen = self.indices[self.indices["index"] == first]
            table = (chosen.sort_values("value", ascending=False).groupby("outcome", sort=False).head(3)
                     [[c for c in ("outcome", "factor", "index", "value", "ci_low", "ci_high") if c in chosen]])
        return card("SensitivityReport", {"folder": self.out, "runs": self.runs, "resumed": self.resumed,
                                          "failed": self.failed, "seconds": round(self.seconds, 1)}, table)
