"""TikTok Shop webhooks: order status (type 1), cancellation status (type 11) and return status
(type 12) of any number of shops.

A webhook is one JSON object `{type, tts_notification_id?, shop_id, timestamp, data}` signed in
the `Authorization` header: HMAC-SHA256 (hex) of app_key + body with the app secret. Status
changes carry no amount, so every order message reads the order detail API (through the
connection of the webhook's shop); a refund reads the return. One catalogue order per product
of a platform order. The overview's own sample has no tts_notification_id: such a webhook is
named by a hash of its body. Sources in docs/connectors.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from service.ingest.connectors import order_facts
from service.ingest.connectors.base import App, Context, Message, Outcome, Push, json_ack
from service.ingest.connectors.details import OrderLine, PlatformOrder
from service.ingest.connectors.errors import DeadLetter, MalformedPush, SignatureInvalid
from service.ingest.connectors.values import field_of, platform_id, unix_time_us

PLATFORM = "tiktok_shop"
ORDER_STATUS_CHANGE, CANCELLATION_STATUS_CHANGE, RETURN_STATUS_CHANGE = 1, 11, 12
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
# The webhook says CANCEL; the order API says CANCELLED. Both mean the order is cancelled.
CANCELLED = frozenset({"CANCEL", "CANCELLED"})
# A cancellation that went through (accepted, or done with a refund issued).
CANCELLATION_DONE = frozenset({"CANCELLATION_REQUEST_SUCCESS", "CANCELLATION_REQUEST_COMPLETE"})
# The money went back to the buyer: a completed return or refund, or a replacement turned
# into a refund.
REFUNDED = frozenset({"RETURN_OR_REFUND_REQUEST_COMPLETE", "REPLACEMENT_REQUEST_REFUND_SUCCESS"})
# Webhook types a shop may subscribe to that change no figure (ECOM src/Webhook.php constants).
IGNORED_TYPES = {
    2: "reverse order status",
    3: "recipient address updated",
    4: "package updated",
    5: "product status changed",
    6: "seller deauthorised the app",
    7: "authorisation expires soon",
}


def order_id_of(order_ref: str, product_ref: str) -> str:
    return platform_id(PLATFORM, f"{order_ref}:{product_ref}", "order_id")


def _line_order_id(order: PlatformOrder, line: OrderLine) -> str:
    return order_id_of(order.order_ref, line.line_ref)


class TikTokShopConnector:
    name = PLATFORM

    def __init__(self, apps: Callable[[], Sequence[App]]) -> None:
        self.apps = apps

    def verify(self, push: Push) -> None:
        sign = push.headers.get("authorization")
        if not sign:
            raise SignatureInvalid("the Authorization header is missing")
        given = sign.strip().lower()
        for app in self.apps():
            expected = hmac.new(
                app.app_secret.encode(), app.app_key.encode() + push.body, hashlib.sha256
            ).hexdigest()
            if hmac.compare_digest(expected, given):
                return
        raise SignatureInvalid("the Authorization signature does not match the body")

    def split(self, push: Push) -> list[Message]:
        try:
            payload = orjson.loads(push.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPush(f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise MalformedPush("the body must be an object {type, shop_id, timestamp, data}")
        notification = payload.get("tts_notification_id")
        if notification is None:
            message_id = f"sha256:{hashlib.sha256(push.body).hexdigest()}"
        elif isinstance(notification, str | int) and 0 < len(str(notification)) <= 200:
            message_id = str(notification)
        else:
            raise MalformedPush("tts_notification_id must be a string of 1-200 characters")
        kind = payload.get("type")
        shop = payload.get("shop_id")
        data = payload.get("data")
        why = None
        if isinstance(kind, bool) or not isinstance(kind, int):
            why = "type must be an integer"
        elif isinstance(shop, bool) or not isinstance(shop, str | int):
            why = "shop_id must be given"
        elif not isinstance(data, dict):
            why = "data must be an object"
        order = data.get("order_id") if isinstance(data, dict) else None
        return [
            Message(
                message_id=message_id,
                kind=f"type {kind}" if why is None else "unreadable",
                data=payload,
                order_ref=None if order is None else str(order)[:128],
                shop_ref=None if why else str(shop)[:128],
                unreadable=why,
            )
        ]

    def acknowledgement(self, push: Push) -> tuple[bytes, int, str]:
        return json_ack({"code": 0, "message": "success"})

    def handle(self, message: Message, context: Context) -> Outcome:
        if message.unreadable:
            raise DeadLetter("unreadable", message.unreadable)
        envelope = message.data
        data = envelope["data"]
        shop = str(envelope["shop_id"])
        kind = int(message.kind.removeprefix("type "))
        if kind == ORDER_STATUS_CHANGE:
            return self._order_status(message, shop, data, context)
        if kind == CANCELLATION_STATUS_CHANGE:
            return self._cancellation(message, shop, data, context)
        if kind == RETURN_STATUS_CHANGE:
            return self._return_status(message, shop, data, context)
        if kind in IGNORED_TYPES:
            return Outcome(ignored=f"type {kind}: {IGNORED_TYPES[kind]}")
        raise DeadLetter(
            "unknown_type", f"TikTok Shop webhook type {kind} is not one livetally maps"
        )

    def _order_status(
        self, message: Message, shop: str, data: dict[str, Any], context: Context
    ) -> Outcome:
        status = field_of(data, "order_status", "the webhook")
        if status not in PLACED_ONLY | PAID_STATUSES | CANCELLED:
            raise DeadLetter("unknown_status", f"order_status {str(status)[:60]!r}")
        changed = unix_time_us(field_of(data, "update_time", "the webhook"), "update_time")
        order = context.details.order(
            PLATFORM, shop, str(field_of(data, "order_id", "the webhook"))
        )
        if status in PAID_STATUSES and order.paid_at_us is None:
            order = replace(order, paid_at_us=changed)
        if status in CANCELLED and order.cancelled_at_us is None:
            order = replace(order, cancelled_at_us=changed)
        return self._facts(message, shop, order, context)

    def _cancellation(
        self, message: Message, shop: str, data: dict[str, Any], context: Context
    ) -> Outcome:
        status = field_of(data, "cancel_status", "the webhook")
        if status not in CANCELLATION_DONE:
            return Outcome(ignored=f"cancel_status {str(status)[:60]}: not a done cancellation")
        order = context.details.order(
            PLATFORM, shop, str(field_of(data, "order_id", "the webhook"))
        )
        if order.cancelled_at_us is None:
            at = data.get("update_time") or field_of(data, "create_time", "the webhook")
            order = replace(order, cancelled_at_us=unix_time_us(at, "create_time"))
        return self._facts(message, shop, order, context)

    def _facts(
        self, message: Message, shop: str, order: PlatformOrder, context: Context
    ) -> Outcome:
        session = order_facts.session_of_order(context, shop, order, _line_order_id)
        return Outcome(
            events=order_facts.order_events(
                PLATFORM, message.message_id, session, order, _line_order_id, "user_id"
            )
        )

    def _return_status(
        self, message: Message, shop: str, data: dict[str, Any], context: Context
    ) -> Outcome:
        status = field_of(data, "return_status", "the webhook")
        if status not in REFUNDED:
            return Outcome(
                ignored=f"return_status {str(status)[:60]}: a refund counts when it is complete"
            )
        order_ref = str(field_of(data, "order_id", "the webhook"))
        return_ref = str(field_of(data, "return_id", "the webhook"))
        at = unix_time_us(field_of(data, "update_time", "the webhook"), "update_time")
        order = context.details.order(PLATFORM, shop, order_ref)
        refund = context.details.refund(PLATFORM, shop, order_ref, return_ref)
        session = order_facts.session_of_order(context, shop, order, _line_order_id)
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
        events = order_facts.order_events(
            PLATFORM, message.message_id, session, order, _line_order_id, "user_id"
        )
        events += [
            order_facts.refunded(
                PLATFORM,
                message.message_id,
                session,
                order_id_of(order.order_ref, line),
                return_ref,
                at,
                fen,
            )
            for line, fen in sorted(by_line.items())
            if fen > 0
        ]
        return Outcome(events=events)
