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


def analytic_indices() -> dict[str, dict[str, float]]:
    """Exact first-order and total Sobol indices of the Ishigami function (x4 inert: 0)."""
    pi4, pi8 = math.pi ** 4, math.pi ** 8
    var = 0.5 + A * A / 8 + B * pi4 / 5 + B * B * pi8 / 18
    v1 = 0.5 + B * pi4 / 5 + B * B * pi8 / 50
    v2 = A * A / 8
    v13 = B * B * pi8 * 8 / 225
    return {"S1": {"x1": v1 / var, "x2": v2 / var, "x3": 0.0, "x4": 0.0},
            "ST": {"x1": (v1 + v13) / var, "x2": v2 / var, "x3": v13 / var, "x4": 0.0}}
