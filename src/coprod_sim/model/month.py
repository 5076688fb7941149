"""What happened in the current month: the events the outcomes count, gathered by the stages as they happen.

Reset at the start of every month, so governance and operator outcomes are monthly flows that can settle
to a stationary level (a mean over the whole run cannot), and nothing grows with the length of a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MonthRecord:
    approval_delays: list[int] = field(default_factory=list)  # months each approval finished this month took
    response_times: list[int] = field(default_factory=list)  # months each issue closed this month was open
    entries: int = 0  # firms, state-owned firms and social organisations that entered
    exits: int = 0  # ... that exited
    outside_operators: int = 0  # firms, state-owned firms and social organisations at the start of the month
    closures: int = 0  # public facilities closed for want of funding
    reports: int = 0  # unmet needs residents reported through the channel
    volunteer_hours: np.ndarray = field(default_factory=lambda: np.zeros(0))  # by community
