"""The review (复盘) in a reader's words, shared by `livetally review` (review_tables.py) and the
review workbook (exports.py): each key's label and the kind of its value.

Every key shows under the pages' label (service/pages/labels.py, Chinese by default, English
with lang "en"); the few figures no page shows have their labels here. Every value has a kind
that decides how it reads: money as ¥1,234.50, rates as 12.34%, counts with thousands
separators, durations as h:mm:ss, times in the studio's zone with the zone named.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.pages.labels import labels_for

DEFAULT_ZONE = "Asia/Shanghai"
NONE = "–"  # the pages' sign for "no value"

# Figures the review shows that no page labels (the pages show fewer of them).
EXTRA: dict[str, dict[str, str]] = {
    "zh": {
        "summary": "概要",
        "time_zone": "时区",
        "product_id": "商品编号",
        "segment": "序号",
        "incident_id": "事故编号",
        "orders_placed": "下单数",
        "watch_seconds": "观看总时长(秒)",
        "avg_watch_seconds": "平均观看时长(秒)",
        "interacting_viewers": "互动人数",
        "product_clicks": "商品点击",
        "click_rate": "点击率",
        "click_to_order_rate": "点击购买率",
        "ad_spend": "广告消耗",
        "impressions": "曝光",
        "impression_view_rate": "曝光进入率",
        "incidents_open": "未解决事故",
        "platform_orders": "平台订单",
        "platform_buyers": "平台购买人数",
        "platform_as_of": "平台数据时间",
        "peak_minute": "在线峰值出现于",
        "host_sessions": "主播场次",
        "room_sessions": "直播间场次",
        "joins": "进入",
        "leaves": "离开",
        "interactions": "互动",
        "incidents": "事故数",
        "from": "骤降前",
        "to": "骤降后",
        "not_resolved": "未解决",
        "times_in": "时间为 {zone} 当地时间",
        "medians_over": "中位数取自主播最近 {host} 场、直播间最近 {room} 场已结束的直播",
        "sales": "销售",
        "refunds_part": "退款",
        "clicks_part": "点击与转化",
        "explaining_part": "讲解",
        "times_part": "时间",
        "figures_part": "数据",
        "money_part": "成交",
        "events": "事故与告警",
    },
    "en": {
        "summary": "Summary",
        "time_zone": "Time zone",
        "product_id": "Product id",
        "segment": "#",
        "incident_id": "Incident id",
        "orders_placed": "Orders placed",
        "watch_seconds": "Watch time (s)",
        "avg_watch_seconds": "Average watch time (s)",
        "interacting_viewers": "Interacting viewers",
        "product_clicks": "Product clicks",
        "click_rate": "Click rate",
        "click_to_order_rate": "Click→buy rate",
        "ad_spend": "Ad spend",
        "impressions": "Impressions",
        "impression_view_rate": "Impression→view rate",
        "incidents_open": "Open incidents",
        "platform_orders": "Platform orders",
        "platform_buyers": "Platform buyers",
        "platform_as_of": "Platform data as of",
        "peak_minute": "Peak online at",
        "host_sessions": "Host sessions",
        "room_sessions": "Room sessions",
        "joins": "Joins",
        "leaves": "Leaves",
        "interactions": "Interactions",
        "incidents": "Incidents",
        "from": "Before",
        "to": "After",
        "not_resolved": "not resolved",
        "times_in": "Times are {zone} local time",
        "medians_over": "Medians over the host's last {host} and the room's last {room} "
        "ended sessions",
        "sales": "sales",
        "refunds_part": "refunds",
        "clicks_part": "clicks and conversion",
        "explaining_part": "explaining",
        "times_part": "times",
        "figures_part": "figures",
        "money_part": "sales",
        "events": "Incidents and alerts",
    },
}

# A review key and where the pages keep its label: (group, key) in labels_for(lang).
PAGE_LABELS: dict[str, tuple[str, str]] = {
    "session_id": ("ui", "session"),
    "title": ("ui", "title"),
    "host": ("ui", "host"),
    "room_id": ("ui", "room"),
    "status": ("ui", "status"),
    "started_at": ("ui", "started"),
    "ended_at": ("ui", "ended"),
    "opened_at": ("ui", "started"),
    "resolved_at": ("ui", "ended"),
    "cleared_at": ("ui", "ended"),
    "state": ("ui", "status"),
    "at": ("ui", "when"),
    "minute": ("ui", "when"),
    "gmv": ("ui", "gmv"),
    "net_gmv": ("ui", "net_gmv"),
    "views": ("ui", "views"),
    "unique_viewers": ("ui", "uv"),
    "viewers": ("ui", "viewers"),
    "interaction_rate": ("kpis", "interaction_rate"),
    "conversion_rate": ("ui", "conversion"),
    "gpm": ("ui", "gpm"),
    "uv_value": ("ui", "uv_value"),
    "aov": ("ui", "aov"),
    "new_followers": ("ui", "followers"),
    "online": ("ui", "online"),
    "online_minute": ("ui", "online_minute"),
    "peak_online": ("ui", "peak_online"),
    "clicking_viewers": ("ui", "clicking_viewers"),
    "buyers": ("ui", "buyers"),
    "clicks": ("ui", "clicks"),
    "orders_paid": ("ui", "orders"),
    "paid_orders": ("ui", "orders"),
    "refunds": ("ui", "refunds"),
    "roi": ("kpis", "roi"),
    "incidents_total": ("kpis", "incidents"),
    "downtime_seconds": ("ui", "downtime"),
    "interactions_last_minute": ("ui", "ipm"),
    "platform_gmv": ("ui", "platform_gmv"),
    "gmv_gap": ("alerts", "platform_gap"),
    "name": ("ui", "name"),
    "price": ("ui", "price"),
    "explanations": ("ui", "explanations"),
    "explanation_seconds": ("ui", "explanation_seconds"),
    "items_sold": ("ui", "items_sold"),
    "refund_rate": ("ui", "refund_rate"),
    "click_to_pay_rate": ("ui", "click_to_pay_rate"),
    "seconds": ("ui", "seconds"),
    "source": ("ui", "sources"),
    "kind": ("ui", "kind"),
    "severity": ("ui", "severity"),
    "description": ("ui", "detail"),
    "detail": ("ui", "detail"),
    "metric": ("ui", "metric"),
    "value": ("ui", "value"),
    "host_median": ("ui", "host_median"),
    "room_median": ("ui", "room_median"),
    "vs_host": ("ui", "vs_host"),
    "avg_watch": ("ui", "avg_watch"),
    "review": ("ui", "review"),
    "benchmarks": ("ui", "benchmarks"),
    "funnel": ("ui", "funnel"),
    "stage_rate": ("ui", "stage_rate"),
    "products": ("ui", "products"),
    "segments": ("ui", "segments"),
    "sources": ("ui", "sources"),
    "incident": ("ui", "incident"),
    "alerts": ("ui", "alerts"),
    "trend": ("ui", "trend"),
    "no_rows": ("ui", "no_rows"),
}

# The kind of each key's value: how it reads and which number format a workbook cell gets.
MONEY = frozenset(
    {
        "gmv",
        "net_gmv",
        "refunds",
        "price",
        "amount",
        "ad_spend",
        "uv_value",
        "aov",
        "gpm",
        "gmv_gap",
        "platform_gmv",
    }
)
RATES = frozenset(
    {
        "interaction_rate",
        "conversion_rate",
        "click_rate",
        "click_to_order_rate",
        "refund_rate",
        "click_to_pay_rate",
        "impression_view_rate",
        "vs_host",
        "stage_rate",
    }
)
SECONDS = frozenset(
    {"watch_seconds", "avg_watch_seconds", "explanation_seconds", "seconds", "downtime_seconds"}
)
TIMES = frozenset(
    {
        "started_at",
        "ended_at",
        "opened_at",
        "resolved_at",
        "cleared_at",
        "at",
        "minute",
        "as_of",
        "platform_as_of",
        "peak_minute",
    }
)
RATIOS = frozenset({"roi"})  # times the spend, not a share: 3.20, not 320.00%


def words(lang: str) -> str:
    """The language the review shows: "en", or "zh" for anything else (as the pages do)."""
    return "en" if lang == "en" else "zh"


def label(key: str, lang: str = "zh") -> str:
    """The key's label: the pages' own where they have one, else the review's."""
    lang = words(lang)
    place = PAGE_LABELS.get(key)
    if place is not None:
        found = labels_for(lang).get(place[0], {}).get(place[1])
        if found:
            return str(found)
    return EXTRA[lang].get(key, key)


def group_label(group: str, key: str | None, lang: str = "zh") -> str:
    """A catalogue value's label (a source, an incident kind, an alert, a status); an unknown
    one shows as it came."""
    if key is None:
        return NONE
    return str(labels_for(words(lang)).get(group, {}).get(key) or key)


def kind_of(key: str) -> str:
    """money, rate, ratio, seconds, time, or count (a number) / text (anything else)."""
    for kind, keys in (
        ("money", MONEY),
        ("rate", RATES),
        ("ratio", RATIOS),
        ("seconds", SECONDS),
        ("time", TIMES),
    ):
        if key in keys:
            return kind
    return "count"


# -- values -------------------------------------------------------------------------------------


def local_time(iso: str | None, zone: str = DEFAULT_ZONE) -> datetime | None:
    """An ISO 8601 time of the review (UTC, with a Z) as an aware time in the studio's zone;
    a time without an offset is taken as UTC, as the projections write them."""
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone))


def money(value: float | None) -> str:
    return NONE if value is None else f"¥{value:,.2f}"


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:,.2f}%"


def signed_percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:+,.2f}%"


def count(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f}"


def ratio(value: float | None) -> str:
    return NONE if value is None else f"{value:,.2f}"


def duration(seconds: float | None) -> str:
    """h:mm:ss, as the pages show a watch time."""
    if seconds is None:
        return NONE
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def shown(key: str, value: Any) -> str:
    """A number as the kind of its key reads (times go through local_time first)."""
    if value is None:
        return NONE
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    kind = kind_of(key)
    if kind == "money":
        return money(value)
    if kind == "rate":
        return signed_percent(value) if key == "vs_host" else percent(value)
    if kind == "ratio":
        return ratio(value)
    return count(value)


def host_of(review: dict[str, Any]) -> str | None:
    """The host as the screens name them (their name, the id beside it), else the id."""
    host_id, name = review.get("host_id"), review.get("host_name")
    if name and host_id and name != host_id:
        return f"{name} ({host_id})"
    return name or host_id


def source_rows(review: dict[str, Any]) -> list[dict[str, Any]]:
    """The traffic sources the page lists: those with any figure, most viewers first."""
    sources = review.get("traffic_sources") or (review.get("metrics") or {}).get(
        "traffic_sources", {}
    )
    found = [
        {"source": key, **figures}
        for key, figures in sources.items()
        if any(v for k, v in figures.items() if k != "conversion_rate")
    ]
    found.sort(key=lambda s: (-(s.get("viewers") or 0), -(s.get("views") or 0), s["source"]))
    return found
