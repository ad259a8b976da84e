"""Live-room pollers against the local fake platforms (real HTTP, the recorded public shapes):
each reading mapped exactly, a reading polled twice stored once, a room going live opens one
session (with its mapped host) and its end closes it, a rate-limit answer backs off and shows
on /health, and two processes polling at once open one session. On both backends.

Hand-computed: Qianchuan's first reading (20:30 Beijing = 12:30 UTC) gives views 1520, product
clicks 310, comments 88, shares 12, gifts 5, new followers 40, fan-club joins 3, the platform's
GMV 2599.50 over 21 paid orders, spend 300.25; TikTok's LIVE gives watch_seconds 45.5 x 4100 =
186,550; WeChat's live gives online 210, UV 1,800, GMV 4,567.89 (456,789 fen), watch time
95 x 1,800 = 171,000 s, product 10000123 with 5,000 impressions and 420 clicks by 260 viewers.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any

from service.ingest.pollers.runner import PollerJobs
from tests.connector_support import fixture
from tests.fake_platforms import FakePlatforms
from tests.integration.conftest import Api

NOW = int(datetime(2026, 12, 6, 12, 30, tzinfo=UTC).timestamp() * 1e6)
ROOM = "7358965436128930596"
SESSION = f"douyin-{ROOM}"


def readings() -> dict[str, Any]:
    return copy.deepcopy(fixture("pollers", "readings.json"))


def connect(
    api: Api, platforms: FakePlatforms, platform: str, account: str, **secrets: str
) -> None:
    access, refresh = platforms.issue(account)
    response = api.client.post(
        "/api/v1/connections",
        json={
            "platform": platform,
            "account_id": account,
            "name": account,
            "secrets": {"access_token": access, "refresh_token": refresh, **secrets},
        },
        headers=api.headers("admin"),
    )
    assert response.status_code == 201, response.json


def pollers(api: Api, at: int) -> PollerJobs:
    jobs = api.runtime.connectors.pollers()
    jobs.clock = lambda: at
    return jobs


def session(api: Api, session_id: str) -> dict[str, Any]:
    api.project_all()
    response = api.get(f"/api/v1/sessions/{session_id}")
    assert response.status_code == 200, response.json
    return dict(response.json)


def test_a_qianchuan_room_going_live_opens_one_session_and_its_readings_win(
    api_live: Api, platforms: FakePlatforms
) -> None:
    connect(
        api_live, platforms, "qianchuan", "1760000000000001", aweme_ids="71100001", shop_id="95250"
    )
    assert (
        api_live.client.put(
            "/api/v1/rooms/71100001/host",
            json={"person_id": "h-anna"},
            headers=api_live.headers("admin"),
        ).status_code
        == 200
    )
    platforms.qianchuan_rooms["71100001"] = [readings()["qianchuan_room_live"]]
    assert pollers(api_live, NOW).poll_pass() == [
        "qianchuan:1760000000000001: 1 rooms read, 2 events"
    ]
    body = session(api_live, SESSION)
    assert (body["host_id"], body["shop_id"], body["platform"], body["title"]) == (
        "h-anna",
        "95250",
        "douyin",
        "春季新品首发",
    )
    assert body["started_at"] == "2026-12-06T12:00:00.000Z"  # 20:00 Beijing
    m = body["metrics"]
    assert (m["views"], m["product_clicks"], m["new_followers"], m["ad_spend"]) == (
        1520,
        310,
        40,
        300.25,
    )
    assert (
        m["interactions"]["comment"],
        m["interactions"]["share"],
        m["interactions"]["gift"],
    ) == (88, 12, 5)
    assert m["interactions"]["fan_club_join"] == 3
    assert m["platform"] == {
        "gmv": 2599.5,
        "orders_paid": 21,
        "buyers": None,
        "as_of": "2026-12-06T12:30:00.000Z",
    }
    assert m["gmv"] == 0.0 and m["gmv_gap"] == -2599.5  # orders come from order events only
    assert m["figure_sources"]["views"] == {
        "from": "reported",
        "source": "qianchuan",
        "as_of": "2026-12-06T12:30:00.000Z",
    }
    # the same reading polled again in the same minute: one event
    stored = api_live.stored_count()
    api_live.runtime.connectors.book.record_poll("qianchuan:1760000000000001", NOW, None, 0, 0)
    assert pollers(api_live, NOW + 20_000_000).poll_pass() == [
        "qianchuan:1760000000000001: 1 rooms read, 0 events"
    ]
    assert api_live.stored_count() == stored
    # a minute later, new figures; then the platform says the room ended
    platforms.qianchuan_rooms["71100001"] = [readings()["qianchuan_room_later"]]
    api_live.runtime.connectors.book.record_poll("qianchuan:1760000000000001", NOW, None, 0, 0)
    pollers(api_live, NOW + 60_000_000).poll_pass()
    platforms.qianchuan_rooms["71100001"] = [readings()["qianchuan_room_finished"]]
    api_live.runtime.connectors.book.record_poll("qianchuan:1760000000000001", NOW, None, 0, 0)
    pollers(api_live, NOW + 900_000_000).poll_pass()
    body = session(api_live, SESSION)
    assert body["status"] == "ended" and body["ended_at"] == "2026-12-06T12:45:00.000Z"
    assert (body["metrics"]["views"], body["metrics"]["ad_spend"]) == (2300, 430.5)
    # per minute: 1520 in 12:30, +580 in 12:31, +200 in 12:45
    minutes = {
        r["minute"][11:16]: r["joins"]
        for r in api_live.get(f"/api/v1/sessions/{SESSION}/timeline").json["minutes"]
    }
    assert (minutes["12:30"], minutes["12:31"], minutes["12:45"]) == (1520, 580, 200)
    # an ended room is not reopened by a later poll
    api_live.runtime.connectors.book.record_poll("qianchuan:1760000000000001", NOW, None, 0, 0)
    stored = api_live.stored_count()
    pollers(api_live, NOW + 960_000_000).poll_pass()
    assert api_live.stored_count() == stored + 1  # only the (final) reading of that minute


def test_a_rate_limited_poll_backs_off_shows_on_health_and_invents_nothing(
    api_live: Api, platforms: FakePlatforms
) -> None:
    connect(api_live, platforms, "qianchuan", "1760000000000001", aweme_ids="71100001")
    platforms.qianchuan_rooms["71100001"] = [readings()["qianchuan_room_live"]]
    platforms.rate_limited = True
    (line,) = pollers(api_live, NOW).poll_pass()
    assert "poll failed" in line and "40100" in line
    assert api_live.stored_count() == 0
    (connection,) = api_live.runtime.connectors.book.all()
    assert connection.next_poll_at == NOW + 60_000_000 and connection.poll_failures == 1
    assert pollers(api_live, NOW + 30_000_000).poll_pass() == []  # not due yet
    pollers(api_live, NOW + 60_000_000).poll_pass()
    (connection,) = api_live.runtime.connectors.book.all()
    assert connection.next_poll_at == NOW + 60_000_000 + 120_000_000  # doubled
    health = api_live.get("/api/v1/health").json
    assert health["status"] == "degraded" and "40100" in health["connections"][0]["poll_error"]
    platforms.rate_limited = False
    pollers(api_live, NOW + 180_000_000).poll_pass()
    assert api_live.get("/api/v1/health").json["connections"][0]["poll_error"] is None
    assert session(api_live, SESSION)["metrics"]["views"] == 1520


def test_tiktok_shop_lives_map_to_readings_of_their_own_session(
    api_live: Api, platforms: FakePlatforms
) -> None:
    shop = "7494049642642441621"
    platforms.tiktok_shops["c1"] = {"id": shop, "name": "s", "cipher": "c1", "seller": shop}
    platforms.tiktok_lives[shop] = [readings()["tiktok_live"]]
    connect(api_live, platforms, "tiktok_shop", shop, shop_cipher="c1")
    api_live.runtime.connectors.book.map_room("maomao_beauty", "h-ben")
    pollers(api_live, NOW).poll_pass()
    body = session(api_live, "tiktok-7301234567890123456")
    assert (body["host_id"], body["shop_id"], body["platform"]) == ("h-ben", shop, "tiktok")
    m = body["metrics"]
    assert (m["views"], m["unique_viewers"], m["watch_seconds"], m["product_clicks"]) == (
        4100,
        2600,
        186550,
        930,
    )
    assert (m["interactions"]["like"], m["interactions"]["comment"], m["new_followers"]) == (
        9800,
        510,
        77,
    )
    assert m["platform"]["gmv"] == 1234.56 and m["platform"]["buyers"] == 28
    assert m["avg_watch_seconds"] == 186550 / 2600


def test_a_wechat_live_dashboard_gives_online_sales_and_products(
    api_live: Api, platforms: FakePlatforms
) -> None:
    appid, secret = platforms.wechat_app
    platforms.wechat_lives["export-1"] = {**readings()["wechat_live"], "_created": 1765022400}
    response = api_live.client.post(
        "/api/v1/connections",
        json={
            "platform": "wechat_shop",
            "account_id": appid,
            "name": "小店",
            "app_key": appid,
            "secrets": {"app_secret": secret},
        },
        headers=api_live.headers("admin"),
    )
    assert response.status_code == 201, response.json
    pollers(api_live, NOW).poll_pass()
    body = session(api_live, "channels-export-1")
    m = body["metrics"]
    assert (m["online"], m["unique_viewers"], m["watch_seconds"]) == (210, 1800, 171000)
    assert (m["product_clicks"], m["clicking_viewers"], m["interactions"]["comment"]) == (
        700,
        320,
        140,
    )
    assert m["platform"] == {
        "gmv": 4567.89,
        "orders_paid": 61,
        "buyers": 55,
        "as_of": "2026-12-06T12:30:00.000Z",
    }
    (product,) = [p for p in body["products"] if p["product_id"] == "10000123"]
    assert (product["impressions"], product["clicks"], product["clicking_viewers"]) == (
        5000,
        420,
        260,
    )


def test_two_processes_polling_at_once_open_one_session(
    api_live: Api, platforms: FakePlatforms
) -> None:
    connect(api_live, platforms, "qianchuan", "1760000000000001", aweme_ids="71100001")
    platforms.qianchuan_rooms["71100001"] = [readings()["qianchuan_room_live"]]
    first, second = pollers(api_live, NOW), pollers(api_live, NOW)
    second.owner = "another-host:2:poll"
    done: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda j=j: done.append(j.poll_pass())) for j in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    api_live.project_all()
    events = api_live.get(f"/api/v1/events?stream=session-{SESSION}").json["events"]
    assert [e["type"] for e in events] == ["session.started", "room.stats_reported"]
