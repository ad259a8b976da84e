"""The post-broadcast review (复盘), as pure functions: the session's own part from its fold
state, and the benchmarks against the host's and the room's earlier sessions from their
metrics (which the service reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from events.fields import format_timestamp
from projections.alerts import alert_now
from projections.clock import US_PER_MINUTE, US_PER_SECOND
from projections.segments import at_clock
from projections.session import SessionState
from projections.session_metrics import HEADER_FIELDS, session_header

BENCHMARKED = (
    "gmv",
    "net_gmv",
    "views",
    "unique_viewers",
    "avg_watch_seconds",
    "interaction_rate",
    "conversion_rate",
    "gpm",
    "uv_value",
    "aov",
    "new_followers",
)
HISTORY = 10  # earlier sessions a median is taken over, most recent first
# The columns of the products and segments tables, in the order exports show them.
PRODUCT_COLUMNS = (
    "product_id",
    "name",
    "price",
    "explanations",
    "explanation_seconds",
    "clicks",
    "clicking_viewers",
    "orders_placed",
    "orders_paid",
    "items_sold",
    "buyers",
    "gmv",
    "refunds",
    "net_gmv",
    "refund_rate",
    "click_to_pay_rate",
)
SEGMENT_COLUMNS = (
    "product_id",
    "name",
    "started_at",
    "ended_at",
    "seconds",
    "views",
    "clicks",
    "orders_paid",
    "gmv",
    "gpm",
)


def median(values: Sequence[float | None]) -> float | None:
    """Median of the values that are not null; of an even count, the mean of the middle two;
    of none, null."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    middle = len(present) // 2
    if len(present) % 2:
        return present[middle]
    return (present[middle - 1] + present[middle]) / 2


def benchmarks(
    metrics: dict[str, Any],
    host_history: Sequence[dict[str, Any]],
    room_history: Sequence[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Per benchmarked metric: this session's value, the medians over the host's and the room's
    earlier sessions' metrics (most recent first, at most HISTORY each), and vs_host =
    value / host_median - 1 (null on a null value or a null or zero median)."""
    result: dict[str, dict[str, Any]] = {}
    for key in BENCHMARKED:
        value = metrics.get(key)
        host = median([m.get(key) for m in host_history[:HISTORY]])
        room = median([m.get(key) for m in room_history[:HISTORY]])
        vs_host = None if value is None or not host else value / host - 1
        result[key] = {
            "value": value,
            "host_median": host,
            "room_median": room,
            "vs_host": vs_host,
            "host_sessions": len(host_history[:HISTORY]),
            "room_sessions": len(room_history[:HISTORY]),
        }
    return result


def funnel(metrics: dict[str, Any]) -> dict[str, Any]:
    """unique viewers -> clicking viewers -> buyers, with each stage's rate, in that order
    always (the same viewers the conversion rate counts)."""
    return {
        "stages": [
            {"stage": "unique_viewers", "value": metrics["unique_viewers"], "rate": None},
            {
                "stage": "clicking_viewers",
                "value": metrics["clicking_viewers"],
                "rate": metrics["click_rate"],
            },
            {"stage": "buyers", "value": metrics["buyers"], "rate": metrics["click_to_order_rate"]},
        ],
        "click_rate": metrics["click_rate"],
        "click_to_order_rate": metrics["click_to_order_rate"],
        "conversion_rate": metrics["conversion_rate"],
    }


def _iso(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def incidents_with_downtime(state: SessionState) -> list[dict[str, Any]]:
    until = state.session_clock
    found = []
    for incident_id, incident in state.incidents.items():
        opened, kind, severity = incident.opened, incident.kind, incident.severity
        opened_at, resolved_at = incident.opened_at, incident.resolved_at
        description = incident.description
        if not opened:
            continue
        downtime = 0.0
        if kind == "stream_interruption":
            end = resolved_at if resolved_at is not None else until
            if end is not None and opened_at is not None and end > opened_at:
                downtime = (end - opened_at) / US_PER_SECOND
        found.append(
            {
                "incident_id": incident_id,
                "kind": kind,
                "severity": severity,
                "description": description,
                "opened_at": _iso(opened_at),
                "resolved_at": _iso(resolved_at),
                "downtime_seconds": downtime,
            }
        )
    found.sort(key=lambda i: (i["opened_at"], i["incident_id"]))
    return found


# What the session_review row holds: the parts of the review the session document lacks. They
# move only on orders, pins, alerts and incidents, so most runs leave the row as it is
# (`changed_only`); the header and metrics come from the document, written in the same run.
# An open explanation's seconds are not in it: the read counts them to the session clock.
OWN_PARTS = ("products", "segments", "peak_online", "alerts", "incidents")


def review_own(
    state: SessionState,
    products: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    explaining_since: int | None = None,
) -> dict[str, Any]:
    """The session_review row's body: every product and segment, the peak, every alert with
    where it stands, and the incidents. `explaining_since`: when the explanation still open
    started, whose seconds (and its product's) `products` and `segments` leave out (segments.
    explained); None when they are all counted."""
    return {
        "products": products,
        "segments": segments,
        "explaining_since": explaining_since,
        "peak_online": {
            "value": state.peak_online,
            "minute": (
                None
                if state.peak_minute is None
                else format_timestamp(state.peak_minute * US_PER_MINUTE)
            ),
        },
        # every alert with where it stands (incidents are listed on their own, and a gap
        # that closed says so on the gap's alert)
        "alerts": [
            alert_now(alert, state.incidents)
            for alert in state.alert_log
            if alert["kind"] not in ("incident_opened", "platform_gap_cleared")
        ],
        "incidents": incidents_with_downtime(state),
    }


def review_of(
    document: dict[str, Any], own: dict[str, Any], clock: int | None = None
) -> dict[str, Any]:
    """Everything of the review that this session's own events decide (benchmarks apart):
    the header and metrics of the session's document, and its session_review row's parts
    (`own`), written together in one run. `clock`: the session's clock as that run left it
    (session_view.clock), to which an open explanation's seconds are counted."""
    metrics = document["metrics"]
    products, segments = at_clock(
        own["products"], own["segments"], own.get("explaining_since"), clock
    )
    return {
        **{name: document[name] for name in HEADER_FIELDS},
        "metrics": metrics,
        "funnel": funnel(metrics),
        **{name: own[name] for name in OWN_PARTS},
        "products": products,
        "segments": segments,
        "traffic_sources": metrics["traffic_sources"],
    }


def session_review(
    state: SessionState,
    metrics: dict[str, Any],
    products: list[dict[str, Any]],
    segments: list[dict[str, Any]],
) -> dict[str, Any]:
    """The review of a folded session straight from its state (tests and tools)."""
    return review_of(
        {**session_header(state), "metrics": metrics}, review_own(state, products, segments)
    )
