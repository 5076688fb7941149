"""Static figures of one run's time series (PNG, headless matplotlib)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from ..domain import OPERATOR_KINDS, SERVICE_TYPES
from ..model import places, shown_in


def plot_timeseries(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write one PNG per figure panel the outcome catalogue declares (``figure:<panel>``), plus satisfaction
    and the operator and service mix."""
    out_dir = Path(out_dir)
    written = []
    for name in places("figure"):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for outcome in shown_in(f"figure:{name}"):
            ax.plot(frame["step"], frame[outcome.key], label=outcome.heading)
        ax.set_xlabel("month")
        ax.set_title(name)
        ax.legend(fontsize=8)
        written.append(_save(fig, out_dir / f"{name}.png"))
    written.append(_satisfaction(frame, out_dir))
    written.append(_stack(frame, out_dir, [f"quantity.services_delivered.{k}" for k in OPERATOR_KINDS],
                          OPERATOR_KINDS, "delivered by operator kind", "operators.png"))
    written.append(_stack(frame, out_dir, [f"quantity.services_delivered.{s}" for s in SERVICE_TYPES],
                          SERVICE_TYPES, "delivered by service type", "services.png"))
    return written


def _satisfaction(frame: pd.DataFrame, out_dir: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    levels = [frame[f"quality.satisfaction_share.{i}"] for i in range(1, 6)]
    labels = ["very dissatisfied", "dissatisfied", "average", "satisfied", "very satisfied"]
    ax.stackplot(frame["step"], levels, labels=labels)
    ax.set_ylim(0, 1)
    ax.set_xlabel("month")
    ax.set_title("resident satisfaction (5-point scale)")
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, out_dir / "satisfaction.png")


def _stack(frame: pd.DataFrame, out_dir: Path, keys: list[str], labels, title: str, name: str) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.stackplot(frame["step"], [frame[k] for k in keys], labels=[str(x).replace("_", " ") for x in labels])
    ax.set_xlabel("month")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, out_dir / name)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
