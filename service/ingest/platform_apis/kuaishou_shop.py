"""快手小店 (Kuaishou shop) open API: signed calls, order detail and the order cursor list, the
seller behind a token, and the OAuth code exchange and refresh. Success is `result` 1.

Call format (API调用说明, 文档ID 401853): `GET https://openapi.kwaixiaodian.com/<method with .
as />` with appkey, method, version=1, param (the business JSON), access_token, timestamp (ms),
signMethod=HMAC_SHA256 and sign: the sorted `k=v` pairs of those seven joined with `&`, then
`&signSecret=<signSecret>`, HMAC-SHA256 keyed with the signSecret, Base64. Amounts are integer
fen, times Unix milliseconds. Sources in docs/connectors.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from service.ingest.connectors.details import OrderLine, PlatformOrder
from service.ingest.connectors.errors import DeadLetter
from service.ingest.connectors.values import fen_of_integer, unix_time_us
from service.ingest.platform_apis.http import PlatformApiError, TokenGrant, call_json, new_client

BASE_URL = "https://openapi.kwaixiaodian.com"
AUTHORIZE_URL = "https://open.kwaixiaodian.com/oauth/authorize"
# merchant_order reads orders and receives order messages; merchant_user is the scope of the
# user APIs, open.user.seller.get among them: the seller id it gives is the connection's account
# (the `userId` every message names), which the token answer does not carry.
SCOPES = "merchant_order,merchant_user"
OK = 1
PAGE_SIZE = 50  # open.order.cursor.list: "最多一页50条"
MAX_WINDOW_MS = 7 * 86_400_000  # open.order.cursor.list: a range spans at most 7 days
NO_MORE = "nomore"  # the cursor that ends the list
ORDER_FAILED = 80  # orderBaseInfo.status 80 订单失败: cancelled orders end there
REFRESH_TOKEN_SECONDS = 180 * 86_400  # "refresh_token ... 默认为180天"
# OAuth 100200102 access_denied: "授权和后续API, 访问中出现任何的Token 错误都会返回这个异常".
ACCESS_DENIED = 100200102

T = TypeVar("T")


def sign(sign_secret: str, params: dict[str, str]) -> str:
    """HMAC_SHA256 sign of the seven signed parameters (sign itself excluded)."""
    signed = {k: v for k, v in params.items() if k != "sign"}
    plain = "&".join(f"{k}={signed[k]}" for k in sorted(signed)) + f"&signSecret={sign_secret}"
    digest = hmac.new(sign_secret.encode(), plain.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class KuaishouShopApi:
    app_key: str
    app_secret: str
    sign_secret: str
    base_url: str = BASE_URL
    client: httpx.Client = field(default_factory=new_client)

    def call(self, method: str, param: dict[str, Any], token: str) -> dict[str, Any]:
        if not self.sign_secret:
            raise PlatformApiError("no Kuaishou signSecret is configured (sign_secret)")
        params = {
            "access_token": token,
            "appkey": self.app_key,
            "method": method,
            "param": json.dumps(param, separators=(",", ":"), ensure_ascii=False),
            "signMethod": "HMAC_SHA256",
            "timestamp": str(int(time.time() * 1000)),
            "version": "1",
        }
        # Signed first, URL-encoded after ("先进行参数签名计算, 然后再对参数进行url encode").
        params["sign"] = sign(self.sign_secret, params)
        answer = call_json(
            self.client, "GET", f"{self.base_url}/{method.replace('.', '/')}", params=params
        )
        _check(method, answer)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise PlatformApiError(f"{method} answered no data object")
        return data

    def order(self, token: str, oid: str) -> PlatformOrder:
        method = "open.order.detail"
        data = self.call(method, {"oid": _oid(oid)}, token)
        return _parsed(method, lambda: parse_kuaishou_order(data))

    def orders_updated(
        self, token: str, start_ms: int, end_ms: int, cursor: str
    ) -> tuple[list[PlatformOrder], str | None]:
        """One page of the shop's orders updated in [start_ms, end_ms] (at most 7 days),
        oldest first; and the cursor of the next page, None at the end ("nomore")."""
        if end_ms - start_ms > MAX_WINDOW_MS:
            raise PlatformApiError("open.order.cursor.list: a window spans at most 7 days")
        method = "open.order.cursor.list"
        data = self.call(
            method,
            {
                "orderViewStatus": 1,  # all statuses
                "pageSize": PAGE_SIZE,
                "sort": 2,  # ascending
                "queryType": 2,  # by update time
                "beginTime": start_ms,
                "endTime": end_ms,
                "cpsType": 0,  # ordinary and distribution orders
                "cursor": cursor,
            },
            token,
        )
        listed = data.get("orderList") or []
        orders = _parsed(method, lambda: [parse_kuaishou_order(order) for order in listed])
        following = data.get("cursor")
        # An empty cursor would ask for the first page again: it ends the list as well.
        return orders, None if not following or following == NO_MORE else str(following)

    def seller(self, token: str) -> tuple[str, str | None]:
        """The seller id (the `userId` of every message) and name behind a token."""
        method = "open.user.seller.get"
        data = self.call(method, {}, token)

        def read() -> tuple[str, str | None]:
            seller_id = data["sellerId"]
            if isinstance(seller_id, bool) or not isinstance(seller_id, int | str):
                raise ValueError("sellerId is not an id")
            return str(seller_id), str(data["name"]) if data.get("name") else None

        return _parsed(method, read)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "app_id": self.app_key,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "response_type": "code",
            "state": state,
        }
        return f"{AUTHORIZE_URL}?{urllib.parse.urlencode(query)}"

    def create_token(self, code: str) -> TokenGrant:
        path = "/oauth2/access_token"
        answer = call_json(
            self.client,
            "GET",
            f"{self.base_url}{path}",
            params={
                "app_id": self.app_key,
                "grant_type": "code",
                "code": code,
                "app_secret": self.app_secret,
            },
        )
        return _grant(path, answer)

    def refresh_token(self, refresh_token: str) -> TokenGrant:
        """Each refresh gives a new refresh token; the old one stops working within minutes,
        so the new one must be stored."""
        path = "/oauth2/refresh_token"
        answer = call_json(
            self.client,
            "POST",
            f"{self.base_url}{path}",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "app_id": self.app_key,
                "app_secret": self.app_secret,
            },
        )
        return _grant(path, answer)


# -- parsers (pure: the recorded answers go through these) ----------------------------------


def parse_kuaishou_order(order: dict[str, Any]) -> PlatformOrder:
    """One order as open.order.detail (`data`) and open.order.cursor.list (`orderList[]`) give
    it: `orderBaseInfo` and its one `orderItemInfo`. A Kuaishou order holds one product, so it
    is one line; its amount is the order's `totalFee` (fen)."""
    try:
        base = order["orderBaseInfo"]
        item = order["orderItemInfo"]
        if not isinstance(item, dict):
            raise TypeError("orderItemInfo is not one object")
        product = str(item["itemId"])
        pay_time = base.get("payTime")
        cancelled = base.get("status") == ORDER_FAILED
        return PlatformOrder(
            order_ref=str(base["oid"]),
            buyer_ref=str(base["buyerOpenId"]),
            created_at_us=unix_time_us(base["createTime"], "createTime"),
            # An unpaid order answers payTime 0.
            paid_at_us=unix_time_us(pay_time, "payTime") if pay_time else None,
            lines=(
                OrderLine(
                    line_ref=product,
                    product_ref=product,
                    quantity=int(item["num"]),
                    amount_fen=fen_of_integer(base["totalFee"], "totalFee"),
                ),
            ),
            # No cancel time in the order: the update that failed it is the closest it says.
            cancelled_at_us=unix_time_us(base["updateTime"], "updateTime") if cancelled else None,
        )
    except DeadLetter:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"Kuaishou order unreadable: {exc!r}") from None


def _oid(oid: str) -> int | str:
    """The order id as the number the API takes (a string if it is not one)."""
    return int(oid) if oid.isascii() and oid.isdigit() else oid


def _check(api: str, answer: dict[str, Any]) -> None:
    result = answer.get("result")
    if result == OK:
        return
    message = str(
        answer.get("error_msg") or answer.get("sub_msg") or answer.get("msg") or answer.get("error")
    )[:200]
    lowered = message.lower()
    raise PlatformApiError(
        f"{api} answered result {result}: {message}",
        # "Exceed quota limit" / "Exceed qps limit" (FAQ K1008 API调用触发限流告警)
        rate_limited="exceed" in lowered and "limit" in lowered,
        # "鉴权失败" / "TOKEN过期" (FAQ K0004), OAuth 100200102 access_denied
        auth=result == ACCESS_DENIED or "token" in lowered or "鉴权" in message,
    )


def _grant(path: str, answer: dict[str, Any]) -> TokenGrant:
    _check(path, answer)
    now = time.time()
    try:
        expires_in = int(answer["expires_in"])  # seconds ("默认为172800, 即48小时")
        refresh_in = int(answer.get("refresh_token_expires_in") or REFRESH_TOKEN_SECONDS)
        return TokenGrant(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token") else None,
            access_expires_at=int((now + expires_in) * 1_000_000),
            refresh_expires_at=int((now + refresh_in) * 1_000_000),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"{path} answer unreadable: {exc!r}") from None


def _parsed(api: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except (PlatformApiError, DeadLetter):
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"{api} answer unreadable: {exc!r}") from None
