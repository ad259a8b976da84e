"""TikTok Shop open API (202309): signed calls, order detail and search, return search, token
get and refresh, authorised shops (for each shop's cipher). Success is `code` 0.

Signing: HMAC-SHA256 (hex) with the app secret of secret + path + sorted query key/values
(not sign, access_token) + body + secret; the token in `x-tts-access-token`. Sources in
docs/connectors.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx

from service.ingest.connectors.details import (
    PlatformOrder,
    PlatformRefund,
    parse_tiktok_order_object,
    parse_tiktok_refund,
)
from service.ingest.platform_apis.http import PlatformApiError, TokenGrant, call_json, new_client

API_URL = "https://open-api.tiktokglobalshop.com"
AUTH_URL = "https://auth.tiktok-shops.com"
AUTHORIZE_URL = "https://services.tiktokshop.com/open/authorize"
PAGE_SIZE = 100  # Get Order List: page_size 1-100


def sign(app_secret: str, path: str, params: dict[str, str], body: str) -> str:
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    plain = f"{app_secret}{path}{pairs}{body}{app_secret}"
    return hmac.new(app_secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


@dataclass
class TikTokShopApi:
    app_key: str
    app_secret: str
    base_url: str = API_URL
    auth_url: str = AUTH_URL
    client: httpx.Client = field(default_factory=new_client)

    def call(
        self,
        verb: str,
        path: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        token: str,
        cipher: str | None,
    ) -> dict[str, Any]:
        text = "" if body is None else json.dumps(body, separators=(",", ":"))
        query = {**params, "app_key": self.app_key, "timestamp": str(int(time.time()))}
        if cipher:
            query["shop_cipher"] = cipher
        query["sign"] = sign(self.app_secret, path, query, text)
        answer = call_json(
            self.client,
            verb,
            f"{self.base_url}{path}",
            params=query,
            content=text.encode() if body is not None else None,
            headers={"Content-Type": "application/json", "x-tts-access-token": token},
        )
        return _data(path, answer)

    def order(self, token: str, cipher: str | None, order_ref: str) -> PlatformOrder:
        data = self.call("GET", "/order/202309/orders", {"ids": order_ref}, None, token, cipher)
        return _parsed(
            path := "Get Order Detail",
            lambda: parse_tiktok_order_object(_only(data["orders"], path)),
        )

    def orders_updated(
        self, token: str, cipher: str | None, start_s: int, end_s: int, page_token: str | None
    ) -> tuple[list[PlatformOrder], str | None]:
        params = {"page_size": str(PAGE_SIZE), "sort_field": "update_time", "sort_order": "ASC"}
        if page_token:
            params["page_token"] = page_token
        data = self.call(
            "POST",
            "/order/202309/orders/search",
            params,
            {"update_time_ge": start_s, "update_time_lt": end_s},
            token,
            cipher,
        )
        orders = _parsed(
            "Get Order List",
            lambda: [parse_tiktok_order_object(order) for order in data.get("orders") or []],
        )
        return orders, data.get("next_page_token") or None

    def refund(self, token: str, cipher: str | None, return_ref: str) -> PlatformRefund:
        answer = self.call(
            "POST",
            "/return_refund/202309/returns/search",
            {},
            {"return_ids": [return_ref]},
            token,
            cipher,
        )
        return parse_tiktok_refund({"code": 0, "data": answer})

    def shops(self, token: str) -> list[dict[str, Any]]:
        data = self.call("GET", "/authorization/202309/shops", {}, None, token, None)
        return list(data.get("shops") or [])

    def authorize_url(self, service_id: str, state: str) -> str:
        return (
            f"{AUTHORIZE_URL}?{urllib.parse.urlencode({'service_id': service_id, 'state': state})}"
        )

    def create_token(self, code: str) -> TokenGrant:
        return self._token(
            "/api/v2/token/get", {"auth_code": code, "grant_type": "authorized_code"}
        )

    def refresh_token(self, refresh_token: str) -> TokenGrant:
        return self._token(
            "/api/v2/token/refresh", {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        )

    def _token(self, path: str, params: dict[str, str]) -> TokenGrant:
        answer = call_json(
            self.client,
            "GET",
            f"{self.auth_url}{path}",
            params={"app_key": self.app_key, "app_secret": self.app_secret, **params},
        )
        data = _data(path, answer)
        try:
            return TokenGrant(
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
                # Both are Unix timestamps (seconds) in TikTok's answer.
                access_expires_at=int(data["access_token_expire_in"]) * 1_000_000,
                refresh_expires_at=int(data["refresh_token_expire_in"]) * 1_000_000
                if data.get("refresh_token_expire_in")
                else None,
                account_id=str(data["open_id"]) if data.get("open_id") else None,
                name=str(data["seller_name"]) if data.get("seller_name") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformApiError(f"{path} answer unreadable: {exc!r}") from None


def _data(path: str, answer: dict[str, Any]) -> dict[str, Any]:
    code = answer.get("code")
    if code not in (0, None) or not isinstance(answer.get("data"), dict):
        message = str(answer.get("message"))[:200]
        raise PlatformApiError(
            f"{path} answered {code}: {message}",
            rate_limited="rate" in message.lower() and "limit" in message.lower(),
            auth="token" in message.lower(),
        )
    data: dict[str, Any] = answer["data"]
    return data


def _only(items: Any, api: str) -> Any:
    if not isinstance(items, list) or len(items) != 1:
        raise PlatformApiError(
            f"{api} answered {len(items) if isinstance(items, list) else 0} orders, not 1"
        )
    return items[0]


def _parsed(api: str, parse: Any) -> Any:
    try:
        return parse()
    except PlatformApiError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"{api} answer unreadable: {exc!r}") from None
