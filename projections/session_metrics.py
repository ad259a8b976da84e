"""What the API and the screens show of a session: the Session metrics of docs/contract.md,
derived from the fold's state (projections/session.py) without touching it."""

from __future__ import annotations

from typing import Any

from events.catalogue import INCIDENT_KINDS, TRAFFIC_SOURCES
from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.clock import US_PER_SECOND, minute_of, ratio
from projections.session import SessionState


def session_metrics(
    state: SessionState, sources: dict[str, dict[str, int]] | None = None
) -> dict[str, Any]:
    """`sources`: source_figures(state), when the caller has it already."""
    unique = sum(state.viewers_by_source.values())
    orders = state.orders.totals
    buyers = orders.buyers
    gmv = orders.gmv_fen
    clicking = len(state.clickers)
    interacting = len(state.interacting)
    watch_seconds = state.watch_us() / US_PER_SECOND
    impressions = None if state.impressions is None else state.impressions[2]
    return {
        "views": state.views,
        "unique_viewers": unique,
        "online": state.online,
        "peak_online": state.peak_online,
        "watch_seconds": watch_seconds,
        "avg_watch_seconds": ratio(watch_seconds, unique),
        "interactions": dict(state.interactions),
        "interacting_viewers": interacting,
        "interaction_rate": ratio(interacting, unique),
        "new_followers": state.interactions["follow"],
        "product_clicks": state.product_clicks,
        "clicking_viewers": clicking,
        "click_rate": ratio(clicking, unique),
        "orders_placed": orders.placed,
        "orders_paid": orders.paid,
        "buyers": buyers,
        "gmv": fen_to_yuan(gmv),
        "refunds": fen_to_yuan(orders.refunds_fen),
        "net_gmv": fen_to_yuan(gmv - orders.refunds_fen),
        "conversion_rate": ratio(buyers, unique),
        "click_to_order_rate": ratio(buyers, clicking),
        "gpm": None if not state.views else gmv / 100 / state.views * 1000,
        "uv_value": ratio(gmv / 100, unique),
        "aov": ratio(gmv / 100, buyers),
        "ad_spend": fen_to_yuan(state.ad_spend_fen),
        "roi": ratio(gmv, state.ad_spend_fen),
        "incidents": incident_summary(state),
        "traffic_sources": traffic_sources(sources or source_figures(state)),
        "impressions": impressions,
        "impression_view_rate": ratio(state.views, impressions or 0),
        "interactions_last_minute": interactions_last_minute(state),
    }


def interactions_last_minute(state: SessionState) -> int:
    """Interactions (sum of count, every kind) in the last complete minute before the session
    clock: the minute that ended at or before it, never the one still running."""
    clock = state.session_clock
    if clock is None:
        return 0
    bucket = state.buckets.get(minute_of(clock) - 1)
    return 0 if bucket is None else bucket.interactions


def incident_summary(state: SessionState) -> dict[str, Any]:
    by_kind = dict.fromkeys(INCIDENT_KINDS, 0)
    total = open_ = 0
    downtime_us = 0
    until = state.session_clock
    for incident in state.incidents.values():
        if not incident.opened:
            continue
        kind, opened_at, resolved_at = incident.kind, incident.opened_at, incident.resolved_at
        assert kind is not None and opened_at is not None
        total += 1
        by_kind[kind] += 1
        if resolved_at is None:
            open_ += 1
        if kind == "stream_interruption":
            end = resolved_at if resolved_at is not None else until
            if end is not None and end > opened_at:
                downtime_us += end - opened_at
    return {
        "total": total,
        "open": open_,
        "by_kind": by_kind,
        "downtime_seconds": downtime_us / US_PER_SECOND,
    }


UNKNOWN_SOURCE = "unknown"  # buyers who never joined


def source_figures(state: SessionState) -> dict[str, dict[str, int]]:
    """Per source, in integers: views (joins from it); viewers, buyers and GMV fen by each
    viewer's first join; a buyer who never joined counts under `unknown`."""
    rows = {
        source: {
            "views": state.views_by_source.get(source, 0),
            "viewers": state.viewers_by_source.get(source, 0),
            "buyers": 0,
            "gmv_fen": 0,
        }
        for source in (*TRAFFIC_SOURCES, UNKNOWN_SOURCE)
    }
    for buyer, spent in state.orders.totals.buyer_gmv_fen.items():
        viewer = state.viewers.get(buyer)
        source = (
            viewer.first[2] if viewer is not None and viewer.first is not None else UNKNOWN_SOURCE
        )
        rows[source]["buyers"] += 1
        rows[source]["gmv_fen"] += spent
    return rows


def traffic_sources(figures: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    return {
        source: {
            "views": row["views"],
            "viewers": row["viewers"],
            "buyers": row["buyers"],
            "gmv": fen_to_yuan(row["gmv_fen"]),
            "conversion_rate": ratio(row["buyers"], row["viewers"]),
        }
        for source, row in figures.items()
    }


def open_incidents(state: SessionState) -> list[dict[str, Any]]:
    return [
        {
            "incident_id": incident_id,
            "kind": i.kind,
            "severity": i.severity,
            "opened_at": i.opened_at,
            "description": i.description,
        }
        for incident_id, i in state.incidents.items()
        if i.opened and i.resolved_at is None
    ]


def _iso(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def session_header(state: SessionState) -> dict[str, Any]:
    """Who, where and when: the head of the session document and of its review."""
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
        "shop_id": state.shop_id,
        "gmv_target": (None if state.gmv_target_fen is None else fen_to_yuan(state.gmv_target_fen)),
        "started_at": _iso(state.started_at),
        "ended_at": _iso(state.ended_at),
        "duration_seconds": duration,
        "last_event_at": _iso(state.clock),
        "version": state.version,
    }
