"""抖店 (Doudian) message push: orders and refunds of a shop.

A push is a JSON list of `{msgId, tag, data}` signed in the `event-sign` header: MD5 (hex) of
app_key + body + app_secret, or HMAC-SHA256 of the same with the secret when
`event-sign-method: hmac-sha256`. One catalogue order per SKU order (`s_id`): refunds name the
SKU order they return, and each SKU order has one product. See docs/connectors.md.
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
    fen_of_integer,
    field_of,
    identifier,
    platform_id,
    unix_time_us,
    yuan_text,
)

PLATFORM = "doudian"
MAX_MESSAGES = 1000
CREATED, PAID, PAID_PENDING, CANCELLED, AMOUNT_CHANGED = 100, 101, 110, 106, 109
REFUND_SUCCEEDED = 206
# Known tags that change no figure livetally keeps (acknowledged, no event, not a dead letter).
IGNORED = {
    102: "seller shipped",
    103: "trade completed",
    104: "logistics changed",
    105: "address changed",
    108: "partly shipped",
    111: "address change applied",
    112: "appointment",
    113: "memo changed",
    AMOUNT_CHANGED: "amount changed before payment: the paid message carries the final amount",
    200: "refund created: a refund counts when it succeeds",
    201: "refund agreed: a refund counts when it succeeds",
    202: "return agreed",
    203: "buyer returned goods",
    204: "refund refused",
    205: "return refused",
    207: "refund closed: nothing was refunded",
    208: "refund modified",
    209: "refund deadline changed",
    211: "exchange confirmed",
}


def order_id_of(sku_order: object) -> str:
    return platform_id(PLATFORM, sku_order, "s_id")


class DoudianConnector:
    name = PLATFORM
    signature_headers: tuple[str, ...] = ("app-id", "event-sign", "event-sign-method")

    def __init__(self, app_key: str, app_secret: str) -> None:
        self.app_key = app_key
        self.app_secret = app_secret

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        sign = headers.get("event-sign")
        if not sign:
            raise SignatureInvalid("the event-sign header is missing")
        app_id = headers.get("app-id")
        if app_id is not None and app_id != self.app_key:
            raise SignatureInvalid("app-id is not this app's key")
        plain = self.app_key.encode() + body + self.app_secret.encode()
        method = (headers.get("event-sign-method") or "md5").lower()
        if method == "md5":
            expected = hashlib.md5(plain).hexdigest()
        elif method == "hmac-sha256":
            expected = hmac.new(self.app_secret.encode(), plain, hashlib.sha256).hexdigest()
        else:
            raise SignatureInvalid(f"event-sign-method {method[:40]!r} is not md5 or hmac-sha256")
        if not hmac.compare_digest(expected, sign.strip().lower()):
            raise SignatureInvalid("event-sign does not match the body")

    def split(self, body: bytes, headers: Mapping[str, str]) -> list[Message]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPush(f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, list) or not payload:
            raise MalformedPush("the body must be a non-empty JSON list of {msgId, tag, data}")
        if len(payload) > MAX_MESSAGES:
            raise MalformedPush(f"the body holds {len(payload)} messages; at most {MAX_MESSAGES}")
        return [_message(index, raw) for index, raw in enumerate(payload)]

    def acknowledgement(self) -> tuple[dict[str, Any], int]:
        return {"code": 0, "msg": "success"}, 200

    def handle(self, message: Message, context: Context) -> Outcome:
        tag = int(message.kind.removeprefix("tag "))
        data = message.data
        if tag in IGNORED:
            return Outcome(ignored=f"tag {tag}: {IGNORED[tag]}")
        if tag == CREATED:
            return self._created(message, data, context)
        if tag in (PAID, PAID_PENDING):
            return self._paid(message, data, context)
        if tag == CANCELLED:
            lines = _sku_orders(data)
            at = unix_time_us(field_of(data, "cancel_time", "the message"), "cancel_time")
            session = self._session(context, data, [order_id_of(s) for s in lines], None)[0]
            return Outcome(
                events=[
                    wire_event(
                        PLATFORM,
                        message.message_id,
                        str(s),
                        "order.cancelled",
                        session,
                        at,
                        {"order_id": order_id_of(s)},
                    )
                    for s in lines
                ]
            )
        if tag == REFUND_SUCCEEDED:
            return self._refunded(message, data, context)
        raise DeadLetter("unknown_tag", f"Doudian tag {tag} is not one livetally maps")

    def _created(self, message: Message, data: dict[str, Any], context: Context) -> Outcome:
        order = context.details.order(PLATFORM, _shop(data), _parent(data))
        session = self._session(
            context, data, [order_id_of(x.line_ref) for x in order.lines], order
        )[0]
        at = (
            unix_time_us(data["create_time"], "create_time")
            if data.get("create_time")
            else order.created_at_us
        )
        return Outcome(events=_placed(message.message_id, session, order, at))

    def _paid(self, message: Message, data: dict[str, Any], context: Context) -> Outcome:
        lines = _sku_orders(data)
        at = unix_time_us(field_of(data, "pay_time", "the message"), "pay_time")
        session, fetched = self._session(context, data, [order_id_of(s) for s in lines], None)
        events: list[dict[str, Any]] = []
        if fetched is not None:  # not seen before (paid before created): placed from the detail
            events += _placed(message.message_id, session, fetched, fetched.created_at_us)
        if len(lines) == 1 and data.get("pay_amount") is not None:
            amounts = {str(lines[0]): fen_of_integer(data["pay_amount"], "pay_amount")}
        else:  # several SKU orders: each one's amount from the order detail
            order = fetched or context.details.order(PLATFORM, _shop(data), _parent(data))
            amounts = {x.line_ref: x.amount_fen for x in order.lines}
        for sku in lines:
            if str(sku) not in amounts:
                raise DeadLetter("unreadable", f"the order detail has no SKU order {sku}")
            events.append(
                wire_event(
                    PLATFORM,
                    message.message_id,
                    f"paid:{sku}",
                    "order.paid",
                    session,
                    at,
                    {"order_id": order_id_of(sku), "amount": yuan_text(amounts[str(sku)])},
                )
            )
        return Outcome(events=events)

    def _refunded(self, message: Message, data: dict[str, Any], context: Context) -> Outcome:
        sku = field_of(data, "s_id", "the message")
        amount = fen_of_integer(field_of(data, "refund_amount", "the message"), "refund_amount")
        amount += fen_of_integer(data.get("refund_post_amount") or 0, "refund_post_amount")
        at = unix_time_us(field_of(data, "success_time", "the message"), "success_time")
        session = self._session(context, data, [order_id_of(sku)], None)[0]
        if amount == 0:
            return Outcome(ignored="refund succeeded with an amount of 0")
        return Outcome(
            events=[
                wire_event(
                    PLATFORM,
                    message.message_id,
                    str(sku),
                    "order.refunded",
                    session,
                    at,
                    {"order_id": order_id_of(sku), "amount": yuan_text(amount)},
                )
            ]
        )

    def _session(
        self,
        context: Context,
        data: dict[str, Any],
        order_ids: list[str],
        order: PlatformOrder | None,
    ) -> tuple[str, PlatformOrder | None]:
        """The session the order's placement went to; for an order not seen yet, the shop's
        session live when the platform says it was created, with the order detail read for it
        (returned second; None when the order was known)."""
        for order_id in order_ids:
            known = context.order_session(order_id)
            if known is not None:
                return known, None
        order = order or context.details.order(PLATFORM, _shop(data), _parent(data))
        shop = _shop(data)
        session = context.live_session("shop_id", shop, order.created_at_us)
        if session is None:
            raise DeadLetter(
                "no_live_session",
                f"no session of shop {shop} was live at {format_timestamp(order.created_at_us)}",
            )
        return session, order


def _placed(message_id: str, session: str, order: PlatformOrder, at: int) -> list[dict[str, Any]]:
    return [
        wire_event(
            PLATFORM,
            message_id,
            f"placed:{line.line_ref}",
            "order.placed",
            session,
            at,
            {
                "order_id": order_id_of(line.line_ref),
                "buyer_id": identifier(order.buyer_ref, "doudian_open_id"),
                "product_id": identifier(line.product_ref, "product_id"),
                "quantity": line.quantity,
                "amount": yuan_text(line.amount_fen),
            },
        )
        for line in order.lines
    ]


def _message(index: int, raw: Any) -> Message:
    if not isinstance(raw, dict):
        raise MalformedPush(f"message {index} is not an object")
    message_id = raw.get("msgId", raw.get("msg_id"))
    if (
        not isinstance(message_id, str | int)
        or isinstance(message_id, bool)
        or not str(message_id)
        or len(str(message_id)) > 200
    ):
        raise MalformedPush(f"message {index}: msgId must be a string of 1-200 characters")
    tag = raw.get("tag")
    if isinstance(tag, str) and tag.isascii() and tag.isdigit() and len(tag) < 10:
        tag = int(tag)
    if isinstance(tag, bool) or not isinstance(tag, int):
        raise MalformedPush(f"message {index}: tag must be an integer")
    data = raw.get("data")
    if isinstance(data, str):  # the platform sends data as a JSON string; the SDK as an object
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise MalformedPush(f"message {index}: data is a string but not JSON") from None
    if not isinstance(data, dict):
        raise MalformedPush(f"message {index}: data must be an object")
    parent = data.get("p_id")
    return Message(
        message_id=str(message_id),
        kind=f"tag {tag}",
        data=data,
        order_ref=None if parent is None else str(parent)[:128],
    )


def _shop(data: dict[str, Any]) -> str:
    return str(field_of(data, "shop_id", "the message"))


def _parent(data: dict[str, Any]) -> str:
    return str(field_of(data, "p_id", "the message"))


def _sku_orders(data: dict[str, Any]) -> list[Any]:
    lines = data.get("s_ids")
    if lines is None and data.get("s_id") is not None:
        lines = [data["s_id"]]
    if not isinstance(lines, list) or not lines:
        raise DeadLetter("unreadable", "the message names no SKU order (s_ids)")
    return lines
