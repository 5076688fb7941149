"""Reading a generated section of another doc when the tables it came from are not on this machine.

results/ is not versioned, so a page written on a fresh checkout (docs/findings.md) may have to quote a study
from the section of the doc that study generated instead of from its tables. The readers of those sections
(``robustness``: docs/sensitivity.md; ``scenario_attribution``: docs/scenarios.md) share these few pieces, so
they parse a table row the same way and say where their numbers came from in the same words.
"""

from __future__ import annotations

from pathlib import Path


def table_cells(line: str) -> list[str]:
    """A markdown table row's cells, stripped (``| a | b |`` → ``["a", "b"]``)."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables_source(folder: str) -> str:
    """Where the numbers came from, when the study's tables were read (``folder``: as the page shows it)."""
    return f"its tables in `{folder}/`"


def doc_source(doc: Path | str) -> str:
    """Where the numbers came from, when they were read from the section the study generated in ``doc``."""
    return (f"the section of docs/{Path(doc).name} that it generated (its tables are not on the machine that "
            "wrote this page)")
