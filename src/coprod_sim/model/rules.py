"""Decision rules of the agents, as pure functions.

Each rule is one equation from a cited source (see docs/ODD.md, "Submodels").
Keeping them pure lets every rule be tested alone, and keeps the agents'
``step`` methods short: agents gather what they observe, call a rule, act.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np


def release_share(
    assessment_weight: float,
    reward_penalty: float,
    perceived_gap: float,
    resistance: float,
    control_cost: float,
    extra_pressure: float = 0.0,
) -> float:
    """Share of a department's budget/authority released to the community.

    The department maximises U(ρ) = M·ρ − ½·κ·r·ρ², where M is the marginal
    assessment return of released resources (weight of service results ×
    (1 + reward/penalty strength) × the service gap the department sees, plus
    any leading-group pressure) and κ·r the marginal loss of control, growing
    with resistance r (seed 001 "resources suspended"; Holmström & Milgrom
    1991). The optimum is ρ* = M / (κ·r), clipped to [0, 1].
    """
    marginal_return = assessment_weight * (1.0 + reward_penalty) * perceived_gap + extra_pressure
    loss_of_control = control_cost * max(resistance, 1e-9)
    return float(min(1.0, max(0.0, marginal_return / loss_of_control)))


def approval_hazard(
    base_hazard: float,
    resistance: np.ndarray,
    accountability: np.ndarray | float,
    control_cost: float,
    conflict: np.ndarray | float,
) -> np.ndarray:
    """Monthly probability that a department asked to sign off does so: a review, then a decision.

    A department reviews a due case with probability h0/(1 + conflict) a month (its processing capacity;
    conflict among the departments still pending delays all of them, LITERATURE §1F; Tsai & Zhou 2019).
    At the review it weighs, in assessment points, signing against holding the case: holding keeps
    control worth κ·r (κ = ``government.control_cost``, r its resistance: the same currency as its release
    decision, :func:`release_share`); signing earns the case's ordinary merit b ~ U(0, κ) (dossiers differ
    in how hard they are to hold up) plus, on a case the leading group coordinates, the accountability D it
    avoids (the group makes the delay visible in the department's assessment). It signs iff b + D ≥ κ·r:

        h = h0 · (1 − clip(r − D/κ, 0, 1)) / (1 + conflict)

    Without the group (D = 0) a department holds a reviewed case with probability r. The group's effect is
    min(r, D/κ): nothing where nobody resists, nothing where its accountability is zero, and bounded by
    D/κ where resistance is high — a department whose control is worth more than the accountability it
    faces still holds the case.
    """
    holds = np.clip(np.asarray(resistance) - np.asarray(accountability) / max(control_cost, 1e-12), 0.0, 1.0)
    return np.clip(base_hazard * (1.0 - holds) / (1.0 + np.asarray(conflict)), 0.0, 1.0)


def expected_firm_profit(
    demand: np.ndarray,
    capacity_cap: np.ndarray,
    price: np.ndarray,
    subsidy: np.ndarray,
    unit_cost: np.ndarray,
    fixed_cost: np.ndarray,
    tax_rate: float,
    outcome_income: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Expected monthly after-tax profit of entering a market.

    π = min(D, K)·(p + s − c) − F + B, taxed at t when positive (Bresnahan &
    Reiss 1991 entry threshold). Profit-space tools enter as the subsidy s,
    lower F (rent-free space) and lower t (tax relief); vouchers enter through
    the demand D, since they lower the price residents pay, not the price the
    firm receives; interest-binding enters as B, the net income the firm
    expects from outcome-linked pay (:func:`outcome_pay_surplus`). Whether that
    is enough to enter is :func:`enters_market`.
    """
    volume = np.minimum(demand, capacity_cap)
    gross = volume * (price + subsidy - unit_cost) - fixed_cost + outcome_income
    return np.where(gross > 0, gross * (1.0 - tax_rate), gross)


def outcome_pay_surplus(stake: float, honoured: np.ndarray | float, outcome_value: np.ndarray, unit_cost: np.ndarray,
                        base: np.ndarray) -> np.ndarray:
    """Net monthly income an operator expects from its stake: s·e·Y(G*) − c·G*, with Y(G) = a·G0·ln(1 + G/G0)
    and G* = G0·(s·e·a/c − 1)⁺ its own choice of free visits (:func:`voluntary_supply`); e is the share of
    outcome-linked pay it expects the street office to honour. Zero without a stake, and never negative:
    the operator supplies free visits only where they pay (McGuire & Olson 1996; seed 001 interest-binding)."""
    ratio = stake * np.asarray(honoured) * outcome_value / np.maximum(unit_cost, 1e-12)
    g = np.asarray(base) * np.maximum(ratio - 1.0, 0.0)
    return np.maximum(stake * np.asarray(honoured) * outcome_value * base * np.log1p(g / np.maximum(base, 1e-12))
                      - unit_cost * g, 0.0)


def enters_market(after_tax_profit: np.ndarray, capital: np.ndarray, required_return: float) -> np.ndarray:
    """A firm enters where expected after-tax profit pays the required return on the capital it ties up.

    π(1 − t) ≥ ρ·K/12 (monthly; ρ annual). Because the hurdle is after tax,
    tax relief lowers the pre-tax profit a market needs: with t = 25% and no
    relief a market needs π ≥ ρK/9, with full relief π ≥ ρK/12 (seed 001 tax relief).
    """
    return after_tax_profit > required_return / 12.0 * capital


def voluntary_supply(stake: np.ndarray | float, outcome_value: np.ndarray | float, unit_cost: np.ndarray | float,
                     base: np.ndarray | float) -> np.ndarray:
    """Extra, unpaid supply of an operator with a stake in community outcomes.

    The operator gets share s of the community value Y(G) = a·G0·ln(1 + G/G0)
    and pays c per unit, so it supplies G* = G0·(s·a/c − 1)⁺, rising with s
    (encompassing interest: McGuire & Olson 1996; seed 001 interest-binding).
    None without a base or a cost (elementwise over facilities).
    """
    base, unit_cost = np.asarray(base, dtype=float), np.asarray(unit_cost, dtype=float)
    possible = (base > 0) & (unit_cost > 0)
    shape = np.broadcast(stake, outcome_value, unit_cost, base).shape
    gain = np.divide(np.multiply(stake, outcome_value), unit_cost, out=np.zeros(shape),
                     where=possible)
    return np.where(possible, np.maximum(0.0, base * (gain - 1.0)), 0.0)


def update_belief(belief: np.ndarray, truth: np.ndarray, precision: np.ndarray | float, learning: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Move beliefs about communities' particular needs towards noisy signals of them.

    Rows are (operator, community) pairs, columns the content dimensions. The
    signal is truth + ε, ε ~ N(0, 1/precision) in each dimension; with no
    information (precision 0) there is no signal and the belief stays. Its
    long-run error variance is learning/(2 − learning) / precision per
    dimension: better information (trust, a working feedback channel) means a
    belief closer to what residents need.
    """
    precision = np.broadcast_to(np.asarray(precision, dtype=float), (*np.shape(truth)[:-1], 1))
    informed = precision > 0.0
    noise = rng.standard_normal(np.shape(truth)) / np.sqrt(np.where(informed, precision, 1.0))
    return np.where(informed, belief + learning * (truth + noise - belief), belief)


def content_fit(content: np.ndarray, needs: np.ndarray, tolerance: float) -> np.ndarray:
    """Fit of a service's content to what a community needs: exp(−|content − needs|² / 2·tolerance²),
    over the last axis (content dimensions)."""
    return np.exp(-np.sum((content - needs) ** 2, axis=-1) / (2.0 * tolerance**2))


def quality_effort(marginal_return: np.ndarray | float, cost: float, floor: float) -> np.ndarray:
    """Quality chosen where marginal return equals marginal cost: q* = m/c, within [floor, 1].

    The marginal return collects what rewards quality for this operator
    (monitored contract bonus, competition, stake in outcomes, mission);
    unmonitored profit space adds nothing to it (Hart, Shleifer & Vishny 1997).
    """
    return np.minimum(1.0, np.maximum(floor, np.divide(marginal_return, cost)))


def expectation_disconfirmation(
    performance: np.ndarray,
    expectation: np.ndarray,
    intercept: float,
    b_performance: float,
    b_disconfirmation: float,
    noise: np.ndarray | float,
) -> np.ndarray:
    """Latent satisfaction: a + b1·P + b3·(P − E) + ε (Van Ryzin 2004, 2006); ε = 0 gives the noise-free part."""
    return intercept + b_performance * performance + b_disconfirmation * (performance - expectation) + noise


def likert(latent: np.ndarray, cutpoints: np.ndarray) -> np.ndarray:
    """Map latent satisfaction to a 1–5 scale by fixed, ascending cut-points: 1 + the number of cut-points at or
    below it (an undefined latent value, NaN, rates 5, as a binary search places it).

    One comparison per cut-point over all residents: with four cut-points, about fifteen times faster than
    ``np.searchsorted`` on unsorted values, and the same ratings.
    """
    latent = np.asarray(latent)
    rating = np.ones(latent.shape, dtype=np.int8)
    for cut in cutpoints:
        rating += latent >= cut
    rating[np.isnan(latent)] = len(cutpoints) + 1
    return rating


def coproduction_output(provider_input: np.ndarray, resident_input: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Co-produced output Q = P^α·R^β (Parks et al. 1981; Ostrom 1996).

    Provider and resident inputs are complements: with either at zero the
    output is zero.
    """
    return np.power(np.maximum(provider_input, 0.0), alpha) * np.power(np.maximum(resident_input, 0.0), beta)


def gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Population-weighted Gini coefficient (LITERATURE §3.3).

    G = 1 − Σ_i w_i·(S_{i−1} + S_i)/(W·S_n) over values sorted ascending, with
    S_i the cumulative sum of x·w; with unit weights this reduces to
    G = 2·Σ i·x_(i)/(n·Σx) − (n+1)/n, which needs only a sort.
    """
    x = np.asarray(values, dtype=float)
    if weights is None:
        n, total = len(x), float(x.sum())
        if n == 0 or total <= 0:
            return 0.0
        ranks = np.arange(1, n + 1, dtype=float)
        return float(2.0 * np.dot(ranks, sort_values(x)) / (n * total) - (n + 1.0) / n)
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0 or np.dot(x, w) <= 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum_xw = np.cumsum(x * w)
    prev = np.concatenate(([0.0], cum_xw[:-1]))
    return float(1.0 - np.sum(w * (2.0 * prev + x * w)) / (w.sum() * cum_xw[-1]))


def sort_values(x: np.ndarray) -> np.ndarray:
    """``x`` sorted ascending: the array ``np.sort(x)`` returns, by whichever of ``np.sort`` and :func:`binned_sort`
    was faster in this process for the first array of ``x``'s size class (its bit length).

    Sorted values are unique whatever the algorithm, so the choice changes the time a Gini coefficient takes, not
    its value. Which is faster depends on the processor: numpy's AVX-512 sort is slow on AMD Zen 4, where the
    instruction it relies on is microcoded (numpy/x86-simd-sort issue 6: 0.7 ms for 22,500 residents' shares against
    0.15 ms binned), and the faster of the two on Zen 5 (docs/performance.md). Timing both once, on
    the data at hand, costs a few sorts per process instead of a list of processors kept up to date.
    """
    size_class = len(x).bit_length()
    sort = _FASTER_SORT.get(size_class)
    if sort is None:
        sort = _FASTER_SORT[size_class] = _faster_sort(x)
    return sort(x)


def binned_sort(x: np.ndarray) -> np.ndarray:
    """``x`` sorted ascending, placed first in 65,536 equal-width bins (a radix sort of a 16-bit key), which
    leaves a nearly sorted array that a merge sort finishes in one pass. The key only orders the work; the last
    sort alone makes the result sorted, so it is the array ``np.sort(x)`` returns."""
    lo, hi = (x.min(), x.max()) if len(x) else (0.0, 0.0)
    if not (np.isfinite(hi - lo) and hi > lo):  # constant, empty or not finite: nothing to gain
        return np.sort(x)
    key = np.minimum((x - lo) * (65535.0 / (hi - lo)), 65535.0).astype(np.uint16)
    return np.sort(x[np.argsort(key, kind="stable")], kind="stable")


_FASTER_SORT: dict[int, Callable[[np.ndarray], np.ndarray]] = {}  # by size class: the sort chosen in this process


def _faster_sort(x: np.ndarray, rounds: int = 3) -> Callable[[np.ndarray], np.ndarray]:
    """Of ``np.sort`` and :func:`binned_sort`, the one with the shorter best time on ``x`` over ``rounds``
    alternations (the best of a few resists a busy machine's noise)."""
    best: dict[Callable[[np.ndarray], np.ndarray], float] = {np.sort: math.inf, binned_sort: math.inf}
    for _ in range(rounds):
        for sort in best:
            start = time.perf_counter()
            sort(x)
            best[sort] = min(best[sort], time.perf_counter() - start)
    return min(best, key=best.__getitem__)
