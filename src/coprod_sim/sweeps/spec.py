"""Sweep specs: read a YAML spec, check it completely, and turn it into a plan of runs.

Everything that can be wrong with a spec is found here, before any run starts:
unknown varied keys (per-service subkeys included), values outside a
parameter's range, designs that make an invalid config at some point. Problems
are phrased like config problems ("FILE: key.path: expected X, found Y") and
raised together as one :class:`~coprod_sim.config.ConfigError`.

The plan fixes every run's identity: design point id, replicate, seed (derived
on the client from the root seed, never from worker state) and ``run_key``, a
stable hash of the resolved config, replicate and seed.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import (
    Config,
    ConfigError,
    Parameter,
    ParamsLike,
    all_keys,
    check_file,
    describe_value,
    dotted,
    load_config,
    parameter_for,
    read_yaml,
    resolve,
    scenario_source,
    shipped_scenarios,
    unusable_numbers,
    value_problem,
)
from ..model import OUTCOME_KEYS, SUMMARY_KEYS
from .design import (
    DESIGN_TYPES,
    DISTRIBUTIONS,
    SAMPLED_TYPES,
    Axis,
    factorial,
    latin_hypercube,
    levels,
    one_at_a_time,
    salib_design,
)
from .groups import design_groups, ungroupable
from .salib import SALIB_DESIGNS, group_names, min_samples, rows

BACKENDS = ("serial", "processes", "dask")
SEED_SCHEMES = {
    "independent": "seed = SeedSequence(entropy=root_seed, spawn_key=(design_point, replicate)).generate_state(1, "
                   "uint64)[0] >> 1",
    "common": "seed = SeedSequence(entropy=root_seed, spawn_key=(replicate,)).generate_state(1, uint64)[0] >> 1 "
              "(common random numbers: every design point sees the same seeds)",
}
SPEC_FIELDS = ("name", "description", "base", "set", "design", "replicates", "seed", "seed_scheme", "outputs",
               "backend", "workers", "batch_size", "scheduler", "timeout", "max_attempts", "fault_injection")
DESIGN_FIELDS = ("type", "parameters", "samples", "points", "file", "second_order", "levels", "groups")
LHS_STREAM = (0xD1E5, 0xD1E5, 0xD1E5)  # spawn key of the LHS sampler's stream; never a run's key
SALIB_STREAM = (0x5A1B, 0x5A1B, 0x5A1B)  # spawn key of the SALib samplers' seed; never a run's key
MAX_RUNS = 100_000  # a sweep resolves every run's config up front (about 1 ms each); beyond this, split it
FAULT_ACTIONS = ("raise", "exit", "hang", "nan")  # testing aid: what a matching run does (worker._fault_action)


@dataclass
class RunTask:
    """One run: who it is (point, replicate, seed, run_key) and the full config it runs."""

    run_key: str
    point_id: int
    replicate: int
    seed: int
    params: dict[str, Any]
    cfg: Config | dict  # the model's resolved config; a plain mapping for analytic test functions


@dataclass
class SweepPlan:
    """A validated sweep: the runs to do and what to record about them."""

    name: str
    origin: str
    spec: dict
    base_cfg: dict  # plain form (manifests; base values of the varied keys)
    varied: list[str]
    points: list[dict[str, Any]]
    tasks: list[RunTask]
    root_seed: int
    seed_scheme: str
    replicates: int
    summary_outcomes: list[str]
    step_outcomes: list[str]
    backend: str = "processes"
    workers: int = 2
    batch_size: int | str = "auto"
    scheduler: str | None = None
    timeout: float | None = None
    max_attempts: int = 3
    fault: dict = field(default_factory=dict)
    # SALib designs: type, unit-cube sample (one row per point), base size, options (read by the sensitivity layer)
    design: dict[str, Any] = field(default_factory=dict)
    # point → earlier identical point whose runs it shares (SALib designs with common seeds only)
    repeats: dict[int, int] = field(default_factory=dict)
    # what a run computes, ``f(cfg, seed) → object with .summary``; None: the model (runs.simulate)
    simulator: Callable[[Any, int], Any] | None = None


# ------------------------------------------------------------------ seeds and keys
def derive_seed(root_seed: int, point_id: int, replicate: int, scheme: str = "independent") -> int:
    """A run's seed from the root seed and its identity only (63 bits, so it fits an int64 column)."""
    key = (replicate,) if scheme == "common" else (point_id, replicate)
    state = np.random.SeedSequence(entropy=int(root_seed), spawn_key=key).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def run_key(cfg: Config | dict, replicate: int, seed: int, outputs: tuple[list[str], list[str]]) -> str:
    """Stable hash of what determines a run's row: resolved config, replicate, seed, and the outputs it must
    provide (summary and per-step outcomes), so a row made for other outputs is never reused.

    The code version is not in the key: a sweep refuses to resume into a folder made by another
    version (engine._check_same_code)."""
    plain = cfg.to_dict() if isinstance(cfg, Config) else cfg
    text = json.dumps({"config": plain, "replicate": replicate, "seed": seed, "outputs": list(outputs)},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _unknown_key(where: str, key: str) -> str:
    hint = difflib.get_close_matches(key, all_keys(), n=1, cutoff=0.6)
    tip = f"; did you mean '{hint[0]}'?" if hint else "; see `coprod-sim params` for the list"
    return f"{where}: {key}: unknown parameter{tip}"


# ------------------------------------------------------------------ loading
class _Problems(list):
    """Problems collected while reading a spec (a list with a helper)."""

    def add(self, line: str | None) -> None:
        if line and line not in self:
            self.append(line)


def load_spec(path: str | os.PathLike) -> SweepPlan:
    """Read, validate and expand a sweep spec; raise ConfigError listing every problem."""
    path = Path(path)
    raw = read_yaml(path)
    return build_plan(raw, str(path), path.parent)


def build_plan(raw: dict, origin: str, here: Path | None = None) -> SweepPlan:
    """Validate a spec mapping and expand it into runs (``here``: folder for relative base paths)."""
    probs = _Problems()
    for path, problem in unusable_numbers(raw):
        probs.add(f"{origin}: {path}: {problem}")
    if probs:
        raise ConfigError(probs)
    _check_fields(raw, SPEC_FIELDS, f"{origin}: ", probs)
    base_raw = _load_base(raw.get("base"), origin, here or Path("."), probs)
    fixed = _fixed_overrides(raw.get("set", {}), origin, probs)
    opts = _options(raw, origin, probs)
    base_config = _resolve_or_note(dotted.merge(base_raw, dotted.nested(fixed)), f"{origin}: base + set", probs)
    base_cfg = base_config.to_dict() if base_config is not None else None
    design = raw.get("design")
    points: list[dict[str, Any]] = []
    varied: list[str] = []
    info: dict[str, Any] = {}
    if not isinstance(design, dict):
        probs.add(f"{origin}: design: expected a mapping with type and parameters, found {describe_value(design)}")
    elif base_cfg is not None:
        varied, points = _expand_design(design, base_cfg, opts["root_seed"], opts["replicates"], origin, probs, info,
                                        here)
        _overlapping(varied, origin, probs)
    outcomes = _outputs(raw.get("outputs"), origin, probs)
    fault = _fault(raw.get("fault_injection"), origin, probs)
    if probs:
        raise ConfigError(probs)
    merged = dotted.merge(base_raw, dotted.nested(fixed))
    repeats: dict[int, int] | None = {} if info else None  # SALib designs may repeat a point
    tasks = _tasks(points, merged, opts, outcomes, origin, probs, repeats)
    if probs:
        raise ConfigError(probs)
    return SweepPlan(
        name=str(raw.get("name") or (Path(origin).stem if not origin.startswith("<") else "sweep")), origin=origin,
        spec=raw, base_cfg=base_cfg or {},
        varied=varied, points=points, tasks=tasks, summary_outcomes=outcomes[0], step_outcomes=outcomes[1],
        fault=fault, design=info, repeats=repeats or {}, **opts,
    )


def _overlapping(varied: list[str], origin: str, probs: _Problems) -> None:
    """Two factors where one contains the other (``services.unit_cost`` and ``services.unit_cost.meals``):
    one would overwrite the other, and runs would be labelled with values they did not use."""
    for outer in varied:
        for inner in varied:
            if inner.startswith(outer + "."):
                probs.add(f"{origin}: design: {outer} and {inner} overlap ({inner} is part of {outer}); vary one of "
                          "them, not both")


def _check_fields(data: dict, allowed: tuple[str, ...], where: str, probs: _Problems) -> None:
    """Unknown keys, with a did-you-mean hint; ``where`` is the message prefix up to the key."""
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            tip = f"; did you mean '{hint[0]}'?" if hint else f"; known keys here: {', '.join(allowed)}"
            probs.add(f"{where}{key}: unknown key{tip}")


def _resolve_or_note(data: dict, origin: str, probs: _Problems) -> Config | None:
    try:
        return resolve(data, origin)
    except ConfigError as err:
        for line in err.problems:
            probs.add(line)
        return None


def _load_base(base: Any, origin: str, here: Path, probs: _Problems) -> dict:
    """The base config as raw data: a YAML path (relative to the spec, then the cwd), a shipped
    scenario's name, an inline mapping, or the defaults."""
    if base is None:
        return {}
    if isinstance(base, dict):
        return base
    if not isinstance(base, str):
        probs.add(f"{origin}: base: expected a scenario name, a path to a config file or a mapping, found "
                  f"{describe_value(base)}")
        return {}
    # anything that exists, so a folder, pipe or device is named as such (by the reader), not "not found"
    found = next((c for c in (here / base, Path(base)) if c.exists() and not (c.is_dir() and base in shipped_scenarios())),
                 None)
    if found is None and base not in shipped_scenarios():
        probs.add(f"{origin}: base: file not found: {base} (looked in {here} and the current folder; shipped "
                  f"scenarios: {', '.join(shipped_scenarios())})")
        return {}
    try:
        data, where = scenario_source(found or base)
    except ConfigError as err:  # the spec's key first, then what is wrong with the file it names
        probs.extend(f"{origin}: base: {line}" for line in err.problems)
        return {}
    _resolve_or_note(data, where, probs)
    return data


def _fixed_overrides(fixed: Any, origin: str, probs: _Problems) -> dict[str, Any]:
    if not isinstance(fixed, dict):
        probs.add(f"{origin}: set: expected a mapping of dotted.key: value, found {describe_value(fixed)}")
        return {}
    return _checked_assignments(fixed, f"{origin}: set", probs)


def _checked_assignments(mapping: dict, where: str, probs: _Problems) -> dict[str, Any]:
    """``dotted.key: value`` pairs whose key is a parameter; unknown keys and bad values are noted."""
    out = {}
    for key, value in mapping.items():
        p = parameter_for(str(key))
        if p is None:
            probs.add(_unknown_key(where, str(key)))
            continue
        probs.add(value_problem(f"{where}.{key}", p, value))
        out[str(key)] = value
    return out


def _options(raw: dict, origin: str, probs: _Problems) -> dict[str, Any]:
    """Scalars of the spec: replicates, seed, scheme, backend, workers, batch size, scheduler."""
    def whole(name: str, default: int, low: int) -> int:
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            probs.add(f"{origin}: {name}: expected a whole number ≥ {low}, found {describe_value(value)}")
            return default
        return value

    opts: dict[str, Any] = {"replicates": whole("replicates", 1, 1), "root_seed": whole("seed", 0, 0),
            "workers": whole("workers", min(2, os.cpu_count() or 1), 1)}
    for name, choices, default in (("seed_scheme", tuple(SEED_SCHEMES), "independent"),
                                   ("backend", BACKENDS, "processes")):
        value = raw.get(name, default)
        if value not in choices:
            probs.add(f"{origin}: {name}: expected one of {', '.join(choices)}, found {describe_value(value)}")
            value = default
        opts[name] = value
    batch = raw.get("batch_size", "auto")
    if batch != "auto" and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        probs.add(f"{origin}: batch_size: expected auto or a whole number ≥ 1, found {describe_value(batch)}")
        batch = "auto"
    opts["batch_size"] = batch
    sched = raw.get("scheduler")
    if sched is not None and not isinstance(sched, str):
        probs.add(f"{origin}: scheduler: expected an address such as tcp://host:8786, found {describe_value(sched)}")
        sched = None
    opts["scheduler"] = sched
    limit = raw.get("timeout")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 < limit < math.inf):
        probs.add(f"{origin}: timeout: expected seconds per run, a finite number > 0, found {describe_value(limit)}")
        limit = None
    opts["timeout"] = limit
    opts["max_attempts"] = whole("max_attempts", 3, 1)
    return opts


# ------------------------------------------------------------------ designs
def _expand_design(design: dict, base_cfg: dict, root_seed: int, replicates: int, origin: str, probs: _Problems,
                   info: dict[str, Any], here: Path | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    _check_fields(design, DESIGN_FIELDS, f"{origin}: design.", probs)
    kind = design.get("type")
    if kind not in DESIGN_TYPES:
        probs.add(f"{origin}: design.type: expected one of {', '.join(DESIGN_TYPES)}, found {describe_value(kind)}")
        return [], []
    refused = ungroupable(design, kind, origin)
    if refused:
        probs.add(refused)
        return [], []
    if kind == "explicit":
        points = design.get("points")
        where, unit = origin, "design.points"
        if "file" in design:
            points, where = _points_file(design["file"], origin, here or Path("."), probs)
            unit = "row"
            if points is None:
                return [], []
        if isinstance(points, list) and _too_many(len(points) * replicates, f"{origin}: design", probs):
            return [], []
        return _explicit(points, base_cfg, where, probs, unit)
    params = design.get("parameters")
    if not isinstance(params, dict) or not params:
        probs.add(f"{origin}: design.parameters: expected a mapping of dotted.key: levels, found {describe_value(params)}")
        return [], []
    axes = [a for key, entry in params.items() if (a := _axis(str(key), entry, kind, origin, probs))]
    if len(axes) != len(params):
        return [], []
    varied = [a.key for a in axes]
    raw_samples = design.get("samples")
    samples = 0
    if kind == "lhs" or kind in SALIB_DESIGNS:
        low = min_samples(kind) if kind in SALIB_DESIGNS else 1
        if isinstance(raw_samples, bool) or not isinstance(raw_samples, int) or raw_samples < low:
            probs.add(f"{origin}: design.samples: expected a whole number ≥ {low}, found {describe_value(raw_samples)}")
            return [], []
        samples = raw_samples
    found = len(probs)
    groups = design_groups(design, kind, varied, origin, probs)
    if len(probs) > found:
        return [], []
    count = {"factorial": math.prod(len(a.values) for a in axes), "oat": 1 + sum(len(a.values) for a in axes),
             "lhs": samples}.get(kind) or rows(kind, len(group_names(varied, groups)), samples,
                                               design.get("second_order") is True)
    if _too_many(count * replicates, f"{origin}: design", probs):  # counted, not materialised
        return [], []
    if kind == "factorial":
        return varied, factorial(axes)
    if kind == "oat":
        return varied, one_at_a_time(axes, {k: dotted.get(base_cfg, k) for k in varied})
    if kind in SALIB_DESIGNS:
        return varied, _salib_points(kind, design, axes, samples, root_seed, origin, probs, info, groups)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=root_seed, spawn_key=LHS_STREAM))
    return varied, latin_hypercube(axes, count, rng)


def _too_many(runs: int, where: str, probs: _Problems) -> bool:
    if runs <= MAX_RUNS:
        return False
    probs.add(f"{where}: {runs:,} runs (design points × replicates), more than the limit of {MAX_RUNS:,}; "
              "split the sweep into several specs or use fewer levels, samples or replicates")
    return True


def _salib_points(kind: str, design: dict, axes: list[Axis], samples: int, root_seed: int, origin: str,
                  probs: _Problems, info: dict[str, Any], groups: list[str] | None = None) -> list[dict[str, Any]]:
    """Sobol / Morris / FAST points, seeded from the root seed; the unit sample (and each factor's group
    label, when the design has groups) goes into ``info``."""
    second, nlev = design.get("second_order", False), design.get("levels", 4)
    if not isinstance(second, bool):
        probs.add(f"{origin}: design.second_order: expected true or false, found {describe_value(second)}")
    if isinstance(nlev, bool) or not isinstance(nlev, int) or nlev < 2 or nlev % 2:
        probs.add(f"{origin}: design.levels: expected an even whole number ≥ 2 (Morris grid levels), found "
                  f"{describe_value(nlev)}")
    if probs:
        return []
    seed = int(np.random.SeedSequence(entropy=root_seed, spawn_key=SALIB_STREAM).generate_state(1)[0])
    unit, points = salib_design(kind, axes, samples, seed, bool(second), int(nlev), groups)
    info.update(type=kind, unit=unit, samples=samples, second_order=bool(second), levels=int(nlev))
    if groups:
        info["groups"] = groups
    return points


def _axis(key: str, entry: Any, kind: str, origin: str, probs: _Problems) -> Axis | None:
    """One varied parameter: a list of levels or a range (levels for factorial/oat, a distribution for LHS)."""
    where = f"{origin}: design.parameters.{key}"
    p = parameter_for(key)
    if p is None:
        probs.add(_unknown_key(f"{origin}: design.parameters", key))
        return None
    if isinstance(entry, list):
        if not entry:
            probs.add(f"{where}: expected a non-empty list of values, found an empty list")
            return None
        bad = [msg for i, v in enumerate(entry) if (msg := value_problem(f"{where}[{i}]", p, v))]
        for msg in bad:
            probs.add(msg)
        return None if bad else Axis(key=key, values=tuple(entry))
    if not isinstance(entry, dict):
        probs.add(f"{where}: expected a list of values or a mapping with range, found {describe_value(entry)}")
        return None
    if p.type not in ("number", "integer"):
        probs.add(f"{where}: a range needs a numeric parameter; {key} is {p.type}: give a list of values")
        return None
    return _range_axis(key, entry, p, kind, where, probs)


def _range_axis(key: str, entry: dict, p: Parameter, kind: str, where: str, probs: _Problems) -> Axis | None:
    sampled = kind in SAMPLED_TYPES
    allowed = ("range", "dist", "mode", "mean", "sd") if sampled else ("range", "n")
    _check_fields(entry, allowed, f"{where}.", probs)
    rng = entry.get("range", list(p.range) if sampled else None)
    if not (isinstance(rng, list) and len(rng) == 2):
        probs.add(f"{where}.range: expected [low, high], found {describe_value(rng)}")
        return None
    bad = [m for i, v in enumerate(rng) if (m := value_problem(f"{where}.range[{i}]", dataclasses.replace(
        p, type="number"), v))]
    if bad or rng[0] > rng[1]:
        for m in bad or [f"{where}.range: expected low ≤ high, found {rng!r}"]:
            probs.add(m)
        return None
    integer = p.type == "integer"
    if not sampled:
        n = entry.get("n")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_RUNS:
            probs.add(f"{where}.n: expected a whole number of levels in [1, {MAX_RUNS:,}], found {describe_value(n)}")
            return None
        return Axis(key=key, values=tuple(levels(rng[0], rng[1], n, integer)))
    return _lhs_axis(key, entry, rng, integer, where, probs)


def _lhs_axis(key: str, entry: dict, rng: list, integer: bool, where: str, probs: _Problems) -> Axis | None:
    dist = entry.get("dist", "uniform")
    if dist not in DISTRIBUTIONS:
        probs.add(f"{where}.dist: expected one of {', '.join(DISTRIBUTIONS)}, found {describe_value(dist)}")
        return None
    lo, hi = rng
    need = {"triangular": ("mode",), "normal": ("mean", "sd")}.get(dist, ())
    for name in need:
        if not isinstance(entry.get(name), (int, float)) or isinstance(entry.get(name), bool):
            probs.add(f"{where}.{name}: expected a number for the {dist} distribution, found "
                      f"{describe_value(entry.get(name))}")
            return None
    if dist == "loguniform" and lo <= 0:
        probs.add(f"{where}.range: expected low > 0 for a loguniform distribution, found {lo!r}")
        return None
    if dist == "triangular" and not lo <= entry["mode"] <= hi:
        probs.add(f"{where}.mode: expected a value in [{lo}, {hi}], found {entry['mode']!r}")
        return None
    if dist == "normal" and entry["sd"] <= 0:
        probs.add(f"{where}.sd: expected a positive number, found {entry['sd']!r}")
        return None
    if integer and dist != "uniform":
        probs.add(f"{where}.dist: integer parameters take a uniform distribution, found {dist!r}")
        return None
    return Axis(key=key, dist=dist, low=lo, high=hi, mode=entry.get("mode"), mean=entry.get("mean"),
                sd=entry.get("sd"), integer=integer)


def _points_file(name: Any, origin: str, here: Path, probs: _Problems) -> tuple[list[dict[str, Any]] | None, str]:
    """Explicit points from a CSV file (a header of dotted keys, one point per row, empty cells take the
    base value; the path is relative to the spec) and the file's name for messages."""
    import pandas as pd

    if not isinstance(name, str):
        probs.add(f"{origin}: design.file: expected a path to a CSV file, found {describe_value(name)}")
        return None, origin
    path = next((c for c in (here / name, Path(name)) if c.exists()), None)
    if path is None:
        probs.add(f"{origin}: design.file: file not found: {name} (looked in {here} and the current folder)")
        return None, origin
    try:
        check_file(path)  # a regular file of sane size: a pipe would block, a device never end
    except ConfigError as err:
        probs.extend(f"{origin}: design.file: {line}" for line in err.problems)
        return None, origin
    try:
        table = pd.read_csv(path, true_values=["true", "True"], false_values=["false", "False"])
        text = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as err:
        probs.add(f"{path}: expected a CSV table with a header of parameter keys, found unreadable data ({err})")
        return None, origin
    # only an empty cell means "the base value": pandas also reads nan, NA, null, n/a ... as missing
    for i, key in zip(*np.nonzero((table.isna() & (text.map(str.strip) != "")).to_numpy()), strict=True):
        probs.add(f"{path}: row {i + 2}: {table.columns[key]}: expected a value or an empty cell (the base value), "
                  f"found {text.iat[i, key]!r}")
    return [{str(k): _plain(v) for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
            for row in table.to_dict("records")], str(path)


def _plain(value: Any) -> Any:
    """numpy scalars from a CSV cell as plain Python values (whole floats of integer columns stay ints)."""
    return value.item() if isinstance(value, np.generic) else value


def _explicit(points: Any, base_cfg: dict, origin: str, probs: _Problems,
              item: str = "design.points") -> tuple[list[str], list[dict[str, Any]]]:
    """A list of points; keys a point does not give take their base value.

    ``item`` names a point in messages: ``design.points[i]``, or ``row n`` of a CSV file (header = row 1)."""
    if not isinstance(points, list) or not points:
        probs.add(f"{origin}: design.points: expected a non-empty list of mappings, found {describe_value(points)}")
        return [], []
    varied: list[str] = []
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            probs.add(f"{origin}: {_item(item, i)}: expected a mapping of dotted.key: value, found "
                      f"{describe_value(point)}")
            continue
        for key in _checked_assignments(point, f"{origin}: {_item(item, i)}", probs):
            if key not in varied:
                varied.append(key)
    if probs:
        return [], []
    full = [{k: p.get(k, dotted.get(base_cfg, k)) for k in varied} for p in points]
    return varied, full


def _item(item: str, i: int) -> str:
    return f"row {i + 2}" if item == "row" else f"{item}[{i}]"


# ------------------------------------------------------------------ outputs, fault injection, tasks
def _outputs(outputs: Any, origin: str, probs: _Problems) -> tuple[list[str], list[str]]:
    """Summary outcomes to keep (default all) and per-step outcomes to keep (default none)."""
    outputs = {} if outputs is None else outputs
    if not isinstance(outputs, dict):
        probs.add(f"{origin}: outputs: expected a mapping with summary and/or steps, found {describe_value(outputs)}")
        return [], []
    _check_fields(outputs, ("summary", "steps"), f"{origin}: outputs.", probs)
    summary_all, steps_all = SUMMARY_KEYS, OUTCOME_KEYS
    chosen = []
    for name, everything, default in (("summary", summary_all, "all"), ("steps", steps_all, "none")):
        value = outputs.get(name, default)
        if value == "all":
            chosen.append(list(everything))
        elif value in ("none", None):
            chosen.append([])
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            for v in value:
                if v not in everything:
                    hint = difflib.get_close_matches(v, everything, n=1)
                    tip = f"; did you mean '{hint[0]}'?" if hint else ""
                    probs.add(f"{origin}: outputs.{name}: {v}: unknown outcome{tip}")
            chosen.append(list(value))
        else:
            probs.add(f"{origin}: outputs.{name}: expected all, none or a list of outcome names, found "
                      f"{describe_value(value)}")
            chosen.append([])
    return chosen[0], chosen[1]


def _fault(fault: Any, origin: str, probs: _Problems) -> dict:
    """Fault injection (a testing aid): runs whose config matches ``fail_when`` raise on purpose."""
    if fault is None:
        return {}
    if (not isinstance(fault, dict) or not {"fail_when"} <= set(fault) <= {"fail_when", "action"}
            or not isinstance(fault["fail_when"], dict) or fault.get("action", "raise") not in FAULT_ACTIONS):
        probs.add(f"{origin}: fault_injection: expected a mapping with fail_when: {{dotted.key: value}} and "
                  f"optionally action: {' | '.join(FAULT_ACTIONS)}, found {describe_value(fault)}")
        return {}
    for key in fault["fail_when"]:
        if parameter_for(str(key)) is None:
            probs.add(_unknown_key(f"{origin}: fault_injection.fail_when", str(key)))
    return dict(fault)


def _tasks(points: list[dict[str, Any]], merged_raw: dict, opts: dict, outputs: tuple[list[str], list[str]],
           origin: str, probs: _Problems, repeats: dict[int, int] | None = None) -> list[RunTask]:
    """Resolve each design point's config (cross-checks included) and give every run its seed and key.

    A point identical to an earlier one (same config and seeds) is an error, unless ``repeats`` is
    given (SALib designs, whose whole-number and categorical factors can repeat a point): then it is
    run once and ``repeats`` records which earlier point it shares."""
    tasks: list[RunTask] = []
    seen: dict[str, tuple[int, int]] = {}
    for pid, point in enumerate(points):
        cfg = _resolve_or_note(dotted.merge(merged_raw, dotted.nested(point)), f"{origin}: design point {pid} {point}", probs)
        if cfg is None:
            continue
        for rep in range(opts["replicates"]):
            seed = derive_seed(opts["root_seed"], pid, rep, opts["seed_scheme"])
            key = run_key(cfg, rep, seed, outputs)
            if key in seen and repeats is not None:
                repeats[pid] = seen[key][0]
                continue
            if key in seen:
                probs.add(f"{origin}: design point {pid} repeats design point {seen[key][0]} with the same seeds; "
                          "remove the duplicate or use seed_scheme: independent")
                continue
            seen[key] = (pid, rep)
            tasks.append(RunTask(key, pid, rep, seed, dict(point), cfg))
    return tasks


def plan_from_configs(paths: list[str], overrides: ParamsLike, replicates: int, root_seed: int,
                      step_outcomes: list[str] | None = None) -> SweepPlan:
    """A comparison as a sweep: one design point per scenario, the same seeds for all (common random numbers);
    ``step_outcomes``: outcomes kept month by month (the event study of the introduction design)."""
    probs = _Problems()
    cfgs: list[Config] = []
    for path in paths:
        try:
            cfgs.append(load_config(path, overrides))
        except ConfigError as err:
            probs.extend(err.problems)
    if probs:
        raise ConfigError(probs)
    for i, cfg in enumerate(cfgs):
        for j in range(i):
            if cfg == cfgs[j]:
                probs.add(f"{paths[i]}: resolves to the same configuration as {paths[j]}; nothing to compare")
    if probs:
        raise ConfigError(probs)
    tasks = []
    for pid, (path, cfg) in enumerate(zip(paths, cfgs, strict=True)):
        for rep in range(replicates):
            seed = derive_seed(root_seed, pid, rep, "common")
            tasks.append(RunTask(run_key(cfg, rep, seed, (list(SUMMARY_KEYS), list(step_outcomes or []))), pid, rep,
                                 seed, {"scenario": path}, cfg))
    spec = {"compare": list(paths), "set": overrides if isinstance(overrides, Mapping) else list(overrides or []),
            "replicates": replicates, "seed": root_seed}
    return SweepPlan(name="compare", origin="<compare>", spec=spec, base_cfg=cfgs[0].to_dict(), varied=["scenario"],
                     points=[{"scenario": p} for p in paths], tasks=tasks, root_seed=root_seed,
                     seed_scheme="common", replicates=replicates, summary_outcomes=list(SUMMARY_KEYS),
                     step_outcomes=list(step_outcomes or []))
