"""The About tab: first for students (what the model is, who acts, what each lever means, how to read the
page, a glossary), then "For researchers" (the model description's purpose, entities and schedule, and the
levers with their sources).

The researchers' part is taken from docs/ODD.md and the parameter registry, so it never drifts from the model;
the students' part takes each lever's meaning from the registry too. Chinese terms are shown in pinyin
(``PINYIN``): the page ships no CJK font, and a browser without one draws empty boxes. Rendered with the
``markdown`` package (a Solara dependency) rather than ``solara.Markdown``, which would load KaTeX from a CDN.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import markdown

from ..config import REMEDIES, registry
from .session import LEVERS

ODD = Path(__file__).resolve().parents[3] / "docs" / "ODD.md"
SECTIONS = ("### 1.1 Purpose", "### 2.2 Entities", "## 3. Process overview and scheduling")
# the Chinese terms of the ODD sections shown, in pinyin (a test fails when a new term has no entry)
PINYIN = {
    "主体分散化": "zhǔtǐ fēnsàn huà", "制度割裂化": "zhìdù gēliè huà", "资源悬浮化": "zīyuán xuánfú huà",
    "结构脱节化": "jiégòu tuōjié huà", "嵌入式服务": "qiànrù shì fúwù", "党建领导小组": "dǎngjiàn lǐngdǎo xiǎozǔ",
    "共容利益": "gòngróng lìyì", "社会组织": "shèhuì zǔzhī", "社区": "shèqū", "网格": "wǎnggé", "条": "tiáo",
}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
REMEDY_MEANING = {
    "up": "from above: service results count when officials are assessed",
    "down": "from below: residents' needs and complaints reach the planners",
    "in": "inside government: a leading group makes departments work together",
    "out": "outside government: make it worth firms' and social organizations' while to serve",
    "technology": "data sharing: better information, but nobody's incentives change",
}

STUDENTS = """\
## What this model is

A **computer model of one city district** in China, with nine residential communities. It asks a simple
question: **who provides community services** (elderly and child care, meals, housekeeping, health, sports,
culture, children's play) **where, and why** — and what happens when the government changes its policies.

Nothing in the model is told what the result should be. Each actor follows its own simple rules, month by
month, and the results (how many needs are met, who is satisfied, what it costs) come out of what they all do
together. Change a rule (a **lever**) and watch what changes.

## Who acts in the model

- **Residents** (about ten thousand): each has service needs, uses the facilities within reach, and is more or
  less satisfied. Some are registered residents, some are migrants.
- **Government departments** (seven bureaus such as civil affairs or planning): they hold budgets and give the
  permits a new facility needs. They may **resist** giving up money or approving quickly.
- **The street office** plans public facilities from the needs residents report; **grid workers** collect
  those reports.
- **A leading group** (if switched on) coordinates the departments and speeds up permits — at a cost.
- **Private firms** open facilities where they expect a profit and close them when they lose money.
  **State-owned firms** can be sent into places private firms leave empty.
- **Social organizations** (non-profits) and **residents' mutual-aid groups** (volunteers) serve needs nobody
  else meets.

## What happens each month

Residents use services and report unmet needs; departments decide how much budget to release and which permits
to grant; the street office plans; firms and organizations open or close facilities; money is paid; residents'
satisfaction moves. The log (**What happened**) tells each month's story in plain words.

## The levers

Each lever belongs to one of the remedies the source papers propose; the tag after its name says which:

{remedies}

{levers}

## How to read the page

- **The map**: each square is a block of homes coloured by its residents' satisfaction or unmet need; markers
  are facilities (shape = who runs it, colour = which service, hollow = still waiting for permits).
- **The monitors**: this month's numbers, and the mean over the last 12 months. With a reference kept, the
  **Difference** column says how this run differs from it.
- **The charts**: one point per month; the yellow band is the **reporting window** (the last 12 months of the
  scenario), the period every result is read over. Dashed lines are the reference run.

## Glossary

- **Spin-up**: before month 0 the model quietly runs ten years, so month 0 is a settled district.
- **Reporting window**: the last 12 months of the scenario (months 49–60 in the baseline).
- **Needs met**: the share of residents' service needs actually served.
- **Coverage**: capacity within reach compared with need (above 1: more than enough places nearby).
- **Centre and periphery**: central communities are near the district centre; peripheral ones (hatched on the
  map) are far from it. The **centre − periphery gap** is how much more of their needs central residents get
  met.
- **Registered − migrant gap**: the same gap between registered residents (hukou holders) and migrants.
- **Gini (of access)**: a number from 0 to 1 that measures inequality. 0 = everyone gets the same access to
  services; 1 = one person gets it all. Lower is fairer.
- **Approval wait**: months a planned facility waits for all its departments' permits.
- **Budget released**: the share of departments' budgets that actually goes to services.
- **Seed**: the number that fixes the model's chance events. Same seed and same levers give exactly the same
  run; another seed shows how much of a result is luck.
- **Thousand yuan (k yuan)**: money is counted in thousands of yuan per month.
"""


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


def in_pinyin(text: str) -> str:
    """Chinese terms replaced by their pinyin (``PINYIN``); an unknown term is left as it is."""
    return CJK.sub(lambda m: PINYIN.get(m.group(0), m.group(0)), text)


def for_readers(text: str) -> str:
    """The ODD's wording made readable outside the project: pinyin for Chinese terms, and its source papers
    ("seed 001") named as papers, not to be confused with the app's random seed."""
    text = re.sub(r"\b([Ss])eed (\d{3})\b", lambda m: f"{m.group(1)}ource paper {m.group(2)}", text)
    text = re.sub(r"\b([Ss])eeds\b", lambda m: f"{m.group(1)}ource papers", text)
    return in_pinyin(text)


def levers_table() -> str:
    """Markdown table of the app's levers: meaning, scenario default and source, from the registry."""
    reg = registry()
    rows = ["| lever | what it means | default | source |", "|---|---|---|---|"]
    for lever in LEVERS:
        p = reg[lever.key]
        default = p.default if not isinstance(p.default, dict) else "per service"
        rows.append(f"| {lever.label} | {p.description} | {default} | {p.source} |")
    return "\n".join(rows)


def students_text() -> str:
    """The students' part, with the remedies' tags and each lever's meaning from the registry."""
    remedies = "\n".join(f"- **({r})** {REMEDY_MEANING[r]}" for r in REMEDIES if r in REMEDY_MEANING)
    remedies += "\n- no tag: how the administration itself works (resistance, control), not a remedy"
    levers = "\n".join(f"- **{lever.label}**: {lever.explanation()}" for lever in LEVERS)
    return STUDENTS.format(remedies=remedies, levers=levers)


def about_html(odd: Path = ODD) -> str:
    """The About tab's HTML: the students' part, then the researchers' part in a section of its own."""
    body = odd_sections(odd.read_text(encoding="utf-8")) if odd.is_file() else (
        "The full model description is docs/ODD.md in the project's source.")
    researchers = ("The model's own description (docs/ODD.md, the ODD protocol for agent-based models): its "
                   "purpose, entities and schedule; § numbers refer to its sections. Then the levers with their "
                   f"defaults and sources.\n\n{body}\n\n### The levers and their sources\n\n{levers_table()}")
    students = markdown.markdown(html.escape(students_text(), quote=False), extensions=["tables"])
    detail = markdown.markdown(html.escape(for_readers(researchers), quote=False), extensions=["tables"])
    return (f"{students}<h2 id='for-researchers'>For researchers</h2>"
            f"<details><summary>Show the model description and the levers' sources</summary>{detail}</details>")
