"""Downstream stage, part 1: residents use the services they can reach, afford and are eligible for.

Access is the two-step floating catchment area (2SFCA, ``space.py``), run
first for publicly funded capacity (the guided price; eligible residents only)
and then for market capacity on the demand the public class left unmet.
The month's use is handed to settlement, the residents' response and the
outcomes as one :class:`Consumption` record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..domain import OPERATOR_KINDS, K
from .facility import Facilities, Facility
from .space import supply_cells, supply_ratio

if TYPE_CHECKING:
    from .model import Model


@dataclass(frozen=True)
class Consumption:
    """What was offered and used this month. F = active facilities, C = cells, N = residents."""

    facilities: list[Facility]  # the active facilities, in the order of every (F,) array below
    rows: np.ndarray  # (F,) their rows in the facilities' table (``model.facilities``)
    service: np.ndarray  # (F,) service index
    public: np.ndarray  # (F,) bool: publicly funded
    capacity: np.ndarray  # (F,) visits / month offered (paid)
    voluntary: np.ndarray  # (F,) visits / month offered free at the point of use (interest-binding)
    kind_code: np.ndarray  # (F,) index into domain.OPERATOR_KINDS
    operator_id: np.ndarray  # (F,) operator's unique_id
    stake: np.ndarray  # (F,) operator's interest-binding stake
    cost_factor: np.ndarray  # (F,) operator's unit costs relative to the type's
    contracted: np.ndarray  # (F,) bool: run on a purchase contract
    quality: np.ndarray  # (F,) 0–1
    fit: np.ndarray  # (F,) 0–1
    used_public: np.ndarray  # (F,) visits used by the public class
    used_market: np.ndarray  # (F,) visits used by the market class
    used_voluntary: np.ndarray  # (F,) free visits used (need no other class met)
    served_public: np.ndarray  # (C, K) visits residents of each cell received from public capacity
    served_market: np.ndarray  # (C, K) ... from market capacity
    served_voluntary: np.ndarray  # (C, K) ... from free voluntary visits
    coverage: np.ndarray | None  # (C, K) capacity within reach per unit of need within reach, capped at 1 (None
    # in a spin-up month before month 0: ``Model.observed``)
    met_table: np.ndarray  # (C, 4K) per-cell factors that, weighted by a resident's row, give its visits met
    perf_table: np.ndarray  # (C, 4K) the same, weighted by quality and fit (see _cell_tables)
    met: np.ndarray  # (N,) share of each resident's need met
    performance: np.ndarray  # (N,) quality- and fit-weighted share met
    met_public: np.ndarray | None  # (N,) share met by public capacity (None if not measured: Model.measure_only,
    # Model.measures_public_access)
    cell_unmet: np.ndarray  # (C, K) visits needed but not received
    unmet_market_reach: np.ndarray  # (communities, K) paying demand left unserved within reach of each community's
    # centre: what firms see next month
    voucher_eligible_share: np.ndarray  # (K,) share of market visits bought by voucher-eligible residents

    @property
    def kind(self) -> np.ndarray:
        """(F,) each facility's operator kind, by name (``kind_code`` is what the model itself reads)."""
        return np.array(OPERATOR_KINDS, dtype=object)[self.kind_code]


def use_services(model: Model) -> Consumption:
    """Residents use what they can reach, afford and are eligible for (2SFCA), in three classes served in
    turn: public facilities at the guided price (eligible residents), firms at the market price, then
    operators' free voluntary visits for whatever need is still unmet, anyone's. Facilities record their use."""
    res, C = model.residents, model.layout.n_cells
    table = model.facilities
    rows = table.serving()
    facs = table.of(rows)
    offer = _offers(table, rows, facs)
    cells, svc, public, cap, vol = offer.cell, offer.service, offer.public, offer.capacity, offer.voluntary
    qf = offer.quality * offer.fit
    offers = (np.where(public, cap, 0.0), np.where(public, 0.0, cap), vol)  # public, market, voluntary
    flat = cells * K + svc
    S_p, S_m, S_v = (np.bincount(flat, weights=o, minlength=C * K).reshape(C, K) for o in offers)
    QS_p, QS_m, QS_v = (np.bincount(flat, weights=o * qf, minlength=C * K).reshape(C, K) for o in offers)
    D_p = res.cell_public_demand
    if res.public_demand_in_reach is None:  # changes only with prices and vouchers (Residents.prepare)
        res.public_demand_in_reach = model.decay.apply(D_p)
    R_p, A_p, Q_p, at_p = _access(model, D_p, S_p, QS_p, res.public_demand_in_reach)
    f_p = np.minimum(1.0, A_p)
    D_m = np.maximum(res.cell_market_need - f_p * res.cell_market_public, 0.0)
    R_m, A_m, Q_m, at_m = _access(model, D_m, S_m, QS_m)
    f_m = np.minimum(1.0, A_m)
    served_p, served_m = D_p * f_p, D_m * f_m
    # free visits go to need nobody else met: a stake rewards serving the unserved, not displacing sales
    D_v = np.maximum(res.cell_need - served_p - served_m, 0.0)
    offered_free = bool(S_v.any())
    R_v, A_v, Q_v, at_v = _access(model, D_v, S_v, QS_v) if offered_free else (*(np.zeros_like(S_v),) * 3, None)
    f_v = np.minimum(1.0, A_v)
    served_v = D_v * f_v
    # demand each supply cell actually serves (proportional allocation)
    classes = ((D_p, f_p, A_p), (D_m, f_m, A_m), (D_v, f_v, A_v))[:3 if offered_free else 2]
    shares = [np.divide(D * f, A, out=np.zeros_like(A), where=A > 0) for D, f, A in classes]
    coverage = _coverage(model, S_p + S_m + S_v) if model.observed else None
    used_cells = [_used_at_supply(model, R, at, share)
                  for R, at, share in zip((R_p, R_m, R_v), (at_p, at_m, at_v), shares, strict=False)]
    if not offered_free:
        used_cells.append(np.zeros_like(S_v))
    used_pub, used_mkt, used_vol = (
        used_cell[cells, svc] * np.divide(o, S[cells, svc], out=np.zeros_like(o), where=S[cells, svc] > 0)
        for used_cell, o, S in zip(used_cells, offers, (S_p, S_m, S_v), strict=True))
    table.used[rows] = used_pub + used_mkt + used_vol
    table.used_public[rows] = used_pub
    elig_m = np.maximum(res.cell_voucher_market_need - f_p * res.cell_voucher_market_public, 0.0) * f_m
    voucher_eligible_share = np.divide(elig_m.sum(0), served_m.sum(0), out=np.ones(K), where=served_m.sum(0) > 0)
    met_table, perf_table = _cell_tables(f_p, f_m, f_v, Q_p, Q_m, Q_v)
    met, perf, met_public = _resident_results(model, met_table, perf_table, f_p if model.measures_public_access else None)
    return Consumption(
        facilities=facs, rows=rows, service=svc, public=public, capacity=cap, voluntary=vol,
        kind_code=offer.kind_code, operator_id=offer.operator_id, stake=offer.stake,
        cost_factor=offer.cost_factor, contracted=offer.contracted, quality=offer.quality, fit=offer.fit,
        used_public=used_pub, used_market=used_mkt, used_voluntary=used_vol,
        served_public=served_p, served_market=served_m, served_voluntary=served_v,
        coverage=coverage, met_table=met_table, perf_table=perf_table,
        met=met, performance=perf, met_public=met_public,
        cell_unmet=res.cell_need - served_p - served_m - served_v,
        unmet_market_reach=model.decay.apply_at(model.layout.community_centroid_cell, D_m * (1.0 - f_m)),
        voucher_eligible_share=voucher_eligible_share,
    )


class _Offers(NamedTuple):
    """The active facilities' attributes as arrays, in the facilities' order (the (F,) fields of Consumption)."""

    cell: np.ndarray
    service: np.ndarray
    public: np.ndarray
    capacity: np.ndarray
    voluntary: np.ndarray
    quality: np.ndarray
    fit: np.ndarray
    kind_code: np.ndarray
    operator_id: np.ndarray
    stake: np.ndarray
    cost_factor: np.ndarray
    contracted: np.ndarray


def _offers(table: Facilities, rows: np.ndarray, facs: list[Facility]) -> _Offers:
    """The serving facilities' ``rows`` of the table, and what their operators (``facs``' operators) offer on
    their terms, read once a month."""
    operators = [f.operator for f in facs]
    terms = np.array([(op.unique_id, op.stake, op.cost_factor) for op in operators], dtype=float).reshape(len(facs), 3)
    return _Offers(
        cell=table.cell_index[rows], service=table.service[rows], public=table.public[rows],
        capacity=table.capacity[rows], voluntary=table.voluntary[rows], quality=table.quality[rows],
        fit=table.fit[rows], kind_code=table.kind_code[rows],
        operator_id=terms[:, 0].astype(np.int64), stake=terms[:, 1].copy(), cost_factor=terms[:, 2].copy(),
        contracted=table.contracted[rows])


def _access(model: Model, demand: np.ndarray, supply: np.ndarray, quality_supply: np.ndarray,
            demand_in_reach: np.ndarray | None = None):
    """2SFCA access plus the capacity-weighted quality·fit residents reach, with the ratio and the cells it lives on."""
    ratio = supply_ratio(model.decay, demand, supply, demand_in_reach)
    qratio = np.divide(quality_supply, supply, out=np.zeros_like(supply), where=supply > 0) * ratio
    at = supply_cells(ratio)
    both = model.decay.apply_from(at, np.hstack([ratio, qratio]))
    access, qaccess = both[:, :K], both[:, K:]
    quality = np.divide(qaccess, access, out=np.zeros_like(access), where=access > 0)
    return ratio, access, quality, at


def _coverage(model: Model, supply: np.ndarray) -> np.ndarray:
    """(C, K) all capacity of a type (public, market, voluntary) per unit of all need within reach (2SFCA with
    need as demand), regardless of eligibility and price: supply and distance only. Only outcomes read it."""
    ratio = np.divide(supply, model.need_in_reach, out=np.zeros_like(supply), where=model.need_in_reach > 0)
    return np.minimum(1.0, model.decay.apply_from(supply_cells(ratio), ratio))


def _used_at_supply(model: Model, ratio: np.ndarray, at: np.ndarray, share: np.ndarray) -> np.ndarray:
    """(C, K) a class's visits used at each supply cell j (``at``, where its ratio R lives): R_j·Σ_c W(c, j)·share_c,
    the demand of the cells in its reach it serves in proportion (0 off the supply cells, where R is 0)."""
    used = np.zeros_like(ratio)
    used[at] = ratio[at] * model.decay.apply_at(at, share)
    return used


def _cell_tables(f_p, f_m, f_v, Q_p, Q_m, Q_v) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the factors of a resident's visits met (and their quality).

    With the resident's fixed weights w = (pd, am·need, −am·pd, need) per type, its visits met are
    w₁f^p + w₂f^m + w₃f^pf^m (public, then market on what is left) plus the free class on the rest,
    (need − that)·f^v; so served = w₁f^p(1−f^v) + w₂f^m(1−f^v) + w₃f^pf^m(1−f^v) + w₄f^v, one dot
    product per type. Each part carries its class's quality in the performance table. Single precision
    halves memory traffic.
    """
    rest = 1.0 - f_v
    met_table = np.hstack([f_p * rest, f_m * rest, f_p * f_m * rest, f_v]).astype(np.float32)
    perf_table = np.hstack([f_p * (Q_p - f_v * Q_v), f_m * (Q_m - f_v * Q_v), f_p * f_m * (Q_m - f_v * Q_v),
                            f_v * Q_v]).astype(np.float32)
    return met_table, perf_table


def _resident_results(model: Model, met_table: np.ndarray, perf_table: np.ndarray, f_p: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Share of need met, quality-weighted performance and share met by public services (None without
    ``f_p``: nothing but the outcomes reads it), per resident.

    Residents are sorted by cell, so repeating the cell tables by cell counts lines them up with
    residents (much faster than fancy indexing). It is done a block of cells at a time, so the repeated
    tables stay in the processor's cache and never take the memory of a full (N, 4K) copy.
    """
    res = model.residents
    counts = res.residents_per_cell_int
    out = np.empty((2 if f_p is None else 3, res.n), dtype=np.float32)  # met, performance, met by public services
    public_table = None if f_p is None else f_p.astype(np.float32)
    for cells, rows in res.cell_blocks:
        weights, n_here = res.result_weights[rows], counts[cells]
        np.einsum("nj,nj->n", weights, np.repeat(met_table[cells], n_here, axis=0), out=out[0, rows])
        np.einsum("nj,nj->n", weights, np.repeat(perf_table[cells], n_here, axis=0), out=out[1, rows])
        if public_table is not None:
            np.einsum("nj,nj->n", weights[:, :K], np.repeat(public_table[cells], n_here, axis=0), out=out[2, rows])
    tot = np.maximum(res.need_total, 1e-12)
    met, perf, *public = (o.astype(float) / tot for o in out)
    return met, perf, public[0] if public else None


def performance_by_type(model: Model, use: Consumption, residents: np.ndarray) -> np.ndarray:
    """Quality- and fit-weighted share of each need met, per type, for the given residents (rows × K).

    NaN where a resident has no need of the type.
    """
    res = model.residents
    rows = use.perf_table[res.cell[residents]] * res.result_weights[residents]
    served = rows[:, :K] + rows[:, K:2 * K] + rows[:, 2 * K:3 * K] + rows[:, 3 * K:]
    need = res.need[residents]
    return np.divide(served, need, out=np.full(need.shape, np.nan), where=need > 0)
