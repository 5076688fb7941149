"""State behind one browser tab of the app: scenario, lever overrides, seed and model.

Kept free of Solara so it can be unit-tested and so the page module stays a thin
layer of widgets. Levers are *overrides* on top of the chosen scenario file: a
lever the student has not touched shows the scenario's own value, and picking
another scenario clears the overrides (otherwise a slider left at the baseline
value would silently undo the scenario being loaded).
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..config import LEVER, REMEDIES, Config, ConfigError, Parameter, by_role, dotted, load_config, registry, shipped_scenarios
from ..domain import SERVICE_TYPES
from ..model import MONITOR, Model, Outcome, shown_in
from ..runs.worlds import load_snapshot, snapshot_bytes
from .launcher import CONFIG_ENV, CONFIGS_DIR_ENV

# per-service money levers are shown as one slider: a share of each service's unit cost
PER_SERVICE_SHARE = {"profit_space.subsidy_per_visit", "profit_space.voucher_per_visit"}


@dataclass(frozen=True)
class Lever:
    """One control in the lever panel; ``key`` is a dotted config key."""

    key: str
    label: str
    kind: str  # "slider" | "switch"
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    note: str = ""  # how the app maps the slider onto the parameter, if not 1:1

    def explanation(self) -> str:
        """Plain-language meaning, from the parameter registry so it never drifts from the model: a raw key in
        the description, such as "(operators.rent_share)", is left out, and a 0–1 unit said in words."""
        p = registry()[self.key]
        text = re.sub(r" ?\([a-z_]+\.[a-z_.]+\)", "", p.description)
        unit = ("" if p.unit in ("-", "") else " From 0 (none) to 1 (full)." if p.unit in ("0-1", "0–1")
                else f" Unit: {p.unit}.")
        return f"{text}{unit} {self.note}".strip()


# how the app shows a per-service money lever (one slider for all seven services)
SHARE_NOTES = {
    "profit_space.subsidy_per_visit": "Here: share of each service's unit cost paid per visit, same share for all seven services.",
    "profit_space.voucher_per_visit": "Here: voucher value as a share of each service's unit cost, all seven services.",
}


def _lever(p: Parameter) -> Lever:
    """The control for a registry lever marked for the app (``app:`` in parameters.yaml)."""
    tag = f" ({p.remedy})" if p.remedy in ("up", "down", "in", "out", "technology") else ""
    if p.type == "boolean":
        return Lever(p.key, p.label + tag, "switch")
    app = p.app or {}
    hi = 1.0 if p.key in PER_SERVICE_SHARE else float(app.get("max", p.range[1]))
    return Lever(p.key, p.label + tag, "slider", float(p.range[0]), hi, float(app.get("step", 0.05)),
                 SHARE_NOTES.get(p.key, ""))


def app_levers() -> tuple[Lever, ...]:
    """The lever panel: every registry lever marked for the app, grouped by remedy (``REMEDIES`` order)."""
    shown = [p for p in by_role(LEVER) if p.app is not None]
    order = list(REMEDIES)
    return tuple(_lever(p) for p in sorted(shown, key=lambda p: order.index(p.remedy)))


LEVERS: tuple[Lever, ...] = app_levers()
LEVER_BY_KEY = {lv.key: lv for lv in LEVERS}


def _unit_cost(cfg: Config) -> np.ndarray:
    return cfg.services.unit_cost.array()


def lever_value(cfg: Config, key: str) -> float | bool:
    """The value a lever shows for a resolved config (per-service money as a share of unit cost)."""
    value = cfg.get(key)
    if key in PER_SERVICE_SHARE:
        per_visit = np.array([float(value[s]) for s in SERVICE_TYPES])
        return round(float(np.mean(per_visit / _unit_cost(cfg))), 3)
    return bool(value) if LEVER_BY_KEY[key].kind == "switch" else float(value)


def config_value(cfg: Config, key: str, value: float | bool) -> Any:
    """The config value for a lever position, translating shares back to yuan per visit."""
    if key in PER_SERVICE_SHARE:
        cost = _unit_cost(cfg)
        return {s: round(float(value) * float(c), 2) for s, c in zip(SERVICE_TYPES, cost, strict=True)}
    if LEVER_BY_KEY[key].kind == "switch":
        return bool(value)
    return float(value)


def lever_overrides(cfg: Config, levers: dict[str, float | bool]) -> dict:
    """Nested override dict (as ``load_config`` takes) for the moved levers."""
    out: dict = {}
    for key, value in levers.items():
        out = dotted.with_value(out, key, config_value(cfg, key, value))
    return out


def configs_dir() -> Path:
    """Folder the scenario picker lists (env var lets tests and classrooms point elsewhere)."""
    default = next(iter(shipped_scenarios().values())).parent
    return Path(os.environ.get(CONFIGS_DIR_ENV, default))


def scenario_label(path: Path) -> str:
    """Human name of a scenario file: its ``scenario.name``, else the file name."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        name = (data.get("scenario") or {}).get("name")
    except (OSError, yaml.YAMLError, AttributeError):
        name = None
    return f"{name} ({path.name})" if name else path.name


def list_scenarios(folder: Path | None = None, extra: Path | None = None) -> dict[str, Path]:
    """Label → path for every YAML in the configs folder (plus the file given on the command line)."""
    folder = folder or configs_dir()
    paths = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
    if extra is not None and extra.is_file() and extra.resolve() not in {p.resolve() for p in paths}:
        paths.insert(0, extra)
    return {scenario_label(p): p for p in paths}


def initial_scenario(scenarios: dict[str, Path]) -> str:
    """The label to open with: the CLI's config if given, else baseline, else the first file."""
    wanted = os.environ.get(CONFIG_ENV)
    for label, path in scenarios.items():
        if wanted and Path(wanted).resolve() == path.resolve():
            return label
    for label, path in scenarios.items():
        if path.stem == "baseline":
            return label
    if not scenarios:
        raise ConfigError([f"no scenario files (*.yaml) found in {configs_dir()}"])
    return next(iter(scenarios))


MAX_SEED = 2**63 - 1


def parse_seed(text: str | int | None) -> int:
    """The seed a student typed, as an int; a friendly ``ValueError`` for anything else (never a traceback)."""
    raw = str(text if text is not None else "").strip()
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"The seed must be a whole number such as 0, 1 or 42 (found '{raw}').") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"The seed must be between 0 and {MAX_SEED} (found {seed}).")
    return seed


# Monitors: the numbers shown as text. The outcomes come from the catalogue (``show`` has ``monitor``), with
# their labels and precision; the app adds where firms' facilities are (``site.*``, counted by ``site_counts``
# from the model's state, not outcomes of a run).
SITES: tuple[Outcome, ...] = (
    Outcome("site.firm.centre", "facilities", "open private-firm facilities in central communities",
            label="Private-firm facilities, centre"),
    Outcome("site.firm.periphery", "facilities", "open private-firm facilities in peripheral communities",
            label="Private-firm facilities, periphery"),
    Outcome("site.state_owned.periphery", "facilities", "open state-owned facilities in peripheral communities",
            label="State-owned facilities, periphery"),
)
MONITORS: tuple[Outcome, ...] = (*shown_in(MONITOR), *SITES)


def site_counts(model: Model) -> dict[str, float]:
    """Open facilities per operator kind in centre and periphery communities (where firms go, or leave)."""
    from ..model.facility import Facility

    lay = model.layout
    out = {f"site.{kind}.{zone}": 0.0 for kind in ("firm", "state_owned") for zone in ("centre", "periphery")}
    for f in model.agents_by_type.get(Facility, []):
        if f.active and f.operator.kind in ("firm", "state_owned"):
            zone = "periphery" if lay.community_is_periphery[f.community] else "centre"
            out[f"site.{f.operator.kind}.{zone}"] += 1
    return out


class Refused(ValueError):
    """An action the page cannot do now (keep an empty run, run backwards): its message, shown as is, says
    why and what to do instead."""


@dataclass(frozen=True)
class Reference:
    """A run kept for comparison: its label and its monthly time series."""

    label: str
    history: pd.DataFrame
    month: int = 0
    seed: int = 0


# Month 0 of recent runs, pickled: a new tab (or Reset) on the same scenario, levers and seed unpickles it
# in a few hundredths of a second instead of simulating the ten-year spin-up again (1–2 s; a class opening
# 30 tabs at once waited many seconds). Bytes, not models: every tab still gets its own model, and a
# pickled model steps exactly as the one it was taken from (tests/test_app.py checks).
_MONTH0: OrderedDict[tuple, bytes] = OrderedDict()
_MONTH0_LOCK = threading.Lock()
MONTH0_KEEP = 6  # about 9 MB each for the baseline


def _month0_key(path: Path, overrides: dict[str, Any], seed: int) -> tuple:
    return (str(path.resolve()), path.stat().st_mtime_ns, repr(sorted(overrides.items())), int(seed))


def built_model(path: Path, config: Config, overrides: dict[str, Any], seed: int) -> Model:
    """A fresh model at month 0 (after its spin-up) for this scenario, levers and seed, from the cache when
    another tab built the same one recently."""
    key = _month0_key(path, overrides, seed)
    with _MONTH0_LOCK:
        blob = _MONTH0.get(key)
        if blob is not None:
            _MONTH0.move_to_end(key)
    if blob is not None:
        return load_snapshot(blob)  # bytes this process pickled itself, never from outside
    model = Model(rng=int(seed), scenario=config, explain=True)
    blob = snapshot_bytes(model)  # the world cache's pickling: grid cells load with one class
    with _MONTH0_LOCK:
        _MONTH0[key] = blob
        while len(_MONTH0) > MONTH0_KEEP:
            _MONTH0.popitem(last=False)
    return model


@dataclass
class Session:
    """Everything one tab owns. The lock serialises Step, Play and Reset (Play runs in a thread)."""

    scenario_path: Path
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    _model: Model | None = field(default=None, repr=False)
    applied: tuple[dict[str, Any], int] = ({}, 0)  # (overrides, seed) the current model was built with
    generation: int = 0  # bumped on every reset, so caches never confuse two models
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # this run's log, one entry per month (month, events), oldest first: the log keeps its history
    log: list[tuple[int, list[str]]] = field(default_factory=list)
    reference: Reference | None = None
    _sites: list[dict[str, float]] = field(default_factory=list, repr=False)

    _base: tuple[Path, Config] | None = field(default=None, repr=False)
    _history: tuple[tuple[int, int], pd.DataFrame] | None = field(default=None, repr=False)

    def base_config(self) -> Config:
        """The scenario as written (cached: the page asks on every render)."""
        if self._base is None or self._base[0] != self.scenario_path:
            self._base = (self.scenario_path, load_config(self.scenario_path))
        return self._base[1]

    def config(self) -> Config:
        """Scenario file plus the lever overrides, validated by the model's own schema."""
        return load_config(self.scenario_path, lever_overrides(self.base_config(), self.overrides))

    def reset(self) -> Model:
        """Build a fresh model from scenario + overrides + seed (same inputs → same first frame)."""
        with self.lock:
            self._model = built_model(self.scenario_path, self.config(), self.overrides, self.seed)
            self.applied = (dict(self.overrides), int(self.seed))
            self.generation += 1
            self.log = [(0, list(self._model.events))]
            self._sites = []
            return self._model

    @property
    def model(self) -> Model:
        """The current run (built from scenario, levers and seed on first use)."""
        return self._model if self._model is not None else self.reset()

    def step(self) -> None:
        with self.lock:
            self.model.step()
            self.log.append((self.model.steps, list(self.model.events)))
            self._sites.append(site_counts(self.model))

    def run_to(self, month: int, go_on: Callable[[], bool] = lambda: True) -> None:
        """Step until ``month`` (or until ``go_on()`` says stop, e.g. the tab was closed). A month already
        passed is refused with the way back (a run cannot go backwards; Reset starts again)."""
        with self.lock:
            if month < 0:
                raise Refused(f"Run to month: type a month of 0 or more (found {month}).")
            if month < self.model.steps:
                raise Refused(f"Run to month: the run is already at month {self.model.steps}. To see month {month}, "
                              f"press Reset and run to {month} again.")
            while self.model.steps < month and go_on():
                self.step()

    def load_scenario(self, path: Path) -> None:
        """Switch scenario: overrides are dropped so the scenario is seen as written.

        The file is read and validated first, so an invalid one changes nothing (the page may render
        while the new model is being built, and must never see a broken scenario); its error propagates.
        """
        base = load_config(path)
        with self.lock:
            old = (self.scenario_path, self.overrides, self._base)
            self.scenario_path, self.overrides, self._base = path, {}, (path, base)
            try:
                self.reset()
            except ConfigError:
                self.scenario_path, self.overrides, self._base = old
                raise

    def lever_values(self) -> dict[str, float | bool]:
        """What each lever shows: the override if moved, else the scenario's value."""
        base = self.base_config()
        return {lv.key: self.overrides.get(lv.key, lever_value(base, lv.key)) for lv in LEVERS}

    def set_lever(self, key: str, value: float | bool) -> bool:
        """Move a lever; returns whether anything changed.

        A slider snaps a scenario value that is not on its grid (0.33 on a 0.05 grid) and reports the
        snapped value back; that echo is not the student's move, so a value within half a step of what the
        lever shows is ignored (otherwise a scenario such as a per-service subsidy cut would be replaced by
        a uniform share on Reset). A lever moved back to the scenario's value drops its override, so the
        run is the scenario's own again (a near copy such as 0.8000000000000002 would give another run).
        """
        lever = LEVER_BY_KEY[key]
        if not self._differs(lever, value, self.lever_values()[key]):
            return False
        if self._differs(lever, value, lever_value(self.base_config(), key)):
            self.overrides[key] = value if lever.kind == "switch" else round(float(value), 6)  # no 0.8000000000000002
        else:  # back at the scenario's own value: the scenario as written, not a near copy of it
            self.overrides.pop(key, None)
        return True

    @staticmethod
    def _differs(lever: Lever, a: float | bool, b: float | bool) -> bool:
        """Whether two lever positions differ by more than the widget's rounding (half a step)."""
        return bool(a) != bool(b) if lever.kind == "switch" else abs(float(a) - float(b)) > lever.step / 2 + 1e-9

    @property
    def pending(self) -> bool:
        """True when lever or seed changes wait for Reset to take effect."""
        return (self.overrides, int(self.seed)) != self.applied

    def description(self) -> str:
        """The scenario's own description (from its YAML), for the page."""
        meta = self.base_config().get("scenario") or {}
        return str(meta.get("description", "")).strip()

    def history(self) -> pd.DataFrame:
        """This run's monthly time series: the model's outcomes plus the app's facility counts by zone (built
        once per month: a frame asks for it several times; callers must not modify it).

        Read under the lock: Play steps in a worker thread, and a part of the page drawn while a month is
        half recorded would see columns of different lengths (a loaded machine once showed that as an error
        in the phone controls)."""
        with self.lock:
            key = (self.generation, self.model.steps)
            if self._history is not None and self._history[0] == key:
                return self._history[1]
            ts = self.model.timeseries()
            if self._sites and len(self._sites) == len(ts):
                ts = pd.concat([ts.reset_index(drop=True), pd.DataFrame(self._sites)], axis=1)
            self._history = (key, ts)
            return ts

    def last_month(self) -> int:
        """The scenario's last month (``run.steps``): the reporting window ends there and Play stops there."""
        return int(self.model.config.run.steps)

    def window(self) -> int:
        """Months the outcomes are averaged over (``run.outcome_window``), as in summary.json."""
        return int(self.model.config.run.outcome_window)

    def run_label(self) -> str:
        """Short name of the current run: scenario, moved levers and seed."""
        moved = ", ".join(f"{LEVER_BY_KEY[k].label.split(' (')[0]} {_show(v)}" for k, v in self.applied[0].items())
        name = self.scenario_path.stem
        return f"{name}{' + ' + moved if moved else ''}, seed {self.applied[1]}"

    def keep_reference(self) -> None:
        """Keep the current run (its history so far) to overlay on the charts and compare in the monitors.

        A run with no simulated month has nothing to compare: that is a ``ValueError`` the page shows as
        a sentence (at month 0 the monitors would otherwise have a reference without a single value).
        """
        with self.lock:
            if self.model.steps == 0:
                raise Refused("Nothing to keep yet: run at least one month (Step or Run to month), "
                                 "then press Keep as reference.")
            self.reference = Reference(self.run_label(), self.history().copy(), self.model.steps, self.applied[1])

    def comparison_warnings(self) -> list[str]:
        """Why the Difference column may mislead: the reference stopped at another month, or used another
        seed (then the difference mixes the levers' effect with chance)."""
        ref = self.reference
        if ref is None:
            return []
        out = []
        if ref.month != self.model.steps:
            out.append(f"The reference stopped at month {ref.month} and this run is at month {self.model.steps}: "
                       "the Difference compares different months. Run both to the same month.")
        if ref.seed != self.applied[1]:
            out.append(f"The reference used seed {ref.seed} and this run seed {self.applied[1]}: the Difference "
                       "mixes the levers' effect with chance. Keep a reference for each seed.")
        return out

    def csv(self) -> str:
        """The current run's time series as CSV (one row per month), for the Download button."""
        with self.lock:
            return self.history().to_csv(index=False)


def _show(value: float | bool) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else f"{float(value):g}"


def window_mean(history: pd.DataFrame, window: int) -> pd.Series:
    """Mean of each column over the last ``window`` months so far (the summary's reading)."""
    return history.tail(window).mean(numeric_only=True)


def monitor_rows(history: pd.DataFrame, window: int, reference: Reference | None) -> list[dict[str, str]]:
    """The monitors as text: this month, the window mean and, with a reference kept, its window mean and the
    difference (this run − reference)."""
    now = history.iloc[-1] if len(history) else pd.Series(dtype=float)
    mean = window_mean(history, window)
    ref = window_mean(reference.history, window) if reference is not None and len(reference.history) else None
    rows = []
    for outcome in MONITORS:
        key = outcome.key
        row = {"label": outcome.heading, "key": key, "now": outcome.format(now.get(key)),
               "window": outcome.format(mean.get(key))}
        if reference is not None:  # the columns exist whenever a reference is kept, even without values
            row["reference"], row["difference"] = "–", "–"
        if ref is not None:
            row["reference"] = outcome.format(ref.get(key))
            diff = (mean.get(key, np.nan) - ref.get(key, np.nan)) if key in mean and key in ref else np.nan
            row["difference"] = outcome.format(diff, signed=True)
        rows.append(row)
    return rows
