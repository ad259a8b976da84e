"""WeChat Channels (视频号) live dashboard (直播大屏数据) of a connected shop's account.

`POST /channels/livedashboard/getlivelist?access_token=` with {"ds": yyyyMMdd} (the platform's
day, Asia/Shanghai) lists the day's e-commerce lives (export_id, create_time);
`POST /channels/livedashboard/getlivedata` with {"export_id"} reads one. Its parts may come as
JSON strings (the SDKs disagree): both are read. A live is on air while
`live_comparison_index.on_air` is given ("在播时, 字段 ended 为空; 关播后, 字段 on_air 为空").
Mapping: live_ec_data_summary.online_audience_count → online, cumulative_audience_count →
unique_viewers, total_clk_pv → product_clicks, total_clk_uv → clicking_viewers,
new_comment_count → comments, new_follow_count → new_followers, new_fans_club_count →
fan_club_joins, total_gmv (fen) → gmv, total_pay_pv → orders_paid, total_pay_uv → buyers;
average_watch_seconds_per_audience times unique viewers → watch_seconds; per product
(single_live_ec_spu_data_page_v2.spu_data_list): exp_pv → impressions, clk_pv → clicks,
clk_uv → clicking_viewers, keyed by spu_id. Sources in docs/connectors.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from events.fields import IDENTIFIER_RE
from service.ingest.connections.store import Connection
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.wechat_shop import WeChatShopApi
from service.ingest.pollers.base import RoomReading, count, fen_as_yuan, kept

PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")
LIST_PATH = "/channels/livedashboard/getlivelist"
DATA_PATH = "/channels/livedashboard/getlivedata"
RECENT_SECONDS = 12 * 3600  # a live created longer ago than this and ended is not re-read
SUMMARY = {
    "online_audience_count": "online",
    "cumulative_audience_count": "unique_viewers",
    "total_clk_pv": "product_clicks",
    "total_clk_uv": "clicking_viewers",
    "new_comment_count": "comments",
    "new_follow_count": "new_followers",
    "new_fans_club_count": "fan_club_joins",
    "total_pay_pv": "orders_paid",
    "total_pay_uv": "buyers",
}


@dataclass
class ChannelsLive:
    api: WeChatShopApi
    token_of: Callable[[Connection], str]
    source: str = "channels_live"
    platform: str = "channels"

    def rooms(self, connection: Connection, now_us: int) -> list[RoomReading]:
        token = self.token_of(connection)
        day = datetime.fromtimestamp(now_us / 1e6, PLATFORM_ZONE).strftime("%Y%m%d")
        listed = self.api.call(LIST_PATH, {"ds": int(day)}, token)
        found = []
        for item in listed.get("live_items") or []:
            export_id = item.get("export_id")
            if not isinstance(export_id, str) or not export_id:
                continue
            created = count(item.get("create_time"))
            data = self.api.call(DATA_PATH, {"export_id": export_id}, token)
            reading = live_reading(export_id, data, connection.account_id)
            if reading.live or created is None or now_us / 1e6 - created < RECENT_SECONDS:
                found.append(reading)
        return found


def _part(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if isinstance(value, str) and value:
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise PlatformApiError(f"getlivedata {name} is neither an object nor JSON") from None
    return value if isinstance(value, dict) else {}


def live_reading(export_id: str, data: dict[str, Any], account: str) -> RoomReading:
    """One live's dashboard (pure)."""
    summary = _part(data, "live_ec_data_summary")
    dashboard = _part(data, "live_dashboard_data")
    comparison = _part(data, "live_comparison_index")
    figures: dict[str, Any] = {name: count(summary.get(key)) for key, name in SUMMARY.items()}
    figures["gmv"] = fen_as_yuan(summary.get("total_gmv"))
    average = count(summary.get("average_watch_seconds_per_audience"))
    unique = figures.get("unique_viewers")
    figures["watch_seconds"] = None if average is None or unique is None else average * unique
    products = []
    for spu in (_part(data, "single_live_ec_spu_data_page_v2").get("spu_data_list") or [])[:1000]:
        base = spu.get("base_data") if isinstance(spu, dict) else None
        spu_id = str((base or {}).get("spu_id") or "")
        if not IDENTIFIER_RE.match(spu_id):
            continue
        item = kept(
            {
                "product_id": spu_id,
                "impressions": count(spu.get("exp_pv")),
                "clicks": count(spu.get("clk_pv")),
                "clicking_viewers": count(spu.get("clk_uv")),
            }
        )
        if len(item) > 1:
            products.append(item)
    if products:
        figures["products"] = products
    start = count(dashboard.get("start_time"))
    duration = count(dashboard.get("live_duration"))
    live = bool(comparison.get("on_air")) or (not comparison and duration is None)
    return RoomReading(
        room_id=export_id[:128],
        live=live,
        account=account,
        started_at_us=None if not start else start * 1_000_000,
        ended_at_us=None
        if live or not start or duration is None
        else (start + duration) * 1_000_000,
        figures=kept(figures),
    )
