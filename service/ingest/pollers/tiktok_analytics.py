"""TikTok Shop analytics: the shop's LIVE sessions with their performance.

`GET /analytics/202508/shop_lives/performance` (signed as every TikTok Shop API call, the
seller's token in `x-tts-access-token`, the shop's cipher) with start_date_ge and end_date_lt
(dates in the shop's zone: yesterday to tomorrow in UTC covers every zone), page_size 100.
Mapping (the spec's own descriptions): interaction_performance.views → views, viewers →
unique_viewers, comments, shares, likes, new_followers, product_clicks;
avg_viewing_duration ("total viewing time divided by number of views", seconds) times views →
watch_seconds; sales_performance.gmv.amount → gmv, sku_orders ("paid orders") → orders_paid,
customers → buyers. A LIVE with no end_time is on air. There is no current online count here
(acu and pcu are an average and a peak).

After a LIVE ended, `GET /analytics/202510/shop_lives/{live_id}/performance_per_minutes`
(page_token; no page size) gives `data.performance.intervals[]`, each minute's own figures
from its `start_time` (unix seconds, UTC): the additive counts traffic.views,
traffic.product_clicks, interactions.comments, likes, shares and new_followers are read
(pollers/minutes.py makes them cumulative readings). Sources in docs/connectors.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from service.ingest.connections.store import Connection
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.tiktok_shop import TikTokShopApi
from service.ingest.pollers.base import MinuteFigures, RoomReading, count, kept, yuan

PATH = "/analytics/202508/shop_lives/performance"
MINUTES_PATH = "/analytics/202510/shop_lives/{live_id}/performance_per_minutes"
MAX_PAGES = 20
MAX_MINUTE_PAGES = 100
LIVE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")  # it goes into the signed path
# A minute's own figures -> the reading's figure: the additive counts only (an interval's
# viewers and customers are its distinct people, which do not add up across minutes).
MINUTE_COUNTS = {
    ("traffic", "views"): "views",
    ("traffic", "product_clicks"): "product_clicks",
    ("interactions", "comments"): "comments",
    ("interactions", "likes"): "likes",
    ("interactions", "shares"): "shares",
    ("interactions", "new_followers"): "new_followers",
}
COUNTS = {
    "views": "views",
    "viewers": "unique_viewers",
    "comments": "comments",
    "shares": "shares",
    "likes": "likes",
    "new_followers": "new_followers",
    "product_clicks": "product_clicks",
}


@dataclass
class TikTokLives:
    api: TikTokShopApi
    source: str = "tiktok_shop_analytics"
    platform: str = "tiktok"
    minute_source: str = "tiktok_shop_minutes"

    def minutes(self, connection: Connection, room_id: str) -> list[MinuteFigures]:
        """The LIVE's per-minute figures, every page; [] while the platform has none."""
        token = connection.secrets.get("access_token")
        if not token:
            raise PlatformApiError(f"connection {connection.connection_id} has no access_token")
        if not LIVE_ID.match(room_id):
            raise PlatformApiError(f"LIVE id {room_id[:80]!r} cannot go into a path")
        path = MINUTES_PATH.format(live_id=room_id)
        found: list[MinuteFigures] = []
        seen: set[str] = set()
        page_token: str | None = None
        for _ in range(MAX_MINUTE_PAGES):
            query = {"page_token": page_token} if page_token else {}
            data = self.api.call(
                "GET", path, query, None, token, connection.secrets.get("shop_cipher")
            )
            performance = data.get("performance") or {}
            intervals = performance.get("intervals") if isinstance(performance, dict) else None
            page = [minute_figures(i) for i in intervals or [] if isinstance(i, dict)]
            found += [m for m in page if m is not None]
            page_token = data.get("next_page_token") or None
            if not page_token or not page:
                return sorted(found, key=lambda m: m.start_us)
            if page_token in seen:
                raise PlatformApiError(f"{MINUTES_PATH} repeated a page_token")
            seen.add(page_token)
        raise PlatformApiError(f"{MINUTES_PATH} has more than {MAX_MINUTE_PAGES} pages")

    def rooms(self, connection: Connection, now_us: int) -> list[RoomReading]:
        token = connection.secrets.get("access_token")
        if not token:
            raise PlatformApiError(f"connection {connection.connection_id} has no access_token")
        today = datetime.fromtimestamp(now_us / 1e6, UTC).date()
        params = {
            "start_date_ge": (today - timedelta(days=1)).isoformat(),
            "end_date_lt": (today + timedelta(days=2)).isoformat(),
            "page_size": "100",
        }
        found: list[RoomReading] = []
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, **({"page_token": page_token} if page_token else {})}
            data = self.api.call(
                "GET", PATH, query, None, token, connection.secrets.get("shop_cipher")
            )
            found += [live_reading(live) for live in data.get("live_stream_sessions") or []]
            page_token = data.get("next_page_token") or None
            if not page_token:
                break
        return found


def live_reading(live: dict[str, Any]) -> RoomReading:
    """One LIVE of the list (pure)."""
    interaction = live.get("interaction_performance") or {}
    sales = live.get("sales_performance") or {}
    figures: dict[str, Any] = {name: count(interaction.get(key)) for key, name in COUNTS.items()}
    views = figures.get("views")
    figures["watch_seconds"] = _watch_seconds(interaction.get("avg_viewing_duration"), views)
    gmv = sales.get("gmv") or {}
    figures["gmv"] = yuan(gmv.get("amount")) if isinstance(gmv, dict) else None
    figures["orders_paid"] = count(sales.get("sku_orders"))
    figures["buyers"] = count(sales.get("customers"))
    end = _unix(live.get("end_time"))
    return RoomReading(
        room_id=str(live["id"]),
        live=end is None,
        account=str(live["username"]) if live.get("username") else None,
        started_at_us=_unix(live.get("start_time")),
        ended_at_us=end,
        title=str(live["title"])[:500] if live.get("title") else None,
        figures=kept(figures),
    )


def minute_figures(interval: dict[str, Any]) -> MinuteFigures | None:
    """One interval of the per-minute report (pure); None without a readable start_time."""
    start = _unix(interval.get("start_time"))
    if start is None:
        return None
    changes: dict[str, int | None] = {}
    for (group, key), name in MINUTE_COUNTS.items():
        part = interval.get(group)
        changes[name] = count(part.get(key)) if isinstance(part, dict) else None
    return MinuteFigures(start, changes)


def _watch_seconds(average: Any, views: int | None) -> int | None:
    if views is None or not isinstance(average, str | int | float) or isinstance(average, bool):
        return None
    try:
        total = Decimal(str(average)) * views
    except InvalidOperation:
        return None
    return count(int(total.to_integral_value())) if total.is_finite() else None


def _unix(value: Any) -> int | None:
    seconds = count(value)
    return None if not seconds else seconds * 1_000_000
