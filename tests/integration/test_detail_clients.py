"""The platforms' API clients, with respx standing in for the network: each request is signed
as the platform documents (checked here with the documents' own recipe, not livetally's code),
the recorded answers are parsed, and an error answer, a rate limit or an unreachable host is a
PlatformApiError, never an amount."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse

import httpx
import pytest
import respx

from service.ingest.platform_apis.doudian import DoudianApi
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.qianchuan import QianchuanApi
from service.ingest.platform_apis.tiktok_shop import TikTokShopApi
from tests.connector_support import fixture

DD = "https://dd.test"
TT = "https://tt.test"


def doudian_expected_sign(query: dict[str, str], body: str, secret: str) -> str:
    plain = (
        f"{secret}app_key{query['app_key']}method{query['method']}param_json{body}"
        f"timestamp{query['timestamp']}v{query['v']}{secret}"
    )
    return hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


def tiktok_expected_sign(path: str, query: dict[str, str], body: str, secret: str) -> str:
    pairs = "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
    return hmac.new(
        secret.encode(), f"{secret}{path}{pairs}{body}{secret}".encode(), hashlib.sha256
    ).hexdigest()


def query_of(request: httpx.Request) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(request.url.query.decode()))


@respx.mock
def test_doudian_order_detail_is_signed_and_parsed() -> None:
    answer = fixture("doudian", "order_details.json")["answers"]["4810000000000000021"]
    route = respx.post(f"{DD}/order/orderDetail").mock(
        return_value=httpx.Response(200, json=answer)
    )
    order = DoudianApi("k", "s", base_url=DD).order("t", "4810000000000000021")
    assert [(x.line_ref, x.amount_fen, x.quantity) for x in order.lines] == [
        ("4810000000000000022", 10000, 2),
        ("4810000000000000023", 5800, 1),
    ]
    request = route.calls.last.request
    query, body = query_of(request), request.content.decode()
    assert (query["method"], query["access_token"], query["sign_method"], query["v"]) == (
        "order.orderDetail",
        "t",
        "hmac-sha256",
        "2",
    )
    assert body == '{"shop_order_id":"4810000000000000021"}'
    assert query["sign"] == doudian_expected_sign(query, body, "s")


@respx.mock
def test_doudian_order_search_pages_oldest_first_and_token_refresh() -> None:
    detail = fixture("doudian", "order_details.json")["answers"]["4810000000000000001"]
    listed = {
        "code": 10000,
        "msg": "success",
        "data": {
            "page": 0,
            "size": 100,
            "total": 101,
            "shop_order_list": [detail["data"]["shop_order_detail"]],
        },
    }
    route = respx.post(f"{DD}/order/searchList").mock(return_value=httpx.Response(200, json=listed))
    orders, more = DoudianApi("k", "s", base_url=DD).orders_updated("t", 100, 200, 0)
    assert [o.order_ref for o in orders] == ["4810000000000000001"] and more
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "order_asc": True,
        "order_by": "update_time",
        "page": 0,
        "size": 100,
        "update_time_end": 200,
        "update_time_start": 100,
    }
    refreshed = {
        "code": 10000,
        "msg": "success",
        "data": {
            "access_token": "new",
            "expires_in": 604800,
            "refresh_token": "rt2",
            "shop_id": 95250,
        },
    }
    token_route = respx.post(f"{DD}/token/refresh").mock(
        return_value=httpx.Response(200, json=refreshed)
    )
    grant = DoudianApi("k", "s", base_url=DD).refresh_token("rt1")
    assert (grant.access_token, grant.refresh_token, grant.account_id) == ("new", "rt2", "95250")
    assert "access_token" not in query_of(token_route.calls.last.request)  # token.* calls


@respx.mock
def test_tiktok_order_and_return_details_are_signed_and_parsed() -> None:
    order_answer = fixture("tiktok_shop", "order_details.json")["answers"]["576461413038785752"]
    return_answer = fixture("tiktok_shop", "return_details.json")["answers"]["4035318504086278195"]
    get = respx.get(f"{TT}/order/202309/orders").mock(
        return_value=httpx.Response(200, json=order_answer)
    )
    post = respx.post(f"{TT}/return_refund/202309/returns/search").mock(
        return_value=httpx.Response(200, json=return_answer)
    )
    api = TikTokShopApi("k", "s", base_url=TT)
    order = api.order("t", "c", "576461413038785752")
    assert [(x.product_ref, x.quantity, x.amount_fen) for x in order.lines] == [
        ("1729385432345", 2, 5000),
        ("1729385432999", 1, 990),
    ]
    refund = api.refund("t", "c", "4035318504086278195")
    assert (refund.total_fen, refund.by_item) == (2500, {"577087614418520001": 2500})
    request = get.calls.last.request
    assert request.headers["x-tts-access-token"] == "t"
    query = query_of(request)
    assert query["shop_cipher"] == "c"
    assert query["sign"] == tiktok_expected_sign("/order/202309/orders", query, "", "s")
    request = post.calls.last.request
    body = request.content.decode()
    assert body == '{"return_ids":["4035318504086278195"]}'
    query = query_of(request)
    assert query["sign"] == tiktok_expected_sign(
        "/return_refund/202309/returns/search", query, body, "s"
    )


@respx.mock
def test_errors_rate_limits_and_unreachable_hosts_are_platform_api_errors() -> None:
    respx.post(f"{DD}/order/orderDetail").mock(
        return_value=httpx.Response(200, json={"code": 40003, "msg": "access_token 已过期"})
    )
    with pytest.raises(PlatformApiError, match="40003"):
        DoudianApi("k", "s", base_url=DD).order("t", "1")
    respx.get(f"{TT}/order/202309/orders").mock(return_value=httpx.Response(429))
    with pytest.raises(PlatformApiError) as limited:
        TikTokShopApi("k", "s", base_url=TT).order("t", "c", "1")
    assert limited.value.rate_limited
    respx.get("https://down.test/order/202309/orders").mock(
        side_effect=httpx.ConnectError("refused")
    )
    with pytest.raises(PlatformApiError, match="unreachable"):
        TikTokShopApi("k", "s", base_url="https://down.test").order("t", "c", "1")


@respx.mock
def test_qianchuan_authorise_url_and_token_exchange() -> None:
    api = QianchuanApi("1700000000000000", "qc-secret", base_url="https://qc.test")
    url = api.authorize_url(
        "st-1", "https://livetally.example/api/v1/connections/callback/qianchuan"
    )
    assert url.startswith("https://qianchuan.jinritemai.com/openapi/qc/audit/oauth.html?")
    query = dict(urllib.parse.parse_qsl(url.split("?", 1)[1]))
    assert (query["app_id"], query["state"], query["material_auth"]) == (
        "1700000000000000",
        "st-1",
        "1",
    )
    answer = {
        "code": 0,
        "message": "OK",
        "data": {
            "access_token": "qc-at",
            "expires_in": 86400,
            "refresh_token": "qc-rt",
            "refresh_token_expires_in": 2592000,
            "advertiser_ids": [1760000000000001, 1760000000000002],
        },
    }
    route = respx.post("https://qc.test/open_api/oauth2/access_token/").mock(
        return_value=httpx.Response(200, json=answer)
    )
    grant = api.create_token("code-1")
    assert (grant.access_token, grant.refresh_token, grant.account_id) == (
        "qc-at",
        "qc-rt",
        "1760000000000001",
    )
    assert grant.extra == {"advertiser_ids": "1760000000000001,1760000000000002"}
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "app_id": 1700000000000000,
        "secret": "qc-secret",
        "auth_code": "code-1",
        "grant_type": "auth_code",
    }
    respx.post("https://qc.test/open_api/oauth2/refresh_token/").mock(
        return_value=httpx.Response(
            200, json={"code": 40102, "message": "refresh_token 已过期", "data": {}}
        )
    )
    with pytest.raises(PlatformApiError) as refused:
        api.refresh_token("old")
    assert refused.value.auth
