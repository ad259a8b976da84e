"""The ad spend of a TikTok Shop's LIVE rooms, from the TikTok API for Business GMV Max report
of each advertiser account connected for that shop (`tiktok_business:<advertiser id>` with the
shop's id in `shop_id`).

Two reads per account (docs/connectors.md, "GMV Max spend"):
1. Campaign level: dimensions ["campaign_id"], filtering {gmv_max_promotion_types: ["LIVE"],
   campaign_statuses: every status the spec lists, deleted ones included}, metrics ["cost"]:
   the shop's LIVE GMV Max campaigns.
2. Livestream level: dimensions ["room_id"], filtering {campaign_ids: up to 100 at a time}
   (the filter this level requires), metrics ["cost"]: each LIVE room's cost, summed across
   those campaigns.
Both over start_date = the UTC day before the earliest room's start to end_date = the UTC day
after today (the dates are the ad account's zone, which livetally does not know: this window
holds every zone's days of the broadcast), with no time dimension, so a room's cost is its
whole cost. A room is matched by the report's `room_id` being the TikTok Shop LIVE's `id`; a
room the report does not name gets no spend (never a guessed 0). Costs are decimal strings,
summed exactly and rounded half up to the fen once, at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from service.ingest.connections.store import Connection
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.tiktok_business import TikTokBusinessApi
from service.ingest.pollers.base import RoomReading, amount

PAGE_SIZE = 1000  # the report's page_size: 1-1,000
MAX_PAGES = 50
CAMPAIGN_BATCH = 100  # campaign_ids: at most 100
# Every campaign status the SDK's spec lists (the default leaves deleted campaigns out, and a
# campaign deleted after the broadcast still spent during it).
CAMPAIGN_STATUSES = ["STATUS_DELIVERY_OK", "STATUS_DISABLE", "STATUS_DELETE", "STATUS_NOT_DELIVERY"]


@dataclass
class GmvMaxSpend:
    apis: Callable[[Connection], TikTokBusinessApi]
    platform: str = "tiktok_business"

    def spend(
        self, account: Connection, shop: Connection, rooms: list[RoomReading], now_us: int
    ) -> dict[str, Decimal]:
        token = account.secrets.get("access_token")
        if not token:
            raise PlatformApiError(f"connection {account.connection_id} has no access_token")
        api = self.apis(account)
        start, end = report_window(rooms, now_us)

        def pages(dimensions: list[str], filtering: dict[str, Any]) -> Iterator[dict[str, Any]]:
            for page in range(1, MAX_PAGES + 1):
                data = api.report(
                    token,
                    account.account_id,
                    shop.account_id,
                    dimensions,
                    ["cost"],
                    start,
                    end,
                    filtering,
                    page,
                    PAGE_SIZE,
                )
                yield from (row for row in data.get("list") or [] if isinstance(row, dict))
                info = data.get("page_info") or {}
                total = info.get("total_page") if isinstance(info, dict) else None
                if not isinstance(total, int) or page >= total:
                    return
            raise PlatformApiError(f"the GMV Max report has more than {MAX_PAGES} pages")

        campaigns = sorted(
            {
                str(found)
                for row in pages(
                    ["campaign_id"],
                    {"gmv_max_promotion_types": ["LIVE"], "campaign_statuses": CAMPAIGN_STATUSES},
                )
                if (found := (row.get("dimensions") or {}).get("campaign_id"))
            }
        )
        wanted = {r.room_id for r in rooms}
        costs: dict[str, Decimal] = {}
        unreadable: set[str] = set()
        for i in range(0, len(campaigns), CAMPAIGN_BATCH):
            batch = campaigns[i : i + CAMPAIGN_BATCH]
            for row in pages(["room_id"], {"campaign_ids": batch}):
                room = str((row.get("dimensions") or {}).get("room_id") or "")
                if room not in wanted:
                    continue
                cost = amount((row.get("metrics") or {}).get("cost"))
                if cost is None:
                    unreadable.add(room)  # one unreadable part: the room's sum is unknown
                else:
                    costs[room] = costs.get(room, Decimal(0)) + cost
        return {room: cost for room, cost in costs.items() if room not in unreadable}


def report_window(rooms: list[RoomReading], now_us: int) -> tuple[str, str]:
    """start_date, end_date (closed, YYYY-MM-DD) holding every day of the rooms' broadcasts in
    any zone: the UTC day before the earliest start, to the UTC day after now."""
    starts = [r.started_at_us for r in rooms if r.started_at_us is not None] or [now_us]
    first = datetime.fromtimestamp(min(starts) / 1e6, UTC).date() - timedelta(days=1)
    last = datetime.fromtimestamp(now_us / 1e6, UTC).date() + timedelta(days=1)
    first = max(first, last - timedelta(days=364))  # the report allows up to 365 days
    return first.isoformat(), last.isoformat()
