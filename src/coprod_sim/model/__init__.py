"""The simulated world: agents, residents, space, the fund, and one module per stage of the month.

``Model`` is the Mesa model; ``OUTCOMES`` declares what every run reports.
"""

from .consume import Consumption
from .model import Model, SeedLike, seed_from
from .outcomes import HEADLINE_KEYS, KEY_OUTCOMES, OUTCOME_KEYS, OUTCOMES, SUMMARY_KEYS, Outcome

__all__ = ["HEADLINE_KEYS", "KEY_OUTCOMES", "OUTCOMES", "OUTCOME_KEYS", "SUMMARY_KEYS", "Consumption", "Model", "Outcome", "SeedLike",
           "seed_from"]
