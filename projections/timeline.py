"""Per-minute buckets (by occurred_at) and markers for a session's timeline."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.clock import US_PER_MINUTE, minute_of
from projections.session import PIN, SessionState
from projections.session_metrics import minute_interactions, reported_interaction_kinds
from projections.shapes import MinuteBucket

EMPTY = MinuteBucket()  # a minute with nothing in it (never changed)

MAX_FILLED_MINUTES = 24 * 60  # gaps are filled inside the broadcast, up to a day of minutes


def session_timeline(
    state: SessionState, segments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Per-minute buckets, markers (incidents, pins and unpins) and the explanation segments."""
    paid = state.orders.totals.by_minute
    incidents: dict[int, int] = {}
    for incident in state.incidents.values():
        if incident.opened and incident.opened_at is not None:
            minute = minute_of(incident.opened_at)
            incidents[minute] = incidents.get(minute, 0) + 1
    reported = state.reported
    # A cumulative figure the platform reports draws its minutes from the readings.
    views = reported.minute_values("views") if reported.stamp("views") else None
    clicks = reported.minute_values("product_clicks") if reported.stamp("product_clicks") else None
    interactions = minute_interactions(state) if reported_interaction_kinds(state) else None
    minutes = set(state.buckets) | {m for m, v in paid.items() if v[0]} | set(incidents)
    for drawn in (views, clicks, interactions):
        if drawn:
            minutes.update(drawn)
    if state.started_at is not None:
        first = minute_of(state.started_at)
        last_time = state.session_clock or state.started_at
        last = min(minute_of(last_time), first + MAX_FILLED_MINUTES - 1)
        minutes.update(range(first, last + 1))
    ordered = sorted(minutes)
    # A minute's online: its last reading (samples, reports); after a reading, carried forward
    # through minutes without one; before any, the presences open at the minute's end by
    # event time, whatever order the joins and leaves came in.
    present = state.presence.online_by_minute(ordered)
    read = False
    online = 0
    rows = []
    for minute in ordered:
        bucket = state.buckets.get(minute, EMPTY)
        if bucket.reading_at is not None:
            online, read = bucket.online, True
        elif not read:
            online = present[minute]
        if state.ended_at is not None and minute > minute_of(state.ended_at):
            online = 0
        orders, gmv = paid.get(minute, (0, 0))
        rows.append(
            {
                "minute": _minute_label(minute),
                "joins": bucket.joins if views is None else views.get(minute, 0),
                "leaves": bucket.leaves,
                "online": online,
                "interactions": bucket.interactions
                if interactions is None
                else interactions.get(minute, 0),
                "clicks": bucket.clicks if clicks is None else clicks.get(minute, 0),
                "paid_orders": orders,
                "gmv": fen_to_yuan(gmv),
                "incidents": incidents.get(minute, 0),
            }
        )
    return {
        "session_id": state.session_id,
        "version": state.version,
        "minutes": rows,
        "markers": markers(state),
        "segments": segments or [],
    }


@lru_cache(maxsize=8192)
def _minute_label(minute: int) -> str:
    # Every write redraws every minute of the session: a 3-hour broadcast's 180 labels, for
    # each live session, ten times a second. They are the same strings each time.
    return format_timestamp(minute * US_PER_MINUTE)


def markers(state: SessionState) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for incident_id, incident in state.incidents.items():
        if incident.opened and incident.opened_at is not None:
            found.append(
                {
                    "type": "incident",
                    "at": format_timestamp(incident.opened_at),
                    "incident_id": incident_id,
                    "kind": incident.kind,
                    "severity": incident.severity,
                    "description": incident.description,
                    "resolved_at": (
                        None
                        if incident.resolved_at is None
                        else format_timestamp(incident.resolved_at)
                    ),
                }
            )
    for at, _version, kind, product_id in state.pin_marks:
        product = state.products.get(product_id)
        found.append(
            {
                "type": "product_pin" if kind == PIN else "product_unpin",
                "at": format_timestamp(at),
                "product_id": product_id,
                "name": None if product is None else product.name,
                "price": (
                    None
                    if product is None or product.price_fen is None
                    else fen_to_yuan(product.price_fen)
                ),
            }
        )
    found.sort(key=lambda marker: marker["at"])
    return found
