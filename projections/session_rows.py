"""The session projection's rows: session_view, session_document, session_source,
session_timeline, and the session's share of host_day, returned as data for the worker."""

from __future__ import annotations

from typing import Any

from events.fields import format_timestamp
from projections.clock import US_PER_SECOND
from projections.host_days import contribution, host_day_deltas
from projections.session import SessionState
from projections.session_metrics import open_incidents, session_metrics
from projections.tables import session_document, session_source, session_timeline, session_view
from projections.timeline import session_timeline as build_timeline
from projections.writes import RowSet, Writes


def _iso(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def session_body(state: SessionState, metrics: dict[str, Any]) -> dict[str, Any]:
    """The body of GET /api/v1/sessions/{id}, and of the feed's snapshot."""
    duration = None
    if state.started_at is not None:
        until = state.session_clock or state.started_at
        duration = max(0, until - state.started_at) / US_PER_SECOND
    return {
        "session_id": state.session_id,
        "status": state.status,
        "host_id": state.host_id,
        "ops_id": state.ops_id,
        "room_id": state.room_id,
        "platform": state.platform,
        "title": state.title,
        "planned_minutes": state.planned_minutes,
        "started_at": _iso(state.started_at),
        "ended_at": _iso(state.ended_at),
        "duration_seconds": duration,
        "last_event_at": _iso(state.clock),
        "version": state.version,
        "metrics": metrics,
        "open_incidents": [
            {**incident, "opened_at": _iso(incident["opened_at"])}
            for incident in open_incidents(state)
        ],
    }


def session_writes(state: SessionState, before: dict[str, Any] | None) -> Writes:
    """Everything one run writes for a session. `before`: its session_view row as stored now
    (None for a new session), whose host_day contribution is moved out."""
    metrics = session_metrics(state)
    document = session_body(state, metrics)
    totals = state.orders.totals
    row = {
        "session_id": state.session_id,
        "status": state.status,
        "host_id": state.host_id,
        "ops_id": state.ops_id,
        "room_id": state.room_id,
        "platform": state.platform,
        "started_at": state.started_at,
        "ended_at": state.ended_at,
        "clock": state.clock,
        "last_recorded_at": state.last_recorded_at,
        "version": state.version,
        "views": state.views,
        "unique_viewers": metrics["unique_viewers"],
        "online": metrics["online"],
        "peak_online": state.peak_online,
        "interacting_viewers": metrics["interacting_viewers"],
        "new_followers": metrics["new_followers"],
        "clicking_viewers": metrics["clicking_viewers"],
        "orders_paid": totals.paid,
        "buyers": totals.buyers,
        "gmv_fen": totals.gmv_fen,
        "refunds_fen": totals.refunds_fen,
        "ad_spend_fen": state.ad_spend_fen,
        "incidents": metrics["incidents"]["total"],
        "incidents_open": metrics["incidents"]["open"],
        "silent_since": None,
    }
    deltas, drops = host_day_deltas(contribution(before), contribution(row))
    row_sets = [
        RowSet(session_view, [row], ("session_id",)),
        RowSet(session_document, [{"session_id": state.session_id, "body": document}],
               ("session_id",)),
        RowSet(session_source, [
            {"session_id": state.session_id, "source": source, **figures}
            for source, figures in metrics["traffic_sources"].items()
        ], ("session_id", "source")),
        RowSet(session_timeline, [{
            "session_id": state.session_id, "version": state.version,
            "body": build_timeline(state),
        }], ("session_id",)),
    ]
    return Writes(row_sets=row_sets, deltas=deltas, drops=drops, document=document)
