"""Order and refund details from the platforms' own APIs, behind one narrow interface.

A status change that carries no amount (every TikTok Shop webhook, Doudian's order created) is
completed from the platform's order detail API, as the platforms intend. `OrderDetails` is the
port: the HTTP clients here implement it for production, and tests replace it with recorded
responses run through the same parsers. When the API cannot answer, DetailUnavailable makes the
message a dead letter to retry: an amount is never guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from service.ingest.connectors.errors import DeadLetter, DetailUnavailable
from service.ingest.connectors.values import fen_of_decimal, fen_of_integer, unix_time_us

TIMEOUT_SECONDS = 3.0  # a push is answered within the platform's deadline (TikTok: 5 s)


@dataclass(frozen=True)
class OrderLine:
    """One product of a platform order: Doudian's SKU order, TikTok's line items of a product."""

    line_ref: str
    product_ref: str
    quantity: int
    amount_fen: int


@dataclass(frozen=True)
class PlatformOrder:
    order_ref: str
    buyer_ref: str
    created_at_us: int
    paid_at_us: int | None
    lines: tuple[OrderLine, ...]
    # TikTok: line item id -> line_ref (its product), for a return's line items
    line_of_item: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlatformRefund:
    refund_ref: str
    order_ref: str
    total_fen: int
    by_item: dict[str, int]  # line item id -> refunded fen (may be empty)


class OrderDetails(Protocol):
    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        """Raises DetailUnavailable."""

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        """Raises DetailUnavailable."""


class NoOrderDetails:
    """No platform API configured: every message that needs a detail waits as a dead letter."""

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        raise DetailUnavailable(f"no {platform} order API configured (access token)")

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        raise DetailUnavailable(f"no {platform} refund API configured (access token)")


# -- parsers of the platforms' answers (pure; the recorded fixtures go through these) --------


@contextmanager
def _answer_of(api: str, answer: dict[str, Any], ok: int, message_key: str) -> Iterator[None]:
    """An error code, or an answer missing what is read inside, is DetailUnavailable."""
    if answer.get("code") != ok:
        raise DetailUnavailable(
            f"{api} answered {answer.get('code')}: {str(answer.get(message_key))[:200]}"
        )
    try:
        yield
    except DeadLetter:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise DetailUnavailable(f"{api} answer unreadable: {exc!r}") from None


def parse_doudian_order(answer: dict[str, Any]) -> PlatformOrder:
    """order.orderDetail: {code: 10000, data: {shop_order_detail: {...}}}; amounts in fen."""
    with _answer_of("order.orderDetail", answer, 10000, "msg"):
        detail = answer["data"]["shop_order_detail"]
        lines = tuple(
            OrderLine(
                line_ref=str(sku["order_id"]),
                product_ref=str(sku["product_id"]),
                quantity=int(sku["item_num"]),
                amount_fen=fen_of_integer(sku["pay_amount"], "sku pay_amount"),
            )
            for sku in detail["sku_order_list"]
        )
        return PlatformOrder(
            order_ref=str(detail["order_id"]),
            buyer_ref=str(detail["doudian_open_id"]),
            created_at_us=unix_time_us(detail["create_time"], "create_time"),
            paid_at_us=unix_time_us(detail["pay_time"], "pay_time")
            if detail.get("pay_time")
            else None,
            lines=lines,
        )


def parse_tiktok_order(answer: dict[str, Any]) -> PlatformOrder:
    """GET /order/202309/orders: one line item per unit; grouped here by product."""
    with _answer_of("Get Order Detail", answer, 0, "message"):
        (order,) = answer["data"]["orders"]
        quantity: dict[str, int] = {}
        amount: dict[str, int] = {}
        line_of_item: dict[str, str] = {}
        for item in order["line_items"]:
            product = str(item["product_id"])
            quantity[product] = quantity.get(product, 0) + 1
            amount[product] = amount.get(product, 0) + fen_of_decimal(
                item["sale_price"], "line item sale_price"
            )
            line_of_item[str(item["id"])] = product
        return PlatformOrder(
            order_ref=str(order["id"]),
            buyer_ref=str(order["user_id"]),
            created_at_us=unix_time_us(order["create_time"], "create_time"),
            paid_at_us=unix_time_us(order["paid_time"], "paid_time")
            if order.get("paid_time")
            else None,
            lines=tuple(OrderLine(p, p, quantity[p], amount[p]) for p in quantity),
            line_of_item=line_of_item,
        )


def parse_tiktok_refund(answer: dict[str, Any]) -> PlatformRefund:
    """POST /return_refund/202309/returns/search for one return_id."""
    with _answer_of("Search Returns", answer, 0, "message"):
        (record,) = answer["data"]["return_orders"]
        by_item = {
            str(line["order_line_item_id"]): fen_of_decimal(
                line["refund_amount"]["refund_total"], "return line refund_total"
            )
            for line in record.get("return_line_items") or []
        }
        return PlatformRefund(
            refund_ref=str(record["return_id"]),
            order_ref=str(record["order_id"]),
            total_fen=fen_of_decimal(record["refund_amount"]["refund_total"], "refund_total"),
            by_item=by_item,
        )


# -- HTTP clients -----------------------------------------------------------------------------


def _fetch(request: urllib.request.Request) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            loaded = json.loads(answer.read(2_000_000))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DetailUnavailable(f"{request.full_url.split('?')[0]} unreachable: {exc}") from None
    if not isinstance(loaded, dict):
        raise DetailUnavailable("the detail API answered something other than an object")
    return loaded


def doudian_sign(
    app_key: str, app_secret: str, method: str, param_json: str, timestamp: str
) -> str:
    """Doudian open API v2, sign_method hmac-sha256: the secret around the sorted parameters."""
    plain = (
        f"{app_secret}app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v2{app_secret}"
    )
    return hmac.new(app_secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


def tiktok_sign(app_secret: str, path: str, params: dict[str, str], body: str) -> str:
    """TikTok Shop open API: secret + path + sorted key/values (not sign, access_token) + body
    + secret, HMAC-SHA256 with the secret, hex."""
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    plain = f"{app_secret}{path}{pairs}{body}{app_secret}"
    return hmac.new(app_secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


@dataclass
class HttpOrderDetails:
    """The platforms' detail APIs over HTTPS (base URLs overridable for a proxy or a test)."""

    doudian_app_key: str | None = None
    doudian_app_secret: str | None = None
    doudian_access_token: str | None = None
    doudian_base_url: str = "https://openapi-fxg.jinritemai.com"
    tiktok_app_key: str | None = None
    tiktok_app_secret: str | None = None
    tiktok_access_token: str | None = None
    tiktok_shop_cipher: str | None = None
    tiktok_base_url: str = "https://open-api.tiktokglobalshop.com"

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        if platform == "doudian":
            return parse_doudian_order(
                self._doudian("order.orderDetail", {"shop_order_id": order_ref})
            )
        path = "/order/202309/orders"
        return parse_tiktok_order(self._tiktok("GET", path, {"ids": order_ref}, ""))

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        if platform != "tiktok_shop":
            raise DetailUnavailable(f"{platform} refunds carry their amount; no API is asked")
        body = json.dumps({"return_ids": [refund_ref]}, separators=(",", ":"))
        return parse_tiktok_refund(
            self._tiktok("POST", "/return_refund/202309/returns/search", {}, body)
        )

    def _doudian(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        key, secret, token = (
            self.doudian_app_key,
            self.doudian_app_secret,
            self.doudian_access_token,
        )
        if not (key and secret and token):
            raise DetailUnavailable("no doudian order API configured (access token)")
        param_json = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        timestamp = str(int(time.time()))
        query = {
            "app_key": key,
            "method": method,
            "v": "2",
            "timestamp": timestamp,
            "access_token": token,
            "sign_method": "hmac-sha256",
            "sign": doudian_sign(key, secret, method, param_json, timestamp),
        }
        url = f"{self.doudian_base_url}/{method.replace('.', '/')}?{urllib.parse.urlencode(query)}"
        return _fetch(
            urllib.request.Request(
                url,
                data=param_json.encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
        )

    def _tiktok(self, verb: str, path: str, params: dict[str, str], body: str) -> dict[str, Any]:
        key, secret, token = self.tiktok_app_key, self.tiktok_app_secret, self.tiktok_access_token
        if not (key and secret and token):
            raise DetailUnavailable("no tiktok_shop order API configured (access token)")
        query = {**params, "app_key": key, "timestamp": str(int(time.time()))}
        if self.tiktok_shop_cipher:
            query["shop_cipher"] = self.tiktok_shop_cipher
        query["sign"] = tiktok_sign(secret, path, query, body)
        url = f"{self.tiktok_base_url}{path}?{urllib.parse.urlencode(query)}"
        return _fetch(
            urllib.request.Request(
                url,
                data=body.encode() if verb == "POST" else None,
                method=verb,
                headers={"Content-Type": "application/json", "x-tts-access-token": token},
            )
        )
