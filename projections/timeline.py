"""Per-minute buckets (by occurred_at) and markers for a session's timeline."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
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
        # Incidents move with alerts_changed, pins (and the names and prices they carry) with
        # pin_marks: a pinned room's every run built a marker per pin and sorted them.
        "markers": state.remembered(
            "markers", (len(state.pin_marks), state.alerts_changed), markers
        ),
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
        "redrawn_from",
        "reported",
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
        self.incidents: dict[int, int] = {}  # minute -> incidents opened in it
        self.reported: tuple[Any, ...] = ()  # _reported_figures when drawn


def timeline_minutes(state: SessionState) -> list[dict[str, Any]]:
    """The timeline's minutes. Every event moves only its own minute and those after it (its
    bucket, the presences open from then on, a reading's difference with the next, the online
    carried forward); the fold notes the earliest (`moved_from`). An order event may move the
    minute its order was paid in (the order totals note it as it moves), and an incident the
    minute it opened in (found by comparing with what was drawn). What every minute depends on
    (the start, the end, which figures the platform reports) redraws them all when it
    changes."""
    reported = state.reported
    kinds = reported_interaction_kinds(state)
    key = (state.started_at, state.ended_at, reported.revision)
    found = state.derived.get("timeline_minutes")
    since, state.moved_from = state.moved_from, None
    # The minutes whose paid orders moved (an order event moves the minute its order was paid
    # in, before and after): noted as they move, not found by comparing every minute.
    paid_moved = state.orders.totals.take_moved()
    drawn: _Drawn
    if found is None:
        everything, drawn = True, _Drawn()
    elif found[0] == key:
        everything, drawn = False, found[1]
    else:
        # A report moved what minutes are drawn from only if it changed which figures the
        # platform reports (its readings' minutes are among those the fold noted).
        drawn = found[1]
        everything = drawn.reported != _reported_figures(state, kinds) or found[0][:2] != key[:2]
        if everything:
            drawn = _Drawn()
    incidents: dict[int, int] = {}
    for incident in state.incidents.values():
        if incident.opened and incident.opened_at is not None:
            minute = minute_of(incident.opened_at)
            incidents[minute] = incidents.get(minute, 0) + 1
    paid = state.orders.totals.by_minute
    if not everything:
        if paid_moved is not None:
            since = paid_moved if since is None else min(since, paid_moved)
        if incidents != drawn.incidents:
            since = _earliest_moved(drawn.incidents, incidents, since)
        if since is None:  # nothing any minute is drawn from moved
            drawn.redrawn_from, drawn.cleared = len(drawn.minutes), False
            state.derived["timeline_minutes"] = (key, drawn)
            return list(drawn.rows)
    redrawn = _redraw(state, drawn, None if everything else since, paid, incidents, kinds)
    redrawn.reported = _reported_figures(state, kinds)
    state.derived["timeline_minutes"] = (key, redrawn)
    return list(redrawn.rows)  # a copy: the next run redraws the drawn list in place


def _reported_figures(state: SessionState, kinds: dict[str, str]) -> tuple[Any, ...]:
    """Which figures the platform reports, of those a minute is drawn from."""
    reported = state.reported
    return (
        tuple(kinds),
        reported.stamp("views") is not None,
        reported.stamp("product_clicks") is not None,
    )


def _earliest_moved(before: dict[int, Any], now: dict[int, Any], since: int | None) -> int:
    moved = min(m for m in before.keys() | now.keys() if before.get(m) != now.get(m))
    return moved if since is None else min(since, moved)


def _redraw(
    state: SessionState,
    drawn: _Drawn,
    since: int | None,
    paid: Mapping[int, Sequence[int]],
    incidents: dict[int, int],
    kinds: dict[str, str],
) -> _Drawn:
    """The minutes before `since` as drawn, and those from it drawn anew (None: all), in
    `drawn` itself: only the minutes redrawn are touched, not every one before them."""
    kept = 0 if since is None else bisect_left(drawn.minutes, since)
    redrawn = drawn
    gone = drawn.minutes[kept:]  # drawn before, from `since` on
    del redrawn.minutes[kept:], redrawn.rows[kept:], redrawn.after[kept:]
    redrawn.incidents = incidents
    last_kept = redrawn.minutes[-1] if kept else None
    # every minute after the last one kept is drawn: those the clock filled in since included
    start = None if last_kept is None else last_kept + 1
    if start is None and since is not None and state.started_at is not None:
        first = minute_of(state.started_at)
        if since >= first and (not gone or gone[0] >= first):
            start = first  # no minute before the start, drawn or moved: all from the start

    reported = state.reported
    # A cumulative figure the platform reports draws its minutes from the readings.
    views = reported.minute_values("views") if reported.stamp("views") else None
    clicks = reported.minute_values("product_clicks") if reported.stamp("product_clicks") else None
    ordered: Sequence[int]
    contiguous = False  # every minute from `start` on is drawn, none skipped
    filled = _filled(state)
    if start is not None and filled is not None and state.ended_at is None:
        first, last = filled
        if first <= start and last < first + MAX_FILLED_MINUTES - 1:
            # The usual run of a live broadcast: every event, payment, incident and reading
            # falls in a minute up to the clock's, all of them filled in from the start, so the
            # minutes from `start` are the clock's last ones.
            ordered, contiguous = range(start, last + 1), True
        else:
            ordered = _minutes_from(state, start, paid, incidents, views, clicks, kinds)
    else:
        ordered = _minutes_from(state, start, paid, incidents, views, clicks, kinds)
        # A minute drawn before and no longer there (an order paid before the start,
        # cancelled): every stored minute is replaced.
        if not set(ordered).issuperset(gone):
            return _redraw(state, _Drawn(), None, paid, incidents, kinds)
    redrawn.redrawn_from, redrawn.cleared = kept, since is None
    ended = None if state.ended_at is None else minute_of(state.ended_at)
    # A minute's online: its last reading (samples, reports); after a reading, carried forward
    # through minutes without one; before any, the presences open at the minute's end by
    # event time, whatever order the joins and leaves came in.
    online, read, present = redrawn.after[-1] if kept else (0, False, 0)
    deltas = state.presence.deltas
    # The presences' changes after the last minute kept, in order. Drawing every minute from
    # the one after it, each minute's own change is all there is to add (no scan of every
    # minute with joins in it).
    changes = (
        sorted((m, d) for m, d in deltas.items() if last_kept is None or m > last_kept)
        if deltas and not contiguous
        else [(m, deltas[m]) for m in ordered if m in deltas]
    )
    index = 0
    for minute in ordered:
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


def _minutes_from(
    state: SessionState,
    start: int | None,
    paid: Mapping[int, Sequence[int]],
    incidents: dict[int, int],
    views: dict[int, int] | None,
    clicks: dict[int, int] | None,
    kinds: dict[str, str],
) -> list[int]:
    """Every minute of the timeline from `start` (None: all), in order: those with events,
    payments, incidents or readings in them, and those from the start to the clock's (a day of
    them at most), filled in."""

    def tail(keys: Any) -> set[int]:
        if start is None:
            return set(keys)
        return {m for m in keys if m >= start}

    minutes = tail(state.buckets) | tail(m for m, v in paid.items() if v[0]) | tail(incidents)
    for drawn_values in (views, clicks):
        if drawn_values:
            minutes |= tail(drawn_values)
    for figure in kinds:
        minutes |= tail(state.reported.minute_values(figure))
    filled = _filled(state)
    if filled is not None:
        first, last = filled
        minutes.update(range(first if start is None else max(first, start), last + 1))
    return sorted(minutes)


def _filled(state: SessionState) -> tuple[int, int] | None:
    """The minutes filled in whether anything happened in them or not: from the start's to the
    clock's (the end's, once ended), a day of them at most. None before the start."""
    if state.started_at is None:
        return None
    first = minute_of(state.started_at)
    last = minute_of(state.session_clock or state.started_at)
    return first, min(last, first + MAX_FILLED_MINUTES - 1)


def redrawn_minutes(state: SessionState) -> tuple[bool, list[int], list[dict[str, Any]]]:
    """What the last draw of the timeline's minutes (timeline_minutes) redrew: (every stored
    minute is to be replaced, the minutes, their rows)."""
    found = state.derived.get("timeline_minutes")
    if found is None:
        return True, [], []
    drawn: _Drawn = found[1]
    start = drawn.redrawn_from
    return drawn.cleared, drawn.minutes[start:], drawn.rows[start:]


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
