"""The WeChat 小店 and Kuaishou API clients and shop adapters against recorded answers served
by respx: each request is made as the platforms document (paths, bodies, Kuaishou's signature
computed here independently), the answers are parsed, lists are paged to their end, and error
answers are PlatformApiError with what they mean (an expired token, a rate limit)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from service.ingest.connections.adapters import KuaishouShop, WeChatShop
from service.ingest.connections.adapters import kuaishou_shop as _kuaishou
from service.ingest.connections.adapters import wechat_shop as _wechat
from service.ingest.connections.store import Connection
from service.ingest.connectors.base import App
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.kuaishou_shop import KuaishouShopApi
from service.ingest.platform_apis.wechat_shop import WeChatShopApi

FIXTURES = Path(__file__).parent.parent / "fixtures" / "connectors"
WX_URL = "https://wx.test"
KS_URL = "https://ks.test"
SIGN_SECRET = "ks-sign-secret-31c"


def fixture(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


WX = fixture("wechat_shop", "api_answers.json")
KS = fixture("kuaishou_shop", "api_answers.json")


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def connection(platform: str, **secrets: str) -> Connection:
    return Connection(
        connection_id=f"{platform}:acct",
        platform=platform,
        account_id="acct",
        name="shop",
        secrets=secrets,
        access_expires_at=int((time.time() + 3600) * 1_000_000),
    )


def wechat_shop() -> WeChatShop:
    return WeChatShop(WeChatShopApi("wx-appid", "wx-secret", WX_URL, httpx.Client()))


def kuaishou_shop() -> KuaishouShop:
    api = KuaishouShopApi("ks699183844582124027", "ks-secret", SIGN_SECRET, KS_URL, httpx.Client())
    return KuaishouShop(api, "https://livetally.test/api/v1/connections/callback/kuaishou_shop")


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def kuaishou_order_data(reference: object) -> Any:
    """A cursor page's '@<oid>' entry: that order in the detail's shape."""
    return KS["orders"][str(reference).removeprefix("@")]["data"]


# -- WeChat 小店 --------------------------------------------------------------------------


def test_wechat_stable_token_is_asked_with_the_apps_credentials(mock: respx.MockRouter) -> None:
    route = mock.post(f"{WX_URL}/cgi-bin/stable_token").respond(json=WX["stable_token"])
    before = time.time()
    grant = wechat_shop().refresh(connection("wechat_shop"))
    assert body_of(route.calls.last.request) == {
        "grant_type": "client_credential",
        "appid": "wx-appid",
        "secret": "wx-secret",
        "force_refresh": False,
    }
    assert (grant.access_token, grant.refresh_token, grant.account_id) == (
        "ACCESS_TOKEN_1",
        None,
        "wx-appid",
    )
    assert grant.access_expires_at is not None
    assert (before + 7200) * 1e6 <= grant.access_expires_at <= (time.time() + 7200) * 1e6


def test_wechat_order_detail_is_asked_with_the_token_and_parsed(mock: respx.MockRouter) -> None:
    route = mock.post(f"{WX_URL}/channels/ec/order/get").respond(
        json=WX["orders"]["3705115058471208928"]
    )
    order = wechat_shop().order(connection("wechat_shop", access_token="T1"), "3705115058471208928")
    request = route.calls.last.request
    assert request.url.params["access_token"] == "T1"
    assert body_of(request) == {"order_id": "3705115058471208928"}
    assert [(x.line_ref, x.quantity, x.amount_fen) for x in order.lines] == [
        ("10000051234567", 3, 5850),
        ("10000059999999", 1, 990),
    ]
    assert mock.calls.call_count == 1  # the stored token was still valid: no token call


def test_wechat_connection_without_a_valid_token_gets_a_stable_one(
    mock: respx.MockRouter,
) -> None:
    mock.post(f"{WX_URL}/cgi-bin/stable_token").respond(json=WX["stable_token"])
    route = mock.post(f"{WX_URL}/channels/ec/order/get").respond(
        json=WX["orders"]["3705115058471208930"]
    )
    expired = Connection(
        "wechat_shop:acct",
        "wechat_shop",
        "acct",
        "shop",
        secrets={"access_token": "OLD"},
        access_expires_at=int((time.time() - 60) * 1_000_000),
    )
    wechat_shop().order(expired, "3705115058471208930")
    assert route.calls.last.request.url.params["access_token"] == "ACCESS_TOKEN_1"


def test_wechat_orders_updated_pages_by_next_key_and_reads_each_order(
    mock: respx.MockRouter,
) -> None:
    listed = mock.post(f"{WX_URL}/channels/ec/order/list/get").mock(
        side_effect=[httpx.Response(200, json=page) for page in WX["order_list_pages"]]
    )

    def detail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=WX["orders"][body_of(request)["order_id"]])

    mock.post(f"{WX_URL}/channels/ec/order/get").mock(side_effect=detail)
    orders = list(
        wechat_shop().orders_updated(
            connection("wechat_shop", access_token="T1"), 1658505600, 1658592000
        )
    )
    assert [o.order_ref for o in orders] == [
        "3705115058471208928",
        "3705115058471208930",
        "3705115058471208931",
    ]
    first, second = (body_of(call.request) for call in listed.calls)
    assert first == {
        "update_time_range": {"start_time": 1658505600, "end_time": 1658592000},
        "page_size": 100,
    }
    assert second["next_key"] == "NEXT_KEY_1"


def test_wechat_after_sale_detail_is_read_by_its_id(mock: respx.MockRouter) -> None:
    route = mock.post(f"{WX_URL}/channels/ec/aftersale/getaftersaleorder").respond(
        json=WX["aftersales"]["4000000000000000001"]
    )
    refund = wechat_shop().refund(
        connection("wechat_shop", access_token="T1"), "3705115058471208928", "4000000000000000001"
    )
    assert body_of(route.calls.last.request) == {"after_sale_order_id": "4000000000000000001"}
    assert (refund.total_fen, refund.by_item) == (2250, {"10000051234567": 2250})


@pytest.mark.parametrize(
    ("answer", "auth", "rate_limited"),
    [("expired_token", True, False), ("rate_limited", False, True), ("other", False, False)],
)
def test_wechat_error_codes_are_platform_api_errors(
    mock: respx.MockRouter, answer: str, auth: bool, rate_limited: bool
) -> None:
    mock.post(f"{WX_URL}/channels/ec/order/get").respond(json=WX["errors"][answer])
    with pytest.raises(PlatformApiError) as caught:
        wechat_shop().order(connection("wechat_shop", access_token="T1"), "1")
    assert (caught.value.auth, caught.value.rate_limited) == (auth, rate_limited)
    assert str(WX["errors"][answer]["errcode"]) in caught.value.detail


# -- Kuaishou 快手小店 --------------------------------------------------------------------


def documented_sign(query: dict[str, str]) -> str:
    """API调用说明: sorted k=v of the signed parameters joined by &, then &signSecret=...,
    HMAC-SHA256 keyed with the signSecret, Base64."""
    signed = {k: v for k, v in query.items() if k != "sign"}
    plain = "&".join(f"{k}={signed[k]}" for k in sorted(signed)) + f"&signSecret={SIGN_SECRET}"
    return base64.b64encode(
        hmac.new(SIGN_SECRET.encode(), plain.encode(), hashlib.sha256).digest()
    ).decode()


def test_kuaishou_order_detail_is_signed_as_documented(mock: respx.MockRouter) -> None:
    route = mock.get(f"{KS_URL}/open/order/detail").respond(json=KS["orders"]["2607602240240301"])
    order = kuaishou_shop().order(
        connection("kuaishou_shop", access_token="KT"), "2607602240240301"
    )
    query = dict(route.calls.last.request.url.params)
    assert set(query) == {
        "access_token",
        "appkey",
        "method",
        "param",
        "signMethod",
        "timestamp",
        "version",
        "sign",
    }
    assert (query["access_token"], query["appkey"], query["method"], query["version"]) == (
        "KT",
        "ks699183844582124027",
        "open.order.detail",
        "1",
    )
    assert query["param"] == '{"oid":2607602240240301}'
    assert query["signMethod"] == "HMAC_SHA256"
    assert abs(int(query["timestamp"]) - time.time() * 1000) < 60_000  # milliseconds
    assert query["sign"] == documented_sign(query)
    assert (order.order_ref, order.lines[0].amount_fen) == ("2607602240240301", 9900)


def test_kuaishou_cursor_list_is_paged_until_nomore(mock: respx.MockRouter) -> None:
    pages = [
        {
            **page,
            "data": {
                **page["data"],
                "orderList": [kuaishou_order_data(o) for o in page["data"]["orderList"]],
            },
        }
        for page in KS["cursor_pages"]
    ]
    route = mock.get(f"{KS_URL}/open/order/cursor/list").mock(
        side_effect=[httpx.Response(200, json=page) for page in pages]
    )
    orders = list(
        kuaishou_shop().orders_updated(
            connection("kuaishou_shop", access_token="KT"), 1773705600, 1773792000
        )
    )
    assert [o.order_ref for o in orders] == [
        "2607602240240301",
        "2607602240240303",
        "2607602240240302",
    ]
    params = [json.loads(call.request.url.params["param"]) for call in route.calls]
    assert params[0] == {
        "orderViewStatus": 1,
        "pageSize": 50,
        "sort": 2,
        "queryType": 2,
        "beginTime": 1773705600000,
        "endTime": 1773792000000,
        "cpsType": 0,
        "cursor": "",
    }
    assert params[1]["cursor"] == "1773750960000_2607602240240301"
    for call in route.calls:
        assert call.request.url.params["sign"] == documented_sign(dict(call.request.url.params))


def test_kuaishou_windows_over_seven_days_are_split(mock: respx.MockRouter) -> None:
    route = mock.get(f"{KS_URL}/open/order/cursor/list").respond(
        json={"result": 1, "data": {"cursor": "nomore", "orderList": []}}
    )
    start = 1773705600
    list(
        kuaishou_shop().orders_updated(
            connection("kuaishou_shop", access_token="KT"), start, start + 10 * 86_400
        )
    )
    windows = [
        (p["beginTime"], p["endTime"])
        for p in (json.loads(c.request.url.params["param"]) for c in route.calls)
    ]
    assert windows == [
        (start * 1000, (start + 7 * 86_400) * 1000),
        ((start + 7 * 86_400) * 1000, (start + 10 * 86_400) * 1000),
    ]


def test_kuaishou_code_exchange_names_the_seller_and_refresh_replaces_the_refresh_token(
    mock: respx.MockRouter,
) -> None:
    token = mock.get(f"{KS_URL}/oauth2/access_token").respond(json=KS["token"])
    seller = mock.get(f"{KS_URL}/open/user/seller/get").respond(json=KS["seller"])
    refreshed = mock.post(f"{KS_URL}/oauth2/refresh_token").respond(json=KS["refreshed"])
    shop = kuaishou_shop()
    grant = shop.exchange_code("CODE-1")
    assert dict(token.calls.last.request.url.params) == {
        "app_id": "ks699183844582124027",
        "grant_type": "code",
        "code": "CODE-1",
        "app_secret": "ks-secret",
    }
    assert seller.calls.last.request.url.params["access_token"] == "ACCESS_TOKEN_KS_1"
    assert (grant.account_id, grant.name, grant.refresh_token) == (
        "2161524184",
        "杯子小店",
        "REFRESH_TOKEN_KS_1",
    )
    assert grant.access_expires_at is not None
    assert abs(grant.access_expires_at - (time.time() + 172_800) * 1e6) < 60e6
    again = shop.refresh(connection("kuaishou_shop", refresh_token="REFRESH_TOKEN_KS_1"))
    assert dict(urllib.parse.parse_qsl(refreshed.calls.last.request.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "REFRESH_TOKEN_KS_1",
        "app_id": "ks699183844582124027",
        "app_secret": "ks-secret",
    }
    assert (again.access_token, again.refresh_token) == ("ACCESS_TOKEN_KS_2", "REFRESH_TOKEN_KS_2")
    assert again.refresh_expires_at is not None
    assert abs(again.refresh_expires_at - (time.time() + 15_552_000) * 1e6) < 60e6


def test_kuaishou_authorize_url_carries_the_app_scopes_and_state() -> None:
    url = urllib.parse.urlsplit(kuaishou_shop().authorize_url("S-1"))
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "open.kwaixiaodian.com",
        "/oauth/authorize",
    )
    assert dict(urllib.parse.parse_qsl(url.query)) == {
        "app_id": "ks699183844582124027",
        "redirect_uri": "https://livetally.test/api/v1/connections/callback/kuaishou_shop",
        "scope": "merchant_order,merchant_user",
        "response_type": "code",
        "state": "S-1",
    }


def test_kuaishou_error_answers_are_platform_api_errors(mock: respx.MockRouter) -> None:
    mock.post(f"{KS_URL}/oauth2/refresh_token").respond(json=KS["errors"]["refresh_discarded"])
    mock.get(f"{KS_URL}/open/order/detail").respond(json=KS["errors"]["rate_limited"])
    shop = kuaishou_shop()
    with pytest.raises(PlatformApiError) as refused:
        shop.refresh(connection("kuaishou_shop", refresh_token="USED"))
    assert (refused.value.auth, refused.value.rate_limited) == (True, False)
    assert "refreshToken.discarded" in refused.value.detail
    with pytest.raises(PlatformApiError) as limited:
        shop.order(connection("kuaishou_shop", access_token="KT"), "2607602240240301")
    assert (limited.value.auth, limited.value.rate_limited) == (False, True)


def test_factories_take_the_base_url_overrides() -> None:
    wx = _wechat(App("wechat_shop", "wx", "s"), {"wechat_shop_api_url": WX_URL})
    ks = _kuaishou(
        App("kuaishou_shop", "ks", "s", {"sign_secret": "x"}),
        {"kuaishou_shop_api_url": KS_URL, "kuaishou_redirect_uri": "https://r.test/cb"},
    )
    assert (wx.api.base_url, ks.api.base_url, ks.api.sign_secret, ks.redirect_uri) == (
        WX_URL,
        KS_URL,
        "x",
        "https://r.test/cb",
    )
    assert _wechat(App("wechat_shop", "wx", "s"), {}).api.base_url == "https://api.weixin.qq.com"
    assert _kuaishou(App("kuaishou_shop", "ks", "s"), {}).api.base_url == (
        "https://openapi.kwaixiaodian.com"
    )
