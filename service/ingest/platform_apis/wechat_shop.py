"""微信小店 (WeChat Channels shop) API: the stable access token, order detail, orders updated in
a window, and after-sale detail. Success is `errcode` 0 (or no errcode at all).

A 小店 is not authorised through OAuth: its own appid and appsecret get an access token from
`POST /cgi-bin/stable_token` (valid "7200 s at most", no refresh token), and every call carries
it as the `access_token` query parameter with a JSON body. Amounts are integer fen (分), times
Unix seconds. Sources in docs/connectors.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from service.ingest.connectors.details import OrderLine, PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import DeadLetter
from service.ingest.connectors.values import fen_of_integer, unix_time_us
from service.ingest.platform_apis.http import PlatformApiError, TokenGrant, call_json, new_client

BASE_URL = "https://api.weixin.qq.com"
PAGE_SIZE = 100  # order/list/get: page_size "不超过100"
MAX_WINDOW_SECONDS = 7 * 86_400  # order/list/get: a time range spans at most 7 days
# Order status: 250 cancelled by the buyer, on payment timeout or by the seller; 200 cancelled
# after every product's after-sale; 190 cancelled by the seller for overselling
# (WxJava WxOrderStatus).
CANCELLED_STATUSES = frozenset({250, 200, 190})
# Global WeChat API error codes (WxJava WxMaErrorMsgEnum): 40001 "access_token 无效或 AppSecret
# 错误", 42001 "access_token 过期", 45009 "调用分钟频率受限".
AUTH_ERRORS = frozenset({40001, 42001})
RATE_LIMITED = 45009

T = TypeVar("T")


@dataclass
class WeChatShopApi:
    appid: str
    secret: str
    base_url: str = BASE_URL
    client: httpx.Client = field(default_factory=new_client)

    def access_token(self) -> TokenGrant:
        """A stable access token from the app's own credentials. Without force_refresh the
        platform answers the token still valid (it renews it 5 minutes early), so asking again
        never invalidates a token another worker holds."""
        path = "/cgi-bin/stable_token"
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.secret,
            "force_refresh": False,
        }
        answer = call_json(
            self.client,
            "POST",
            f"{self.base_url}{path}",
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )
        _check(path, answer)
        try:
            expires_in = int(answer["expires_in"])  # seconds from now
            return TokenGrant(
                access_token=str(answer["access_token"]),
                refresh_token=None,
                access_expires_at=int((time.time() + expires_in) * 1_000_000),
                refresh_expires_at=None,
                account_id=self.appid,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformApiError(f"{path} answer unreadable: {exc!r}") from None

    def call(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        answer = call_json(
            self.client,
            "POST",
            f"{self.base_url}{path}",
            params={"access_token": token},
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )
        _check(path, answer)
        return answer

    def order(self, token: str, order_id: str) -> PlatformOrder:
        path = "/channels/ec/order/get"
        answer = self.call(path, {"order_id": order_id}, token)
        return _parsed(path, lambda: parse_wechat_order(answer["order"]))

    def orders_updated(
        self, token: str, start_s: int, end_s: int, next_key: str | None
    ) -> tuple[list[str], str | None, bool]:
        """One page of the ids of the shop's orders updated in [start_s, end_s] (at most 7
        days), the key of the next page, and whether there is one. Each order is then read
        with `order` (the list gives ids only)."""
        if end_s - start_s > MAX_WINDOW_SECONDS:
            raise PlatformApiError("order/list/get: a window spans at most 7 days")
        path = "/channels/ec/order/list/get"
        body: dict[str, Any] = {
            "update_time_range": {"start_time": start_s, "end_time": end_s},
            "page_size": PAGE_SIZE,
        }
        if next_key:
            body["next_key"] = next_key
        answer = self.call(path, body, token)

        def read() -> tuple[list[str], str | None, bool]:
            ids = [str(order_id) for order_id in answer.get("order_id_list") or []]
            return (
                ids,
                str(answer["next_key"]) if answer.get("next_key") else None,
                bool(answer.get("has_more")),
            )

        return _parsed(path, read)

    def refund(self, token: str, after_sale_order_id: str) -> PlatformRefund:
        path = "/channels/ec/aftersale/getaftersaleorder"
        answer = self.call(path, {"after_sale_order_id": after_sale_order_id}, token)
        return _parsed(path, lambda: parse_wechat_refund(answer["after_sale_order"]))


# -- parsers (pure: the recorded answers go through these) ----------------------------------


def parse_wechat_order(order: dict[str, Any]) -> PlatformOrder:
    """The `order` of /channels/ec/order/get. One line per product (`product_id`): an order's
    SKUs of one product are summed, since an after-sale names its product.

    A line's amount is `real_price`, the SKU line's paid total ("sku实付总价, 取estimate_price
    和change_price中较小值": after discounts and price changes); `sale_price` is the unit price
    before them, so it is only the fallback (times `sku_cnt`) when `real_price` is absent.
    Postage (`price_info.freight`) belongs to the order, not to a product, and is in no line.
    """
    try:
        lines: dict[str, tuple[int, int]] = {}
        for info in order["order_detail"]["product_infos"]:
            product = str(info["product_id"])
            count = int(info["sku_cnt"])
            if info.get("real_price") is not None:
                fen = fen_of_integer(info["real_price"], "product real_price")
            else:
                fen = fen_of_integer(info["sale_price"], "product sale_price") * count
            quantity, amount = lines.get(product, (0, 0))
            lines[product] = (quantity + count, amount + fen)
        pay_time = (order["order_detail"].get("pay_info") or {}).get("pay_time")
        cancelled = _int_or_none(order.get("status")) in CANCELLED_STATUSES
        return PlatformOrder(
            order_ref=str(order["order_id"]),
            buyer_ref=str(order["openid"]),
            created_at_us=unix_time_us(order["create_time"], "create_time"),
            paid_at_us=unix_time_us(pay_time, "pay_time") if pay_time else None,
            lines=tuple(OrderLine(p, p, q, fen) for p, (q, fen) in lines.items()),
            # The detail has no cancel time: the update that cancelled it is the closest.
            cancelled_at_us=unix_time_us(order["update_time"], "update_time")
            if cancelled
            else None,
        )
    except DeadLetter:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"order/get answer unreadable: {exc!r}") from None


def parse_wechat_refund(after_sale: dict[str, Any]) -> PlatformRefund:
    """The `after_sale_order` of /channels/ec/aftersale/getaftersaleorder: one product
    (`product_info`), its refund `refund_info.amount` in fen; `by_item` is keyed by product_id,
    the line_ref of the order's lines."""
    try:
        fen = fen_of_integer(after_sale["refund_info"]["amount"], "refund_info amount")
        product = after_sale.get("product_info") or {}
        return PlatformRefund(
            refund_ref=str(after_sale["after_sale_order_id"]),
            order_ref=str(after_sale["order_id"]),
            total_fen=fen,
            by_item={str(product["product_id"]): fen} if product.get("product_id") else {},
        )
    except DeadLetter:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"aftersale answer unreadable: {exc!r}") from None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _check(path: str, answer: dict[str, Any]) -> None:
    code = answer.get("errcode")
    if code in (0, None):
        return
    message = str(answer.get("errmsg"))[:200]
    raise PlatformApiError(
        f"{path} answered errcode {code}: {message}",
        rate_limited=code == RATE_LIMITED,
        auth=code in AUTH_ERRORS,
    )


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _parsed(api: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except (PlatformApiError, DeadLetter):
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformApiError(f"{api} answer unreadable: {exc!r}") from None
