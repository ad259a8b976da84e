"""Scoring rules as functions of values: no database, clock or session inside."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from projections.scoring.scorecards import KpiDef, Scorecards, TenureTarget

# Float arithmetic leaves 40.00000000000001 behind; figures are rounded to this many places.
PLACES = 6


def attainment(actual: float, target: float) -> float:
    """actual / target for a higher-is-better KPI (target > 0)."""
    return actual / target


def lower_is_better_attainment(actual: float, target: float, cap: float) -> float:
    """target / actual: at or under target is full marks or more; none at all is the cap."""
    return cap if actual <= 0 else target / actual


def incident_fraction(incidents: float, penalty: float) -> float:
    """docs/scoring.md: max(0, 1 - 0.25 * incidents) unless configured otherwise."""
    return max(0.0, 1.0 - penalty * incidents)


def points(weight: float, achieved: float, cap: float) -> float:
    return weight * min(achieved, cap) * 100


def months_on_air(on_air_since: str | None, period: str) -> int | None:
    """1 in the calendar month the host went on air, 2 the month after, ..."""
    if not on_air_since:
        return None
    year, month = int(on_air_since[:4]), int(on_air_since[5:7])
    p_year, p_month = int(period[:4]), int(period[5:7])
    return (p_year - year) * 12 + (p_month - month) + 1


def tenure_sales_target(month: int | None, table: Sequence[TenureTarget]) -> float | None:
    """The rule book's sales target for a host's month on air, when none is set."""
    if month is None:
        return None
    for row in table:
        if row.from_month <= month <= row.to_month:
            return row.target
    return None


def grade(score: float, grades: Sequence[tuple[str, float]]) -> str:
    for name, minimum in grades:
        if round(score, PLACES) >= minimum:
            return name
    return "D"


def rank(scores: Sequence[float]) -> list[int]:
    """Competition ranking: equal scores share a rank, the next rank skips (1, 2, 2, 4)."""
    rounded = [round(s, PLACES) for s in scores]
    return [1 + sum(1 for other in rounded if other > mine) for mine in rounded]


@dataclass
class KpiValue:
    """What the period's figures say for one KPI of one person."""

    actual: float | None
    target: float | None
    target_source: str = "set"  # set, tenure, previous_period
    # a KPI derived from broadcasts, for someone with no sessions in the period: nothing was
    # measured, which is not a result (it is left out like a missing target)
    no_sessions: bool = False


@dataclass
class KpiResult:
    key: str
    weight: float
    configured_weight: float
    actual: float | None
    target: float | None
    attainment: float | None
    points: float
    status: str  # ok, no_target, no_data, no_sessions
    target_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Scorecard:
    person_id: str
    role: str
    score: float
    grade: str | None  # None when not graded
    complete: bool
    kpis: list[KpiResult]
    rank: int = 0
    graded: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def score_person(
    person_id: str, role: str, values: dict[str, KpiValue], cards: Scorecards
) -> Scorecard:
    """Weighted score of one person. KPIs without a target, and broadcast KPIs of someone with
    no sessions, are left out and the other weights scaled to sum to 1 (complete: false); a KPI
    with a target but no data scores 0. Graded only when the KPIs that count carry at least
    `min_graded_weight` of the role's configured weight."""
    kpis = cards.roles[role]
    scored = [k for k in kpis if _counts(k, values[k.key])]
    total = sum(k.weight for k in scored)
    results = []
    for kpi in kpis:
        value = values[kpi.key]
        weight = kpi.weight / total if kpi in scored else 0.0  # total is 0 when none scored
        results.append(_score_kpi(kpi, value, weight, cards))
    score = round(sum(r.points for r in results), PLACES)
    graded = round(total, PLACES) >= cards.min_graded_weight and bool(scored)
    return Scorecard(
        person_id,
        role,
        score,
        grade(score, cards.grades) if graded else None,
        complete=len(scored) == len(kpis),
        kpis=results,
        graded=graded,
    )


def _counts(kpi: KpiDef, value: KpiValue) -> bool:
    if value.no_sessions:
        return False
    if kpi.formula == "incident_penalty":
        return True  # scored by count, needs no target
    return value.target is not None and value.target > 0


def _score_kpi(kpi: KpiDef, value: KpiValue, weight: float, cards: Scorecards) -> KpiResult:
    result = KpiResult(
        kpi.key,
        round(weight, PLACES),
        kpi.weight,
        value.actual,
        value.target,
        None,
        0.0,
        "ok",
        value.target_source if value.target is not None else None,
    )
    if value.no_sessions:
        result.status = "no_sessions"
        return result
    if kpi.formula == "incident_penalty":
        achieved = incident_fraction(value.actual or 0.0, cards.incident_penalty)
        result.attainment = round(achieved, PLACES)
        result.points = round(points(weight, achieved, cards.cap), PLACES)
        return result
    if not weight:
        result.status = "no_target"
        return result
    if value.actual is None:
        result.status = "no_data"
        return result
    assert value.target is not None
    if kpi.direction == "higher":
        achieved = attainment(value.actual, value.target)
    else:
        achieved = lower_is_better_attainment(value.actual, value.target, cards.cap)
    result.attainment = round(achieved, PLACES)
    result.points = round(points(weight, achieved, cards.cap), PLACES)
    return result


def rank_within_role(cards: list[Scorecard]) -> None:
    """Graded cards by score; every ungraded card ranks after all of them, by score."""
    graded = [c for c in cards if c.graded]
    ungraded = [c for c in cards if not c.graded]
    for card, position in zip(graded, rank([c.score for c in graded]), strict=True):
        card.rank = position
    for card, position in zip(ungraded, rank([c.score for c in ungraded]), strict=True):
        card.rank = len(graded) + position
