"""TikTok Shop webhooks: order status changes (type 1) and return status changes (type 12).

A webhook is one JSON object `{type, tts_notification_id, shop_id, timestamp, data}` signed in
the `Authorization` header: HMAC-SHA256 (hex) of app_key + body with the app secret. Status
changes carry no amount, so every order message reads the order detail API; a completed return
reads the return's refund. One catalogue order per product of a platform order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson

from events.fields import format_timestamp
from service.ingest.connectors.base import Context, Message, Outcome, wire_event
from service.ingest.connectors.details import PlatformOrder
from service.ingest.connectors.errors import DeadLetter, MalformedPush, SignatureInvalid
from service.ingest.connectors.values import (
    field_of,
    identifier,
    platform_id,
    unix_time_us,
    yuan_text,
)

PLATFORM = "tiktok_shop"
ORDER_STATUS_CHANGE, RETURN_STATUS_CHANGE = 1, 12
PLACED_ONLY = frozenset({"UNPAID"})
PAID_STATUSES = frozenset(
    {
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
    }
)
CANCELLED = "CANCELLED"
REFUNDED = "RETURN_OR_REFUND_REQUEST_COMPLETE"  # the money went back to the buyer


def order_id_of(order_ref: str, product_ref: str) -> str:
    return platform_id(PLATFORM, f"{order_ref}:{product_ref}", "order_id")


class TikTokShopConnector:
    name = PLATFORM
    signature_headers: tuple[str, ...] = ("authorization",)

    def __init__(self, app_key: str, app_secret: str) -> None:
        self.app_key = app_key
        self.app_secret = app_secret

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        sign = headers.get("authorization")
        if not sign:
            raise SignatureInvalid("the Authorization header is missing")
        expected = hmac.new(
            self.app_secret.encode(), self.app_key.encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, sign.strip().lower()):
            raise SignatureInvalid("the Authorization signature does not match the body")

    def split(self, body: bytes, headers: Mapping[str, str]) -> list[Message]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPush(f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise MalformedPush(
                "the body must be an object {type, tts_notification_id, shop_id, timestamp, data}"
            )
        kind = payload.get("type")
        if isinstance(kind, bool) or not isinstance(kind, int):
            raise MalformedPush("type must be an integer")
        notification = payload.get("tts_notification_id")
        if not isinstance(notification, str) or not 0 < len(notification) <= 200:
            raise MalformedPush("tts_notification_id must be a string of 1-200 characters")
        if not isinstance(payload.get("shop_id"), str | int):
            raise MalformedPush("shop_id must be given")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise MalformedPush("data must be an object")
        order = data.get("order_id")
        return [
            Message(
                message_id=notification,
                kind=f"type {kind}",
                data=payload,
                order_ref=None if order is None else str(order)[:128],
            )
        ]

    def acknowledgement(self) -> tuple[dict[str, Any], int]:
        return {"code": 0, "message": "success"}, 200

    def handle(self, message: Message, context: Context) -> Outcome:
        envelope = message.data
        data = envelope["data"]
        shop = str(envelope["shop_id"])
        kind = int(message.kind.removeprefix("type "))
        if kind == ORDER_STATUS_CHANGE:
            return self._order_status(message, shop, data, context)
        if kind == RETURN_STATUS_CHANGE:
            return self._return_status(message, shop, data, context)
        raise DeadLetter(
            "unknown_type", f"TikTok Shop webhook type {kind} is not one livetally maps"
        )

    def _order_status(
        self, message: Message, shop: str, data: dict[str, Any], context: Context
    ) -> Outcome:
        status = field_of(data, "order_status", "the webhook")
        if status not in PLACED_ONLY | PAID_STATUSES | {CANCELLED}:
            raise DeadLetter("unknown_status", f"order_status {str(status)[:60]!r}")
        order_ref = str(field_of(data, "order_id", "the webhook"))
        order = context.details.order(PLATFORM, shop, order_ref)
        session = _session(context, shop, order)
        changed = (
            unix_time_us(data["update_time"], "update_time")
            if data.get("update_time")
            else order.created_at_us
        )
        mid = message.message_id
        events: list[dict[str, Any]] = []
        for line in order.lines:
            order_id = order_id_of(order.order_ref, line.line_ref)
            events.append(
                wire_event(
                    PLATFORM,
                    mid,
                    f"placed:{line.line_ref}",
                    "order.placed",
                    session,
                    order.created_at_us,
                    {
                        "order_id": order_id,
                        "buyer_id": identifier(order.buyer_ref, "user_id"),
                        "product_id": identifier(line.product_ref, "product_id"),
                        "quantity": line.quantity,
                        "amount": yuan_text(line.amount_fen),
                    },
                )
            )
            if status in PAID_STATUSES:
                events.append(
                    wire_event(
                        PLATFORM,
                        mid,
                        f"paid:{line.line_ref}",
                        "order.paid",
                        session,
                        order.paid_at_us or changed,
                        {"order_id": order_id, "amount": yuan_text(line.amount_fen)},
                    )
                )
            elif status == CANCELLED:
                events.append(
                    wire_event(
                        PLATFORM,
                        mid,
                        f"cancelled:{line.line_ref}",
                        "order.cancelled",
                        session,
                        changed,
                        {"order_id": order_id},
                    )
                )
        return Outcome(events=events)

    def _return_status(
        self, message: Message, shop: str, data: dict[str, Any], context: Context
    ) -> Outcome:
        status = field_of(data, "return_status", "the webhook")
        if status != REFUNDED:
            return Outcome(
                ignored=f"return_status {str(status)[:60]}: a refund counts when it is complete"
            )
        order_ref = str(field_of(data, "order_id", "the webhook"))
        return_ref = str(field_of(data, "return_id", "the webhook"))
        at = unix_time_us(field_of(data, "update_time", "the webhook"), "update_time")
        order = context.details.order(PLATFORM, shop, order_ref)
        refund = context.details.refund(PLATFORM, shop, order_ref, return_ref)
        session = _session(context, shop, order)
        by_line: dict[str, int] = {}
        if refund.by_item:
            for item, fen in refund.by_item.items():
                line = order.line_of_item.get(item)
                if line is None:
                    raise DeadLetter("unreadable", f"return line item {item} is not in the order")
                by_line[line] = by_line.get(line, 0) + fen
        elif len(order.lines) == 1:
            by_line[order.lines[0].line_ref] = refund.total_fen
        else:
            raise DeadLetter(
                "unreadable", "the return names no line items of a several-product order"
            )
        return Outcome(
            events=[
                wire_event(
                    PLATFORM,
                    message.message_id,
                    line,
                    "order.refunded",
                    session,
                    at,
                    {"order_id": order_id_of(order.order_ref, line), "amount": yuan_text(fen)},
                )
                for line, fen in sorted(by_line.items())
                if fen > 0
            ]
        )


def _session(context: Context, shop: str, order: PlatformOrder) -> str:
    for line in order.lines:
        known = context.order_session(order_id_of(order.order_ref, line.line_ref))
        if known is not None:
            return known
    session = context.live_session("shop_id", shop, order.created_at_us)
    if session is None:
        raise DeadLetter(
            "no_live_session",
            f"no session of shop {shop} was live at {format_timestamp(order.created_at_us)}",
        )
    return session
