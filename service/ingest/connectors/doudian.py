"""抖店 (Doudian) message push: orders and refunds of any number of shops.

A push is a JSON list of `{msg_id, tag, data}` (data a JSON string) signed in the `event-sign`
header: MD5 (hex) of app_key + body + app_secret, or HMAC-SHA256 of the same with the secret
when `event-sign-method: hmac-sha256`; `app-id` names the app. Each message names its shop
(`shop_id`), which selects the connection whose token reads the order detail. One catalogue
order per SKU order (`s_id`): refunds name the SKU order they return, and each SKU order has
one product. See docs/connectors.md for each tag's source.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from service.ingest.connectors import order_facts
from service.ingest.connectors.base import App, Context, Message, Outcome, Push, json_ack
from service.ingest.connectors.details import OrderLine, PlatformOrder
from service.ingest.connectors.errors import DeadLetter, MalformedPush, SignatureInvalid
from service.ingest.connectors.values import (
    fen_of_integer,
    field_of,
    platform_id,
    unix_time_us,
)

PLATFORM = "doudian"
MAX_MESSAGES = 1000
VERIFY, CREATED, PAID, PAID_PENDING, CANCELLED = 0, 100, 101, 110, 106
REFUND_SUCCEEDED, SPECIAL_REFUND_SUCCEEDED = 206, 225
# Tags of the trade and refund groups that change no figure livetally keeps: acknowledged and
# recorded with why, never dead letters.
IGNORED = {
    VERIFY: "push URL verification",
    102: "seller shipped",
    103: "trade completed",
    104: "logistics changed",
    105: "address changed",
    108: "partly shipped",
    109: "amount changed before payment: the paid order carries the final amount",
    111: "address change applied",
    112: "appointment",
    113: "memo changed",
    126: "shipping deadline changed",
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
    212: "arbitration applied",
    213: "arbitration evidence requested",
    214: "arbitration evidence submitted",
    215: "arbitration cancelled",
    216: "arbitration audited",
    217: "arbitration service intervened",
    218: "arbitration evidence uploaded in negotiation",
    224: "special-rights refund requested: it counts when it succeeds (tag 225)",
    226: "resend shipped",
    227: "resend agreed",
}


def order_id_of(sku_order: object) -> str:
    return platform_id(PLATFORM, sku_order, "s_id")


def _line_order_id(order: PlatformOrder, line: OrderLine) -> str:
    return order_id_of(line.line_ref)


class DoudianConnector:
    name = PLATFORM

    def __init__(self, apps: Callable[[], Sequence[App]]) -> None:
        self.apps = apps

    def verify(self, push: Push) -> None:
        headers = push.headers
        sign = headers.get("event-sign")
        if not sign:
            raise SignatureInvalid("the event-sign header is missing")
        apps = list(self.apps())
        app_id = headers.get("app-id")
        if app_id is not None:
            apps = [app for app in apps if app.app_key == app_id]
            if not apps:
                raise SignatureInvalid("app-id is not a connected app's key")
        method = (headers.get("event-sign-method") or "md5").lower()
        if method not in ("md5", "hmac-sha256"):
            raise SignatureInvalid(f"event-sign-method {method[:40]!r} is not md5 or hmac-sha256")
        given = sign.strip().lower()
        for app in apps:
            plain = app.app_key.encode() + push.body + app.app_secret.encode()
            if method == "md5":
                expected = hashlib.md5(plain).hexdigest()
            else:
                expected = hmac.new(app.app_secret.encode(), plain, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, given):
                return
        raise SignatureInvalid("event-sign does not match the body")

    def split(self, push: Push) -> list[Message]:
        try:
            payload = orjson.loads(push.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPush(f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, list) or not payload:
            raise MalformedPush("the body must be a non-empty JSON list of {msg_id, tag, data}")
        if len(payload) > MAX_MESSAGES:
            raise MalformedPush(f"the body holds {len(payload)} messages; at most {MAX_MESSAGES}")
        return [_message(index, raw) for index, raw in enumerate(payload)]

    def acknowledgement(self, push: Push) -> tuple[bytes, int, str]:
        return json_ack({"code": 0, "msg": "success"})

    def handle(self, message: Message, context: Context) -> Outcome:
        if message.unreadable:
            raise DeadLetter("unreadable", message.unreadable)
        tag = int(message.kind.removeprefix("tag "))
        data = message.data
        if tag in IGNORED:
            return Outcome(ignored=f"tag {tag}: {IGNORED[tag]}")
        if tag in (CREATED, PAID, PAID_PENDING):
            return self._order(message, data, context, tag)
        if tag == CANCELLED:
            return self._cancelled(message, data, context)
        if tag in (REFUND_SUCCEEDED, SPECIAL_REFUND_SUCCEEDED):
            return self._refunded(message, data, context)
        raise DeadLetter("unknown_tag", f"Doudian tag {tag} is not one livetally maps")

    def _order(self, message: Message, data: dict[str, Any], context: Context, tag: int) -> Outcome:
        """Created, paid (101) and paid-pending (110): the order as its detail shows it, with
        the pay time of a 101 when the detail has none yet. A paid message for an order already
        seen, of one SKU order and carrying its amount, needs no look-up."""
        shop = _shop(data)
        lines = _sku_orders(data) if tag != CREATED else []
        mid = message.message_id
        if tag == PAID and len(lines) == 1 and data.get("pay_amount") is not None:
            known = context.order_session(order_id_of(lines[0]))
            if known is not None:
                at = unix_time_us(field_of(data, "pay_time", "the message"), "pay_time")
                fen = fen_of_integer(data["pay_amount"], "pay_amount")
                return Outcome(
                    events=[order_facts.paid(PLATFORM, mid, known, order_id_of(lines[0]), at, fen)]
                )
        order = context.details.order(PLATFORM, shop, _parent(data))
        if tag == PAID and order.paid_at_us is None:
            at = unix_time_us(field_of(data, "pay_time", "the message"), "pay_time")
            order = _with_paid_at(order, at)
        if tag == PAID_PENDING and order.paid_at_us is None:
            raise DeadLetter("unreadable", "tag 110 says paid but the order detail has no pay_time")
        session = order_facts.session_of_order(context, shop, order, _line_order_id)
        return Outcome(
            events=order_facts.order_events(
                PLATFORM, mid, session, order, _line_order_id, "doudian_open_id"
            )
        )

    def _cancelled(self, message: Message, data: dict[str, Any], context: Context) -> Outcome:
        lines = _sku_orders(data)
        at = unix_time_us(field_of(data, "cancel_time", "the message"), "cancel_time")
        session = self._known_session(context, [order_id_of(s) for s in lines])
        if session is None:  # cancelled before livetally saw it: placed from the detail
            order = context.details.order(PLATFORM, _shop(data), _parent(data))
            session = order_facts.session_of_order(context, _shop(data), order, _line_order_id)
            events = order_facts.order_events(
                PLATFORM, message.message_id, session, order, _line_order_id, "doudian_open_id"
            )
        else:
            events = []
        events += [
            order_facts.cancelled(PLATFORM, message.message_id, session, order_id_of(s), at)
            for s in lines
        ]
        return Outcome(events=events)

    def _refunded(self, message: Message, data: dict[str, Any], context: Context) -> Outcome:
        """206 and 225: `refund_amount` is the refund with its postage included (the official
        SDK describes it as the amount asked for, postage included); `refund_post_amount` is
        a part of it, not an extra."""
        sku = field_of(data, "s_id", "the message")
        amount = fen_of_integer(field_of(data, "refund_amount", "the message"), "refund_amount")
        at = unix_time_us(field_of(data, "success_time", "the message"), "success_time")
        if amount == 0:
            return Outcome(ignored="refund succeeded with an amount of 0")
        session = self._known_session(context, [order_id_of(sku)])
        if session is None:
            order = context.details.order(PLATFORM, _shop(data), _parent(data))
            session = order_facts.session_of_order(context, _shop(data), order, _line_order_id)
            events = order_facts.order_events(
                PLATFORM, message.message_id, session, order, _line_order_id, "doudian_open_id"
            )
        else:
            events = []
        refund_ref = str(data.get("aftersale_id") or message.message_id)
        events.append(
            order_facts.refunded(
                PLATFORM, message.message_id, session, order_id_of(sku), refund_ref, at, amount
            )
        )
        return Outcome(events=events)

    @staticmethod
    def _known_session(context: Context, order_ids: list[str]) -> str | None:
        for order_id in order_ids:
            known = context.order_session(order_id)
            if known is not None:
                return known
        return None


def _with_paid_at(order: PlatformOrder, at: int) -> PlatformOrder:
    from dataclasses import replace

    return replace(order, paid_at_us=at)


def _message(index: int, raw: Any) -> Message:
    """One message of the push. A message that cannot be read keeps its own bytes and becomes
    a dead letter with why; the push's other messages go on."""
    if not isinstance(raw, dict):
        return _unreadable(index, raw, "the message is not an object")
    message_id = raw.get("msg_id", raw.get("msgId"))
    if (
        not isinstance(message_id, str | int)
        or isinstance(message_id, bool)
        or not str(message_id)
        or len(str(message_id)) > 200
    ):
        return _unreadable(index, raw, "msg_id must be a string of 1-200 characters")
    tag = raw.get("tag")
    if isinstance(tag, str) and tag.isascii() and tag.isdigit() and len(tag) < 10:
        tag = int(tag)
    if isinstance(tag, bool) or not isinstance(tag, int):
        return _unreadable(index, raw, "tag must be an integer", str(message_id))
    data = raw.get("data")
    if tag == VERIFY:  # its data is a timestamp string, not an object
        return Message(message_id=str(message_id), kind="tag 0", data={"data": str(data)[:100]})
    if isinstance(data, str):  # the platform sends data as a JSON string; the SDK as an object
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            return _unreadable(index, raw, "data is a string but not JSON", str(message_id), tag)
    if not isinstance(data, dict):
        return _unreadable(index, raw, "data must be an object", str(message_id), tag)
    parent = data.get("p_id")
    shop = data.get("shop_id")
    return Message(
        message_id=str(message_id),
        kind=f"tag {tag}",
        data=data,
        order_ref=None if parent is None else str(parent)[:128],
        shop_ref=None if shop is None else str(shop)[:128],
    )


def _unreadable(
    index: int, raw: Any, why: str, message_id: str | None = None, tag: int | None = None
) -> Message:
    own = orjson.dumps(raw)
    return Message(
        message_id=message_id or f"sha256:{hashlib.sha256(own).hexdigest()}",
        kind=f"tag {tag}" if tag is not None else "unreadable",
        data={"raw": own.decode()[:20_000]},
        unreadable=f"message {index}: {why}",
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
