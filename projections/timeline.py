"""Per-minute buckets (by occurred_at) and markers for a session's timeline."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.clock import US_PER_MINUTE, minute_of
from projections.session import (
    CLICKS,
    INTERACTIONS,
    JOINS,
    LEAVES,
    ONLINE,
    PIN,
    SessionState,
)

MAX_FILLED_MINUTES = 24 * 60  # gaps are filled inside the broadcast, up to a day of minutes


def session_timeline(state: SessionState,
                     segments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Per-minute buckets, markers (incidents, pins and unpins) and the explanation segments."""
    paid = state.orders.totals.by_minute
    incidents: dict[int, int] = {}
    for opened, _kind, _severity, opened_at, _resolved, _ in state.incidents.values():
        if opened:
            incidents[minute_of(opened_at)] = incidents.get(minute_of(opened_at), 0) + 1
    minutes = set(state.buckets) | {m for m, v in paid.items() if v[0]} | set(incidents)
    if state.started_at is not None:
        first = minute_of(state.started_at)
        last_time = state.session_clock or state.started_at
        last = min(minute_of(last_time), first + MAX_FILLED_MINUTES - 1)
        minutes.update(range(first, last + 1))
    online = 0
    rows = []
    for minute in sorted(minutes):
        bucket = state.buckets.get(minute, (0, 0, -1, 0, 0))
        if bucket[ONLINE] >= 0:
            online = bucket[ONLINE]
        if state.ended_at is not None and minute > minute_of(state.ended_at):
            online = 0
        orders, gmv = paid.get(minute, (0, 0))
        rows.append({
            "minute": _minute_label(minute),
            "joins": bucket[JOINS],
            "leaves": bucket[LEAVES],
            "online": online,
            "interactions": bucket[INTERACTIONS],
            "clicks": bucket[CLICKS],
            "paid_orders": orders,
            "gmv": fen_to_yuan(gmv),
            "incidents": incidents.get(minute, 0),
        })
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
    for incident_id, (opened, kind, severity, opened_at, resolved_at, description) in (
        state.incidents.items()
    ):
        if opened:
            found.append({
                "type": "incident", "at": format_timestamp(opened_at),
                "incident_id": incident_id, "kind": kind, "severity": severity,
                "description": description,
                "resolved_at": None if resolved_at is None else format_timestamp(resolved_at),
            })
    for at, _version, kind, product_id in state.pin_marks:
        product = state.products.get(product_id)
        found.append({
            "type": "product_pin" if kind == PIN else "product_unpin",
            "at": format_timestamp(at), "product_id": product_id,
            "name": None if product is None else product.name,
            "price": (None if product is None or product.price_fen is None
                      else fen_to_yuan(product.price_fen)),
        })
    found.sort(key=lambda marker: marker["at"])
    return found
