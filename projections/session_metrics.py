"""What the API and the screens show of a session: DESIGN.md's Session metrics, derived from the
fold's state (projections/session.py) without touching it."""

from __future__ import annotations

from typing import Any

from events.catalogue import INCIDENT_KINDS, TRAFFIC_SOURCES
from events.money import fen_to_yuan
from projections.clock import US_PER_SECOND, ratio
from projections.session import SessionState


def session_metrics(state: SessionState) -> dict[str, Any]:
    unique = sum(state.viewers_by_source.values())
    orders = state.orders.totals
    buyers = orders.buyers
    gmv = orders.gmv_fen
    clicking = len(state.clickers)
    interacting = len(state.interacting)
    watch_seconds = state.watch_us() / US_PER_SECOND
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
        "traffic_sources": traffic_sources(state),
    }


def incident_summary(state: SessionState) -> dict[str, Any]:
    by_kind = dict.fromkeys(INCIDENT_KINDS, 0)
    total = open_ = 0
    downtime_us = 0
    until = state.session_clock
    for opened, kind, _severity, opened_at, resolved_at, _ in state.incidents.values():
        if not opened:
            continue
        total += 1
        by_kind[kind] += 1
        if resolved_at is None:
            open_ += 1
        if kind == "stream_interruption":
            end = resolved_at if resolved_at is not None else until
            if end is not None and end > opened_at:
                downtime_us += end - opened_at
    return {"total": total, "open": open_, "by_kind": by_kind,
            "downtime_seconds": downtime_us / US_PER_SECOND}


def traffic_sources(state: SessionState) -> dict[str, dict[str, int]]:
    buyers = dict.fromkeys(TRAFFIC_SOURCES, 0)
    for buyer in state.orders.buyer_ids():
        viewer = state.viewers.get(buyer)
        if viewer is not None and viewer.first is not None:
            buyers[viewer.first[2]] += 1
    return {
        source: {"views": state.views_by_source[source],
                 "viewers": state.viewers_by_source[source], "buyers": buyers[source]}
        for source in TRAFFIC_SOURCES
    }


def open_incidents(state: SessionState) -> list[dict[str, Any]]:
    return [
        {"incident_id": incident_id, "kind": kind, "severity": severity, "opened_at": opened_at,
         "description": description}
        for incident_id, (opened, kind, severity, opened_at, resolved_at, description)
        in state.incidents.items()
        if opened and resolved_at is None
    ]
