"""What a studio connected only through the platforms' official sources receives of a
broadcast: the platform's reading a minute (`room.stats_reported`, as a poller writes it), the
order pushes, and sparse interaction pushes (comments that match a keyword), plus what people
enter in the console (the session, pins, incidents). The viewers' joins, leaves and clicks and
the spend events are not sent: the readings carry their counts.

Readings are the broadcast's own figures at each minute (the session fold run over the full
events), so a platform-mode room and an event-mode room of the same seed show the same numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from events.envelope import parse_event
from events.recorder import StoredEvent
from projections.segments import products_and_segments
from projections.session import SessionState, fold_session
from projections.session_metrics import session_metrics
from service.ingest.simulator.model import iso

NAMESPACE = uuid.UUID("a5a2d1c4-7c9e-4a0f-8f8e-5d6b3c2a1e07")
PUSHED = frozenset(
    {
        "session.started",
        "session.ended",
        "order.placed",
        "order.paid",
        "order.cancelled",
        "order.refunded",
        "product.pinned",
        "product.unpinned",
        "incident.opened",
        "incident.resolved",
    }
)
KEYWORD_SHARE = 20  # one comment in 20 carries a keyword the room pushes
SOURCE = "qianchuan"


def platform_view(
    timeline: Iterable[tuple[float, dict[str, Any]]],
) -> list[tuple[float, dict[str, Any]]]:
    """The same broadcasts as the official sources show them, in time order."""
    out: list[tuple[float, dict[str, Any]]] = []
    states: dict[str, SessionState] = {}
    next_minute: dict[str, float] = {}
    versions: dict[str, int] = {}
    comments = 0
    for at, event in timeline:
        session_id = event.get("session_id")
        if session_id is None:
            out.append((at, event))
            continue
        state = states.setdefault(session_id, SessionState(session_id))
        while session_id in next_minute and at >= next_minute[session_id]:
            out.append(_reading(state, next_minute[session_id]))
            next_minute[session_id] += 60
        versions[session_id] = versions.get(session_id, 0) + 1
        fold_session(state, _stored(event, versions[session_id]))
        kind = event["type"]
        if kind == "session.started":
            next_minute[session_id] = at + 60
        if kind in PUSHED:
            if kind == "session.ended":
                out.append(_reading(state, at))
                next_minute.pop(session_id, None)
            out.append((at, event))
        elif kind == "interaction.recorded" and event["data"].get("kind") == "comment":
            comments += 1
            if comments % KEYWORD_SHARE == 0:
                out.append((at, event))
    out.sort(key=lambda pair: pair[0])
    return out


def _stored(event: dict[str, Any], version: int) -> StoredEvent:
    new = parse_event(event, 10**18)
    return StoredEvent(
        position=version,
        event_id=new.event_id,
        type=new.type,
        stream_id=new.stream_id,
        version=version,
        schema_version=new.schema_version,
        data=new.data,
        metadata=new.metadata,
        occurred_at=new.occurred_at,
        recorded_at=new.occurred_at,
    )


def _reading(state: SessionState, at: float) -> tuple[float, dict[str, Any]]:
    m = session_metrics(state)
    products, _ = products_and_segments(state)
    data: dict[str, Any] = {
        "source": SOURCE,
        "online": m["online"],
        "views": m["views"],
        "unique_viewers": m["unique_viewers"],
        "interacting_viewers": m["interacting_viewers"],
        "watch_seconds": int(m["watch_seconds"]),
        "product_clicks": m["product_clicks"],
        "clicking_viewers": m["clicking_viewers"],
        "comments": m["interactions"]["comment"],
        "likes": m["interactions"]["like"],
        "shares": m["interactions"]["share"],
        "gifts": m["interactions"]["gift"],
        "new_followers": m["new_followers"],
        "ad_spend": f"{state.ad_spend_fen // 100}.{state.ad_spend_fen % 100:02d}",
        "gmv": f"{state.orders.totals.gmv_fen // 100}.{state.orders.totals.gmv_fen % 100:02d}",
        "orders_paid": m["orders_paid"],
        "buyers": m["buyers"],
        "sources": [
            {"source": source, "views": row["views"], "viewers": row["viewers"]}
            for source, row in m["traffic_sources"].items()
            if source != "unknown" and row["views"]
        ],
        "products": [
            {
                "product_id": p["product_id"],
                "clicks": p["clicks"],
                "clicking_viewers": p["clicking_viewers"],
            }
            for p in products
            if p["clicks"]
        ],
    }
    event = {
        "event_id": str(uuid.uuid5(NAMESPACE, f"{state.session_id}\n{int(at)}")),
        "type": "room.stats_reported",
        "occurred_at": iso(at),
        "session_id": state.session_id,
        "data": {k: v for k, v in data.items() if v not in (None, [])},
        "metadata": {"source": "simulator:platform"},
    }
    return at, event
