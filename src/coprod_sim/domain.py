"""Fixed vocabulary of the domain: service types, households, operators, departments.

These are the categories of the seeds (glossary in DESIGN.md), not tunable
parameters; numbers attached to them live in ``parameters.yaml``.
"""

from __future__ import annotations

# The seven embedded service types (嵌入式服务, seed 001).
SERVICE_TYPES: tuple[str, ...] = (
    "elder_child_care",  # 养老托育
    "meals",  # 社区助餐
    "housekeeping",  # 家政便民
    "health",  # 健康服务
    "sports",  # 体育健身
    "culture",  # 文化休闲
    "children_play",  # 儿童游憩
)
K = len(SERVICE_TYPES)
SERVICE_INDEX = {name: i for i, name in enumerate(SERVICE_TYPES)}

HOUSEHOLD_TYPES: tuple[str, ...] = ("elderly", "family_with_children", "working_adult")

# Who runs a facility. "volunteers" are residents' mutual-aid groups.
OPERATOR_KINDS: tuple[str, ...] = ("government", "state_owned", "firm", "social_org", "volunteers")
KIND_INDEX = {name: i for i, name in enumerate(OPERATOR_KINDS)}
OPERATOR_LABELS: dict[str, str] = {"government": "government", "state_owned": "state-owned firm", "firm": "private firm",
                                   "social_org": "social organization", "volunteers": "volunteers (mutual aid)"}

# Dimensions of the content space in which communities' particular needs and services' content lie
# (e.g. opening hours and style of service); two are enough for distances to vary in direction.
CONTENT_DIMENSIONS = 2

# Services that residents co-produce as volunteers (mutual aid, seed 001/002).
COPRODUCED_SERVICES: tuple[str, ...] = ("elder_child_care", "sports", "culture", "children_play")

# Services social organisations take on under purchase contracts (seed 004).
SOCIAL_ORG_SERVICES: tuple[str, ...] = ("elder_child_care", "meals", "housekeeping", "culture", "children_play")

# Departments (条) with their budget sectors (seed 001). Which service types each signs off is
# configuration (``approvals.*``, model/approvals.py); what is vocabulary is that planning and
# housing-construction issue building permits, so their sign-off concerns new buildings only.
DEPARTMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "civil_affairs": {"funds": ("elder_child_care", "meals", "housekeeping")},
    "health": {"funds": ("health",)},
    "culture_sports": {"funds": ("sports", "culture", "children_play")},
    "market_regulation": {"funds": ()},
    "planning": {"funds": ()},
    "housing_construction": {"funds": ()},
    "fire_rescue": {"funds": ()},
}
BUILDING_PERMIT_DEPARTMENTS: tuple[str, ...] = ("planning", "housing_construction")
DEPARTMENT_NAMES: tuple[str, ...] = tuple(DEPARTMENTS)
DEPARTMENT_LABELS: dict[str, str] = {
    "civil_affairs": "Civil affairs bureau",
    "health": "Health commission",
    "culture_sports": "Culture and sports bureau",
    "market_regulation": "Market regulation bureau",
    "planning": "Planning bureau",
    "housing_construction": "Housing and construction bureau",
    "fire_rescue": "Fire and rescue department",
}
