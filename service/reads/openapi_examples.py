"""Examples in the OpenAPI document, cut from real answers: the fixed broadcast of
service/reads/example_broadcast.py folded through the projections, and shaped by the same
functions the endpoints answer with (views.headline, scores_body, render_event, …).

An endpoint names its example with `Example("session")` (in `@blp.response(example=...)` or a
`responses=` override); ExamplesPlugin swaps the name for the body when the document is built
(create_app), computing the bodies once per process, never at import.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import orjson
from apispec import BasePlugin

from projections.clock import US_PER_SECOND
from projections.review import benchmarks, review_of
from projections.scoring.figures import month_range
from projections.scoring.period import score_period
from projections.session_rows import timeline_as_of
from service.reads import example_broadcast as broadcast
from service.reads.scores import closed_body, person_score, scores_body
from service.reads.views import headline


@dataclass(frozen=True)
class Example:
    """A placeholder for the example of this name, swapped for its body by ExamplesPlugin."""

    name: str


class ExamplesPlugin(BasePlugin):
    """Puts each operation's examples in: an `example` that is an Example becomes its body."""

    def operation_helper(
        self, path: str | None = None, operations: dict[Any, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            for response in operation.get("responses", {}).values():
                if not isinstance(response, dict):
                    continue
                for media in response.get("content", {}).values():
                    if isinstance(media.get("example"), Example):
                        # a copy each: documents of several apps never share a body
                        media["example"] = copy.deepcopy(examples()[media["example"].name])


def _reads(folded: broadcast.Folded) -> dict[str, Any]:
    """What the read API answers about the broadcast (sessions, the session, its timeline and
    review, scores, the scorecards in force, the roster)."""
    from service.process.scorecard_files import load_scorecards

    names = folded.names()
    document = {
        **folded.body("session_document"),
        "host_name": names.get(broadcast.HOST_ID),
    }
    (view,) = folded.rows["session_view"]
    review = review_of(
        folded.body("session_document"), folded.body("session_review"), view["clock"]
    )
    rng = month_range(broadcast.PERIOD, broadcast.ZONE)
    scorecards = load_scorecards()
    live = score_period(broadcast.FoldedReads(folded), scorecards, rng)
    mine = score_period(broadcast.FoldedReads(folded), scorecards, rng, None, broadcast.HOST_ID)
    return {
        "sessions": {"sessions": [headline(document)], "count": 1},
        "session": document,
        "timeline": timeline_as_of(
            folded.body("session_timeline"),
            document["version"],
            [r["body"] for r in sorted(folded.rows["session_minute"], key=lambda r: r["minute"])],
            view["clock"],
        ),
        # the host's and the room's first session: no earlier ones to benchmark against
        "review": {
            **review,
            "host_name": names.get(review["host_id"]),
            "benchmarks": benchmarks(review["metrics"], [], []),
        },
        "scores": scores_body(rng, live, None),
        "period_closed": closed_body(broadcast.PERIOD, live),
        "person_score": person_score(scores_body(rng, mine, None, None, broadcast.HOST_ID)),
        "scorecards": scorecards.as_dict(),
        "roster": {
            "people": [
                {k: v for k, v in row.items() if k in ROSTER_KEYS}
                for row in sorted(folded.rows["person_view"], key=lambda r: r["person_id"])
                if row["registered"]
            ]
        },
    }


ROSTER_KEYS = ("person_id", "name", "role", "level", "team_id", "manager_id", "on_air_since")


def _writes() -> dict[str, Any]:
    """What the write endpoints answer: the broadcast posted to an empty store, one person
    registered (or rated, or fined), the month's targets set, the room mapped to its host."""
    from service.ingest.events_api import render_event

    stored = broadcast.stored_events()
    targets = [e for e in stored if e.type == "target.set"]
    page = stored[:2]  # GET /events?limit=2
    return {
        "appended": {
            "appended": len(stored),
            "duplicates": 0,
            "positions": [e.position for e in stored],
        },
        "event_page": {
            "events": [render_event(e) for e in page],
            "next_after": page[-1].position,
        },
        "person_appended": {"appended": 1},
        "targets_appended": {"appended": len(targets)},
        "rooms": {"rooms": {broadcast.ROOM_ID: broadcast.HOST_ID}},
        "room_host": {"room": broadcast.ROOM_ID, "person_id": broadcast.HOST_ID},
    }


def _service(folded: broadcast.Folded) -> dict[str, Any]:
    """Health after the broadcast is projected, the shop's connection, and a Douyin comment
    that came after the broadcast ended (a dead letter)."""
    from service.ingest.connections.store import Connection
    from service.ingest.connections_api import ConnectionOutSchema
    from service.ingest.connectors.base import Context, Message
    from service.ingest.connectors.douyin_live import DouyinLiveConnector
    from service.ingest.connectors.errors import DeadLetter
    from service.reads.health_api import health_body, health_figures
    from worker.sweep import Lag

    now = broadcast.NOW_US
    hour = 3600 * US_PER_SECOND
    connection = Connection(
        connection_id="doudian:shop-1",
        platform="doudian",
        account_id="shop-1",
        name="秋季旗舰店",
        app_key="7301234567890",
        secrets={"app_secret": "…", "access_token": "…", "refresh_token": "…"},
        access_expires_at=now + 24 * hour,
        refresh_expires_at=now + 30 * 24 * hour,
        synced_until=now - hour,
        sync_attempted_at=now - hour,
        sync_orders=1,
    )
    shown = ConnectionOutSchema().dump(connection.public(now))
    (session,) = folded.rows["session_view"]
    attribution = _Attribution(session, tuple(r["order_id"] for r in folded.rows["session_order"]))
    late = Message(
        message_id="7321000000000000001",
        kind="live_comment",
        data={"msg_id": "7321000000000000001", "sec_openid": "v-103", "content": "还有吗"},
        room_id=broadcast.ROOM_ID,
        at_us=session["ended_at"] + 60 * US_PER_SECOND,
    )
    try:  # the attribution needs no order details: a comment is not an order
        DouyinLiveConnector(None).handle(late, cast(Context, attribution))
    except DeadLetter as exc:
        reason = str(exc)
    else:
        raise AssertionError("a comment after the broadcast ended was attributed")
    # one worker beating (its id is worker_identity's host:pid), nothing behind or parked
    figures = health_figures(Lag(0, 0, None, 0), ["livetally-1:7"], [])
    return {
        "health": health_body(figures, "not used", [], None),
        "connection": shown,
        "connections": {"connections": [shown]},
        "dead_letters": {  # the row as the intake records a dead letter (ledger.record)
            "dead_letters": [
                {
                    "platform": "douyin_live",
                    "message_id": late.message_id,
                    "kind": late.kind,
                    "reason": reason,
                    "order_ref": late.order_ref,
                    "received_at": late.at_us,
                    "updated_at": late.at_us,
                    "attempts": 1,
                    "message": late.stored(),
                }
            ],
            "next_after": late.at_us,
        },
    }


@dataclass(frozen=True)
class _Attribution:
    """The connectors' attribution (views.live_session_at, views.order_session) over the
    broadcast's session_view and session_order rows."""

    session: dict[str, Any]
    orders: tuple[str, ...]

    def live_session(self, column: str, value: str, at_us: int) -> str | None:
        s = self.session
        live = s["started_at"] <= at_us and (s["ended_at"] is None or s["ended_at"] >= at_us)
        return str(s["session_id"]) if s[column] == value and live else None

    def order_session(self, order_id: str) -> str | None:
        return str(self.session["session_id"]) if order_id in self.orders else None


@cache
def examples() -> dict[str, Any]:
    """Every example by name, as JSON data (what the document serves)."""
    folded = broadcast.fold()
    bodies = {**_reads(folded), **_writes(), **_service(folded)}
    data: dict[str, Any] = orjson.loads(orjson.dumps(bodies))
    return data
