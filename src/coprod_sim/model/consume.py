"""Downstream stage, part 1: residents use the services they can reach, afford and are eligible for.

Access is the two-step floating catchment area (2SFCA, ``space.py``), run
first for publicly funded capacity (the guided price; eligible residents only)
and then for market capacity on the demand the public class left unmet.
The month's use is handed to settlement, the residents' response and the
outcomes as one :class:`Consumption` record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..domain import KIND_INDEX, K
from .facility import Facility
from .space import supply_ratio

if TYPE_CHECKING:
    from .model import Model


@dataclass(frozen=True)
class Consumption:
    """What was offered and used this month. F = active facilities, C = cells, N = residents."""

    facilities: list[Facility]  # the active facilities, in the order of every (F,) array below
    service: np.ndarray  # (F,) service index
    public: np.ndarray  # (F,) bool: publicly funded
    capacity: np.ndarray  # (F,) visits / month offered (paid)
    voluntary: np.ndarray  # (F,) visits / month offered unpaid (interest-binding)
    kind: np.ndarray  # (F,) operator kind (str)
    kind_code: np.ndarray  # (F,) index into domain.OPERATOR_KINDS
    operator_id: np.ndarray  # (F,) operator's unique_id
    stake: np.ndarray  # (F,) operator's interest-binding stake
    quality: np.ndarray  # (F,) 0–1
    fit: np.ndarray  # (F,) 0–1
    used_public: np.ndarray  # (F,) visits used by the public class
    used_market: np.ndarray  # (F,) visits used by the market class
    served_public: np.ndarray  # (C, K) visits residents of each cell received from public capacity
    served_market: np.ndarray  # (C, K) ... from market capacity
    coverage: np.ndarray  # (C, K) capacity within reach per unit of need within reach, capped at 1
    met_table: np.ndarray  # (C, 3K) per-cell factors that, weighted by a resident's row, give its visits met
    perf_table: np.ndarray  # (C, 3K) the same, weighted by quality and fit (see _resident_results)
    met: np.ndarray  # (N,) share of each resident's need met
    performance: np.ndarray  # (N,) quality- and fit-weighted share met
    met_public: np.ndarray  # (N,) share met by public capacity
    cell_unmet: np.ndarray  # (C, K) visits needed but not received


def use_services(model: Model) -> Consumption:
    """Residents use what they can reach, afford and are eligible for (2SFCA); facilities record their use."""
    res, C = model.residents, model.layout.n_cells
    facs = [f for f in model.agents_by_type.get(Facility, []) if f.active]
    cells = np.array([f.cell_index for f in facs], dtype=np.int64)
    svc = np.array([f.service for f in facs], dtype=np.int64)
    public = np.array([f.public for f in facs], dtype=bool)
    cap = np.array([f.capacity for f in facs], dtype=float)
    vol = np.array([f.voluntary for f in facs], dtype=float)
    qf = np.array([f.quality * f.fit for f in facs], dtype=float)
    owners = [f.operator for f in facs]
    pub_cap = np.where(public, cap, 0.0) + vol
    mkt_cap = np.where(public, 0.0, cap)
    flat = cells * K + svc
    S_p = np.bincount(flat, weights=pub_cap, minlength=C * K).reshape(C, K)
    S_m = np.bincount(flat, weights=mkt_cap, minlength=C * K).reshape(C, K)
    QS_p = np.bincount(flat, weights=pub_cap * qf, minlength=C * K).reshape(C, K)
    QS_m = np.bincount(flat, weights=mkt_cap * qf, minlength=C * K).reshape(C, K)
    D_p = res.cell_public_demand
    R_p, A_p, Q_p = _access(model, D_p, S_p, QS_p)
    f_p = np.minimum(1.0, A_p)
    D_m = np.maximum(res.cell_market_need - f_p * res.cell_market_public, 0.0)
    R_m, A_m, Q_m = _access(model, D_m, S_m, QS_m)
    f_m = np.minimum(1.0, A_m)
    # demand each supply cell actually serves (proportional allocation)
    served_share_p = np.divide(D_p * f_p, A_p, out=np.zeros_like(A_p), where=A_p > 0)
    served_share_m = np.divide(D_m * f_m, A_m, out=np.zeros_like(A_m), where=A_m > 0)
    # coverage: all capacity of a type (public, voluntary, market) per unit of all need within reach
    # (2SFCA with need as demand), regardless of eligibility and price: supply and distance only
    supply_ratio_all = np.divide(S_p + S_m, model.need_in_reach, out=np.zeros_like(S_p), where=model.need_in_reach > 0)
    back = model.decay.apply(np.hstack([served_share_p, served_share_m, D_m * (1.0 - f_m), supply_ratio_all]))
    used_p_cell, used_m_cell = R_p * back[:, :K], R_m * back[:, K:2 * K]
    # what firms see next month when deciding where to enter
    model.unmet_market_reach = back[:, 2 * K:3 * K]
    share_p = np.divide(pub_cap, S_p[cells, svc], out=np.zeros_like(pub_cap), where=S_p[cells, svc] > 0)
    share_m = np.divide(mkt_cap, S_m[cells, svc], out=np.zeros_like(mkt_cap), where=S_m[cells, svc] > 0)
    used_pub = used_p_cell[cells, svc] * share_p
    used_mkt = used_m_cell[cells, svc] * share_m
    for f, up, um in zip(facs, used_pub, used_mkt, strict=True):
        f.used = float(up + um)
        f.used_public = float(up)
    served_p, served_m = D_p * f_p, D_m * f_m
    elig_m = np.maximum(res.cell_voucher_market_need - f_p * res.cell_voucher_market_public, 0.0) * f_m
    model.voucher_eligible_share = np.divide(elig_m.sum(0), served_m.sum(0), out=np.ones(K), where=served_m.sum(0) > 0)
    met_table, perf_table = _cell_tables(f_p, f_m, Q_p, Q_m)
    met, perf, met_public = _resident_results(model, met_table, perf_table)
    return Consumption(
        facilities=facs, service=svc, public=public, capacity=cap, voluntary=vol,
        kind=np.array([o.kind for o in owners], dtype=object),
        kind_code=np.array([KIND_INDEX[o.kind] for o in owners], dtype=np.int64),
        operator_id=np.array([o.unique_id for o in owners], dtype=np.int64),
        stake=np.array([o.stake for o in owners], dtype=float),
        quality=np.array([f.quality for f in facs]), fit=np.array([f.fit for f in facs]),
        used_public=used_pub, used_market=used_mkt, served_public=served_p, served_market=served_m,
        coverage=np.minimum(1.0, back[:, 3 * K:]), met_table=met_table, perf_table=perf_table,
        met=met, performance=perf, met_public=met_public,
        cell_unmet=res.cell_need - served_p - served_m,
    )


def _access(model: Model, demand: np.ndarray, supply: np.ndarray, quality_supply: np.ndarray):
    """2SFCA access plus the capacity-weighted quality·fit residents reach."""
    ratio = supply_ratio(model.decay, demand, supply)
    qratio = np.divide(quality_supply, supply, out=np.zeros_like(supply), where=supply > 0) * ratio
    both = model.decay.apply(np.hstack([ratio, qratio]))
    access, qaccess = both[:, :K], both[:, K:]
    quality = np.divide(qaccess, access, out=np.zeros_like(access), where=access > 0)
    return ratio, access, quality


def _cell_tables(f_p, f_m, Q_p, Q_m) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the factors of a resident's visits met (and their quality): served_{i,k} is
    pd·f^p + am·need·f^m − am·pd·f^p·f^m, so with the resident's fixed weight row
    (pd, am·need, −am·pd) it is one dot product per type. Single precision halves memory traffic."""
    met_table = np.hstack([f_p, f_m, f_p * f_m]).astype(np.float32)
    perf_table = np.hstack([f_p * Q_p, f_m * Q_m, f_p * f_m * Q_m]).astype(np.float32)
    return met_table, perf_table


def _resident_results(model: Model, met_table: np.ndarray, perf_table: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of need met, quality-weighted performance and share met by public services, per resident.

    Residents are sorted by cell, so repeating the cell tables by cell counts lines them up with
    residents (much faster than fancy indexing).
    """
    res = model.residents
    counts = res.residents_per_cell_int
    t_met = np.repeat(met_table, counts, axis=0)
    t_perf = np.repeat(perf_table, counts, axis=0)
    tot = np.maximum(res.need_total, 1e-12)
    met = np.einsum("nj,nj->n", res.result_weights, t_met).astype(float) / tot
    perf = np.einsum("nj,nj->n", res.result_weights, t_perf).astype(float) / tot
    met_public = np.einsum("nj,nj->n", res.result_weights[:, :K], t_met[:, :K]).astype(float) / tot
    return met, perf, met_public


def performance_by_type(model: Model, use: Consumption, residents: np.ndarray) -> np.ndarray:
    """Quality- and fit-weighted share of each need met, per type, for the given residents (rows × K).

    NaN where a resident has no need of the type.
    """
    res = model.residents
    rows = use.perf_table[res.cell[residents]] * res.result_weights[residents]
    served = rows[:, :K] + rows[:, K:2 * K] + rows[:, 2 * K:]
    need = res.need[residents]
    return np.divide(served, need, out=np.full(need.shape, np.nan), where=need > 0)
