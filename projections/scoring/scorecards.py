"""Scorecards as data: parsed and checked from what the service read (the shipped YAML, or a
file that replaces it), at start."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from events.catalogue import ROLES, TRAFFIC_SOURCES
from events.errors import LivetallyError

SOURCES = ("derived", "recorded", "rating")
DIRECTIONS = ("higher", "lower")
# formula -> the source it goes with (projections/scoring/formulas.py computes each)
FORMULA_SOURCES = {
    "net_gmv": "derived",
    "interaction_rate": "derived",
    "new_followers": "derived",
    "conversion_rate": "derived",
    "views_growth": "derived",
    "promoted_viewers": "derived",
    "promoted_conversion": "derived",
    "incident_penalty": "derived",
    "roi": "derived",
    "gpm": "derived",
    "recorded": "recorded",
    "mean_rating": "rating",
}
MONEY_FORMULA_SOURCES = frozenset({"net_gmv"})


class ScorecardError(LivetallyError, ValueError):
    """Raised when a scorecard file is wrong; the message names the role and KPI."""


@dataclass(frozen=True)
class KpiDef:
    key: str
    weight: float
    source: str
    direction: str
    formula: str


@dataclass(frozen=True)
class TenureTarget:
    from_month: int
    to_month: int
    target: float | None


@dataclass(frozen=True)
class Scorecards:
    roles: dict[str, tuple[KpiDef, ...]]
    cap: float
    grades: tuple[tuple[str, float], ...]  # highest threshold first
    promoted_sources: tuple[str, ...]
    incident_penalty: float
    host_sales_targets: tuple[TenureTarget, ...]
    # a card is graded only when the KPIs that count carry at least this share of the weight
    min_graded_weight: float = 0.5

    def as_dict(self) -> dict[str, Any]:
        return {
            "cap": self.cap,
            "grades": dict(self.grades),
            "promoted_sources": list(self.promoted_sources),
            "incident_penalty": self.incident_penalty,
            "min_graded_weight": self.min_graded_weight,
            "host_sales_targets": [t.__dict__ for t in self.host_sales_targets],
            "roles": {role: [k.__dict__ for k in kpis] for role, kpis in self.roles.items()},
        }


def parse_scorecards(raw: Any, where: str = "scorecards") -> Scorecards:
    if not isinstance(raw, dict) or not isinstance(raw.get("roles"), dict):
        raise ScorecardError(f"{where}: needs a mapping with `roles`")
    unknown = set(raw) - {
        "roles",
        "cap",
        "grades",
        "promoted_sources",
        "incident_penalty",
        "host_sales_targets",
        "min_graded_weight",
    }
    if unknown:
        raise ScorecardError(f"{where}: unknown setting(s) {sorted(unknown)}")
    roles: dict[str, tuple[KpiDef, ...]] = {}
    for role, kpis in raw["roles"].items():
        if role not in ROLES:
            raise ScorecardError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(kpis, list) or not kpis:
            raise ScorecardError(f"{where}: role {role}: needs a list of KPIs")
        roles[role] = tuple(_kpi(role, entry, where) for entry in kpis)
        keys = [k.key for k in roles[role]]
        if len(set(keys)) != len(keys):
            raise ScorecardError(f"{where}: role {role}: a KPI key is listed twice")
        total = sum(k.weight for k in roles[role])
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ScorecardError(f"{where}: role {role}: weights sum to {total:g}, not 1")
    grades = raw.get("grades", {"A": 90, "B": 75, "C": 60})
    if not isinstance(grades, dict) or not all(isinstance(v, int | float) for v in grades.values()):
        raise ScorecardError(f"{where}: grades must map a grade to a minimum score")
    promoted = tuple(raw.get("promoted_sources", ("ad", "short_video")))
    bad_sources = [s for s in promoted if s not in TRAFFIC_SOURCES]
    if bad_sources:
        raise ScorecardError(f"{where}: promoted_sources: unknown {bad_sources}")
    cap = float(raw.get("cap", 1.2))
    if cap <= 0:
        raise ScorecardError(f"{where}: cap must be positive")
    min_graded = float(raw.get("min_graded_weight", 0.5))
    if not 0 <= min_graded <= 1:
        raise ScorecardError(f"{where}: min_graded_weight must be between 0 and 1")
    tenure = tuple(
        TenureTarget(
            int(t["from_month"]),
            int(t["to_month"]),
            None if t.get("target") is None else float(t["target"]),
        )
        for t in raw.get("host_sales_targets", [])
    )
    return Scorecards(
        roles=roles,
        cap=cap,
        grades=tuple(
            sorted(((str(g), float(v)) for g, v in grades.items()), key=lambda item: -item[1])
        ),
        promoted_sources=promoted,
        incident_penalty=float(raw.get("incident_penalty", 0.25)),
        host_sales_targets=tenure,
        min_graded_weight=min_graded,
    )


def _kpi(role: str, entry: Any, where: str) -> KpiDef:
    if not isinstance(entry, dict) or "key" not in entry:
        raise ScorecardError(f"{where}: role {role}: each KPI needs a key")
    key = entry["key"]
    name = f"{where}: role {role}, KPI {key}"
    unknown = set(entry) - {"key", "weight", "source", "direction", "formula"}
    if unknown:
        raise ScorecardError(f"{name}: unknown field(s) {sorted(unknown)}")
    weight = entry.get("weight")
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 1:
        raise ScorecardError(f"{name}: weight must be a number in (0, 1]")
    source = entry.get("source")
    if source not in SOURCES:
        raise ScorecardError(f"{name}: source must be one of {', '.join(SOURCES)}")
    direction = entry.get("direction", "higher")
    if direction not in DIRECTIONS:
        raise ScorecardError(f"{name}: direction must be one of {', '.join(DIRECTIONS)}")
    formula = entry.get("formula", {"recorded": "recorded", "rating": "mean_rating"}.get(source))
    if formula not in FORMULA_SOURCES:
        raise ScorecardError(
            f"{name}: unknown formula {formula!r} (known: {', '.join(sorted(FORMULA_SOURCES))})"
        )
    if FORMULA_SOURCES[formula] != source:
        raise ScorecardError(
            f"{name}: formula {formula} goes with source {FORMULA_SOURCES[formula]}"
        )
    return KpiDef(str(key), float(weight), source, direction, formula)
