"""The screens: wall screen, console, scores page. Served by the API process, fed by the feed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

blp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static")

LABELS = {
    "zh": {
        "gmv": "成交额 GMV", "net_gmv": "净成交额", "online": "在线人数", "uv": "观看人数 UV",
        "conversion": "转化率", "gpm": "千次观看成交 GPM", "followers": "新增粉丝",
        "ipm": "每分钟互动", "trend": "分钟趋势", "funnel": "转化漏斗", "views": "观看",
        "clicks": "点击", "buyers": "购买", "sources": "流量来源", "incident": "直播事故",
        "live": "直播中", "ended": "已结束", "pending": "未开始", "console": "直播控制台",
        "session": "直播间", "host": "主播", "status": "状态", "alerts": "告警",
        "scores": "绩效考核", "period": "考核期", "role": "岗位", "score": "得分",
        "grade": "等级", "rank": "排名", "download": "下载 CSV", "token": "访问令牌",
        "connect": "连接", "reconnecting": "正在重连…", "gmv_minute": "每分钟成交额",
        "online_minute": "在线人数", "pin": "讲解", "complete": "完整", "kpi": "指标",
        "actual": "实际", "target": "目标", "points": "得分", "fines": "罚款",
        "compliance": "合规",
    },
    "en": {
        "gmv": "GMV", "net_gmv": "Net GMV", "online": "Online", "uv": "Unique viewers",
        "conversion": "Conversion", "gpm": "GPM", "followers": "New followers",
        "ipm": "Interactions / min", "trend": "Per-minute trend", "funnel": "Funnel",
        "views": "Views", "clicks": "Clicks", "buyers": "Buyers", "sources": "Traffic sources",
        "incident": "Incident", "live": "LIVE", "ended": "Ended", "pending": "Not started",
        "console": "Live console", "session": "Session", "host": "Host", "status": "Status",
        "alerts": "Alerts", "scores": "Scorecards", "period": "Period", "role": "Role",
        "score": "Score", "grade": "Grade", "rank": "Rank", "download": "Download CSV",
        "token": "API token", "connect": "Connect", "reconnecting": "Reconnecting…",
        "gmv_minute": "GMV per minute", "online_minute": "Online", "pin": "Pinned",
        "complete": "Complete", "kpi": "KPI", "actual": "Actual", "target": "Target",
        "points": "Points", "fines": "Fines", "compliance": "Compliance",
    },
}


def _page(template: str, **context: Any) -> str:
    settings = current_app.extensions["livetally"].settings
    lang = "en" if request.args.get("lang") == "en" else "zh"
    # FEED_PORT: the port the feed really bound (it differs from the setting when that is 0).
    feed_port = current_app.config.get("FEED_PORT") or settings.feed_port
    return render_template(template, lang=lang, t=LABELS[lang], feed_port=feed_port, **context)


@blp.route("/screen/<session_id>")
def screen(session_id: str) -> str:
    return _page("screen.html", session_id=session_id)


@blp.route("/console")
def console() -> str:
    return _page("console.html")


@blp.route("/scores")
def scores() -> str:
    return _page("scores.html")
