"""Shapley values of a set function over ``k`` components: exact over all subsets, or sampled permutations.

A subset of the components is a bit mask (bit ``i`` set: component ``i`` is switched to the
scenario's value). ``value(mask)`` is what the outcome is with those components changed; it may be
a number or an array (one value per seed), so one call decomposes every seed at once.

* **Exact** (Shapley 1953): ``φ_i = Σ_{S ∌ i} |S|! (k − |S| − 1)! / k! · (v(S ∪ i) − v(S))`` over all
  ``2^k`` subsets. The values sum to ``v(all) − v(none)`` exactly (efficiency).
* **Permutations** (Castro, Gómez & Tejada 2009): for each of ``m`` random orders, the marginal
  contribution of each component when it joins the ones before it; ``φ_i`` is their mean and its
  sampling standard error ``sd / √m``. Every order telescopes to ``v(all) − v(none)``, so the
  estimate is efficient too; only the split between components carries sampling error.

Pure functions of their inputs (no model, no files): the model's attribution
(``attribution.study``) evaluates ``value`` from a table of runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

EXACT_LIMIT = 8  # exact Shapley values up to this many components (2^8 = 256 subsets); permutations beyond

ValueFunction = Callable[[int], "float | np.ndarray"]


@dataclass(frozen=True)
class Shapley:
    """Shapley values (``values[i]``: component ``i``; a trailing axis if ``value`` returns arrays).

    ``method``: ``exact`` or ``permutations``; ``permutation_se``: the sampling standard error of each
    value (zeros for exact); ``permutations``: how many orders were sampled (0 for exact)."""

    values: np.ndarray
    method: str
    permutation_se: np.ndarray
    permutations: int = 0


def full_mask(k: int) -> int:
    return (1 << k) - 1


def members(mask: int, k: int) -> list[int]:
    """The components in a subset, in index order."""
    return [i for i in range(k) if mask >> i & 1]


def exact_masks(k: int) -> list[int]:
    """Every subset of ``k`` components."""
    return list(range(1 << k))


def sample_orders(k: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random orders of the ``k`` components (rows), drawn from ``rng``."""
    return np.array([rng.permutation(k) for _ in range(count)], dtype=int).reshape(count, k)


def order_masks(orders: np.ndarray) -> list[int]:
    """The subsets the sampled orders visit (every prefix), plus every single component and the empty and
    full sets (so solo effects are known whatever the orders), sorted."""
    k = orders.shape[1]
    found = {0, full_mask(k), *(1 << i for i in range(k))}
    for order in orders:
        mask = 0
        for i in order:
            mask |= 1 << int(i)
            found.add(mask)
    return sorted(found)


def design_masks(k: int, orders: np.ndarray | None = None) -> list[int]:
    """The subsets to evaluate: all of them (exact), or those the sampled ``orders`` visit."""
    return exact_masks(k) if orders is None else order_masks(orders)


def shapley_exact(value: ValueFunction, k: int) -> Shapley:
    """Exact Shapley values over all ``2^k`` subsets (each subset's value is asked for once)."""
    if k < 1:
        raise ValueError("Shapley values need at least one component")
    cache = {mask: np.asarray(value(mask), dtype=float) for mask in exact_masks(k)}
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    phi = []
    for i in range(k):
        bit = 1 << i
        phi.append(sum(weight[mask.bit_count()] * (cache[mask | bit] - cache[mask])
                       for mask in cache if not mask & bit))
    values = np.array(phi, dtype=float)
    return Shapley(values, "exact", np.zeros(k))


def marginal_contributions(value: ValueFunction, orders: np.ndarray) -> np.ndarray:
    """Each order's marginal contribution of each component (``orders × k``, plus the value's own axes)."""
    cache: dict[int, np.ndarray] = {}

    def v(mask: int) -> np.ndarray:
        if mask not in cache:
            cache[mask] = np.asarray(value(mask), dtype=float)
        return cache[mask]

    rows = []
    for order in orders:
        row: list[np.ndarray] = [np.empty(0)] * orders.shape[1]
        mask = 0
        for i in order:
            before = v(mask)
            mask |= 1 << int(i)
            row[int(i)] = v(mask) - before
        rows.append(np.stack(row))
    return np.stack(rows)


def shapley_permutations(value: ValueFunction, orders: np.ndarray) -> Shapley:
    """Shapley values estimated from sampled orders, with their sampling standard errors.

    The standard error of a component's value is the standard deviation of its marginal contributions
    over the orders divided by √(orders); with an array-valued ``value`` it is taken on the mean over the
    trailing axes (the seeds), which is what the reported value averages."""
    if len(orders) < 2:
        raise ValueError("sampled Shapley values need at least two orders for a standard error")
    contrib = marginal_contributions(value, orders)
    values = contrib.mean(axis=0)
    per_order = contrib.reshape(contrib.shape[0], contrib.shape[1], -1).mean(axis=2)
    se = per_order.std(axis=0, ddof=1) / math.sqrt(len(orders))
    return Shapley(values, "permutations", se, len(orders))


def shapley(value: ValueFunction, k: int, permutations: int = 64, seed: int = 0,
            exact_limit: int = EXACT_LIMIT) -> Shapley:
    """Shapley values of ``value`` over ``k`` components: exact for ``k ≤ exact_limit``, else ``permutations``
    orders drawn from ``seed``."""
    if k <= exact_limit:
        return shapley_exact(value, k)
    return shapley_permutations(value, sample_orders(k, permutations, np.random.default_rng(seed)))


def solo_effects(value: ValueFunction, k: int) -> np.ndarray:
    """Each component's effect alone: ``v({i}) − v(∅)``."""
    empty = np.asarray(value(0), dtype=float)
    return np.stack([np.asarray(value(1 << i), dtype=float) - empty for i in range(k)])


def table_value(table: dict[int, np.ndarray]) -> ValueFunction:
    """A value function that reads precomputed subset values (a missing subset is a programming error)."""
    def value(mask: int) -> np.ndarray:
        return table[mask]

    return value


def subsets_of(masks: Iterable[int], k: int) -> list[list[int]]:
    """The component indices of each mask (for building the runs of a design)."""
    return [members(mask, k) for mask in masks]
