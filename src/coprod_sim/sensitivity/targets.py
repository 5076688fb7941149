"""Analytic targets that run through the sensitivity pipeline in place of the model.

``model: ishigami`` (and ``ishigami_noisy``, which adds seeded Gaussian noise)
lets anyone check the machinery (designs, engine, replicate averaging,
analyzers) against indices known in closed form. The function is
f = sin x1 + a sin² x2 + b x3⁴ sin x1 with a = 7, b = 0.1 and every xi uniform
on [-π, π] (Ishigami and Homma 1990); ``x4`` is accepted as an inert factor,
so screening methods can be checked to rank an irrelevant factor last.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

A, B = 7.0, 0.1
FACTORS = ("x1", "x2", "x3", "x4")
TARGETS = ("ishigami", "ishigami_noisy")
OUTCOME = "y"
DEFAULT_NOISE_SD = 1.0


def ishigami(x1: float, x2: float, x3: float) -> float:
    return math.sin(x1) + A * math.sin(x2) ** 2 + B * x3 ** 4 * math.sin(x1)


def run_target(cfg: dict[str, Any], seed: int) -> SimpleNamespace:
    """One "run" of an analytic target (the sweep engine's simulator): ``.summary`` holds y.

    Factors not in the design sit at 0. The noisy variant draws its noise from the run's seed *and*
    the point, so replicates differ and, as in the model, common seeds do not make the noise of two
    design points identical (it would cancel exactly, which no simulation does): only averaging
    replicates removes it.
    """
    x = [float(cfg.get(k, 0.0)) for k in FACTORS[:3]]
    y = ishigami(*x)
    if cfg.get("noise_sd"):
        point = int.from_bytes(hashlib.sha256(struct.pack("3d", *x)).digest()[:8], "little")
        y += float(cfg["noise_sd"]) * float(np.random.default_rng([seed, point]).standard_normal())
    return SimpleNamespace(summary={OUTCOME: y})


def partial_variances() -> dict[frozenset[str], float]:
    """Ishigami's variance split over sets of factors (its Sobol-Hoeffding terms): x1 alone, x2 alone and the
    x1 × x3 interaction; every other set, x3 alone and the inert x4 included, has none."""
    pi4, pi8 = math.pi ** 4, math.pi ** 8
    return {frozenset({"x1"}): 0.5 + B * pi4 / 5 + B * B * pi8 / 50, frozenset({"x2"}): A * A / 8,
            frozenset({"x1", "x3"}): B * B * pi8 * 8 / 225}


def analytic_indices(groups: Mapping[str, Sequence[str]] | None = None) -> dict[str, dict[str, float]]:
    """Exact first-order and total Sobol indices of the Ishigami function (x4 inert: 0).

    With ``groups`` (name → factors, as ``design.groups``; a factor in no group is its own) the indices
    are the groups': a group's S1 is the share of every term within it (its closed index), its ST the
    share of every term that involves any of its factors. That is what a grouped design estimates.
    """
    terms = partial_variances()
    var = sum(terms.values())
    grouped = {f for keys in (groups or {}).values() for f in keys}
    sets = {**{f: frozenset({f}) for f in FACTORS if f not in grouped},
            **{name: frozenset(keys) for name, keys in (groups or {}).items()}}
    return {"S1": {n: sum(v for t, v in terms.items() if t <= u) / var for n, u in sets.items()},
            "ST": {n: sum(v for t, v in terms.items() if t & u) / var for n, u in sets.items()}}
