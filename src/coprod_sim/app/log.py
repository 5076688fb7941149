"""The event log as students read it: grouped and counted per kind, places named as on the map.

The model writes one plain-language line per event (``model.events``); in a busy month that is a
hundred lines, most of them the same permit delay. Here each month becomes a few counted lines
("3× Planning bureau delayed the sports permit"), every line gets a kind the student can filter
on, and "community 7" reads "C7 (periphery)" as the map labels it.
"""

from __future__ import annotations

import html
import re
from collections import Counter

# kind → words that identify it in the model's sentence (first match wins; order matters)
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Leading group", ("leading group",)),
    ("Approvals", ("delayed the", "permit")),
    ("Budgets", ("of its budget",)),
    ("Openings", ("applied to open", "commissioned")),
    ("Closures", ("closed in", "closed (")),
    ("Residents' reports", ("reported through",)),
    ("Issues", ("issues closed", "passed responsibility")),
)
ALL = "All"
OTHER = "Other"
KIND_NAMES = (ALL, *(k for k, _ in KINDS), OTHER)
_COMMUNITY = re.compile(r"\bcommunity (\d+)\b")


def kind_of(event: str) -> str:
    low = event.lower()
    return next((kind for kind, words in KINDS if any(w in low for w in words)), OTHER)


def readable(event: str, periphery: list[bool] | None = None) -> str:
    """Model identifiers (``civil_affairs``, ``community 7``) as the page names them (``C7 (periphery)``)."""
    def place(m: re.Match) -> str:
        c = int(m.group(1))
        zone = "" if periphery is None or c >= len(periphery) else (" (periphery)" if periphery[c] else " (centre)")
        return f"C{c}{zone}"

    text = _COMMUNITY.sub(place, event.replace("_", " "))
    return text[:1].upper() + text[1:]


def grouped(events: list[str], periphery: list[bool] | None = None) -> list[tuple[str, int, str]]:
    """(kind, count, line) for each distinct line of one month, in the order first seen."""
    lines = [readable(e, periphery) for e in events]
    counts = Counter(lines)
    seen: dict[str, None] = dict.fromkeys(lines)
    return [(kind_of(line), counts[line], line) for line in seen]


def month_html(month: int, events: list[str], kind: str, periphery: list[bool] | None = None) -> str:
    """One month of the log: a count per kind, then the grouped lines of the chosen kind."""
    rows = grouped(events, periphery)
    per_kind: Counter[str] = Counter()
    for k, n, _ in rows:
        per_kind[k] += n
    summary = ", ".join(f"{k} {n}" for k, n in per_kind.items()) or "nothing to report"
    shown = [(n, line) for k, n, line in rows if kind in (ALL, k)]
    head = "Start (after the spin-up)" if month == 0 else f"Month {month}"
    items = "".join(f"<li>{f'<b>{n}×</b> ' if n > 1 else ''}{html.escape(line)}</li>" for n, line in shown)
    body = f"<ul style='margin:2px 0 6px 0;padding-left:18px'>{items}</ul>" if items else ""
    return f"<div><b>{head}</b> <span style='color:#444'>({html.escape(summary)})</span>{body}</div>"


def log_html(log: list[tuple[int, list[str]]], kind: str = ALL, periphery: list[bool] | None = None,
             months: int = 24) -> str:
    """The newest ``months`` months of the log, newest first (the session keeps them all)."""
    if not log:
        return "<i>Nothing yet. Press <b>Step</b> to run one month.</i>"
    parts = [month_html(m, ev, kind, periphery) for m, ev in reversed(log[-months:])]
    if len(log) > months:
        parts.append(f"<i>… {len(log) - months} earlier months not shown.</i>")
    return "".join(parts)
