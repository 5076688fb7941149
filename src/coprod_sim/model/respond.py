"""Downstream stage, part 3: residents rate what they got, voice unmet needs, and learn whether voicing pays.

Satisfaction follows expectation–disconfirmation (§7.14); a resident with
unmet need reports it through the channel with a probability that it learns
from whether reports are answered and service meets expectations (§7.15).
The street office hears the reports, with noise (docs/ODD.md §3, step 13).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .institutions import DemandChannel

if TYPE_CHECKING:
    from .consume import Consumption
    from .model import Model


def rate_and_report(model: Model, use: Consumption, channel: DemandChannel) -> None:
    """Residents rate, voice unmet needs through the ``channel``, and learn whether voicing pays; the street
    office listens."""
    res = model.residents
    burden = model.issues.burden_per_resident()
    res.issue_burden = burden  # open issues colour every rating this month, the survey's too
    performance = np.clip(use.performance - burden, 0.0, 1.0)
    met_expectation = performance >= res.expectation
    res.update_satisfaction(performance, model.rating_rng, rated=model.observed)
    res.met_share = use.met
    unmet = 1.0 - use.met
    reports = (model.rng.random(res.n) < res.participation * channel.reach) & (unmet > channel.report_threshold)
    who = np.flatnonzero(reports)
    # voicing pays off when the channel answers the report and the service lives up to expectations; only
    # those who reported learn, so only their answers are drawn
    paid_off = (model.rng.random(len(who)) < channel.feedback_loop) & met_expectation[who]
    eta = res.population.participation_learning
    res.participation[who] += eta * (paid_off - res.participation[who])
    # what planners hear: unmet need of the reporting share of each cell, with noise
    reporters = np.bincount(res.cell[who], minlength=model.layout.n_cells)
    share = np.divide(reporters, res.residents_per_cell, out=np.zeros(model.layout.n_cells),
                      where=res.residents_per_cell > 0)
    comm = model.layout.community_of_cell
    noise_sd = 1.0 - channel.accuracy
    heard_unmet = _by_community(comm, share[:, None] * use.cell_unmet, model.layout.n_communities)
    heard_need = _by_community(comm, share[:, None] * res.cell_need, model.layout.n_communities)
    heard_unmet *= np.exp(model.rng.normal(0.0, noise_sd, heard_unmet.shape) - noise_sd**2 / 2)
    model.street_office.observe(heard_unmet, heard_need)
    model.this_month.reports = len(who)
    if len(who):
        model.log(f"{len(who)} needs reported through grid workers reached the street office")


def _by_community(community_of_cell: np.ndarray, cell_values: np.ndarray, n: int) -> np.ndarray:
    """Sum of (cells, K) values by community: each community's cells added in cell order."""
    k = cell_values.shape[1]
    flat = (community_of_cell[:, None] * k + np.arange(k)).ravel()
    return np.bincount(flat, weights=cell_values.ravel(), minlength=n * k).reshape(n, k)
