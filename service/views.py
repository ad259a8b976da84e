"""Shapes shared by the API and the feed."""

from __future__ import annotations

from typing import Any

HEADLINE = ("views", "unique_viewers", "online", "peak_online", "gmv", "net_gmv", "orders_paid",
            "buyers", "conversion_rate", "gpm", "new_followers", "interaction_rate")


def headline(body: dict[str, Any]) -> dict[str, Any]:
    """A session's document cut down to what a list or the console shows."""
    metrics = body["metrics"]
    summary = {k: v for k, v in body.items() if k not in ("metrics", "open_incidents")}
    summary["metrics"] = {key: metrics[key] for key in HEADLINE}
    summary["metrics"]["incidents_open"] = metrics["incidents"]["open"]
    summary["metrics"]["incidents"] = metrics["incidents"]["total"]
    summary["open_incidents"] = body.get("open_incidents", [])
    return summary
