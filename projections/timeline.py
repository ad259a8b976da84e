"""Per-minute buckets (by occurred_at) and markers for a session's timeline."""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
from typing import Any

from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.clock import US_PER_MINUTE, minute_of
from projections.session import PIN, SessionState
from projections.session_metrics import interactions_in, reported_interaction_kinds
from projections.shapes import MinuteBucket

EMPTY = MinuteBucket()  # a minute with nothing in it (never changed)

MAX_FILLED_MINUTES = 24 * 60  # gaps are filled inside the broadcast, up to a day of minutes


def session_timeline(
    state: SessionState, segments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Per-minute buckets, markers (incidents, pins and unpins) and the explanation segments."""
    return {
        "session_id": state.session_id,
        "version": state.version,
        "minutes": timeline_minutes(state),
        "markers": markers(state),
        "segments": segments or [],
    }


class _Drawn:
    """The minutes as last drawn, and what they were drawn from: a run redraws only the
    minutes from the earliest one its events (or a moved order or incident) could change,
    since nothing moves a minute before that one (see timeline_minutes)."""

    __slots__ = (
        "after",
        "cleared",
        "incidents",
        "minutes",
        "order_revision",
        "paid",
        "redrawn_from",
        "rows",
    )

    def __init__(self) -> None:
        self.minutes: list[int] = []
        # what the last draw redrew: the minutes from this index on; all of them, to replace
        # every stored one (a minute may have gone), when `cleared`
        self.redrawn_from = 0
        self.cleared = True
        self.rows: list[dict[str, Any]] = []
        # after each minute: (online shown, a reading seen yet, presences open by event time)
        self.after: list[tuple[int, bool, int]] = []
        self.order_revision = -1
        self.paid: dict[int, tuple[int, int]] = {}  # minute -> (paid orders, gmv fen)
        self.incidents: dict[int, int] = {}  # minute -> incidents opened in it


def timeline_minutes(state: SessionState) -> list[dict[str, Any]]:
    """The timeline's minutes. Every event moves only its own minute and those after it (its
    bucket, the presences open from then on, a reading's difference with the next, the online
    carried forward); the fold notes the earliest (`moved_from`). An order event may move the
    minute its order was paid in, and an incident the minute it opened in: those are found by
    comparing with what was drawn. What every minute depends on (the start, the end, which
    figures the platform reports) redraws them all when it changes."""
    reported = state.reported
    kinds = reported_interaction_kinds(state)
    key = (
        state.started_at,
        state.ended_at,
        tuple(kinds),
        reported.stamp("views") is not None,
        reported.stamp("product_clicks") is not None,
    )
    found = state.derived.get("timeline_minutes")
    since, state.moved_from = state.moved_from, None
    everything = found is None or found[0] != key
    drawn: _Drawn = _Drawn() if found is None or everything else found[1]
    incidents: dict[int, int] = {}
    for incident in state.incidents.values():
        if incident.opened and incident.opened_at is not None:
            minute = minute_of(incident.opened_at)
            incidents[minute] = incidents.get(minute, 0) + 1
    paid = drawn.paid
    if drawn.order_revision != state.orders.revision:
        paid = {m: (v[0], v[1]) for m, v in state.orders.totals.by_minute.items()}
    if not everything:
        for before, now in ((drawn.paid, paid), (drawn.incidents, incidents)):
            if before is not now and before != now:
                moved = min(m for m in before.keys() | now.keys() if before.get(m) != now.get(m))
                since = moved if since is None else min(since, moved)
        if since is None:  # nothing any minute is drawn from moved
            drawn.order_revision, drawn.paid = state.orders.revision, paid
            drawn.redrawn_from, drawn.cleared = len(drawn.minutes), False
            return drawn.rows
    redrawn = _redraw(state, drawn, None if everything else since, paid, incidents, kinds)
    state.derived["timeline_minutes"] = (key, redrawn)
    return redrawn.rows


def _redraw(
    state: SessionState,
    drawn: _Drawn,
    since: int | None,
    paid: dict[int, tuple[int, int]],
    incidents: dict[int, int],
    kinds: dict[str, str],
) -> _Drawn:
    """The minutes before `since` as drawn, and those from it drawn anew (None: all)."""
    kept = 0 if since is None else bisect_left(drawn.minutes, since)
    redrawn = _Drawn()
    redrawn.order_revision = state.orders.revision
    redrawn.paid, redrawn.incidents = paid, incidents
    redrawn.minutes, redrawn.rows = drawn.minutes[:kept], drawn.rows[:kept]
    redrawn.after = drawn.after[:kept]
    last_kept = redrawn.minutes[-1] if kept else None
    # every minute after the last one kept is drawn: those the clock filled in since included
    start = None if last_kept is None else last_kept + 1

    def tail(keys: Any) -> set[int]:
        if start is None:
            return set(keys)
        return {m for m in keys if m >= start}

    reported = state.reported
    # A cumulative figure the platform reports draws its minutes from the readings.
    views = reported.minute_values("views") if reported.stamp("views") else None
    clicks = reported.minute_values("product_clicks") if reported.stamp("product_clicks") else None
    minutes = tail(state.buckets) | tail(m for m, v in paid.items() if v[0]) | tail(incidents)
    for drawn_values in (views, clicks):
        if drawn_values:
            minutes |= tail(drawn_values)
    for figure in kinds:
        minutes |= tail(reported.minute_values(figure))
    if state.started_at is not None:
        first = minute_of(state.started_at)
        last_time = state.session_clock or state.started_at
        last = min(minute_of(last_time), first + MAX_FILLED_MINUTES - 1)
        minutes.update(range(first if start is None else max(first, start), last + 1))
    # A minute drawn before and no longer there (an order paid before the start, cancelled):
    # every stored minute is replaced.
    if not minutes.issuperset(drawn.minutes[kept:]):
        return _redraw(state, _Drawn(), None, paid, incidents, kinds)
    redrawn.redrawn_from, redrawn.cleared = kept, since is None
    ended = None if state.ended_at is None else minute_of(state.ended_at)
    # A minute's online: its last reading (samples, reports); after a reading, carried forward
    # through minutes without one; before any, the presences open at the minute's end by
    # event time, whatever order the joins and leaves came in.
    online, read, present = redrawn.after[-1] if kept else (0, False, 0)
    changes = sorted(
        (m, d) for m, d in state.presence.deltas.items() if last_kept is None or m > last_kept
    )
    index = 0
    for minute in sorted(minutes):
        while index < len(changes) and changes[index][0] <= minute:
            present += changes[index][1]
            index += 1
        bucket = state.buckets.get(minute, EMPTY)
        if bucket.reading_at is not None:
            online, read = bucket.online, True
        elif not read:
            online = present
        shown = 0 if ended is not None and minute > ended else online
        orders, gmv = paid.get(minute, (0, 0))
        redrawn.minutes.append(minute)
        redrawn.after.append((online, read, present))
        redrawn.rows.append(
            {
                "minute": _minute_label(minute),
                "joins": bucket.joins if views is None else views.get(minute, 0),
                "leaves": bucket.leaves,
                "online": shown,
                "interactions": bucket.interactions
                if not kinds
                else interactions_in(state, minute, kinds),
                "clicks": bucket.clicks if clicks is None else clicks.get(minute, 0),
                "paid_orders": orders,
                "gmv": fen_to_yuan(gmv),
                "incidents": incidents.get(minute, 0),
            }
        )
    return redrawn


def redrawn_minutes(state: SessionState) -> tuple[bool, list[tuple[int, dict[str, Any]]]]:
    """What the last draw of the timeline's minutes (timeline_minutes) redrew: (every stored
    minute is to be replaced, [(minute, its row)])."""
    found = state.derived.get("timeline_minutes")
    if found is None:
        return True, []
    drawn: _Drawn = found[1]
    start = drawn.redrawn_from
    return drawn.cleared, list(zip(drawn.minutes[start:], drawn.rows[start:], strict=True))


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
