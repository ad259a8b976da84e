"""TikTok rooms against the local fake platforms (real HTTP, the recorded public shapes): the
ad spend of a LIVE from the TikTok API for Business GMV Max report of the advertiser account
connected for the shop, and the per-minute figures after the LIVE ended. On both backends.

Hand-computed spend: the shop's LIVE GMV Max campaigns are c-live-1 (120.35 on the LIVE, 9.99
on another room) and c-live-2, deleted since (80.10 on the LIVE): 120.35 + 80.10 = 200.45. A
PRODUCT campaign (500.00) and another shop's LIVE campaign (1,000.00) do not count.

Hand-computed minutes (the LIVE ran 12:28-12:32 UTC; read live at 12:30:00 with views 900,
product clicks 120, comments 50, likes 400, shares 3, new followers 8; ended, read at 12:33:00
with 2,000, 300, 100, 1,000, 10, 20). The per-minute report gives each minute's own change:

    minute  views  clicks  comments  likes  shares  follows
    12:28     300      40        20    100       1        2
    12:29     500      60        30    200       2        3
    12:30     700      90        40    300       3        4
    12:31     400      80        20    300       2        5
    sum     1,900     270       110    900       8       14

Comments add up to 110, over the final 100: a cumulative reading would draw 12:33 as -10, so
comments are left out and keep the live readings' minutes (50 at 12:30, 50 at 12:33). The
others become cumulative readings at 12:28:59.999999 ... 12:31:59.999999, and the final
reading (12:33) still carries the final figures. Timeline:

    minute        12:28  12:29  12:30  12:31  12:32  12:33
    joins (views)   300    500    700    400      0    100   (2,000 - 1,900)
    clicks           40     60     90     80      0     30   (300 - 270)
    interactions    103    205    357    307      0    158

interactions = comments + likes + shares + follows: 12:28 = 0+100+1+2; 12:29 = 0+200+2+3;
12:30 = 50+300+3+4; 12:31 = 0+300+2+5; 12:33 = 50 + (1000-900) + (10-8) + (20-14). Before
the per-minute readings the same timeline was joins 900 at 12:30 and 1,100 at 12:33.
"""

from __future__ import annotations

import copy
import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from service.ingest.pollers.base import MinuteSeries
from service.ingest.pollers.runner import PollerJobs
from tests.connector_support import fixture
from tests.fake_platforms import GMV_MAX_REPORT, FakePlatforms
from tests.integration.conftest import Api

MINUTE_US = 60_000_000
NOW = int(datetime(2026, 12, 6, 12, 30, tzinfo=UTC).timestamp() * 1e6)
STARTED = 1796560080  # 12:28:00 UTC
ENDED = 1796560320  # 12:32:00 UTC
SHOP = "7494049642642441621"
LIVE = "7301234567890123456"
SESSION = f"tiktok-{LIVE}"
ADVERTISER = "7200000000000000001"
MINUTES_PATH = f"/analytics/202510/shop_lives/{LIVE}/performance_per_minutes"


def live(**interaction: Any) -> dict[str, Any]:
    found = copy.deepcopy(fixture("pollers", "readings.json")["tiktok_live"])
    found["start_time"] = STARTED
    found["interaction_performance"].update(interaction)
    return dict(found)


def pollers(api: Api, at: int) -> PollerJobs:
    jobs = api.runtime.connectors.pollers()
    jobs.clock = lambda: at
    return jobs


def due_again(api: Api, *connections: str) -> None:
    for connection_id in connections:
        api.runtime.connectors.book.record_poll(connection_id, NOW, None, 0, 0)


def connect_shop(api: Api, platforms: FakePlatforms) -> None:
    platforms.tiktok_shops["c1"] = {"id": SHOP, "name": "s", "cipher": "c1", "seller": SHOP}
    access, refresh = platforms.issue(SHOP)
    response = api.client.post(
        "/api/v1/connections",
        json={
            "platform": "tiktok_shop",
            "account_id": SHOP,
            "name": "TT shop",
            "secrets": {"access_token": access, "refresh_token": refresh, "shop_cipher": "c1"},
        },
        headers=api.headers("admin"),
    )
    assert response.status_code == 201, response.json


def connect_advertiser(api: Api, platforms: FakePlatforms) -> None:
    access, _ = platforms.issue(ADVERTISER, seconds=10 * 365 * 86400)
    response = api.client.post(
        "/api/v1/connections",
        json={
            "platform": "tiktok_business",
            "account_id": ADVERTISER,
            "name": "TT ads",
            "secrets": {"access_token": access, "shop_id": SHOP},
        },
        headers=api.headers("admin"),
    )
    assert response.status_code == 201, response.json


def campaigns(platforms: FakePlatforms, live_1: str = "120.35") -> None:
    def campaign(kind: str, status: str, rooms: dict[str, str], store: str = SHOP) -> Any:
        return {
            "advertiser": ADVERTISER,
            "store": store,
            "type": kind,
            "status": status,
            "rooms": rooms,
        }

    platforms.gmv_max_campaigns = {
        "c-live-1": campaign(
            "LIVE", "STATUS_DELIVERY_OK", {LIVE: live_1, "7301234567890999999": "9.99"}
        ),
        "c-live-2": campaign("LIVE", "STATUS_DELETE", {LIVE: "80.10"}),
        "c-product": campaign("PRODUCT", "STATUS_DELIVERY_OK", {LIVE: "500.00"}),
        "c-other-shop": campaign("LIVE", "STATUS_DELIVERY_OK", {LIVE: "1000.00"}, store="999"),
    }


def session(api: Api) -> dict[str, Any]:
    api.project_all()
    response = api.get(f"/api/v1/sessions/{SESSION}")
    assert response.status_code == 200, response.json
    return dict(response.json)


def business(api: Api) -> Any:
    found = api.runtime.connectors.book.get(f"tiktok_business:{ADVERTISER}")
    assert found is not None
    return found


def test_gmv_max_spend_is_mapped_exactly_backed_off_when_rate_limited_and_stored_once(
    api_live: Api, platforms: FakePlatforms
) -> None:
    connect_shop(api_live, platforms)
    connect_advertiser(api_live, platforms)
    campaigns(platforms)
    platforms.tiktok_lives[SHOP] = [live()]
    assert pollers(api_live, NOW).poll_pass() == [
        f"tiktok_shop:{SHOP}: 1 rooms read, 2 events"  # the session opened, one reading
    ]
    m = session(api_live)["metrics"]
    assert m["ad_spend"] == 200.45
    assert m["figure_sources"]["ad_spend"] == {
        "from": "reported",
        "source": "tiktok_shop_analytics",
        "as_of": "2026-12-06T12:30:00.000Z",
    }
    # the report was asked twice: the shop's LIVE campaigns (deleted ones too), then their rooms
    first, second = platforms.requests_to(GMV_MAX_REPORT)
    assert first["headers"]["access-token"] and first["query"]["advertiser_id"] == ADVERTISER
    assert json.loads(first["query"]["store_ids"]) == [SHOP]
    assert (first["query"]["start_date"], first["query"]["end_date"]) == (
        "2026-12-05",
        "2026-12-07",
    )
    assert json.loads(first["query"]["dimensions"]) == ["campaign_id"]
    assert json.loads(first["query"]["filtering"])["gmv_max_promotion_types"] == ["LIVE"]
    assert "STATUS_DELETE" in json.loads(first["query"]["filtering"])["campaign_statuses"]
    assert json.loads(second["query"]["dimensions"]) == ["room_id"]
    assert json.loads(second["query"]["filtering"]) == {"campaign_ids": ["c-live-1", "c-live-2"]}
    assert (business(api_live).polled_at, business(api_live).poll_error) == (NOW, None)

    # polled again in the same minute: the same reading, one event
    stored = api_live.stored_count()
    due_again(api_live, f"tiktok_shop:{SHOP}")
    assert pollers(api_live, NOW + 20_000_000).poll_pass() == [
        f"tiktok_shop:{SHOP}: 1 rooms read, 0 events"
    ]
    assert api_live.stored_count() == stored

    # the report answers 40100 (too frequent): the shop's readings go on without a spend, the
    # account backs off (60 s, then 120 s) and shows on /health; the last spend stands
    platforms.business_rate_limited = True
    asked = len(platforms.requests_to(GMV_MAX_REPORT))
    due_again(api_live, f"tiktok_shop:{SHOP}")
    pollers(api_live, NOW + MINUTE_US).poll_pass()
    account = business(api_live)
    assert (account.poll_failures, account.next_poll_at) == (1, NOW + 2 * MINUTE_US)
    assert "40100" in (account.poll_error or "")
    health = api_live.get("/api/v1/health").json
    assert health["status"] == "degraded"
    assert any("40100" in (c["poll_error"] or "") for c in health["connections"])
    m = session(api_live)["metrics"]
    assert m["ad_spend"] == 200.45
    assert m["figure_sources"]["ad_spend"]["as_of"] == "2026-12-06T12:30:00.000Z"
    assert m["figure_sources"]["views"]["as_of"] == "2026-12-06T12:31:00.000Z"
    due_again(api_live, f"tiktok_shop:{SHOP}")
    pollers(api_live, NOW + 2 * MINUTE_US).poll_pass()  # due again: limited again
    account = business(api_live)
    assert (account.poll_failures, account.next_poll_at) == (2, NOW + 4 * MINUTE_US)
    assert len(platforms.requests_to(GMV_MAX_REPORT)) == asked + 2
    due_again(api_live, f"tiktok_shop:{SHOP}")
    pollers(api_live, NOW + 3 * MINUTE_US).poll_pass()  # backing off: not asked
    assert len(platforms.requests_to(GMV_MAX_REPORT)) == asked + 2
    # the limit lifts and the campaign spent more: the next due poll reads it
    platforms.business_rate_limited = False
    campaigns(platforms, live_1="150.35")
    due_again(api_live, f"tiktok_shop:{SHOP}")
    pollers(api_live, NOW + 4 * MINUTE_US).poll_pass()
    m = session(api_live)["metrics"]
    assert m["ad_spend"] == 230.45
    assert m["figure_sources"]["ad_spend"]["as_of"] == "2026-12-06T12:34:00.000Z"
    assert business(api_live).poll_failures == 0
    assert all(c["poll_error"] is None for c in api_live.get("/api/v1/health").json["connections"])


def test_a_room_without_an_advertiser_account_gets_no_spend(
    api_live: Api, platforms: FakePlatforms
) -> None:
    connect_shop(api_live, platforms)
    campaigns(platforms)
    platforms.tiktok_lives[SHOP] = [live()]
    pollers(api_live, NOW).poll_pass()
    m = session(api_live)["metrics"]
    assert m["figure_sources"]["ad_spend"] == {"from": "events"} and m["ad_spend"] == 0.0
    assert platforms.requests_to(GMV_MAX_REPORT) == []


def test_an_advertiser_account_is_authorised_with_the_business_api_and_sealed(
    api_live: Api, platforms: FakePlatforms
) -> None:
    response = api_live.client.post(
        "/api/v1/connections/authorize",
        json={"platform": "tiktok_business", "name": "TT ads"},
        headers=api_live.headers("admin"),
    )
    assert response.status_code == 200, response.json
    url = urllib.parse.urlsplit(response.json["authorize_url"])
    query = dict(urllib.parse.parse_qsl(url.query))
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://business-api.tiktok.com/portal/auth"
    assert query["app_id"] == "tb-app"
    assert query["redirect_uri"] == (
        "https://livetally.example/api/v1/connections/callback/tiktok_business"
    )
    code = platforms.code_for(ADVERTISER)
    # the Business API sends the code back as auth_code
    answer = api_live.client.get(
        f"/api/v1/connections/callback/tiktok_business?auth_code={code}&state={query['state']}"
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["connection_id"] == f"tiktok_business:{ADVERTISER}"
    (exchange,) = platforms.requests_to("/open_api/v1.3/oauth2/access_token/")
    assert json.loads(exchange["body"]) == {
        "app_id": "tb-app",
        "secret": "tb-secret",
        "auth_code": code,
    }
    account = business(api_live)
    assert account.secrets["advertiser_ids"] == f"{ADVERTISER},{ADVERTISER}2"
    assert "refresh_token" not in account.secrets  # long-term: no refresh call exists
    assert account.access_expires_at is None
    (listed,) = api_live.get("/api/v1/connections", "admin").json["connections"]
    assert listed["state"] == "ok" and listed["secrets_set"] == ["access_token", "advertiser_ids"]
    with api_live.runtime.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM connection")).all()
    assert account.secrets["access_token"] not in str(rows)
    # the shop it spends for is added to the same connection, its token kept
    response = api_live.client.post(
        "/api/v1/connections",
        json={
            "platform": "tiktok_business",
            "account_id": ADVERTISER,
            "name": "TT ads",
            "secrets": {"shop_id": SHOP},
        },
        headers=api_live.headers("admin"),
    )
    assert response.status_code == 201, response.json
    assert business(api_live).secrets["access_token"] == account.secrets["access_token"]


def timeline(api: Api) -> dict[str, tuple[int, int, int]]:
    api.project_all()
    rows = api.get(f"/api/v1/sessions/{SESSION}/timeline").json["minutes"]
    return {
        r["minute"][11:16]: (r["joins"], r["clicks"], r["interactions"])
        for r in rows
        if "12:27" < r["minute"][11:16] < "12:40"
    }


FINAL = ("views", "unique_viewers", "watch_seconds", "product_clicks", "new_followers")


def test_per_minute_figures_after_the_end_draw_the_timeline_and_keep_the_final_figures(
    api_live: Api, platforms: FakePlatforms
) -> None:
    connect_shop(api_live, platforms)
    platforms.tiktok_lives[SHOP] = [
        live(views=900, comments=50, likes=400, shares=3, new_followers=8, product_clicks=120)
    ]
    pollers(api_live, NOW).poll_pass()
    session(api_live)
    # the LIVE ended at 12:32; the 12:33 poll closes the session and asks for its minutes,
    # which the platform does not have yet
    ended = live(views=2000, comments=100, likes=1000, shares=10, new_followers=20)
    ended["interaction_performance"]["product_clicks"] = 300
    ended["end_time"] = ENDED
    platforms.tiktok_lives[SHOP] = [ended]
    at = NOW + 3 * MINUTE_US
    assert pollers(api_live, at).poll_pass() == [f"tiktok_shop:{SHOP}: 1 rooms read, 2 events"]
    assert len(platforms.requests_to(MINUTES_PATH)) == 1
    before = session(api_live)
    assert before["status"] == "ended" and before["ended_at"] == "2026-12-06T12:32:00.000Z"
    assert timeline(api_live) == {
        "12:28": (0, 0, 0),
        "12:29": (0, 0, 0),
        "12:30": (900, 120, 461),  # 50 + 400 + 3 + 8
        "12:31": (0, 0, 0),
        "12:32": (0, 0, 0),
        "12:33": (1100, 180, 669),  # 50 + 600 + 7 + 12
    }
    # the minutes are ready; an hour after the end the poll asks again (paged: 2 a page)
    platforms.tiktok_minutes[LIVE] = fixture("pollers", "tiktok_minutes.json")[f"live_{LIVE}"]
    due_again(api_live, f"tiktok_shop:{SHOP}")
    hour = int(datetime(2026, 12, 6, 13, 32, tzinfo=UTC).timestamp() * 1e6)
    assert pollers(api_live, hour).poll_pass() == [
        f"tiktok_shop:{SHOP}: 1 rooms read, 1 events, 4 per-minute readings"
    ]
    pages = platforms.requests_to(MINUTES_PATH)[1:]
    assert [p["query"].get("page_token") for p in pages] == [None, "2"]
    after = session(api_live)
    assert timeline(api_live) == {
        "12:28": (300, 40, 103),
        "12:29": (500, 60, 205),
        "12:30": (700, 90, 357),
        "12:31": (400, 80, 307),
        "12:32": (0, 0, 0),
        "12:33": (100, 30, 158),
    }
    # the final figures are the last list reading's, as before the per-minute readings
    for name in FINAL:
        assert after["metrics"][name] == before["metrics"][name], name
    assert after["metrics"]["interactions"] == before["metrics"]["interactions"]
    assert (after["metrics"]["views"], after["metrics"]["interactions"]["comment"]) == (2000, 100)
    assert after["metrics"]["figure_sources"]["views"] == {
        "from": "reported",
        "source": "tiktok_shop_analytics",
        "as_of": "2026-12-06T13:32:00.000Z",
    }
    # the per-minute readings as stored: cumulative, at each minute's last microsecond,
    # comments left out (their sum is over the final count)
    events = api_live.get(f"/api/v1/events?stream=session-{SESSION}").json["events"]
    minutes = [e for e in events if e["data"].get("source") == "tiktok_shop_minutes"]
    assert [(e["occurred_at"], e["data"]["views"]) for e in minutes] == [
        ("2026-12-06T12:28:59.999999Z", 300),
        ("2026-12-06T12:29:59.999999Z", 800),
        ("2026-12-06T12:30:59.999999Z", 1500),
        ("2026-12-06T12:31:59.999999Z", 1900),
    ]
    assert all("comments" not in e["data"] for e in minutes)
    assert minutes[-1]["data"] == {
        "source": "tiktok_shop_minutes",
        "views": 1900,
        "product_clicks": 270,
        "likes": 900,
        "shares": 8,
        "new_followers": 14,
    }
    # stored: the next hour does not ask again; asked again anyway, nothing is stored twice
    stored = api_live.stored_count()
    due_again(api_live, f"tiktok_shop:{SHOP}")
    pollers(api_live, hour + 60 * MINUTE_US).poll_pass()
    assert len(platforms.requests_to(MINUTES_PATH)) == 3
    jobs = pollers(api_live, hour + 60 * MINUTE_US)
    connection = api_live.runtime.connectors.book.get(f"tiktok_shop:{SHOP}")
    assert connection is not None
    poller = jobs.pollers["tiktok_shop"](connection)
    assert isinstance(poller, MinuteSeries)
    (reading,) = poller.rooms(connection, hour)
    stored = api_live.stored_count()
    assert jobs.take_minutes(connection, poller, reading, hour, refetch=True) == 0
    assert len(platforms.requests_to(MINUTES_PATH)) == 5
    assert api_live.stored_count() == stored
