"""A small fixed broadcast, folded through the real projections: what the OpenAPI document's
examples are cut from (service/reads/openapi_examples.py).

Its events are written as a producer would send them, validated by the catalogue (parse_event),
numbered as the store numbers them, and folded by the projections the workers run; the read
models' rows come from their `writes`, and scores from those rows (FoldedReads is PeriodReads
in memory, summing what views.SqlPeriodReads sums in SQL). Nothing here touches a database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from events.envelope import parse_event
from events.recorder import StoredEvent, numbered_as_stored
from projections.clock import US_PER_SECOND
from projections.registry import PersonProjection, SessionProjection
from projections.scoring.figures import Range, Sums, local_day, sums_from
from projections.tables import SCORED_SUMS

SESSION_ID = "s-001"
HOST_ID = "h-1"
OPS_ID = "o-1"
ROOM_ID = "room-1"
PERIOD = "2026-11"
ZONE = "Asia/Shanghai"  # the studio's, as Settings has it by default
NOW_US = 1_798_761_600_000_000  # 2027-01-01: every event below is in the past
STARTED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # 20:00 in Beijing
REGISTERED = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
# Posted in one request once the broadcast ended: every event is recorded at this time (our
# clock, which the projections read only to judge silences).
POSTED_US = int((STARTED + timedelta(hours=1, seconds=5)).timestamp()) * 1_000_000


def _at(seconds: int, base: datetime = STARTED) -> str:
    return (base + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


# (seconds after 20:00 Beijing time, type, data): the broadcast's session events
SESSION_EVENTS: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (
        0,
        "session.started",
        {
            "host_id": HOST_ID,
            "ops_id": OPS_ID,
            "room_id": ROOM_ID,
            "platform": "douyin",
            "title": "秋季上新",
            "planned_minutes": 60,
        },
    ),
    (10, "viewer.joined", {"viewer_id": "v-101", "source": "recommend"}),
    (15, "viewer.joined", {"viewer_id": "v-102", "source": "ad"}),
    (30, "interaction.recorded", {"kind": "like", "viewer_id": "v-101", "count": 3}),
    (35, "interaction.recorded", {"kind": "comment", "viewer_id": "v-102", "text": "有小码吗"}),
    (60, "product.pinned", {"product_id": "p-1", "name": "羊毛围巾", "price": "199.00"}),
    (75, "product.clicked", {"product_id": "p-1", "viewer_id": "v-102"}),
    (
        90,
        "order.placed",
        {
            "order_id": "o-9001",
            "buyer_id": "v-102",
            "product_id": "p-1",
            "quantity": 1,
            "amount": "199.00",
        },
    ),
    (95, "order.paid", {"order_id": "o-9001"}),
    (
        120,
        "incident.opened",
        {"incident_id": "i-1", "kind": "stream_interruption", "severity": 2},
    ),
    (150, "incident.resolved", {"incident_id": "i-1"}),
    (
        180,
        "room.stats_reported",
        {
            "source": "qianchuan",
            "views": 40,
            "unique_viewers": 30,
            "gmv": "199.00",
            "orders_paid": 1,
            "buyers": 1,
        },
    ),
    (240, "viewer.left", {"viewer_id": "v-101"}),
    (3600, "session.ended", {}),
)
# (person, type, data): the people the scorecards are of, registered the day before
PERSON_EVENTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        HOST_ID,
        "person.registered",
        {"name": "林晓", "role": "host", "level": "regular", "on_air_since": "2026-03-01"},
    ),
    (OPS_ID, "person.registered", {"name": "周航", "role": "live_ops"}),
    *(
        (HOST_ID, "target.set", {"period": PERIOD, "kpi": kpi, "value": value})
        for kpi, value in (
            ("gmv", 500),
            ("interaction_rate", 0.05),
            ("new_followers", 5),
            ("conversion_rate", 0.02),
        )
    ),
    (OPS_ID, "target.set", {"period": PERIOD, "kpi": "promoted_viewers", "value": 2}),
)


def wire_events() -> list[dict[str, Any]]:
    """The broadcast and its people, in the wire shape (one POST /events body's `events`)."""
    events = [
        {
            "event_id": f"00000000-0000-4000-8000-{n:012d}",
            "type": type_,
            "occurred_at": _at(seconds),
            "session_id": SESSION_ID,
            "data": data,
        }
        for n, (seconds, type_, data) in enumerate(SESSION_EVENTS, start=1)
    ]
    for n, (person, type_, data) in enumerate(PERSON_EVENTS, start=len(events) + 1):
        events.append(
            {
                "event_id": f"00000000-0000-4000-8000-{n:012d}",
                "type": type_,
                "occurred_at": _at(60 * n, REGISTERED),
                "person_id": person,
                "data": data,
            }
        )
    return events


def stored_events() -> list[StoredEvent]:
    """The events as a fresh store holds them after one POST /events of wire_events():
    positions 1, 2, … and versions per stream, all recorded at POSTED_US."""
    return numbered_as_stored((parse_event(raw, NOW_US) for raw in wire_events()), POSTED_US)


@dataclass(frozen=True)
class Folded:
    """The read models' rows for the broadcast, by table name."""

    rows: dict[str, list[dict[str, Any]]]

    def body(self, table: str) -> dict[str, Any]:
        """The one session's `body` column of a table (session_document, session_timeline,
        session_review)."""
        (row,) = self.rows[table]
        body: dict[str, Any] = row["body"]
        return body

    def names(self) -> dict[str, str]:
        return {p["person_id"]: p["name"] for p in self.rows["person_view"] if p["name"]}


def fold() -> Folded:
    """Each stream folded by its projection, and the rows its `writes` asks for."""
    events = stored_events()
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    session = SessionProjection()
    state = session.new(SESSION_ID)
    for event in events:
        if event.stream_id == f"session-{SESSION_ID}":
            state = session.fold(state, event)
    states: list[tuple[Any, Any]] = [(session, state)]
    person = PersonProjection()
    for person_id in dict.fromkeys(p for p, _, _ in PERSON_EVENTS):
        ledger = person.new(person_id)
        for event in events:
            if event.stream_id == f"person-{person_id}":
                ledger = person.fold(ledger, event)
        states.append((person, ledger))
    for projection, folded in states:
        for row_set in projection.writes(folded, None).row_sets:
            rows[row_set.table.name].extend(row_set.rows)
    return Folded(dict(rows))


class FoldedReads:
    """projections.scoring.figures.PeriodReads over the folded rows (as SqlPeriodReads reads
    session_view, session_source and person_view)."""

    def __init__(self, folded: Folded) -> None:
        self.sessions = folded.rows["session_view"]
        self.sources = folded.rows["session_source"]
        self.ledgers = [p["ledger"] for p in folded.rows["person_view"] if p["registered"]]

    def people(self) -> dict[str, dict[str, Any]]:
        return {ledger["person_id"]: ledger for ledger in self.ledgers}

    def _sums(self, sessions: list[dict[str, Any]], promoted: tuple[str, ...] | None) -> Sums:
        sums = sums_from(len(sessions), [sum(s[n] or 0 for s in sessions) for n in SCORED_SUMS])
        if promoted:
            ids = {s["session_id"] for s in sessions}
            kept = [r for r in self.sources if r["session_id"] in ids and r["source"] in promoted]
            sums.promoted_viewers = sum(r["viewers"] or 0 for r in kept)
            sums.promoted_buyers = sum(r["buyers"] or 0 for r in kept)
        return sums

    def _started(self, rng: Range) -> list[dict[str, Any]]:
        return [s for s in self.sessions if rng.holds(s["started_at"])]

    def session_sums(
        self, rng: Range, by: str, promoted: tuple[str, ...] | None
    ) -> dict[str, Sums]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for session in self._started(rng):
            if session[by] is not None:
                groups[session[by]].append(session)
        return {key: self._sums(group, promoted) for key, group in groups.items()}

    def team_sums(self, rng: Range, members: set[str], promoted: tuple[str, ...]) -> Sums:
        if not members:
            return Sums()
        return self._sums(
            [s for s in self._started(rng) if {s["host_id"], s["ops_id"]} & members], promoted
        )

    def host_figures(self, rng: Range) -> tuple[dict[str, Sums], dict[str, dict[str, float]]]:
        hosted = self.session_sums(rng, "host_id", None)
        days: dict[str, dict[str, float]] = defaultdict(dict)
        for s in self._started(rng):
            if s["host_id"] is None:
                continue
            until = s["ended_at"] if s["ended_at"] is not None else (s["clock"] or s["started_at"])
            day = local_day(s["started_at"], rng.zone).isoformat()
            on_air = days[s["host_id"]].get(day, 0.0)
            days[s["host_id"]][day] = on_air + max(0, until - s["started_at"]) / US_PER_SECOND
        return hosted, days
