"""score_period: every scorecard of a period (or custom range), from the read models."""

from __future__ import annotations

from typing import Any

from projections.scoring import figures
from projections.scoring.figures import PeriodReads, Range, Sums
from projections.scoring.formulas import FORMULAS, FormulaInputs
from projections.scoring.rules import (
    PLACES,
    KpiValue,
    Scorecard,
    rank_within_role,
    score_person,
)
from projections.scoring.scorecards import KpiDef, Scorecards


def _target(ledger: dict[str, Any], rng: Range, key: str) -> float | None:
    entry = ledger.get("targets", {}).get(rng.period, {}).get(key)
    return None if entry is None else float(entry[0])


def kpi_value(
    kpi: KpiDef,
    role: str,
    ledger: dict[str, Any],
    sums: Sums,
    previous: Sums | None,
    rng: Range,
    cards: Scorecards,
) -> KpiValue:
    value = KpiValue(None, _target(ledger, rng, kpi.key))
    FORMULAS[kpi.formula](FormulaInputs(kpi, role, ledger, sums, previous, rng, cards), value)
    if isinstance(value.actual, float):
        value.actual = round(value.actual, 10)
    if kpi.source == "derived" and sums.sessions == 0:
        value.no_sessions = True
    return value


def _reports(everyone: dict[str, dict[str, Any]], head: str) -> set[str]:
    """People whose manager chain reaches `head`, and those sharing the head's team."""
    members = {head}
    changed = True
    while changed:
        changed = False
        for pid, ledger in everyone.items():
            if pid not in members and ledger.get("manager_id") in members:
                members.add(pid)
                changed = True
    team = everyone.get(head, {}).get("team_id")
    if team:
        members |= {pid for pid, ledger in everyone.items() if ledger.get("team_id") == team}
    return members


def score_period(
    reads: PeriodReads,
    cards: Scorecards,
    rng: Range,
    role: str | None = None,
    person_id: str | None = None,
) -> list[dict[str, Any]]:
    everyone = reads.people()
    if person_id is not None:
        # One person is still ranked among everyone of their role.
        if person_id not in everyone:
            return []
        role = everyone[person_id].get("role")
    roles = [role] if role else list(cards.roles)
    chosen = {pid: ledger for pid, ledger in everyone.items() if ledger.get("role") in roles}
    present = {ledger["role"] for ledger in chosen.values()}
    previous = rng.previous()
    promoted = cards.promoted_sources
    by_host: dict[str, Sums] = {}
    days: dict[str, dict[str, float]] = {}
    if "host" in present:
        by_host, days = reads.host_figures(rng)
    by_ops: dict[str, Sums] = {}
    by_ops_before: dict[str, Sums] = {}
    if "live_ops" in present:
        by_ops = reads.session_sums(rng, "ops_id", promoted)
        by_ops_before = reads.session_sums(previous, "ops_id", promoted)

    results: dict[str, list[Scorecard]] = {}
    for pid, ledger in sorted(chosen.items()):
        person_role = ledger["role"]
        if person_role not in cards.roles:
            continue
        before: Sums | None = None
        if person_role == "host":
            sums = by_host.get(pid, Sums())
        elif person_role == "live_ops":
            sums, before = by_ops.get(pid, Sums()), by_ops_before.get(pid, Sums())
        elif person_role == "supervisor":
            team = {p for p, other in everyone.items() if other.get("manager_id") == pid}
            sums = reads.team_sums(rng, team, promoted)
        elif person_role == "department_head":
            team = _reports(everyone, pid)
            sums = reads.team_sums(rng, team, promoted)
            before = reads.team_sums(previous, team, promoted)
        else:
            sums = Sums()
        values = {
            k.key: kpi_value(k, person_role, ledger, sums, before, rng, cards)
            for k in cards.roles[person_role]
        }
        card = score_person(pid, person_role, values, cards)
        card.extra = {
            "name": ledger.get("name"),
            "level": ledger.get("level"),
            "fines": figures.fines(ledger, rng),
            "compliance": (
                figures.compliance(days.get(pid, {}), ledger, rng)
                if person_role == "host"
                else None
            ),
            "sessions": sums.sessions,
        }
        results.setdefault(person_role, []).append(card)
    ordered: list[dict[str, Any]] = []
    for person_role in roles:
        cards_of_role = results.get(person_role, [])
        rank_within_role(cards_of_role)
        cards_of_role.sort(key=lambda c: (c.rank, c.person_id))
        ordered.extend(
            scorecard_document(c)
            for c in cards_of_role
            if person_id is None or c.person_id == person_id
        )
    return ordered


def scorecard_document(card: Scorecard) -> dict[str, Any]:
    return {
        "person_id": card.person_id,
        "name": card.extra.get("name"),
        "role": card.role,
        "level": card.extra.get("level"),
        "score": card.score,
        "grade": card.grade,
        "graded": card.graded,
        "rank": card.rank,
        "complete": card.complete,
        "sessions": card.extra.get("sessions", 0),
        "kpis": [k.as_dict() for k in card.kpis],
        "fines": card.extra.get("fines"),
        "compliance": card.extra.get("compliance"),
    }


def with_corrections(
    frozen: list[dict[str, Any]], live: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A closed period shows its frozen figures; what changed since shows as a difference."""
    now = {(c["person_id"], c["role"]): c for c in live}
    shown = []
    for card in frozen:
        current = now.get((card["person_id"], card["role"]))
        difference: dict[str, Any] = {"score": None, "kpis": {}}
        if current is not None:
            difference["score"] = round(current["score"] - card["score"], PLACES)
            for old, new in zip(card["kpis"], current["kpis"], strict=False):
                if old["actual"] != new["actual"] or old["points"] != new["points"]:
                    difference["kpis"][old["key"]] = {
                        "actual": new["actual"],
                        "points": round(new["points"] - old["points"], PLACES),
                    }
        shown.append(
            {
                **card,
                "frozen": True,
                "corrections": difference if difference["score"] or difference["kpis"] else None,
            }
        )
    return shown
