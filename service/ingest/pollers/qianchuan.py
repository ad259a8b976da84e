"""巨量千川 today-live room list: each room of a connected advertiser's Douyin accounts, with
the room's own cumulative counts.

`GET {host}/open_api/v1.0/qianchuan/today_live/room/get/` with advertiser_id, aweme_id,
date_time (开播日期, the platform's day: Asia/Shanghai), fields (a JSON list), room_status ALL,
page, page_size (≤100), header `Access-Token`. Mapping (official SDK field comments):
total_live_watch_cnt → views (观看人次), live_click_product_count_alias → product_clicks,
total_live_comment_cnt → comments, total_live_share_cnt → shares, total_live_gift_cnt →
gifts, total_live_follow_cnt → new_followers, total_live_fans_club_join_cnt →
fan_club_joins, live_pay_order_gmv_alias → gmv (整体成交金额), live_pay_order_count_alias →
orders_paid, stat_cost → ad_spend. The list has no online, UV, likes or watch time (the
platform does not give them here). Sources in docs/connectors.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from service.ingest.connections.store import Connection
from service.ingest.platform_apis.http import PlatformApiError, call_json, new_client
from service.ingest.platform_apis.qianchuan import API_URL
from service.ingest.pollers.base import RoomReading, count, kept, yuan

PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")  # the platform's own day and times
PATH = "/open_api/v1.0/qianchuan/today_live/room/get/"
PAGE_SIZE = 100
MAX_PAGES = 20
FIELDS = (
    "total_live_watch_cnt",
    "live_click_product_count_alias",
    "total_live_comment_cnt",
    "total_live_share_cnt",
    "total_live_gift_cnt",
    "total_live_follow_cnt",
    "total_live_fans_club_join_cnt",
    "live_pay_order_gmv_alias",
    "live_pay_order_count_alias",
    "stat_cost",
)
COUNTS = {
    "total_live_watch_cnt": "views",
    "live_click_product_count_alias": "product_clicks",
    "total_live_comment_cnt": "comments",
    "total_live_share_cnt": "shares",
    "total_live_gift_cnt": "gifts",
    "total_live_follow_cnt": "new_followers",
    "total_live_fans_club_join_cnt": "fan_club_joins",
    "live_pay_order_count_alias": "orders_paid",
}
MONEY = {"live_pay_order_gmv_alias": "gmv", "stat_cost": "ad_spend"}


@dataclass
class QianchuanRooms:
    base_url: str = API_URL
    client: httpx.Client = field(default_factory=new_client)
    source: str = "qianchuan"
    platform: str = "douyin"

    def rooms(self, connection: Connection, now_us: int) -> list[RoomReading]:
        token = connection.secrets.get("access_token")
        if not token:
            raise PlatformApiError(f"connection {connection.connection_id} has no access_token")
        awemes = [a for a in (connection.secrets.get("aweme_ids") or "").split(",") if a]
        if not awemes:
            raise PlatformApiError(
                f"connection {connection.connection_id} names no Douyin account (aweme_ids)"
            )
        day = datetime.fromtimestamp(now_us / 1e6, PLATFORM_ZONE).strftime("%Y-%m-%d")
        found: list[RoomReading] = []
        for aweme in awemes:
            for page in range(1, MAX_PAGES + 1):
                data = self._page(connection.account_id, aweme, day, page, token)
                found += [room_reading(room, aweme) for room in data.get("room_list") or []]
                info = data.get("page_info") or {}
                if page >= int(info.get("total_page") or 1):
                    break
        return found

    def _page(self, advertiser: str, aweme: str, day: str, page: int, token: str) -> dict[str, Any]:
        answer = call_json(
            self.client,
            "GET",
            f"{self.base_url}{PATH}",
            params={
                "advertiser_id": advertiser,
                "aweme_id": aweme,
                "date_time": day,
                "fields": json.dumps(list(FIELDS)),
                "room_status": "ALL",
                "page": str(page),
                "page_size": str(PAGE_SIZE),
            },
            headers={"Access-Token": token},
        )
        code = answer.get("code")
        if code != 0 or not isinstance(answer.get("data"), dict):
            message = str(answer.get("message"))[:200]
            raise PlatformApiError(
                f"today_live/room/get answered {code}: {message}",
                rate_limited=code == 40100,
                auth=isinstance(code, int) and 40101 <= code <= 40105,
            )
        data: dict[str, Any] = answer["data"]
        return data


def room_reading(room: dict[str, Any], aweme: str) -> RoomReading:
    """One room of the list (pure: the recorded answers go through here in tests)."""
    figures: dict[str, Any] = {name: count(room.get(key)) for key, name in COUNTS.items()}
    figures.update({name: yuan(room.get(key)) for key, name in MONEY.items()})
    status = room.get("room_status")
    return RoomReading(
        room_id=str(room["room_id"]),
        live=status in ("LIVING", "PAUSE"),
        account=aweme,
        started_at_us=_platform_time(room.get("start_time")),
        ended_at_us=_platform_time(room.get("end_time")) if status == "FINISH" else None,
        title=str(room["room_title"])[:500] if room.get("room_title") else None,
        figures=kept(figures),
    )


def _platform_time(value: Any) -> int | None:
    """'2026-12-06 20:00:00' in the platform's zone (Beijing) -> µs since the epoch."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=PLATFORM_ZONE)
    except ValueError:
        return None
    return int(moment.timestamp() * 1_000_000)
