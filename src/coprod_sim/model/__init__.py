"""The simulated world: agents, residents, space, the fund, and one module per stage of the month.

``Model`` is the Mesa model; ``OUTCOMES`` declares what every run reports; the
agent classes are exported for inspecting a model (``model.agents_by_type[Firm]``).
"""

from .consume import Consumption
from .facility import Facility
from .government import Department, LeadingGroup, StreetOffice
from .model import Model, SeedLike, one_blas_thread, seed_from
from .operators import Firm, GovernmentProvider, MutualAidGroup, Operator, SocialOrganization
from .outcomes import (
    DRIFT_Z,
    HEADLINE_KEYS,
    KEY_OUTCOMES,
    MONITOR,
    OUTCOME_BY_KEY,
    OUTCOME_KEYS,
    OUTCOMES,
    SUMMARY_KEYS,
    SUMMARY_ONLY,
    Outcome,
    drift_check,
    places,
    shown_in,
)

__all__ = [
    "DRIFT_Z", "HEADLINE_KEYS", "KEY_OUTCOMES", "MONITOR", "OUTCOMES", "OUTCOME_BY_KEY", "OUTCOME_KEYS", "SUMMARY_KEYS",
    "SUMMARY_ONLY", "Consumption",
    "Department", "Facility", "Firm", "GovernmentProvider", "LeadingGroup", "Model", "MutualAidGroup", "Operator",
    "Outcome", "SeedLike", "SocialOrganization", "StreetOffice", "drift_check", "one_blas_thread", "places", "seed_from",
    "shown_in",
]
