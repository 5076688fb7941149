"""Multi-department issues and buck-passing (seed 001 elevator case; seed 003 pipeline).

An issue (a broken lift, a blocked fire lane, a facility dispute) needs every
involved department to act. Grid workers discover it with the channel's reach;
each month each involved department that has not yet acted either acts, passes
responsibility to the others (counted as buck-passing), or waits. With a
leading group, a lead unit is named on a responsibility list and acts under the
group's authority, and the others follow once it has. Open issues lower the
performance residents of that community experience.

Issues are held as arrays: a resident-driven process whose count grows with
the population.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config.params import IssuesParams
from .institutions import DemandChannel

if TYPE_CHECKING:
    from .model import Model


class IssuePipeline:
    """discover → dispatch → dispose → close, with response times recorded."""

    def __init__(self, model: Model, params: IssuesParams, channel: DemandChannel):
        self.model = model
        self.params = params
        self.channel = channel
        n_dept = len(model.departments)
        self.community = np.zeros(0, dtype=np.int64)
        self.involved = np.zeros((0, n_dept), dtype=bool)
        self.acted = np.zeros((0, n_dept), dtype=bool)
        self.age = np.zeros(0, dtype=np.int64)
        # months run negative during the spin-up, so "discovered" is its own flag, not a sentinel month
        self.discovered = np.zeros(0, dtype=bool)
        self.discovered_at = np.zeros(0, dtype=np.int64)
        self.lead = np.zeros(0, dtype=np.int64)
        pop = np.bincount(model.residents.community, minlength=model.layout.n_communities)
        self.population = pop.astype(float)
        self.buck_passed = 0
        self.closed = 0
        self.closure_times: list[int] = []

    def step(self) -> None:
        m = self.model
        rng = m.rng
        self._arrive(rng)
        if not len(self.age):
            self.buck_passed = self.closed = 0
            return
        self.age += 1
        new = ~self.discovered & (rng.random(len(self.age)) < self.channel.reach)
        self.discovered[new] = True
        self.discovered_at[new] = m.month
        self._dispose(rng)

    def _arrive(self, rng: np.random.Generator) -> None:
        m = self.model
        n_new = int(rng.poisson(self.params.rate_per_1000 * m.residents.n / 1000.0))
        if not n_new:
            return
        comm = m.residents.community[rng.integers(0, m.residents.n, n_new)]
        involved = rng.random((n_new, self.involved.shape[1])) < self.params.department_involvement
        involved[np.arange(n_new), rng.integers(0, involved.shape[1], n_new)] = True
        self.community = np.concatenate([self.community, comm])
        self.involved = np.vstack([self.involved, involved])
        self.acted = np.vstack([self.acted, np.zeros_like(involved)])
        self.age = np.concatenate([self.age, np.zeros(n_new, dtype=np.int64)])
        self.discovered = np.concatenate([self.discovered, np.zeros(n_new, dtype=bool)])
        self.discovered_at = np.concatenate([self.discovered_at, np.zeros(n_new, dtype=np.int64)])
        self.lead = np.concatenate([self.lead, np.full(n_new, -1)])

    def unled_cases(self) -> np.ndarray:
        """Positions of discovered open issues without a lead unit, oldest discovery first (the group's queue)."""
        idx = np.flatnonzero(self.discovered & (self.lead < 0))
        return idx[np.argsort(self.discovered_at[idx], kind="stable")]

    def name_leads(self, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Responsibility list: the leading group names one involved department lead unit of each issue."""
        if not len(idx):
            return
        scores = rng.random((len(idx), self.involved.shape[1])) * self.involved[idx]
        self.lead[idx] = np.argmax(scores, axis=1)

    def _dispose(self, rng: np.random.Generator) -> None:
        m = self.model
        live = self.discovered
        pending = self.involved & ~self.acted & live[:, None]
        resistance = np.array([d.resistance for d in m.departments])[None, :]
        pressure = np.array([d.pressure for d in m.departments])[None, :]
        authority = m.leading_group.authority
        n = len(self.age)
        is_lead = np.zeros_like(pending)
        has_lead = self.lead >= 0
        is_lead[np.flatnonzero(has_lead), self.lead[has_lead]] = True
        lead_done = np.zeros(n, dtype=bool)
        lead_done[has_lead] = self.acted[np.flatnonzero(has_lead), self.lead[has_lead]]
        follow = (is_lead | lead_done[:, None]) * authority
        act_h = np.clip(self.params.act_hazard * (1.0 - resistance) * (1.0 + follow + pressure), 0.0, 1.0)
        pass_h = resistance * (1.0 - follow)
        u = rng.random(pending.shape)
        acts = pending & (u < act_h)
        passes = pending & ~acts & (u < act_h + (1.0 - act_h) * pass_h)
        self.acted |= acts
        self.buck_passed = int(passes.sum())
        done = live & ~(self.involved & ~self.acted).any(axis=1)
        self.closed = int(done.sum())
        if self.closed:
            times = m.month - self.discovered_at[done] + 1
            m.this_month.response_times.extend(times.tolist())
            if m.explain:
                m.log(f"{self.closed} multi-department issues closed after {times.mean():.1f} months on average")
        if self.buck_passed and m.explain:
            m.log(f"Departments passed responsibility {self.buck_passed} times on open issues")
        keep = ~done
        for name in ("community", "involved", "acted", "age", "discovered", "discovered_at", "lead"):
            setattr(self, name, getattr(self, name)[keep])

    def open_per_1000(self) -> np.ndarray:
        counts = np.bincount(self.community, minlength=len(self.population)).astype(float)
        return np.divide(counts * 1000.0, self.population, out=np.zeros_like(counts), where=self.population > 0)

    def burden_per_resident(self) -> np.ndarray:
        """Performance lost by each resident to open issues in its community."""
        burden = self.params.satisfaction_penalty * self.open_per_1000()
        return burden[self.model.residents.community]
