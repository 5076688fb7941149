"""The About tab: what the model is, its actors, its schedule and the levers with their sources.

Taken from docs/ODD.md (the model's own description, so the tab never drifts from it) and from the
parameter registry (each lever's meaning, default and source). Rendered to HTML with the ``markdown``
package (a Solara dependency) rather than ``solara.Markdown``, which would load KaTeX from a CDN.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import markdown

from ..config import registry
from .session import LEVERS

ODD = Path(__file__).resolve().parents[3] / "docs" / "ODD.md"
SECTIONS = ("### 1.1 Purpose", "### 2.2 Entities", "## 3. Process overview and scheduling")


def odd_sections(text: str, headings: tuple[str, ...] = SECTIONS) -> str:
    """The named sections of the ODD, each up to the next heading of the same or a higher level."""
    parts = []
    for heading in headings:
        start = text.find(heading + "\n")
        if start < 0:
            continue
        level = heading.split(" ")[0]
        rest = text[start + len(heading):]
        end = re.search(rf"^#{{1,{len(level)}}} ", rest, flags=re.MULTILINE)
        parts.append(text[start:start + len(heading) + (end.start() if end else len(rest))])
    return "\n\n".join(parts)


def levers_table() -> str:
    """Markdown table of the app's levers: meaning, scenario default and source, from the registry."""
    reg = registry()
    rows = ["| lever | what it means | default | source |", "|---|---|---|---|"]
    for lever in LEVERS:
        p = reg[lever.key]
        default = p.default if not isinstance(p.default, dict) else "per service"
        rows.append(f"| {lever.label} | {p.description} | {default} | {p.source} |")
    return "\n".join(rows)


def about_html(odd: Path = ODD) -> str:
    """The About tab's HTML (the ODD excerpts, or a pointer to the ODD when it is not installed)."""
    intro = ("This app runs **coprod-sim**, an agent-based model of who provides community services "
             "in a Chinese city district and why. Below: the model's purpose, its actors and what happens "
             "each month (from the model description, docs/ODD.md), then the levers and where their values "
             "come from.")
    body = odd_sections(odd.read_text(encoding="utf-8")) if odd.is_file() else (
        "The full model description is docs/ODD.md in the project's source.")
    text = f"{intro}\n\n{body}\n\n## The levers and their sources\n\n{levers_table()}"
    return markdown.markdown(html.escape(text, quote=False), extensions=["tables"])
