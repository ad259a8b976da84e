"""What the API and the screens show of a session: the Session metrics of docs/contract.md,
derived from the fold's state (projections/session.py) without touching it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from events.catalogue import INCIDENT_KINDS, TRAFFIC_SOURCES
from events.fields import format_timestamp
from events.money import fen_to_yuan
from projections.clock import US_PER_SECOND, minute_of, ratio
from projections.reported import INTERACTION_FIGURES, PLATFORM_SALES, figure_source
from projections.session import UNKNOWN_SOURCE, SessionState


def session_metrics(
    state: SessionState, sources: dict[str, dict[str, int]] | None = None
) -> dict[str, Any]:
    """`sources`: source_figures(state), when the caller has it already. Each figure the
    platform reports wins over the one derived from events (projections/reported.py); every
    ratio uses the figures that won."""
    reported = state.reported
    won = state.remembered("reported_figures", reported.revision, ReportedFigures)
    picked = won.values
    # A figure derived from events is worked out only when no report carries it.
    views = picked.get("views", state.views)
    unique = (
        picked["unique_viewers"]
        if "unique_viewers" in picked
        else sum(state.viewers_by_source.values())
    )
    orders = state.orders.totals
    buyers = orders.buyers
    gmv = orders.gmv_fen
    clicking = picked["clicking_viewers"] if "clicking_viewers" in picked else len(state.clickers)
    interacting = (
        picked["interacting_viewers"] if "interacting_viewers" in picked else len(state.interacting)
    )
    watch_seconds = (
        picked["watch_seconds"] if "watch_seconds" in picked else state.watch_us() / US_PER_SECOND
    )
    product_clicks = picked.get("product_clicks", state.product_clicks)
    ad_spend_fen = picked.get("ad_spend_fen", state.ad_spend_fen)
    if "impressions" in picked:
        impressions = picked["impressions"]
    else:
        impressions = None if state.impressions is None else state.impressions[2]
    interactions = dict(state.interactions)
    interactions.update(won.interactions)
    figure_sources = dict(won.sources)  # the shared one, with this run's online
    online_reading = state.latest_online_reading()
    online_stamp = won.online_stamp
    figure_sources["online"] = figure_source(
        online_stamp
        if online_reading is not None
        and online_stamp is not None
        and online_reading[:2] == online_stamp[:2]
        else None,
        _iso(online_reading[0]) if online_reading is not None else None,
    )
    platform = won.platform
    source_rows = won.traffic_sources
    return {
        "views": views,
        "unique_viewers": unique,
        "online": state.online,
        "peak_online": state.peak_online,
        "watch_seconds": watch_seconds,
        "avg_watch_seconds": ratio(watch_seconds, unique),
        "interactions": interactions,
        "interacting_viewers": interacting,
        "interaction_rate": ratio(interacting, unique),
        "new_followers": interactions["follow"],
        "product_clicks": product_clicks,
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
        "gpm": None if not views else gmv / 100 / views * 1000,
        "uv_value": ratio(gmv / 100, unique),
        "aov": ratio(gmv / 100, buyers),
        "ad_spend": fen_to_yuan(ad_spend_fen),
        "roi": ratio(gmv, ad_spend_fen),
        # an open interruption's downtime runs with the clock
        "incidents": state.remembered(
            "incidents",
            (state.alerts_changed, state.session_clock if state.incidents else None),
            incident_summary,
        ),
        "traffic_sources": source_rows
        if source_rows is not None
        else state.remembered(
            "traffic_sources",
            sources_key(state),
            lambda _: traffic_sources(sources or source_figures(state)),
        ),
        "impressions": impressions,
        "impression_view_rate": ratio(views, impressions or 0),
        "interactions_last_minute": interactions_last_minute(state),
        "platform": platform,
        "gmv_gap": None
        if platform is None or platform["gmv"] is None
        else fen_to_yuan(gmv - reported.value("gmv_fen")),
        "platform_gap_alert": bool(reported.gap[1]),
        "figure_sources": figure_sources,
    }


# The figures that may be reported, in figure_sources' order, with the name they are shown by.
PICKED = (
    ("views", "views"),
    ("unique_viewers", "unique_viewers"),
    ("clicking_viewers", "clicking_viewers"),
    ("interacting_viewers", "interacting_viewers"),
    ("watch_seconds", "watch_seconds"),
    ("product_clicks", "product_clicks"),
    ("ad_spend_fen", "ad_spend"),
    ("impressions", "impressions"),
    *((figure, f"interactions.{kind}") for figure, kind in INTERACTION_FIGURES.items()),
)


class ReportedFigures:
    """What the platform's latest reports say, worked out once per report folded (the session's
    runs between two readings share it): the value of each figure a report carries (it wins
    over the one derived from events), where every figure comes from, the platform's sales and
    sources. Only `online` is left to each run: an audience sample may be newer."""

    def __init__(self, state: SessionState) -> None:
        reported = state.reported
        latest = reported.latest
        self.values: dict[str, Any] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        for figure, shown in PICKED:
            stamp = latest.get(figure)
            if stamp is None:
                self.sources[shown] = FROM_EVENTS
            else:
                self.values[figure] = stamp[2]
                self.sources[shown] = _reported_source(stamp[3], stamp[0])
        # reported figure -> the interaction kind it replaces
        self.kinds = {
            figure: kind for figure, kind in INTERACTION_FIGURES.items() if figure in self.values
        }
        self.interactions = {kind: self.values[figure] for figure, kind in self.kinds.items()}
        self.sources["new_followers"] = self.sources["interactions.follow"]
        self.sources["online"] = FROM_EVENTS  # set by each run
        self.sources["traffic_sources"] = figure_source(
            reported.sources, _iso(reported.sources[0]) if reported.sources else None
        )
        self.online_stamp = reported.stamp("online")
        self.platform = platform_sales(state)
        self.traffic_sources = reported_traffic_sources(state)


# A document's figure_sources has seventeen entries, and nearly all are the same few: one
# shared "from events", and one per reading (nothing changes a document once built, so
# sharing is safe).
FROM_EVENTS = figure_source(None, None)


@lru_cache(maxsize=4_096)
def _reported_source(source: str, occurred_at: int) -> dict[str, Any]:
    return figure_source((occurred_at, 0, None, source), _iso(occurred_at))


def ad_spend_fen(state: SessionState) -> int:
    """The reported cumulative spend when a report carries it, else the spend events' sum."""
    reported = state.reported.value("ad_spend_fen")
    return state.ad_spend_fen if reported is None else int(reported)


def platform_sales(state: SessionState) -> dict[str, Any] | None:
    """The platform's own sales, each from the latest report carrying it; None if none do."""
    reported = state.reported
    stamps = [reported.stamp(name) for name in PLATFORM_SALES]
    if not any(stamps):
        return None
    gmv, orders_paid, buyers = (None if s is None else s[2] for s in stamps)
    as_of = max(s[0] for s in stamps if s is not None)
    return {
        "gmv": None if gmv is None else fen_to_yuan(gmv),
        "orders_paid": orders_paid,
        "buyers": buyers,
        "as_of": _iso(as_of),
    }


def reported_traffic_sources(state: SessionState) -> dict[str, dict[str, Any]] | None:
    """The latest reported sources list, as reported (views, viewers, gmv; null where absent;
    buyers and conversion_rate null); None when no report carried sources."""
    latest = state.reported.sources
    if latest is None:
        return None
    return {
        row["source"]: {
            "views": row.get("views"),
            "viewers": row.get("viewers"),
            "buyers": None,
            "gmv": None if row.get("gmv_fen") is None else fen_to_yuan(row["gmv_fen"]),
            "conversion_rate": None,
        }
        for row in latest[2]
    }


def interactions_last_minute(state: SessionState) -> int:
    """Interactions (sum of count, every kind) in the last complete minute before the session
    clock: the minute that ended at or before it, never the one still running."""
    clock = state.session_clock
    if clock is None:
        return 0
    return interactions_in(state, minute_of(clock) - 1, reported_interaction_kinds(state))


def reported_interaction_kinds(state: SessionState) -> dict[str, str]:
    """Reported figure -> the interaction kind it replaces, for the figures reported."""
    return state.remembered("reported_figures", state.reported.revision, ReportedFigures).kinds


def interactions_in(state: SessionState, minute: int, reported: dict[str, str]) -> int:
    bucket = state.buckets.get(minute)
    total = 0 if bucket is None else bucket.interactions
    for figure, kind in reported.items():
        if bucket is not None:
            total -= bucket.kinds.get(kind, 0)
        total += state.reported.minute_values(figure).get(minute, 0)
    return total


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


def sources_key(state: SessionState) -> tuple[int, int]:
    """Moves whenever the sources' figures can: joins (views and each viewer's first source)
    and order events (buyers and their GMV)."""
    return state.views, state.orders.revision


def source_figures(state: SessionState) -> dict[str, dict[str, int]]:
    """Per source, in integers: views (joins from it); viewers, buyers and GMV fen by each
    viewer's first join; a buyer who never joined counts under `unknown`."""
    return state.remembered("source_figures", sources_key(state), _source_figures)


def _source_figures(state: SessionState) -> dict[str, dict[str, int]]:
    buyers = state.buyers_by_source
    rows = {}
    for source in (*TRAFFIC_SOURCES, UNKNOWN_SOURCE):
        bought = buyers.get(source, NONE_BOUGHT)
        rows[source] = {
            "views": state.views_by_source.get(source, 0),
            "viewers": state.viewers_by_source.get(source, 0),
            "buyers": bought[0],
            "gmv_fen": bought[1],
        }
    return rows


NONE_BOUGHT = (0, 0)


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


HEADER_FIELDS = (
    "session_id",
    "status",
    "host_id",
    "ops_id",
    "room_id",
    "platform",
    "title",
    "planned_minutes",
    "shop_id",
    "gmv_target",
    "started_at",
    "ended_at",
    "duration_seconds",
    "last_event_at",
    "version",
)


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
    }  # the keys of HEADER_FIELDS, in its order
