"""Run one simulation: the one loop that builds a model, steps it and collects its outcomes.

The public ``coprod_sim.run`` (a scenario name, file or mapping, plus
parameters), sweeps' workers and the CLI all go through :func:`simulate`, so a
run is the same computation wherever it happens.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..config import Config, ParamsLike, ScenarioLike, load_config
from ..model import DRIFT_Z, OUTCOMES, SUMMARY_ONLY, Model, SeedLike, one_blas_thread, seed_from
from .provenance import git_commit, package_versions, results_id
from .result import RunAborted, RunResult
from .worlds import CacheLike, WorldCache


def run(scenario: ScenarioLike = "baseline", params: ParamsLike = None, seed: SeedLike = 0,
        steps: int | None = None, *, on_step: Callable[[int], None] | None = None, cache: CacheLike = True) -> RunResult:
    """Run one scenario and return its outcomes.

    Args:
        scenario: a shipped scenario's name (``"baseline"``; ``coprod-sim scenarios`` lists
            them), a YAML file, or a mapping like a config file.
        params: parameters to change, by dotted key (``{"government.resistance": 0.3}``) or as
            nested mappings; numpy scalars are accepted.
        seed: the seed (same config + same seed ⇒ identical results), a numpy Generator to draw
            one from, or ``None`` for a fresh one (recorded in the manifest).
        steps: months to simulate instead of ``run.steps``; a shorter run shrinks the outcome
            window to its length, with a warning and a note in the manifest.
        on_step: called with the month number after every month (e.g. to drive a progress bar).
        cache: in the introduction design (``run.design``), where spun-up worlds are kept: True for the
            default folder (``$COPROD_SIM_WORLDS``), a folder, or False to simulate the spin-up afresh.

    Raises:
        ConfigError: a bad scenario or parameter, naming the key, what was expected and what was found.
        RunAborted: the run failed part-way; ``.partial`` holds the months completed.
    """
    cfg = load_config(scenario, params)
    notes: list[str] = []
    if steps is not None:
        cfg, notes = with_steps(cfg, steps)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    label = scenario if isinstance(scenario, str) else ("<mapping>" if isinstance(scenario, Mapping) else scenario)
    return simulate(cfg, seed_from(seed), scenario=str(label) if label is not None else None, notes=notes,
                    on_step=on_step, cache=cache)


def with_steps(cfg: Config, steps: int) -> tuple[Config, list[str]]:
    """``cfg`` running ``steps`` months, the outcome window shrunk to fit if needed (and a note saying so)."""
    window = cfg.run.outcome_window
    changes: dict[str, Any] = {"run.steps": steps}
    notes = []
    if isinstance(steps, int) and 0 < steps < window:
        changes["run.outcome_window"] = steps
        notes.append(f"the outcome window shrinks from {window} to {steps} months: the run has only {steps} "
                     "(a mean over fewer months is noisier, and the convergence check needs two windows)")
    return load_config(cfg, changes), notes


def simulate(cfg: Config | Mapping, seed: int, scenario: str | None = None, notes: list[str] | None = None,
             on_step: Callable[[int], None] | None = None, cache: CacheLike = True,
             measured: Collection[str] | None = None) -> RunResult:
    """Build the model from a resolved config, step it ``run.steps`` months, and collect its outcomes.

    A ``Config`` is used as it is; a plain mapping (e.g. a manifest's config) is validated first.
    In the introduction design (``run.design``) the spun-up world comes from the snapshot cache
    (``worlds.py``; ``cache``: True for the default folder, a folder, or False to simulate it afresh):
    the results are the same either way.

    ``measured``: the outcomes the caller will read (None: all); optional outcomes outside it are not
    measured (``Model.measure_only``), which changes nothing else.

    ``on_step`` is called after every month (progress bars). If the run stops
    early, :class:`RunAborted` carries the months already computed; Ctrl+C stays
    a KeyboardInterrupt (so a sweep stops rather than recording a failure) with
    the same ``partial`` attached.
    """
    model = None
    try:
        # one BLAS thread from the start: set-up multiplies matrices too (see Model.run_model)
        with one_blas_thread():
            model = _model(cfg, seed, cache)
            model.measure_only(measured)
            model.run_model(on_step)
    except KeyboardInterrupt as exc:
        exc.partial = RunAborted(_result(model, cfg, seed, scenario, notes, partial=True), exc)  # type: ignore[attr-defined]
        raise
    except Exception as exc:
        raise RunAborted(_result(model, cfg, seed, scenario, notes, partial=True), exc) from exc
    return _result(model, cfg, seed, scenario, notes)


def _model(cfg: Config | Mapping, seed: int, cache: CacheLike) -> Model:
    config = cfg if isinstance(cfg, Config) else load_config(cfg)
    worlds = WorldCache.of(cache) if config.run.design == "introduction" else None
    return worlds.model(config, seed) if worlds is not None else Model(rng=seed, scenario=config)


@dataclass(frozen=True)
class Simulator:
    """:func:`simulate` with a cache setting and the outcomes the sweep reads, as a sweep's workers call it
    (``simulator(cfg, seed)``; picklable)."""

    cache: CacheLike = True
    measured: tuple[str, ...] | None = None

    def __call__(self, cfg: Config | Mapping, seed: int) -> RunResult:
        return simulate(cfg, seed, cache=self.cache, measured=self.measured)


_MISSING_WHEN = {o.key: o.missing_when for o in (*OUTCOMES, *SUMMARY_ONLY)}


def _missing_notes(summary: dict[str, float]) -> list[str]:
    """Why each outcome the run could not measure is missing (null in summary.json, NaN in tables)."""
    return [f"{key} is missing: {_MISSING_WHEN[key] or 'undefined in every month of the outcome window'}"
            for key, value in summary.items() if key in _MISSING_WHEN and math.isnan(value)]


def may_be_missing(key: str) -> bool:
    """Whether the outcome catalogue declares when ``key`` is undefined (``missing_when``): only those may be NaN."""
    return bool(_MISSING_WHEN.get(key))


def non_finite_outcomes(summary: Mapping[str, float]) -> list[str]:
    """Outcomes whose value is not an honest number: infinite, or NaN where the catalogue allows no gap.

    A run with any of them is not a success (status ``non_finite``): its numbers would pass into
    means and plots as if measured.
    """
    return sorted(k for k, v in summary.items()
                  if isinstance(v, float) and (math.isinf(v) or (math.isnan(v) and not may_be_missing(k))))


def _convergence_record(model: Model) -> dict:
    """The diagnostic as the manifest keeps it: the rule, the verdict and each headline outcome's figures."""
    detail = model.convergence()
    run = model.config.run
    return {"rule": f"flag a headline outcome whose mean moved between the last two {run.outcome_window}-month "
                    f"windows by more than {DRIFT_Z:g} standard errors and {run.convergence_tolerance:.0%} of its level",
            "spin_up_months": run.spin_up, "drifting": sorted(k for k, d in detail.items() if d["flagged"]),
            "outcomes": detail}


def _result(model: Model | None, cfg: Config | Mapping, seed: int, scenario: str | None, notes: list[str] | None,
            partial: bool = False) -> RunResult:
    frame = model.timeseries() if model is not None else pd.DataFrame()
    summary = {} if partial or model is None else model.summary()
    notes = [*(notes or []), *_missing_notes(summary)]
    bad = non_finite_outcomes(summary)
    manifest = {
        "scenario": scenario,
        "seed": seed,
        "steps": len(frame),
        "config": (model.config if model is not None else cfg if isinstance(cfg, Config) else load_config(cfg)).to_dict()
        if model is not None or isinstance(cfg, Config) else dict(cfg),
        "notes": notes,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "results_id": results_id(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "partial" if partial else ("non_finite" if bad else "complete"),
        "non_finite": bad,
        "convergence": {} if partial or model is None else _convergence_record(model),
    }
    return RunResult(summary, frame, manifest)
