"""What an attribution is and found: its plan and its result, in their own module, so the analysis, the
report and the public API can all name them without importing one another."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..sweeps.engine import SweepReport
from ..sweeps.events import EventStudy
from ..sweeps.spec import SweepPlan
from .components import Component

TOTAL, INTERACTIONS, COMPONENT = "total", "interactions", "component"
TOTAL_NAME, INTERACTIONS_NAME = "total effect", "not explained by solo effects"


@dataclass
class ExplainPlan:
    """An attribution's design: the components, the subsets to run (one design point each) and the sweep."""

    scenario: str
    base: str
    components: list[Component]
    masks: list[int]  # design point i runs subset masks[i]
    orders: np.ndarray | None  # sampled orders (None: exact)
    permutations: int
    sweep: SweepPlan

    @property
    def k(self) -> int:
        return len(self.components)

    @property
    def method(self) -> str:
        return "exact" if self.orders is None else "permutations"


@dataclass
class Attribution:
    """What an attribution call found (the tables and the text are also in ``out``)."""

    out: Path
    plan: ExplainPlan
    table: pd.DataFrame
    by_seed: pd.DataFrame
    text: str
    figures: list[Path] = field(default_factory=list)
    report: SweepReport | None = None
    # the introduction design's time path (None otherwise): the total effect's event study, and each component's
    # Shapley value month by month (``path``) and over the first and last outcome window (``windows``)
    events: EventStudy | None = None
    path: pd.DataFrame | None = None
    windows: pd.DataFrame | None = None


COLUMNS = ["outcome", "kind", "component", "keys", "shapley", "ci_low", "ci_high", "share_of_effect", "share_ci_low",
           "share_ci_high", "solo_effect", "solo_ci_low", "solo_ci_high", "interaction", "interaction_ci_low",
           "interaction_ci_high", "permutation_se", "n_seeds", "method", "base_mean", "scenario_mean"]
