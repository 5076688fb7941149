"""Sensitivity study specs: a sweep spec plus what to analyse (``model`` and ``analysis``).

A study spec is a sweep spec (docs/sweeps.md) whose design is a Sobol, Morris or
FAST design, or any other design for a given-data method (RBD-FAST, delta), with
two more keys::

    model: coprod            # or ishigami / ishigami_noisy (analytic checks)
    analysis:
      outcomes: [quality.needs_met_share, cost.public_spending]
      effects: [out_interest_binding]   # also analyse "scenario − base" on the same seeds
      levels: true            # analyse the outcomes themselves too (default: true)
      method: rbd_fast        # given-data designs only: rbd_fast (default) or delta
      missing: refuse         # or drop_points: analyse without design points that lack a value
      convergence: true       # Sobol: indices as the base sample doubles
      conf_level: 0.95
      resamples: 200          # bootstrap resamples for the intervals

Factors (the design's parameters: levers or uncertainties) and outcomes (levels
or paired effects) are declared apart. A Sobol or Morris design may group
factors (``design.groups: {name: [factor keys]}``, sweeps/groups.py): the
indices are then the groups'. Common random numbers are the default
(``seed_scheme: common``): independent seeds add seed noise to every difference
between design points and inflate total-order indices.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError, describe_value, load_config, read_yaml
from ..model import KEY_OUTCOMES, OUTCOME_KEYS, SUMMARY_KEYS
from ..sweeps import RunTask, SweepPlan, build_plan, derive_seed
from ..sweeps.design import Axis, latin_hypercube, salib_design
from ..sweeps.groups import design_groups
from ..sweeps.salib import GIVEN_DATA_METHODS, MIN_GIVEN_POINTS, SALIB_DESIGNS, group_names, min_samples
from ..sweeps.spec import LHS_STREAM, SALIB_STREAM, SEED_SCHEMES, run_key
from . import targets

MODELS = ("coprod", *targets.TARGETS)
STUDY_FIELDS = ("model", "analysis")
ANALYSIS_FIELDS = ("method", "outcomes", "effects", "levels", "missing", "convergence", "conf_level", "resamples")
MISSING_POLICIES = ("refuse", "drop_points")
ANALYTIC_FIELDS = ("name", "description", "design", "replicates", "seed", "seed_scheme", "set", "backend",
                   "workers", "batch_size", "scheduler")


@dataclass
class Study:
    """A validated sensitivity study: the sweep plans to run and what to compute from them."""

    name: str
    origin: str
    model: str
    design_type: str
    method: str
    factors: list[str]
    outcomes: list[str]
    levels: bool
    plan: SweepPlan
    base_label: str
    effect_plans: dict[str, SweepPlan] = field(default_factory=dict)
    missing: str = "refuse"
    convergence: bool = True
    conf_level: float = 0.95
    resamples: int = 200

    @property
    def samples(self) -> int:
        """Base sample size: Sobol/FAST N, Morris trajectories, or design points (given data)."""
        return int(self.plan.design.get("samples", len(self.plan.points)))

    @property
    def second_order(self) -> bool:
        return bool(self.plan.design.get("second_order", False))

    @property
    def groups(self) -> list[str] | None:
        """Each factor's group label (``design.groups``), or None when every factor is its own group."""
        return self.plan.design.get("groups")

    @property
    def group_names(self) -> list[str]:
        """What the indices are reported for, in order: the groups (a factor in no group is its own)."""
        return group_names(self.factors, self.groups)

    @property
    def named_groups(self) -> dict[str, list[str]]:
        """The spec's groups, name → factor keys (empty without ``design.groups``)."""
        members: dict[str, list[str]] = {}
        for key, name in zip(self.factors, self.groups or self.factors, strict=True):
            members.setdefault(name, []).append(key)
        return {name: keys for name, keys in members.items() if keys != [name]}

    @property
    def plans(self) -> dict[str, SweepPlan]:
        return {"": self.plan, **self.effect_plans}

    @property
    def runs(self) -> int:
        return sum(len(p.tasks) for p in self.plans.values())

    def unit(self) -> np.ndarray:
        """The design matrix the analyzers read: unit cube (SALib designs) or numeric factor values."""
        if "unit" in self.plan.design:
            return np.asarray(self.plan.design["unit"], dtype=float)
        cols = []
        for key in self.factors:
            values = [p[key] for p in self.plan.points]
            try:
                cols.append(np.asarray(values, dtype=float))
            except (TypeError, ValueError):  # categorical: codes in order of first appearance
                codes = {v: i for i, v in enumerate(dict.fromkeys(values))}
                cols.append(np.asarray([codes[v] for v in values], dtype=float))
        return np.column_stack(cols)


def load_study(spec: str | os.PathLike | Mapping) -> Study:
    """Read and check a study spec (file or mapping); every problem is raised together as a ConfigError."""
    if isinstance(spec, Mapping):
        raw, origin, here = dict(spec), "<mapping>", Path.cwd()
    else:
        raw, origin, here = read_yaml(Path(spec)), str(spec), Path(spec).parent
    probs: list[str] = []
    model = raw.get("model", "coprod")
    if model not in MODELS:
        probs.append(f"{origin}: model: expected one of {', '.join(MODELS)}, found {describe_value(model)}")
    analysis = raw.get("analysis", {}) or {}
    if not isinstance(analysis, dict):
        probs.append(f"{origin}: analysis: expected a mapping, found {describe_value(analysis)}")
        analysis = {}
    if probs:
        raise ConfigError(probs)
    _unknown(analysis, ANALYSIS_FIELDS, f"{origin}: analysis.", probs)
    sweep_raw = {k: v for k, v in raw.items() if k not in STUDY_FIELDS}
    sweep_raw.setdefault("seed_scheme", "common")
    if model == "coprod":
        return _model_study(sweep_raw, analysis, origin, here, probs)
    return _analytic_study(model, sweep_raw, analysis, origin, probs)


def _unknown(data: dict, allowed: tuple[str, ...], where: str, probs: list[str]) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            tip = f"; did you mean '{hint[0]}'?" if hint else f"; known keys here: {', '.join(allowed)}"
            probs.append(f"{where}{key}: unknown key{tip}")


def _options(analysis: dict, design_type: str, origin: str, probs: list[str]) -> dict[str, Any]:
    """Method, missing policy, convergence, confidence level and resamples, checked."""
    where = f"{origin}: analysis."
    if design_type in SALIB_DESIGNS:
        methods: tuple[str, ...] = (design_type,)
    elif design_type == "oat":
        methods = ()
        probs.append(f"{origin}: design.type: oat designs carry no sensitivity method; use sobol, morris, fast or "
                     "lhs")
    else:
        methods = GIVEN_DATA_METHODS
    method = analysis.get("method", methods[0] if methods else "")
    if methods and method not in methods:
        probs.append(f"{where}method: expected {' or '.join(methods)} for a {design_type} design, found "
                     f"{describe_value(method)}")
    missing = analysis.get("missing", "refuse")
    if missing not in MISSING_POLICIES:
        probs.append(f"{where}missing: expected one of {', '.join(MISSING_POLICIES)}, found {describe_value(missing)}")
    conf = analysis.get("conf_level", 0.95)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.5 <= conf < 1:
        probs.append(f"{where}conf_level: expected a number in [0.5, 1), found {describe_value(conf)}")
    res = analysis.get("resamples", 200)
    if isinstance(res, bool) or not isinstance(res, int) or res < 10:
        probs.append(f"{where}resamples: expected a whole number ≥ 10, found {describe_value(res)}")
    flags = {name: analysis.get(name, True) for name in ("convergence", "levels")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            probs.append(f"{where}{name}: expected true or false, found {describe_value(value)}")
    return {"method": method, "missing": missing, "conf_level": float(conf) if not isinstance(conf, bool) else 0.95,
            "resamples": res, **flags}


def _outcome_list(analysis: dict, sweep_raw: dict, known: tuple[str, ...], default: tuple[str, ...], origin: str,
                  probs: list[str]) -> list[str]:
    outcomes = analysis.get("outcomes", list(default))
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if not isinstance(outcomes, list) or not outcomes:
        probs.append(f"{origin}: analysis.outcomes: expected a list of outcome names, found {describe_value(outcomes)}")
        return []
    for name in outcomes:
        if name not in known:
            hint = difflib.get_close_matches(str(name), known, n=1)
            probs.append(f"{origin}: analysis.outcomes: {name}: unknown outcome"
                         + (f"; did you mean '{hint[0]}'?" if hint else "; see `coprod-sim outcomes`"))
    return [str(o) for o in outcomes]


def _model_study(sweep_raw: dict, analysis: dict, origin: str, here: Path, probs: list[str]) -> Study:
    design = sweep_raw.get("design")
    kind = str(design.get("type", "")) if isinstance(design, dict) else ""
    opts = _options(analysis, kind, origin, probs)
    outcomes = _outcome_list(analysis, sweep_raw, tuple(SUMMARY_KEYS), KEY_OUTCOMES, origin, probs)
    effects = analysis.get("effects", [])
    if not isinstance(effects, list) or not all(isinstance(e, str) for e in effects):
        probs.append(f"{origin}: analysis.effects: expected a list of scenario names or config paths, found "
                     f"{describe_value(effects)}")
        effects = []
    if not opts["levels"] and not effects:
        probs.append(f"{origin}: analysis.levels: false leaves nothing to analyse; name effects or set levels: true")
    if probs:
        raise ConfigError(probs)
    # the runs keep the spec's outputs (default: every summary outcome), so a study and a plain sweep of the
    # same spec share run keys and a study can analyse a sweep already on disk without running it again
    plan = build_plan(sweep_raw, origin, here)
    if effects and _introduction(plan):  # the effects' time paths after the introduction (sweeps/events.py)
        sweep_raw = _with_steps(sweep_raw, [o for o in outcomes if o in OUTCOME_KEYS])
        plan = build_plan(sweep_raw, origin, here)
    _enough_points(opts["method"], len(plan.points), origin)
    unkept = [o for o in outcomes if o not in plan.summary_outcomes]
    if unkept:
        raise ConfigError([f"{origin}: outputs.summary: leaves out {', '.join(unkept)}, which analysis.outcomes "
                           "needs; add them or remove the outputs key"])
    base_label = str(sweep_raw.get("base") or "defaults") if not isinstance(sweep_raw.get("base"), dict) else "base"
    effect_plans = {}
    for scenario in effects:
        effect_plans[scenario] = build_plan({**sweep_raw, "base": scenario}, f"{origin} (effect of {scenario})", here)
    return Study(name=plan.name, origin=origin, model="coprod", design_type=kind, factors=list(plan.varied),
                 outcomes=outcomes, plan=plan, base_label=Path(base_label).stem, effect_plans=effect_plans, **opts)


def _introduction(plan: SweepPlan) -> bool:
    return bool(plan.tasks) and load_config(plan.tasks[0].cfg).run.design == "introduction"


def _with_steps(sweep_raw: dict, outcomes: list[str]) -> dict:
    """The spec with ``outcomes`` kept month by month too (the spec's own ``outputs.steps`` kept)."""
    outputs = dict(sweep_raw.get("outputs") or {})
    steps = outputs.get("steps", "none")
    if steps != "all":
        outputs["steps"] = list(dict.fromkeys([*(steps if isinstance(steps, list) else []), *outcomes]))
    return {**sweep_raw, "outputs": outputs}


def _enough_points(method: str, points: int, origin: str) -> None:
    need = MIN_GIVEN_POINTS.get(method, 0)
    if points < need:
        raise ConfigError([f"{origin}: design: {method} needs at least {need} design points, found {points}; "
                           "add samples"])


# ------------------------------------------------------------------ analytic targets
def _analytic_study(model: str, raw: dict, analysis: dict, origin: str, probs: list[str]) -> Study:
    """The Ishigami function as a study: the same designs, seeds, engine and analysis as the model."""
    _unknown(raw, ANALYTIC_FIELDS, f"{origin}: ", probs)
    design = raw.get("design")
    if not isinstance(design, dict):
        raise ConfigError([*probs, f"{origin}: design: expected a mapping with type, samples and parameters, "
                                   f"found {describe_value(design)}"])
    kind = design.get("type")
    if kind not in (*SALIB_DESIGNS, "lhs"):
        probs.append(f"{origin}: design.type: expected one of sobol, morris, fast, lhs for model {model}, found "
                     f"{describe_value(kind)}")
    opts = _options(analysis, str(kind), origin, probs)
    _outcome_list(analysis, raw, (targets.OUTCOME,), (targets.OUTCOME,), origin, probs)
    axes = _analytic_axes(design.get("parameters"), origin, probs)
    groups = design_groups(design, str(kind), [a.key for a in axes], origin, probs)
    samples, reps, seed = design.get("samples"), raw.get("replicates", 1), raw.get("seed", 0)
    for name, value, low in (("design.samples", samples, min_samples(str(kind)) if kind in SALIB_DESIGNS else 2),
                             ("replicates", reps, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            probs.append(f"{origin}: {name}: expected a whole number ≥ {low}, found {describe_value(value)}")
    noise = (raw.get("set") or {}).get("noise_sd", targets.DEFAULT_NOISE_SD if model == "ishigami_noisy" else 0.0)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
        probs.append(f"{origin}: set.noise_sd: expected a number ≥ 0, found {describe_value(noise)}")
    if probs:
        raise ConfigError(probs)
    scheme = raw.get("seed_scheme", "common")
    if scheme not in SEED_SCHEMES:
        raise ConfigError([f"{origin}: seed_scheme: expected one of {', '.join(SEED_SCHEMES)}, found "
                           f"{describe_value(scheme)}"])
    plan = _analytic_plan(str(kind), design, axes, int(samples or 0), reps, seed, scheme, float(noise), raw, origin,
                          groups)
    _enough_points(opts["method"], len(plan.points), origin)
    return Study(name=plan.name, origin=origin, model=model, design_type=str(kind), factors=plan.varied,
                 outcomes=[targets.OUTCOME], plan=plan, base_label=model, **opts)


def _analytic_axes(params: Any, origin: str, probs: list[str]) -> list[Axis]:
    if not isinstance(params, dict) or not params:
        probs.append(f"{origin}: design.parameters: expected a mapping of factors ({', '.join(targets.FACTORS)}) "
                     f"to {{range: [low, high]}} (default [-π, π]), found {describe_value(params)}")
        return []
    axes = []
    for key, entry in params.items():
        rng = (entry or {}).get("range", [-math.pi, math.pi]) if isinstance(entry, dict) or entry is None else None
        if key not in targets.FACTORS:
            probs.append(f"{origin}: design.parameters.{key}: unknown factor; the target's factors are "
                         f"{', '.join(targets.FACTORS)}")
        elif not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, (int, float)) for v in rng)
                  and rng[0] < rng[1]):
            probs.append(f"{origin}: design.parameters.{key}: expected {{range: [low, high]}} with low < high, "
                         f"found {describe_value(entry)}")
        else:
            axes.append(Axis(key=str(key), low=float(rng[0]), high=float(rng[1])))
    return axes


def _analytic_plan(kind: str, design: dict, axes: list[Axis], samples: int, reps: int, seed: int, scheme: str,
                   noise: float, raw: dict, origin: str, groups: list[str] | None = None) -> SweepPlan:
    info: dict[str, Any] = {}
    if kind in SALIB_DESIGNS:
        salib_seed = int(np.random.SeedSequence(entropy=seed, spawn_key=SALIB_STREAM).generate_state(1)[0])
        second = bool(design.get("second_order", False))
        unit, points = salib_design(kind, axes, samples, salib_seed, second, int(design.get("levels", 4)), groups)
        info = {"type": kind, "unit": unit, "samples": samples, "second_order": second,
                "levels": int(design.get("levels", 4)), **({"groups": groups} if groups else {})}
    else:
        points = latin_hypercube(axes, samples, np.random.default_rng(
            np.random.SeedSequence(entropy=seed, spawn_key=LHS_STREAM)))
    tasks: list[RunTask] = []
    seen: dict[str, int] = {}
    repeats: dict[int, int] = {}
    for pid, point in enumerate(points):
        cfg = {"noise_sd": noise, **point}
        for rep in range(reps):
            s = derive_seed(seed, pid, rep, scheme)
            key = run_key(cfg, rep, s, ([targets.OUTCOME], []))
            if key in seen:  # a Morris grid revisits points: the same run serves both (as in sweep plans)
                repeats[pid] = seen[key]
                continue
            seen[key] = pid
            tasks.append(RunTask(key, pid, rep, s, dict(point), cfg))
    return SweepPlan(name=str(raw.get("name") or (Path(origin).stem if not origin.startswith("<") else "ishigami")),
                     origin=origin, spec=raw, base_cfg={"noise_sd": noise}, varied=[a.key for a in axes],
                     points=points, tasks=tasks, root_seed=seed, seed_scheme=scheme, replicates=reps,
                     summary_outcomes=[targets.OUTCOME], step_outcomes=[], backend=raw.get("backend", "processes"),
                     workers=raw.get("workers", 2), design=info, repeats=repeats, simulator=targets.run_target)
