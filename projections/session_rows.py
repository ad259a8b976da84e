"""The session projection's rows: session_view, session_document, session_source,
session_timeline, session_minute, session_review and session_order, returned as data for the
worker."""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter
from typing import Any

from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.alerts import alert_now
from projections.review import review_own
from projections.segments import (
    Explained,
    at_clock,
    explained,
    products_and_segments,
    segments_at_clock,
)
from projections.session import SessionState
from projections.session_metrics import (
    ad_spend_fen,
    open_incidents,
    session_header,
    session_metrics,
    source_figures,
)
from projections.tables import (
    session_document,
    session_minute,
    session_order,
    session_review,
    session_source,
    session_timeline,
    session_view,
)
from projections.timeline import redrawn_minutes
from projections.timeline import session_timeline as build_timeline
from projections.writes import ClearRows, RowSet, Writes


def _iso(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


TOP_PRODUCTS = 10
ALERTS_SHOWN = 10
TICKER = 20


def mask(identifier: str | None) -> str | None:
    """A buyer or viewer id cut down to its first and last character: "u***9"."""
    if identifier is None:
        return None
    if len(identifier) <= 2:
        return identifier[0] + "*"
    return f"{identifier[0]}***{identifier[-1]}"


# The ticker's lines are re-rendered on every run while they stay the same for many runs (a
# room with a comment every few seconds keeps its last 20 for a minute): their masked ids are
# remembered (format_timestamp remembers its own). A full ticker (20 comments, 20 orders) went
# from 74 to 15 µs a run; it was 13% of a busy embedded process's interpreter at 300 rooms.
_ticker_id = lru_cache(maxsize=65_536)(mask)


def recent(state: SessionState) -> dict[str, list[dict[str, Any]]]:
    """The ticker: the latest paid orders (still paid, not cancelled) and comments with text,
    newest first, at most 20 of each."""
    return {
        # Order lines name their product as its pins last named it.
        "orders": state.remembered(
            "ticker_orders", (state.orders.paid_revision, len(state.pin_marks)), _ticker_orders
        ),
        "comments": _ticker_comments(state),
    }


def _ticker_orders(state: SessionState) -> list[dict[str, Any]]:
    orders = []
    products = state.products
    for paid_at, order_id in reversed(state.orders.recent_paid):
        order = state.orders.orders[order_id]
        if not order.counts:
            continue
        product = products.get(order.product_id) if order.product_id is not None else None
        orders.append(
            _order_line(
                paid_at,
                order.product_id,
                None if product is None else product.name,
                order.gmv_fen,
                order.buyer_id,
            )
        )
        if len(orders) == TICKER:
            break
    return orders


def _ticker_comments(state: SessionState) -> list[dict[str, Any]]:
    comments = state.comments
    taken = state.comments_taken
    found = state.derived.get("ticker_comments")
    if found is not None:
        (was_taken, newest), lines = found
        if was_taken == taken:
            return lines
        # The usual change: the comments taken in since are newer than all before (the oldest
        # dropped if the list was full). Their lines go first and the others move down.
        added = taken - was_taken
        if 0 < added < len(comments) and comments[-added - 1] is newest:
            kept = len(comments) - added
            lines = [*map(_comment_line, reversed(comments[-added:])), *lines[:kept]]
            state.derived["ticker_comments"] = ((taken, comments[-1]), lines)
            return lines
    lines = list(map(_comment_line, reversed(comments[-TICKER:])))
    state.derived["ticker_comments"] = ((taken, comments[-1] if comments else None), lines)
    return lines


# Lines are shared between the documents of consecutive runs (nothing changes a document once
# built): a line that did not move costs a lookup, not a dict.
@lru_cache(maxsize=65_536)
def _order_line(
    paid_at: int, product_id: str | None, name: str | None, gmv_fen: int, buyer: str | None
) -> dict[str, Any]:
    return {
        "at": format_timestamp(paid_at),
        "product_id": product_id,
        "name": name,
        "amount": fen_to_yuan(gmv_fen),
        "buyer": _ticker_id(buyer),
    }


Comment = tuple[int, int, str | None, str]  # occurred_at, version, viewer, text


@lru_cache(maxsize=65_536)
def _comment_line(comment: Comment) -> dict[str, Any]:
    at, _version, viewer, text = comment
    return {"at": format_timestamp(at), "viewer": _ticker_id(viewer), "text": text}


TAIL_MINUTES = 3


def timeline_body(timeline: dict[str, Any], found: Explained) -> dict[str, Any]:
    """The session_timeline row's body: the timeline without the session's version, which
    moves on every run (the read takes it from session_view; see timeline_as_of), without its
    minutes (session_minute holds them, a row each), and with its segments as `explained`
    leaves them: the open explanation's seconds out, with when it started (the read counts
    them to the session clock). A pinned room's row, every segment in it, was written again on
    every run the clock moved."""
    return {
        **{n: v for n, v in timeline.items() if n not in ("version", "minutes", "segments")},
        "segments": found.segments,
        "explaining_since": found.explaining_since,
    }


def timeline_as_of(
    body: dict[str, Any],
    version: int,
    minutes: list[dict[str, Any]] | None = None,
    clock: int | None = None,
) -> dict[str, Any]:
    """The timeline as served: its row's body with the session's version and its minutes, in
    their places, and the open explanation's seconds counted to `clock` (session_view's, as of
    the same commit). A body written before 0017 carries its own version, the same, which this
    one replaces; one written before 0018 carries its own minutes, served when `minutes` is
    None."""
    skipped = ("version", "minutes", "explaining_since")
    rest = {name: value for name, value in body.items() if name not in skipped}
    served = body.get("minutes", []) if minutes is None else minutes
    if "segments" in rest:
        rest["segments"] = segments_at_clock(rest["segments"], body.get("explaining_since"), clock)
    return {"session_id": body["session_id"], "version": version, "minutes": served, **rest}


def timeline_tail(timeline: dict[str, Any]) -> dict[str, Any]:
    """The last minutes of the timeline, and the markers in them: what a screen merges into its
    trend on each update (the feed carries it; nothing polls for the timeline)."""
    minutes = timeline["minutes"][-TAIL_MINUTES:]
    since = minutes[0]["minute"] if minutes else ""
    return {"minutes": minutes, "markers": [m for m in timeline["markers"] if m["at"] >= since]}


def _alerts_shown(state: SessionState) -> list[dict[str, Any]]:
    return [alert_now(alert, state.incidents) for alert in state.alert_log[-ALERTS_SHOWN:]]


def session_body(
    state: SessionState,
    metrics: dict[str, Any],
    products: list[dict[str, Any]],
    timeline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of GET /api/v1/sessions/{id}, and of the feed's snapshot."""
    return {
        **session_header(state),
        "metrics": metrics,
        "open_incidents": [
            {**incident, "opened_at": _iso(incident["opened_at"])}
            for incident in open_incidents(state)
        ],
        "products": products[:TOP_PRODUCTS],
        "recent": recent(state),
        # the latest alerts raised, so a screen opened late still lists them, each with
        # where it stands now (`state`: on, cleared, resolved; see projections/alerts.py)
        "alerts": state.remembered("alerts_shown", state.alerts_changed, _alerts_shown),
        "timeline_tail": timeline_tail(timeline or build_timeline(state)),
    }


def session_document_of(state: SessionState) -> dict[str, Any]:
    """The session's document on its own (tests and tools; runs build it in session_writes)."""
    products, segments = products_and_segments(state)
    return session_body(state, session_metrics(state), products, build_timeline(state, segments))


# The session_view columns that seldom move (all six indexed ones among them): while they stay
# as stored, a run sets only the others, and the indexes are left alone.
SETTLED = (
    "status",
    "host_id",
    "ops_id",
    "room_id",
    "platform",
    "shop_id",
    "started_at",
    "ended_at",
)


def view_row_set(row: dict[str, Any], before: dict[str, Any] | None) -> RowSet:
    """The session's view row: the whole row, or, while the settled columns are as stored,
    the moving ones of the stored row."""
    if before is None or _settled(row) != _settled(before):
        return RowSet(session_view, [row], ("session_id",))
    return RowSet(
        session_view, [dict(zip(MOVING, _moving(row), strict=True))], ("session_id",), existing=True
    )


MOVING = tuple(
    c.name for c in session_view.columns if c.name not in SETTLED and c.name != "silent_since"
)
_settled = itemgetter(*SETTLED)
_moving = itemgetter(*MOVING)


def _products_key(state: SessionState) -> tuple[Any, ...]:
    """Moves whenever anything the products and segments are derived from does, but the clock:
    orders, pins (names, prices, segments), clicks, joins (a segment's views), the platform's
    reports and the end. The clock moves only the open explanation's seconds (products_now)."""
    return (
        state.orders.revision,
        len(state.pin_marks),
        state.product_clicks,
        state.views,
        state.reported.revision,
        state.ended_at,
    )


def products_now(
    state: SessionState, products_key: tuple[Any, ...]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Explained]:
    """products_and_segments(state), and what they were set from (`explained`: without the
    open explanation's seconds). Every segment and product is worked out when `products_key`
    moves; a run that moved only the clock sets the open explanation's seconds in them (with
    20 explanations, a pinned room's run took 2.4x as long working them all out)."""
    found = state.remembered("products", products_key, explained)
    products, segments = state.remembered(
        "products_now",
        (products_key, state.session_clock),
        lambda _: at_clock(*found, state.session_clock),
    )
    return products, segments, found


def _review_own(
    state: SessionState, products_key: tuple[Any, ...], found: Explained
) -> dict[str, Any]:
    """review_own, remembered, of the products and segments without the open explanation's
    seconds (the read sets them from the session clock, review_of): an incident's downtime
    runs with the clock."""
    key = (
        products_key,
        state.peak_online,
        state.peak_minute,
        state.alerts_changed,
        state.session_clock if state.incidents else None,
    )
    return state.remembered("review", key, lambda _: review_own(state, *found))


def session_writes(state: SessionState, before: dict[str, Any] | None) -> Writes:
    """Everything one run writes for a session. `before`: its session_view row as stored now
    (None for a new session): whose settled columns need not be set again, and which orders
    are stored already."""
    sources = source_figures(state)
    metrics = session_metrics(state, sources)
    products_key = _products_key(state)
    products, segments, found = products_now(state, products_key)
    timeline = build_timeline(state, segments)
    document = session_body(state, metrics, products, timeline)
    totals = state.orders.totals
    row = {
        "session_id": state.session_id,
        "status": state.status,
        "host_id": state.host_id,
        "ops_id": state.ops_id,
        "room_id": state.room_id,
        "platform": state.platform,
        "shop_id": state.shop_id,
        "started_at": state.started_at,
        "ended_at": state.ended_at,
        "clock": state.clock,
        "last_recorded_at": state.last_recorded_at,
        "version": state.version,
        "views": metrics["views"],
        "unique_viewers": metrics["unique_viewers"],
        "online": metrics["online"],
        "peak_online": state.peak_online,
        "interacting_viewers": metrics["interacting_viewers"],
        "new_followers": metrics["new_followers"],
        "clicking_viewers": metrics["clicking_viewers"],
        "orders_placed": totals.placed,
        "orders_paid": totals.paid,
        "buyers": totals.buyers,
        "gmv_fen": totals.gmv_fen,
        "refunds_fen": totals.refunds_fen,
        "ad_spend_fen": ad_spend_fen(state),
        "incidents": metrics["incidents"]["total"],
        "incidents_open": metrics["incidents"]["open"],
    }
    review = _review_own(state, products_key, found)
    row_sets = [
        view_row_set(row, before),
        RowSet(
            session_document, [{"session_id": state.session_id, "body": document}], ("session_id",)
        ),
        RowSet(
            session_source,
            state.remembered(
                "source_rows",
                sources,  # the same object while they do not move
                lambda _: [
                    {"session_id": state.session_id, "source": source, **figures}
                    for source, figures in sources.items()
                ],
            ),
            ("session_id", "source"),
            changed_only=True,  # most runs move none of the nine
        ),
        RowSet(
            session_review,
            [{"session_id": state.session_id, "body": review}],
            ("session_id",),
            changed_only=True,  # moves on orders, pins, alerts and incidents, not interactions
        ),
        RowSet(
            session_timeline,
            [{"session_id": state.session_id, "body": timeline_body(timeline, found)}],
            ("session_id",),
            changed_only=True,  # the markers and segments: they move with incidents and pins
        ),
    ]
    # The minutes this run redrew (projections/timeline.py): most often the last one or two.
    cleared, minutes, minute_rows = redrawn_minutes(state)
    if minutes:
        row_sets.append(
            RowSet(
                session_minute,
                [
                    {"session_id": state.session_id, "minute": minute, "body": row}
                    for minute, row in zip(minutes, minute_rows, strict=True)
                ],
                ("session_id", "minute"),
                # a minute redrawn as it was (a comment the platform already counts) is left
                # out, unless every stored minute is being replaced
                changed_only=not cleared,
            )
        )
    # Orders placed since the stored row was written (all of them for a new or rebuilt row).
    known = (before or {}).get("orders_placed") or 0
    placed_ids = state.orders.placed_ids
    if len(placed_ids) > known:
        row_sets.append(
            RowSet(
                session_order,
                [
                    {"order_id": order_id, "session_id": state.session_id}
                    for order_id in placed_ids[known:]
                ],
                ("order_id",),
            )
        )
    return Writes(
        row_sets=row_sets,
        document=document,
        view_row=row,
        clears=[ClearRows(session_minute, "session_id", state.session_id)] if cleared else [],
    )
