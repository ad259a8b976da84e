"""抖店 open API: signed calls, order detail and order search, token create and refresh.

Gateway `https://openapi-fxg.jinritemai.com`, URL `/{method with . as /}`, query app_key, method,
v=2, timestamp, sign_method=hmac-sha256, sign, access_token; body param_json (keys sorted).
Success is `code` 10000. Sources in docs/connectors.md.
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

from service.ingest.connectors.details import PlatformOrder, parse_doudian_shop_order
from service.ingest.platform_apis.http import PlatformApiError, TokenGrant, call_json, new_client

BASE_URL = "https://openapi-fxg.jinritemai.com"
AUTHORIZE_URL = "https://fuwu.jinritemai.com/authorize"
OK = 10000
PAGE_SIZE = 100  # order.searchList: size at most 100, pages from 0
# Doudian answers these codes for a token it does not accept (isv.access-token-* family);
# any other error code is reported as it is.
EXPIRES_IN_IS_DURATION_BELOW = 10**9


def sign(app_key: str, app_secret: str, method: str, param_json: str, timestamp: str) -> str:
    """v2, hmac-sha256: the secret around app_key, method, param_json, timestamp, v."""
    plain = (
        f"{app_secret}app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v2{app_secret}"
    )
    return hmac.new(app_secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


@dataclass
class DoudianApi:
    app_key: str
    app_secret: str
    base_url: str = BASE_URL
    client: httpx.Client = field(default_factory=new_client)

    def call(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        param_json = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        timestamp = str(int(time.time()))
        query = {
            "app_key": self.app_key,
            "method": method,
            "v": "2",
            "timestamp": timestamp,
            "sign_method": "hmac-sha256",
            "sign": sign(self.app_key, self.app_secret, method, param_json, timestamp),
        }
        if token is not None:
            query["access_token"] = token
        answer = call_json(
            self.client,
            "POST",
            f"{self.base_url}/{method.replace('.', '/')}",
            params=query,
            content=param_json.encode(),
            headers={"Content-Type": "application/json"},
        )
        if answer.get("code") != OK:
            text = str(answer.get("sub_msg") or answer.get("msg"))[:200]
            raise PlatformApiError(
                f"{method} answered {answer.get('code')}: {text}",
                rate_limited="limit" in text.lower() or "频" in text,
                auth="token" in text.lower(),
            )
        data = answer.get("data")
        if not isinstance(data, dict):
            raise PlatformApiError(f"{method} answered no data object")
        return data

    def order(self, token: str, order_ref: str) -> PlatformOrder:
        data = self.call("order.orderDetail", {"shop_order_id": order_ref}, token)
        return _parsed(
            "order.orderDetail", lambda: parse_doudian_shop_order(data["shop_order_detail"])
        )

    def orders_updated(
        self, token: str, start_s: int, end_s: int, page: int
    ) -> tuple[list[PlatformOrder], bool]:
        """One page of the shop's orders updated in [start_s, end_s], oldest first; and whether
        another page follows."""
        data = self.call(
            "order.searchList",
            {
                "update_time_start": start_s,
                "update_time_end": end_s,
                "order_by": "update_time",
                "order_asc": True,
                "page": page,
                "size": PAGE_SIZE,
            },
            token,
        )
        listed = data.get("shop_order_list") or []
        orders = _parsed(
            "order.searchList", lambda: [parse_doudian_shop_order(item) for item in listed]
        )
        total = data.get("total")
        more = isinstance(total, int) and (page + 1) * PAGE_SIZE < total
        return orders, more

    def authorize_url(self, service_id: str, state: str) -> str:
        return (
            f"{AUTHORIZE_URL}?{urllib.parse.urlencode({'service_id': service_id, 'state': state})}"
        )

    def create_token(self, code: str) -> TokenGrant:
        return _grant(
            self.call("token.create", {"code": code, "grant_type": "authorization_code"}, None)
        )

    def refresh_token(self, refresh_token: str) -> TokenGrant:
        return _grant(
            self.call(
                "token.refresh",
                {"refresh_token": refresh_token, "grant_type": "refresh_token"},
                None,
            )
        )


def _grant(data: dict[str, Any]) -> TokenGrant:
    now = time.time()
    try:
        expires_in = int(data["expires_in"])
        # The SDKs disagree: a lifetime in seconds (7 days by default) or an expiry timestamp.
        access_expires = (
            expires_in + now if expires_in < EXPIRES_IN_IS_DURATION_BELOW else expires_in
        )
        return TokenGrant(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            access_expires_at=int(access_expires * 1_000_000),
            # token.create's description of refresh_token: valid 14 days
            refresh_expires_at=int((now + 14 * 86400) * 1_000_000),
            account_id=str(data["shop_id"]) if data.get("shop_id") is not None else None,
            name=str(data["shop_name"]) if data.get("shop_name") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"token answer unreadable: {exc!r}") from None


def _parsed(api: str, parse: Any) -> Any:
    try:
        return parse()
    except PlatformApiError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"{api} answer unreadable: {exc!r}") from None
