"""Every key a page shows, in Chinese (the default) and English: traffic sources, incident kinds,
roles, KPIs, statuses, alerts and the pages' own words. A key with no label here would show raw;
tests/e2e/test_screens.py checks no zh page shows one."""

from __future__ import annotations

from typing import Any

from events.catalogue import INCIDENT_KINDS, ROLES, TRAFFIC_SOURCES

ZH: dict[str, dict[str, str]] = {
    "ui": {
        "gmv": "成交额", "net_gmv": "净成交额", "online": "在线人数", "peak": "峰值",
        "uv": "观看人数", "conversion": "转化率", "gpm": "千次观看成交", "uv_value": "UV价值",
        "aov": "客单价", "followers": "新增粉丝", "ipm": "上一分钟互动", "duration": "直播时长",
        "target": "目标", "progress": "目标进度", "no_target": "未设目标", "trend": "分钟趋势",
        "funnel": "转化漏斗", "sources": "流量来源", "products": "商品榜", "ticker": "实时动态",
        "alerts": "告警", "no_alerts": "暂无告警", "incident": "直播事故", "severity": "级别",
        "views": "观看", "clicking_viewers": "点击人数", "buyers": "购买人数", "clicks": "点击",
        "orders": "订单", "viewers": "观看人数", "online_minute": "在线人数",
        "gmv_minute": "每分钟成交额", "pin": "讲解", "unpin": "结束讲解", "session": "直播间",
        "host": "主播", "room": "房间", "title": "标题", "status": "状态", "console": "直播控制台",
        "live_sessions": "直播中", "ended_sessions": "近24小时已结束", "screen": "大屏",
        "review": "复盘", "no_sessions_now": "当前没有直播。开播后（发送 session.started 事件）这里会自动出现。",
        "scores": "绩效考核", "period": "考核期", "role": "岗位", "score": "得分", "grade": "等级",
        "rank": "排名", "download_csv": "下载 CSV", "download_xlsx": "下载 Excel",
        "complete": "完整", "kpi": "指标", "actual": "实际", "points": "得分", "weight": "权重",
        "fines": "罚款", "compliance": "合规", "not_graded": "未评级",
        "not_graded_why": "计分指标权重不足一半", "closed": "已结账（冻结）",
        "corrections": "冻结后的更正", "days_on_air": "开播天数", "days_under_3h": "不足3小时天数",
        "days_under_2_clips": "短视频不足2条天数", "name": "名称", "price": "价格",
        "explanations": "讲解次数", "explanation_seconds": "讲解时长(秒)",
        "items_sold": "件数", "refunds": "退款", "refund_rate": "退款率",
        "click_to_pay_rate": "点击支付率", "segments": "讲解片段", "benchmarks": "对比本人历史",
        "metric": "指标", "value": "本场", "host_median": "主播中位数", "room_median": "直播间中位数",
        "vs_host": "对比主播", "started": "开始", "ended": "结束", "seconds": "时长(秒)",
        "peak_online": "在线峰值", "at_minute": "出现于", "downtime": "中断时长(秒)",
        "order": "下单", "comment": "评论", "connected": "", "ok": "确定", "last_event": "最后事件",
        "stage_rate": "阶段转化", "net_gmv_note": "（净成交额 = 成交额 − 退款）",
        "load": "查询", "avg_watch": "平均观看时长", "kind": "类型", "detail": "详情",
    },
    "sources": {
        "recommend": "推荐", "follow": "关注", "short_video": "短视频", "ad": "广告",
        "search": "搜索", "share": "分享", "other": "其他", "unknown": "未知",
    },
    "incident_kinds": {
        "stream_interruption": "直播中断", "technical_failure": "技术故障",
        "product_info_error": "商品信息错误", "compliance": "违规", "other": "其他",
    },
    "roles": {
        "host": "主播", "live_ops": "直播运营", "supervisor": "运营主管",
        "department_head": "部门主管", "short_video": "短视频策划", "ecommerce_ops": "电商运营",
    },
    "kpis": {
        "gmv": "销售额（净）", "interaction_rate": "互动率", "new_followers": "新增粉丝",
        "conversion_rate": "商品转化率", "views_growth": "观看与流量增长",
        "promoted_viewers": "推广引流人数", "promoted_conversion": "推广转化率",
        "incidents": "直播事故", "host_satisfaction": "主播满意度", "roi": "投产比 ROI",
        "viral_clips": "爆量素材", "gpm": "千次观看成交", "dsr": "店铺动态评分",
        "team_gmv": "团队销售额（净）", "process_improvements": "流程改进",
        "team_satisfaction": "团队满意度", "video_plays": "播放与曝光",
        "video_conversion": "短视频转化", "creative_quality": "创意质量",
        "production_efficiency": "制作效率", "shop_sales": "店铺销售", "product_rating": "商品评分",
        "service_rating": "服务评分",
    },
    "statuses": {"live": "直播中", "ended": "已结束", "pending": "未开始"},
    "kpi_status": {"ok": "计分", "no_target": "无目标", "no_data": "无数据",
                   "no_sessions": "无直播"},
    "alerts": {"incident_opened": "直播事故", "online_drop": "在线人数骤降",
               "no_events": "60秒无数据"},
    "states": {
        "no_token": "需要访问令牌", "invalid": "令牌无效", "not_read_only": "令牌权限过大",
        "unknown_session": "找不到该直播", "lost": "连接已断开", "ended": "直播已结束",
        "no_data": "暂无数据", "bad_period": "考核期无效", "error": "出错了",
    },
    "state_help": {
        "no_token": "请在地址后加上 ?token=<只读令牌>（livetally tokens create --scope read）。",
        "invalid": "该令牌不存在、已撤销或已过期。请向管理员索取新的只读令牌，并替换地址中的 token。",
        "not_read_only": "页面只接受只读令牌（--scope read），以免写入权限出现在地址里。",
        "unknown_session": "没有这个直播间的任何事件。请检查地址中的直播 ID；开播后页面会自动刷新。",
        "lost": "正在重新连接…",
        "ended": "本场直播已结束，数字为最终结果。",
        "no_data": "直播已创建，还没有观看、互动或订单。",
        "bad_period": "请输入 YYYY-MM 格式的月份，例如 2026-11。",
        "error": "请稍后重试。",
    },
}

EN: dict[str, dict[str, str]] = {
    "ui": {
        "gmv": "GMV", "net_gmv": "Net GMV", "online": "Online now", "peak": "peak",
        "uv": "Unique viewers", "conversion": "Conversion", "gpm": "GPM", "uv_value": "UV value",
        "aov": "AOV", "followers": "New followers", "ipm": "Interactions, last minute",
        "duration": "On air", "target": "Target", "progress": "of target",
        "no_target": "no target set", "trend": "Per-minute trend", "funnel": "Funnel",
        "sources": "Traffic sources", "products": "Product ranking", "ticker": "Live activity",
        "alerts": "Alerts", "no_alerts": "No alerts", "incident": "Incident",
        "severity": "severity", "views": "Views", "clicking_viewers": "Clicking viewers",
        "buyers": "Buyers", "clicks": "Clicks", "orders": "Orders", "viewers": "Viewers",
        "online_minute": "Online", "gmv_minute": "GMV per minute", "pin": "Presenting",
        "unpin": "Stopped", "session": "Session", "host": "Host", "room": "Room",
        "title": "Title", "status": "Status", "console": "Live console",
        "live_sessions": "Live now", "ended_sessions": "Ended in the last 24 hours",
        "screen": "Screen", "review": "Review",
        "no_sessions_now": "No session is live. A session appears here when its session.started "
                           "event arrives.",
        "scores": "Scorecards", "period": "Period", "role": "Role", "score": "Score",
        "grade": "Grade", "rank": "Rank", "download_csv": "Download CSV",
        "download_xlsx": "Download Excel", "complete": "Complete", "kpi": "KPI",
        "actual": "Actual", "points": "Points", "weight": "Weight", "fines": "Fines",
        "compliance": "Compliance", "not_graded": "Not graded",
        "not_graded_why": "the KPIs that count carry under half the weight",
        "closed": "Closed (frozen)", "corrections": "Corrections since closing",
        "days_on_air": "Days on air", "days_under_3h": "Days under 3 h",
        "days_under_2_clips": "Days under 2 clips", "name": "Name", "price": "Price",
        "explanations": "Explanations", "explanation_seconds": "Explaining (s)",
        "items_sold": "Items", "refunds": "Refunds", "refund_rate": "Refund rate",
        "click_to_pay_rate": "Click→pay", "segments": "Explanation segments",
        "benchmarks": "Against earlier sessions", "metric": "Metric", "value": "This session",
        "host_median": "Host median", "room_median": "Room median", "vs_host": "vs host",
        "started": "Start", "ended": "End", "seconds": "Seconds", "peak_online": "Peak online",
        "at_minute": "at", "downtime": "Downtime (s)", "order": "Order", "comment": "Comment",
        "connected": "", "ok": "OK", "last_event": "Last event", "stage_rate": "Stage rate",
        "net_gmv_note": "(net GMV = GMV − refunds)", "load": "Show",
        "avg_watch": "Average watch time", "kind": "Kind", "detail": "Detail",
    },
    "sources": {
        "recommend": "Recommended", "follow": "Following", "short_video": "Short video",
        "ad": "Ads", "search": "Search", "share": "Shares", "other": "Other",
        "unknown": "Unknown",
    },
    "incident_kinds": {
        "stream_interruption": "Stream interruption", "technical_failure": "Technical failure",
        "product_info_error": "Wrong product information", "compliance": "Compliance",
        "other": "Other",
    },
    "roles": {
        "host": "Host", "live_ops": "Live ops", "supervisor": "Operations supervisor",
        "department_head": "Department head", "short_video": "Short-video producer",
        "ecommerce_ops": "E-commerce operations",
    },
    "kpis": {
        "gmv": "Sales (net GMV)", "interaction_rate": "Interaction rate",
        "new_followers": "New followers", "conversion_rate": "Conversion rate",
        "views_growth": "Viewers and traffic growth", "promoted_viewers": "Promoted viewers",
        "promoted_conversion": "Promoted conversion", "incidents": "Broadcast incidents",
        "host_satisfaction": "Host satisfaction", "roi": "ROI", "viral_clips": "Viral clips",
        "gpm": "GPM", "dsr": "Shop rating (DSR)", "team_gmv": "Team sales (net GMV)",
        "process_improvements": "Process improvements",
        "team_satisfaction": "Team satisfaction", "video_plays": "Plays and impressions",
        "video_conversion": "Video conversion", "creative_quality": "Creative quality",
        "production_efficiency": "Production efficiency", "shop_sales": "Shop sales",
        "product_rating": "Product rating", "service_rating": "Service rating",
    },
    "statuses": {"live": "LIVE", "ended": "Ended", "pending": "Not started"},
    "kpi_status": {"ok": "scored", "no_target": "no target", "no_data": "no data",
                   "no_sessions": "no sessions"},
    "alerts": {"incident_opened": "Incident", "online_drop": "Online dropped",
               "no_events": "No events for 60 s"},
    "states": {
        "no_token": "A token is needed", "invalid": "Invalid token",
        "not_read_only": "Token has too many rights", "unknown_session": "Unknown session",
        "lost": "Connection lost", "ended": "Broadcast ended", "no_data": "No data yet",
        "bad_period": "Invalid period", "error": "Something went wrong",
    },
    "state_help": {
        "no_token": "Add ?token=<read token> to the address (livetally tokens create "
                    "--scope read).",
        "invalid": "The token is unknown, revoked or expired. Ask an admin for a new read "
                   "token and put it in the address.",
        "not_read_only": "Pages take read-only tokens (--scope read) only, so that no write "
                         "right ever sits in an address.",
        "unknown_session": "No event of this session has arrived. Check the session id in the "
                           "address; the page picks it up once the broadcast starts.",
        "lost": "Reconnecting…", "ended": "This broadcast has ended; the numbers are final.",
        "no_data": "The session exists but has no views, interactions or orders yet.",
        "bad_period": "Give a month as YYYY-MM, for example 2026-11.",
        "error": "Try again in a moment.",
    },
}

LABELS: dict[str, dict[str, dict[str, str]]] = {"zh": ZH, "en": EN}


def missing_labels() -> list[str]:
    """Catalogue keys without a label in some language (a test keeps this empty)."""
    missing = []
    for lang, table in LABELS.items():
        for group, keys in (("sources", (*TRAFFIC_SOURCES, "unknown")),
                            ("incident_kinds", INCIDENT_KINDS), ("roles", ROLES)):
            missing += [f"{lang}.{group}.{k}" for k in keys if k not in table[group]]
        missing += [f"{lang}.ui.{k}" for k in ZH["ui"] if k not in table["ui"]]
    return missing


def labels_for(lang: str) -> dict[str, Any]:
    return LABELS["en" if lang == "en" else "zh"]
