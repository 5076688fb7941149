"""Rich display in Jupyter: results show a small table of what matters and, for a run, its key figure.

``_repr_html_`` of ``RunResult``, ``SweepResults``, ``SweepReport`` and ``SensitivityReport`` build on
:func:`card`; everything shown is escaped, and a figure is an inline PNG (no file, no network).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

import pandas as pd


def card(title: str, facts: Mapping[str, Any], table: pd.DataFrame | None = None, figure: Any = None) -> str:
    """An HTML block: a title, a two-column list of facts, an optional table and an optional figure."""
    rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in facts.items())
    parts = [f"<div><strong>{html.escape(title)}</strong><table>{rows}</table>"]
    if table is not None and len(table):
        parts.append(table.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0))
    if figure is not None:
        parts.append(_png(figure))
    parts.append("</div>")
    return "".join(parts)


def _png(figure: Any) -> str:
    """A matplotlib figure as an inline image (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return f"<img alt='key figure' src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'/>"


def line_figure(x: pd.Series, ys: Mapping[str, pd.Series], xlabel: str) -> Any:
    """A small line chart of a few series against ``x`` (off-screen backend)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2.4))
    for label, y in ys.items():
        ax.plot(x, y, label=label)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=7, loc="best")
    return fig
