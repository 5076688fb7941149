"""The institutions in force: what officials' assessment rewards (up) and how residents' needs travel (down).

Both are derived once per run from the levers and read by several actors (the
departments and the street office weigh services by the assessment; residents,
grid workers and operators use the channel), so they are one immutable record
each rather than numbers recomputed, or copied, wherever they are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.params import IncentiveParams, LinkageParams, OperatorsParams
from ..domain import SERVICE_TYPES


@dataclass(frozen=True)
class Assessment:
    """What the promotion assessment counts (seed 001 up; seed 003 KPI bias; Holmström & Milgrom 1991).

    ``weights``: attention each service type gets, 1 if counted, else ``incentive.uncounted_attention``;
    ``quality_monitored``: 1 if the assessment counts quality (monitored contracts reward it), else 0.
    """

    weights: np.ndarray  # (K,)
    quality_monitored: float

    @classmethod
    def from_params(cls, incentive: IncentiveParams) -> Assessment:
        counted = set(incentive.counted_services)
        weights = np.array([1.0 if s in counted else incentive.uncounted_attention for s in SERVICE_TYPES])
        return cls(weights, 1.0 if incentive.counts in ("quality", "both") else 0.0)


@dataclass(frozen=True)
class DemandChannel:
    """The mass-contact channel through which needs reach planners (seed 001 down; seed 003 grid).

    Technology (``linkage.information_sharing``) widens and sharpens the channel but
    changes no incentive (seed 001): it raises reach and accuracy, nothing else.
    """

    reach: float  # probability that a need or an issue is picked up in a month
    accuracy: float  # 1 − the noise of what planners hear
    feedback_loop: float  # probability that a report is answered
    report_threshold: float  # unmet share above which a resident reports

    @classmethod
    def from_params(cls, linkage: LinkageParams) -> DemandChannel:
        info = linkage.information_sharing
        reach = linkage.channel_reach + (1 - linkage.channel_reach) * info * linkage.info_reach_gain
        accuracy = linkage.channel_accuracy + (1 - linkage.channel_accuracy) * info
        return cls(reach, accuracy, linkage.feedback_loop, linkage.report_threshold)


def trust_growth(operators: OperatorsParams, linkage: LinkageParams) -> float:
    """Monthly growth of residents' trust in an operator; three-way linkage speeds it (seed 004)."""
    return operators.trust_growth * (1.0 + linkage.three_way_linkage)
