"""State behind one browser tab of the app: scenario, lever overrides, seed and model.

Kept free of Solara so it can be unit-tested and so the page module stays a thin
layer of widgets. Levers are *overrides* on top of the chosen scenario file: a
lever the student has not touched shows the scenario's own value, and picking
another scenario clears the overrides (otherwise a slider left at the baseline
value would silently undo the scenario being loaded).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..config import ConfigError, dotted, load_config, registry, shipped_scenarios
from ..domain import SERVICE_TYPES
from ..model import Model
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
        """Plain-language meaning, from the parameter registry so it never drifts from the model."""
        p = registry()[self.key]
        unit = "" if p.unit in ("-", "") else f" Unit: {p.unit}."
        return f"{p.description}{unit} {self.note}".strip()


LEVERS: tuple[Lever, ...] = (
    Lever("incentive.assessment_weight", "Assessment weight (up)", "slider", 0, 0.5, 0.025),
    Lever("government.resistance", "Departmental resistance", "slider", 0, 0.95, 0.05),
    Lever("leading_group.active", "Leading group (in)", "switch"),
    Lever("leading_group.authority", "Leading-group authority", "slider", 0, 1, 0.05),
    Lever("profit_space.subsidy_per_visit", "Operating subsidy (out)", "slider", 0, 1, 0.05,
          "Here: share of each service's unit cost paid per visit, same share for all seven services."),
    Lever("profit_space.voucher_per_visit", "Vouchers for residents (out)", "slider", 0, 1, 0.05,
          "Here: voucher value as a share of each service's unit cost, all seven services."),
    Lever("profit_space.rent_free_space", "Rent-free space (out)", "switch"),
    Lever("profit_space.tax_relief", "Tax relief (out)", "slider", 0, 1, 0.05),
    Lever("profit_space.soe_entry", "State-owned firms fill thin markets (out)", "switch"),
    Lever("linkage.interest_binding_stake", "Interest-binding stake (out)", "slider", 0, 1, 0.05),
    Lever("linkage.channel_reach", "Feedback channel reach (down)", "slider", 0, 1, 0.05),
    Lever("linkage.information_sharing", "Information sharing (technology)", "slider", 0, 1, 0.05),
    Lever("government.admin_control", "Administrative control of operations", "slider", 0, 1, 0.05),
)
LEVER_BY_KEY = {lv.key: lv for lv in LEVERS}


def _unit_cost(cfg: dict) -> np.ndarray:
    return np.array([float(cfg["services"]["unit_cost"][s]) for s in SERVICE_TYPES])


def lever_value(cfg: dict, key: str) -> float | bool:
    """The value a lever shows for a resolved config (per-service money as a share of unit cost)."""
    value = dotted.get(cfg, key)
    if key in PER_SERVICE_SHARE:
        per_visit = np.array([float(value[s]) for s in SERVICE_TYPES])
        return round(float(np.mean(per_visit / _unit_cost(cfg))), 3)
    return bool(value) if LEVER_BY_KEY[key].kind == "switch" else float(value)


def config_value(cfg: dict, key: str, value: float | bool) -> Any:
    """The config value for a lever position, translating shares back to yuan per visit."""
    if key in PER_SERVICE_SHARE:
        cost = _unit_cost(cfg)
        return {s: round(float(value) * float(c), 2) for s, c in zip(SERVICE_TYPES, cost, strict=True)}
    if LEVER_BY_KEY[key].kind == "switch":
        return bool(value)
    return float(value)


def lever_overrides(cfg: dict, levers: dict[str, float | bool]) -> dict:
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

    _base: tuple[Path, dict] | None = field(default=None, repr=False)

    def base_config(self) -> dict:
        """The scenario as written (cached: the page asks on every render)."""
        if self._base is None or self._base[0] != self.scenario_path:
            self._base = (self.scenario_path, load_config(self.scenario_path))
        return self._base[1]

    def config(self) -> dict:
        """Scenario file plus the lever overrides, validated by the model's own schema."""
        return load_config(self.scenario_path, lever_overrides(self.base_config(), self.overrides))

    def reset(self) -> Model:
        """Build a fresh model from scenario + overrides + seed (same inputs → same first frame)."""
        with self.lock:
            self._model = Model(rng=int(self.seed), scenario=self.config(), explain=True)
            self.applied = (dict(self.overrides), int(self.seed))
            self.generation += 1
            return self._model

    @property
    def model(self) -> Model:
        """The current run (built from scenario, levers and seed on first use)."""
        return self._model if self._model is not None else self.reset()

    def step(self) -> None:
        with self.lock:
            self.model.step()

    def load_scenario(self, path: Path) -> None:
        """Switch scenario: overrides are dropped so the scenario is seen as written.

        If the file is invalid the session keeps its old scenario and run, and the error propagates.
        """
        with self.lock:
            old = (self.scenario_path, self.overrides)
            self.scenario_path, self.overrides = path, {}
            try:
                self.reset()
            except ConfigError:
                self.scenario_path, self.overrides = old
                raise

    def lever_values(self) -> dict[str, float | bool]:
        """What each lever shows: the override if moved, else the scenario's value."""
        base = self.base_config()
        return {lv.key: self.overrides.get(lv.key, lever_value(base, lv.key)) for lv in LEVERS}

    @property
    def pending(self) -> bool:
        """True when lever or seed changes wait for Reset to take effect."""
        return (self.overrides, int(self.seed)) != self.applied

    def description(self) -> str:
        """The scenario's own description (from its YAML), for the page."""
        meta = self.base_config().get("scenario") or {}
        return str(meta.get("description", "")).strip()

