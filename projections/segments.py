"""Explanation segments (讲解) and per-product figures, derived from the session's state.

A segment starts at a product.pinned and ends at the next product.pinned (of any product, the
same one included), at a product.unpinned of its product, or at session.ended; an unpin with no
open segment of its product is ignored, and so are marks after the session ended. While the
session is live an open segment runs to the session clock (`ended_at: null`) and takes in every
event from its start on. Window figures count events with start <= occurred_at < end.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, NamedTuple

from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.clock import US_PER_SECOND, minute_of, ratio
from projections.session import PIN, SessionState


class Segment(NamedTuple):  # a tuple: built for every pin on every change, and a memo key
    product_id: str
    started_at: int
    ended_at: int | None  # None: open while the session is live


def explanation_segments(state: SessionState) -> list[Segment]:
    found: list[Segment] = []
    current: tuple[str, int] | None = None  # (product_id, started_at)
    ended = state.ended_at
    for at, _version, kind, product_id in state.pin_marks:
        if ended is not None and at > ended:
            break
        if kind == PIN:
            if current is not None:
                found.append(Segment(current[0], current[1], at))
            current = (product_id, at)
        elif current is not None and current[0] == product_id:
            found.append(Segment(current[0], current[1], at))
            current = None
    if current is not None:
        found.append(Segment(current[0], current[1], ended))
    return found


def _count_between(times: list[int], start: int, end: int | None) -> int:
    high = len(times) if end is None else bisect_left(times, end)
    return max(0, high - bisect_left(times, start))


def explanation_seconds(started_at: int, until: int | None) -> float:
    """An explanation's seconds, from its start to `until`: its end, or the session clock while
    it is open."""
    return max(0, (until or started_at) - started_at) / US_PER_SECOND


def segment_figures(state: SessionState, segment: Segment) -> dict[str, Any]:
    until = segment.ended_at if segment.ended_at is not None else state.session_clock
    seconds = explanation_seconds(segment.started_at, until)
    views = _count_between(state.join_times, segment.started_at, segment.ended_at)
    product = state.products.get(segment.product_id)
    clicks = (
        0
        if product is None
        else _count_between(product.click_times, segment.started_at, segment.ended_at)
    )
    paid = [
        order
        for order in state.orders.placed_between(
            segment.product_id, segment.started_at, segment.ended_at
        )
        if order.counts
    ]
    gmv_fen = sum(order.gmv_fen for order in paid)
    return {
        "product_id": segment.product_id,
        "name": None if product is None else product.name,
        "started_at": format_timestamp(segment.started_at),
        "ended_at": None if segment.ended_at is None else format_timestamp(segment.ended_at),
        "seconds": seconds,
        "views": views,
        "clicks": clicks,
        "orders_paid": len(paid),
        "gmv": fen_to_yuan(gmv_fen),
        "gpm": None if not views else gmv_fen / 100 / views * 1000,
    }


def product_figures(state: SessionState, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every product seen in a pin, click or order, ranked by GMV, then explanations (both
    highest first), then product_id."""
    seconds: dict[str, float] = {}
    for segment in segments:
        seconds[segment["product_id"]] = seconds.get(segment["product_id"], 0) + segment["seconds"]
    by_product = state.orders.totals.by_product
    ranked: list[tuple[tuple[int, int, str], dict[str, Any]]] = []
    for product_id, product in state.products.items():
        totals = by_product.get(product_id)
        gmv = totals.gmv_fen if totals else 0
        refunds = totals.refunds_fen if totals else 0
        buyers = len(totals.buyer_orders) if totals else 0
        # A product the platform reports: its latest reported figures replace the events'.
        reported = state.reported.products.get(product_id, {})
        clicks = reported["clicks"][2] if "clicks" in reported else product.clicks
        clicking = (
            reported["clicking_viewers"][2]
            if "clicking_viewers" in reported
            else len(product.clickers)
        )
        impressions = reported["impressions"][2] if "impressions" in reported else None
        ranked.append(
            (
                (-gmv, -product.explanations, product_id),
                {
                    "product_id": product_id,
                    "name": product.name,
                    "price": None if product.price_fen is None else fen_to_yuan(product.price_fen),
                    "explanations": product.explanations,
                    "explanation_seconds": seconds.get(product_id, 0),
                    "impressions": impressions,
                    "clicks": clicks,
                    "clicking_viewers": clicking,
                    "orders_placed": totals.placed if totals else 0,
                    "orders_paid": totals.paid if totals else 0,
                    "items_sold": totals.items if totals else 0,
                    "buyers": buyers,
                    "gmv": fen_to_yuan(gmv),
                    "refunds": fen_to_yuan(refunds),
                    "net_gmv": fen_to_yuan(gmv - refunds),
                    "refund_rate": ratio(refunds, gmv),
                    "click_to_pay_rate": ratio(buyers, clicking),
                },
            )
        )
    ranked.sort(key=lambda pair: pair[0])
    return [row for _, row in ranked]


def products_and_segments(state: SessionState) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    segments = [segment_figures(state, s) for s in explanation_segments(state)]
    return product_figures(state, segments), segments


def _explanations(state: SessionState) -> list[Segment]:
    """explanation_segments, kept until a pin or the end moves them."""
    return state.remembered(
        "explanations", (len(state.pin_marks), state.ended_at), explanation_segments
    )


def _segments_remembered(state: SessionState) -> list[dict[str, Any]]:
    """[segment_figures(state, s) for s in explanation_segments(state)], each closed segment's
    taken from the last time it was worked out while what it counts stands as it did: the
    joins and clicks in its window, its product's name and price, and its product's orders
    placed in the minutes of its window. With 60 explanations, every order event of a pinned
    room worked out all 60, each summing the orders in its window; an order now moves only
    the segments of its product around it, and a product none of whose inputs moved has its
    segments taken as they were without a look at their windows."""
    segments = _explanations(state)
    memo: dict[Segment, tuple[Any, Any, dict[str, Any]]]
    memo = state.derived.get("segment_figures", (None, {}))[1]
    kept: dict[Segment, tuple[Any, Any, dict[str, Any]]] = {}
    orders = state.orders
    joins = len(state.join_times)
    products: dict[str, Any] = {}  # product_id -> what its segments count, as a whole
    found = []
    for segment in segments:
        if segment.ended_at is None:  # open: its seconds run with the clock
            found.append(segment_figures(state, segment))
            continue
        product_id = segment.product_id
        product = state.products.get(product_id)
        whole = products.get(product_id)
        if whole is None:
            whole = products[product_id] = (
                joins,
                orders.product_revisions.get(product_id, 0),
                None if product is None else (product.name, len(product.click_times)),
            )
        entry = memo.get(segment)
        if entry is None:
            # First seen (a start, or a first run after a restart, works out every segment):
            # the window's own inputs are looked at once its product's move (None: not yet).
            entry = (whole, None, segment_figures(state, segment))
        if entry[0] == whole:
            kept[segment] = entry
            found.append(entry[2])
            continue
        window = (
            _count_between(state.join_times, segment.started_at, segment.ended_at),
            None
            if product is None
            else _count_between(product.click_times, segment.started_at, segment.ended_at),
            tuple(
                orders.placed_revisions.get((product_id, minute), 0)
                for minute in range(
                    minute_of(segment.started_at), minute_of(segment.ended_at - 1) + 1
                )
            ),
            None if product is None else product.name,
        )
        figures = entry[2] if entry[1] == window else segment_figures(state, segment)
        kept[segment] = (whole, window, figures)
        found.append(figures)
    state.derived["segment_figures"] = (None, kept)
    return found


class Explained(NamedTuple):
    """Products and segments without the clock (`explained`)."""

    products: list[dict[str, Any]]
    segments: list[dict[str, Any]]  # the open one's seconds None
    explaining_since: int | None  # when the open explanation started (None: none open)


def explained(state: SessionState) -> Explained:
    """products_and_segments without the clock: the open explanation's seconds (the last
    segment's, while live) left out (None), its product's counting only its explanations before
    it; and when the open one started (None: none open). Nothing else in them moves with the
    clock, so a run whose orders, pins, clicks, joins and reports did not move takes them as
    they were and sets those seconds (at_clock), instead of working out every segment again;
    and the review row, written without them, moves only when the rest does."""
    segments = _segments_remembered(state)
    if not segments or segments[-1]["ended_at"] is not None:
        return Explained(product_figures(state, segments), segments, None)
    closed, open_ = segments[:-1], segments[-1]
    # Its product's seconds are summed over the segments in order (product_figures): the open
    # one counted as 0 leaves the sum of those before it, the same float at_clock adds to.
    products = product_figures(state, [*closed, {**open_, "seconds": 0}])
    since = _explanations(state)[-1].started_at
    return Explained(products, [*closed, {**open_, "seconds": None}], since)


def at_clock(
    products: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    since: int | None,
    until: int | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`explained`'s products and segments (or the review row's) with the explanation open
    since `since` (None: none) counted up to `until`, the session clock: equal to
    products_and_segments of the state at that clock."""
    if since is None:
        return products, segments
    segments = segments_at_clock(segments, since, until)
    seconds, product_id = segments[-1]["seconds"], segments[-1]["product_id"]
    return [
        {**p, "explanation_seconds": p["explanation_seconds"] + seconds}
        if p["product_id"] == product_id
        else p
        for p in products
    ], segments


def segments_at_clock(
    segments: list[dict[str, Any]], since: int | None, until: int | None
) -> list[dict[str, Any]]:
    """at_clock's segments alone (the timeline's)."""
    if since is None:
        return segments
    return [*segments[:-1], {**segments[-1], "seconds": explanation_seconds(since, until)}]
