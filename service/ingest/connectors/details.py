"""Order and refund details from the platforms' own APIs, behind one narrow interface.

A status change that carries no amount (every TikTok Shop webhook, Doudian's order created) is
completed from the platform's order detail API, as the platforms intend. `OrderDetails` is the
port: the HTTP clients here implement it for production, and tests replace it with recorded
responses run through the same parsers. When the API cannot answer, DetailUnavailable makes the
message a dead letter to retry: an amount is never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from service.ingest.connectors.errors import DeadLetter, DetailUnavailable
from service.ingest.connectors.values import fen_of_decimal, fen_of_integer, unix_time_us


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
    cancelled_at_us: int | None = None  # set when the platform says the order is cancelled
    shop_ref: str | None = None


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


DOUDIAN_CANCELLED = 4  # order_status: "4- 已取消"


def parse_doudian_order(answer: dict[str, Any]) -> PlatformOrder:
    """order.orderDetail: {code: 10000, data: {shop_order_detail: {...}}}; amounts in fen."""
    with _answer_of("order.orderDetail", answer, 10000, "msg"):
        return parse_doudian_shop_order(answer["data"]["shop_order_detail"])


def parse_doudian_shop_order(detail: dict[str, Any]) -> PlatformOrder:
    """One shop order, as order.orderDetail and order.searchList both give it."""
    lines = tuple(
        OrderLine(
            line_ref=str(sku["order_id"]),
            product_ref=str(sku["product_id"]),
            quantity=int(sku["item_num"]),
            amount_fen=fen_of_integer(sku["pay_amount"], "sku pay_amount"),
        )
        for sku in detail["sku_order_list"]
    )
    cancelled = detail.get("order_status") == DOUDIAN_CANCELLED
    return PlatformOrder(
        order_ref=str(detail["order_id"]),
        buyer_ref=str(detail["doudian_open_id"]),
        created_at_us=unix_time_us(detail["create_time"], "create_time"),
        paid_at_us=unix_time_us(detail["pay_time"], "pay_time") if detail.get("pay_time") else None,
        lines=lines,
        # The list has no cancel time: the update that cancelled it is the closest it says.
        cancelled_at_us=unix_time_us(detail["update_time"], "update_time") if cancelled else None,
        shop_ref=str(detail["shop_id"]) if detail.get("shop_id") is not None else None,
    )


TIKTOK_CANCELLED = "CANCELLED"  # the order API's spelling (webhooks say CANCEL)


def parse_tiktok_order(answer: dict[str, Any]) -> PlatformOrder:
    """GET /order/202309/orders: one line item per unit; grouped here by product."""
    with _answer_of("Get Order Detail", answer, 0, "message"):
        (order,) = answer["data"]["orders"]
        return parse_tiktok_order_object(order)


def parse_tiktok_order_object(order: dict[str, Any]) -> PlatformOrder:
    """One order, as Get Order Detail and Get Order List both give it."""
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
        cancelled_at_us=_tiktok_cancelled_at(order),
    )


def _tiktok_cancelled_at(order: dict[str, Any]) -> int | None:
    """When a cancelled order was cancelled: its cancel_time, else its last status change;
    None while it is not cancelled (or says no time: the webhook's time is used then)."""
    if order.get("status") != TIKTOK_CANCELLED:
        return None
    at = order.get("cancel_time") or order.get("update_time")
    return None if not at else unix_time_us(at, "cancel_time")


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
