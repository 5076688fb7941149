"""Experimental designs for sweeps: which parameter values each design point gets.

Every generator returns a list of design points, each a dict ``dotted key →
value``, in a fixed order: the position in that list is the design point id,
which (with the replicate number) identifies a run and derives its seed. The
generators are pure functions of their inputs, so the same spec always yields
the same points. They know nothing about the model: the sweep spec module checks
keys and values against the parameter registry.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# scipy.stats is imported where it is used: it takes about a second to import, and every
# `coprod-sim` command (and each sweep client) loads this module.

DESIGN_TYPES = ("factorial", "lhs", "oat", "explicit", "sobol", "morris", "fast")
SAMPLED_TYPES = ("lhs", "sobol", "morris", "fast")  # drawn from distributions (ranges), not from lists of levels
DISTRIBUTIONS = ("uniform", "loguniform", "triangular", "normal")


@dataclass(frozen=True)
class Axis:
    """How one parameter is varied.

    ``values`` for a list of levels (factorial, one-at-a-time; categorical in LHS);
    otherwise a continuous distribution for LHS: ``dist`` over ``low``..``high``
    (``mode`` for triangular; ``mean``/``sd`` for a normal truncated to low..high).
    ``integer`` rounds sampled values down to whole numbers.
    """

    key: str
    values: tuple[Any, ...] = ()
    dist: str = "uniform"
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    integer: bool = False
    extra: dict = field(default_factory=dict)

    def ppf(self, u: np.ndarray) -> list[Any]:
        """Map uniform(0,1) quantiles to parameter values (the LHS transform)."""
        if self.values:
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        assert self.low is not None and self.high is not None, "a distribution axis has a range"
        lo, hi = float(self.low), float(self.high)
        if self.integer:
            # equal-probability strata over the whole numbers lo..hi
            return [int(v) for v in np.minimum(np.floor(lo + u * (hi - lo + 1)), hi)]
        if self.dist == "uniform":
            x = lo + u * (hi - lo)
        elif self.dist == "loguniform":
            x = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        elif self.dist == "triangular":
            from scipy import stats

            assert self.mode is not None
            c = (float(self.mode) - lo) / (hi - lo)
            x = stats.triang(c, loc=lo, scale=hi - lo).ppf(u)
        elif self.dist == "normal":
            from scipy import stats

            assert self.mean is not None and self.sd is not None
            mean, sd = float(self.mean), float(self.sd)
            x = stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd).ppf(u)
        else:  # pragma: no cover - the spec validator rejects other names
            raise ValueError(f"unknown distribution {self.dist!r}")
        return [float(v) for v in np.clip(x, lo, hi)]


def levels(low: float, high: float, n: int, integer: bool = False) -> list[Any]:
    """``n`` evenly spaced values from low to high (whole numbers for integer parameters)."""
    if n == 1:
        return [int(low) if integer else float(low)]
    raw = np.linspace(float(low), float(high), int(n))
    if integer:
        return sorted({round(float(v)) for v in raw})
    return [float(v) for v in raw]


def factorial(axes: list[Axis]) -> list[dict[str, Any]]:
    """Every combination of every axis' levels; the last axis varies fastest."""
    keys = [a.key for a in axes]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]


def latin_hypercube(axes: list[Axis], samples: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``samples`` points, one in each of ``samples`` equal-probability strata of every axis."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(axes), rng=rng).random(n=int(samples))
    columns = [a.ppf(unit[:, j]) for j, a in enumerate(axes)]
    return [{a.key: columns[j][i] for j, a in enumerate(axes)} for i in range(int(samples))]


def one_at_a_time(axes: list[Axis], base: dict[str, Any]) -> list[dict[str, Any]]:
    """The base point, then each axis alone moved to each of its levels (others at base).

    Levels equal to the base value are skipped: they would repeat the base point.
    Every point lists every varied key so the runs table has a value in each column.
    """
    points = [dict(base)]
    for axis in axes:
        for value in axis.values:
            if _same(value, base[axis.key]):
                continue
            point = dict(base)
            point[axis.key] = value
            points.append(point)
    return points


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-12)
    return a == b


def salib_design(kind: str, axes: list[Axis], samples: int, seed: int, second_order: bool = False,
                 levels: int = 4, groups: list[str] | None = None) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """A Sobol, Morris or FAST design (SALib, on the unit cube) and its points mapped through each axis.

    The unit sample is returned too: the sensitivity analysis reads it back. ``groups``: each axis' group
    label (Sobol, Morris), so a group's factors move together.
    """
    from .salib import unit_sample

    unit = unit_sample(kind, [a.key for a in axes], samples, seed, second_order, levels, groups)
    columns = [a.ppf(unit[:, j]) for j, a in enumerate(axes)]
    return unit, [{a.key: columns[j][i] for j, a in enumerate(axes)} for i in range(len(unit))]
