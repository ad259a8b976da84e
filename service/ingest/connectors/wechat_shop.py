"""微信小店 (WeChat Channels shop) message push: order and after-sale events of the shops whose
appid is connected (the connection's account id is the shop's appid).

A 小店 pushes in safe mode and JSON only. The URL check is a GET with signature, timestamp,
nonce and echostr in the query: signature = SHA-1 of the sorted concatenation of the push Token,
timestamp and nonce; echostr is answered (`handshake`). An event is a POST whose query has
timestamp, nonce and msg_signature and whose body is `{"ToUserName", "Encrypt"}`:
msg_signature = SHA-1 of the sorted [Token, timestamp, nonce, Encrypt]. Encrypt is AES-256-CBC
with key = Base64(EncodingAESKey + "="), IV = its first 16 bytes, PKCS#7 padding to 32 bytes;
the plaintext is 16 random bytes, a 4-byte big-endian length, the event JSON and the appid. The
platform expects the plain text `success`.

Events carry no amount: order events read the order detail (`/channels/ec/order/get`), a
succeeded after-sale reads the after-sale detail. One catalogue order per product of a platform
order (an after-sale names its product). Sources in docs/connectors.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from service.ingest.connectors import order_facts
from service.ingest.connectors.base import App, Context, Message, Outcome, Push
from service.ingest.connectors.details import OrderLine, PlatformOrder
from service.ingest.connectors.errors import DeadLetter, MalformedPush, SignatureInvalid
from service.ingest.connectors.values import field_of, platform_id, unix_time_us

PLATFORM = "wechat_shop"
BUYER = "openid"
ORDER_NEW, ORDER_PAY, ORDER_CANCEL = (
    "channels_ec_order_new",
    "channels_ec_order_pay",
    "channels_ec_order_cancel",
)
AFTERSALE_UPDATE = "channels_ec_aftersale_update"
AFTERSALE_INFO = "finder_shop_aftersale_status_update"
# After-sale statuses that mean the money went back (WxJava AfterSaleStatus): 退款完成 and
# 退货退款完成 (a return whose refund completed).
REFUNDED = frozenset({"MERCHANT_REFUND_SUCCESS", "MERCHANT_RETURN_SUCCESS"})
# Events of the shop's push that change no figure livetally keeps: acknowledged and recorded
# with why, never dead letters (WxJava MessageEventConstants; wait_shipping: the official
# getorderlist page).
IGNORED = {
    "channels_ec_order_deliver": "seller shipped",
    "channels_ec_order_confirm": "buyer confirmed receipt",
    "channels_ec_order_settle": "order settled with the seller",
    "channels_ec_order_ext_info_update": "order extra information changed",
    "channels_ec_order_wait_shipping": "order awaits shipping: the pay event tells the payment",
    "product_order_status_update": "not a 小店 order fact: the channels_ec_order events tell them",
    "channels_ec_complaint_update": "complaint changed: a refund counts when its after-sale "
    "succeeds",
}
AES_BLOCK = 32  # WeChat's PKCS#7 pads to 32 bytes, not AES's 16
MAX_BODY = 1_000_000


def order_id_of(order_ref: str, line_ref: str) -> str:
    return platform_id(PLATFORM, f"{order_ref}:{line_ref}", "order_id")


def _line_order_id(order: PlatformOrder, line: OrderLine) -> str:
    return order_id_of(order.order_ref, line.line_ref)


def signature(*parts: str) -> str:
    """WeChat's SHA1.gen: SHA-1 (hex) of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class WeChatShopConnector:
    name = PLATFORM

    def __init__(self, apps: Callable[[], Sequence[App]]) -> None:
        self.apps = apps

    def handshake(self, push: Push) -> bytes | None:
        """The push URL check (GET): echostr when the signature is some app's, else None."""
        query = push.query
        given = query.get("signature")
        timestamp, nonce, echostr = query.get("timestamp"), query.get("nonce"), query.get("echostr")
        if not given or timestamp is None or nonce is None or echostr is None:
            return None
        for app in self.apps():
            token = app.extra.get("token")
            if token and hmac.compare_digest(signature(token, timestamp, nonce), given.lower()):
                return echostr.encode()
        return None

    def verify(self, push: Push) -> None:
        self._signed_apps(push)

    def split(self, push: Push) -> list[Message]:
        apps, encrypted = self._signed_apps(push)
        for app in apps:
            plain = _decrypted(encrypted, app)
            if plain is not None:
                return [_message(plain, app.app_key)]
        raise MalformedPush("Encrypt does not decrypt to this app's message (key or appid)")

    def acknowledgement(self, push: Push) -> tuple[bytes, int, str]:
        return b"success", 200, "text/plain; charset=utf-8"

    def handle(self, message: Message, context: Context) -> Outcome:
        if message.unreadable:
            raise DeadLetter("unreadable", message.unreadable)
        event = message.kind
        data = message.data
        shop = str(message.shop_ref)
        if event in (ORDER_NEW, ORDER_PAY):
            return self._order(message, data, shop, context)
        if event == ORDER_CANCEL:
            return self._cancelled(message, data, shop, context)
        if event == AFTERSALE_UPDATE:
            return self._aftersale(message, data, shop, context)
        if event in IGNORED:
            return Outcome(ignored=f"{event}: {IGNORED[event]}")
        raise DeadLetter(
            "unknown_type", f"WeChat 小店 event {event[:80]!r} is not one livetally maps"
        )

    def _signed_apps(self, push: Push) -> tuple[list[App], str]:
        """The apps whose Token signs this body (usually one), and its Encrypt."""
        given = push.query.get("msg_signature")
        timestamp, nonce = push.query.get("timestamp"), push.query.get("nonce")
        if not given or timestamp is None or nonce is None:
            raise SignatureInvalid("msg_signature, timestamp or nonce is missing from the query")
        if len(push.body) > MAX_BODY:
            raise MalformedPush(f"the body is over {MAX_BODY:,} bytes")
        try:
            envelope = orjson.loads(push.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPush(f"the body is not valid JSON: {exc}") from None
        encrypted = envelope.get("Encrypt") if isinstance(envelope, dict) else None
        if not isinstance(encrypted, str) or not encrypted:
            raise SignatureInvalid("the body has no Encrypt to check the signature of")
        apps = [
            app
            for app in self.apps()
            if app.extra.get("token")
            and hmac.compare_digest(
                signature(app.extra["token"], timestamp, nonce, encrypted), given.lower()
            )
        ]
        if not apps:
            raise SignatureInvalid("msg_signature does not match the body")
        return apps, encrypted

    def _order(
        self, message: Message, data: dict[str, Any], shop: str, context: Context
    ) -> Outcome:
        """New and paid: the order as its detail shows it; a paid event's pay_time stands in
        when the detail has none yet."""
        info = _order_info(data)
        order = context.details.order(PLATFORM, shop, _order_ref(info))
        if message.kind == ORDER_PAY and order.paid_at_us is None:
            at = unix_time_us(field_of(info, "pay_time", "order_info"), "pay_time")
            order = replace(order, paid_at_us=at)
        return self._facts(message, shop, order, context)

    def _cancelled(
        self, message: Message, data: dict[str, Any], shop: str, context: Context
    ) -> Outcome:
        """Cancelled at the event's CreateTime. The event names the order, not its products,
        and each product is a catalogue order: the detail says which (and places them if
        livetally had not seen the order)."""
        info = _order_info(data)
        at = unix_time_us(field_of(data, "CreateTime", "the event"), "CreateTime")
        order = context.details.order(PLATFORM, shop, _order_ref(info))
        return self._facts(message, shop, replace(order, cancelled_at_us=at), context)

    def _aftersale(
        self, message: Message, data: dict[str, Any], shop: str, context: Context
    ) -> Outcome:
        info = field_of(data, AFTERSALE_INFO, "the event")
        if not isinstance(info, dict):
            raise DeadLetter("unreadable", f"{AFTERSALE_INFO} is not an object")
        status = field_of(info, "status", AFTERSALE_INFO)
        if status not in REFUNDED:
            return Outcome(
                ignored=f"after-sale status {str(status)[:60]}: a refund counts when it succeeds"
            )
        order_ref = _order_ref(info)
        aftersale_ref = str(field_of(info, "after_sale_order_id", AFTERSALE_INFO))
        at = unix_time_us(field_of(data, "CreateTime", "the event"), "CreateTime")
        order = context.details.order(PLATFORM, shop, order_ref)
        refund = context.details.refund(PLATFORM, shop, order_ref, aftersale_ref)
        if refund.order_ref != order_ref:
            raise DeadLetter(
                "unreadable", f"after-sale {aftersale_ref} is of order {refund.order_ref[:40]}"
            )
        lines = {line.line_ref for line in order.lines}
        by_line: dict[str, int] = {}
        if refund.by_item:
            for product, fen in refund.by_item.items():
                if product not in lines:
                    raise DeadLetter(
                        "unreadable", f"after-sale product {product} is not in the order"
                    )
                by_line[product] = by_line.get(product, 0) + fen
        elif len(order.lines) == 1:
            by_line[order.lines[0].line_ref] = refund.total_fen
        else:
            raise DeadLetter(
                "unreadable", "the after-sale names no product of a several-product order"
            )
        session = order_facts.session_of_order(context, shop, order, _line_order_id)
        events = order_facts.order_events(
            PLATFORM, message.message_id, session, order, _line_order_id, BUYER
        )
        events += [
            order_facts.refunded(
                PLATFORM,
                message.message_id,
                session,
                order_id_of(order.order_ref, line),
                aftersale_ref,
                at,
                fen,
            )
            for line, fen in sorted(by_line.items())
            if fen > 0
        ]
        return Outcome(events=events)

    def _facts(
        self, message: Message, shop: str, order: PlatformOrder, context: Context
    ) -> Outcome:
        session = order_facts.session_of_order(context, shop, order, _line_order_id)
        return Outcome(
            events=order_facts.order_events(
                PLATFORM, message.message_id, session, order, _line_order_id, BUYER
            )
        )


def _decrypted(encrypted: str, app: App) -> bytes | None:
    """The event JSON inside Encrypt, or None when it is not this app's (wrong key, bad
    padding, another appid)."""
    try:
        key = base64.b64decode(app.extra.get("encoding_aes_key", "") + "=", validate=True)
        sealed = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(key) != 32 or not sealed or len(sealed) % 16:
        return None
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    pad = plain[-1]
    # WeChat's PKCS#7 pads to 32 bytes (1-32 bytes of padding, not AES's 1-16): checked here.
    if not 1 <= pad <= AES_BLOCK or plain[-pad:] != bytes([pad]) * pad:
        return None
    plain = plain[:-pad]
    if len(plain) < 20:
        return None
    length = int.from_bytes(plain[16:20], "big")
    if 20 + length > len(plain) or plain[20 + length :] != app.app_key.encode():
        return None
    return plain[20 : 20 + length]


def _message(plain: bytes, appid: str) -> Message:
    """The one message of a push. WeChat advises deduplicating by FromUserName + CreateTime, but
    one buyer's events of one second (an order placed and paid, two orders) share them; so the
    id is the event, its order (or after-sale and status) and CreateTime: a retry of the same
    push is the same message, two events never are."""
    try:
        event = orjson.loads(plain)
    except orjson.JSONDecodeError:
        return _unreadable(plain, appid, "the decrypted message is not JSON")
    if not isinstance(event, dict):
        return _unreadable(plain, appid, "the decrypted message is not an object")
    kind = event.get("Event")
    if not isinstance(kind, str) or not 0 < len(kind) <= 100:
        return _unreadable(plain, appid, "Event must be a string of 1-100 characters")
    data = _ids_as_text(event)
    created = data.get("CreateTime")
    aftersale = data.get(AFTERSALE_INFO)
    order_info = data.get("order_info")
    if isinstance(aftersale, dict):
        order_ref = _text(aftersale.get("order_id"))
        parts = [_text(aftersale.get("after_sale_order_id")), _text(aftersale.get("status"))]
    else:
        order_ref = _text(order_info.get("order_id")) if isinstance(order_info, dict) else None
        parts = [order_ref]
    named = [part for part in parts if part is not None]
    if _text(created) is None or len(named) != len(parts):
        # Nothing to name it by: its own bytes (a retry of the push is the same bytes).
        message_id = f"sha256:{hashlib.sha256(plain).hexdigest()}"
    else:
        message_id = ":".join([kind, *named, str(created)])[:200]
    return Message(
        message_id=message_id,
        kind=kind,
        data=data,
        order_ref=None if order_ref is None else order_ref[:128],
        shop_ref=appid,
    )


def _ids_as_text(event: dict[str, Any]) -> dict[str, Any]:
    """Order and after-sale ids as strings: WeChat may send them as bare JSON numbers above
    2^53, exact here but not in every JSON reader the stored message may meet."""
    data = dict(event)
    for key, names in (
        ("order_info", ("order_id",)),
        (AFTERSALE_INFO, ("order_id", "after_sale_order_id")),
    ):
        inner = data.get(key)
        if isinstance(inner, dict):
            data[key] = {
                k: str(v) if k in names and isinstance(v, int) and not isinstance(v, bool) else v
                for k, v in inner.items()
            }
    return data


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool | dict | list) or value == "":
        return None
    return str(value)


def _unreadable(plain: bytes, appid: str, why: str) -> Message:
    return Message(
        message_id=f"sha256:{hashlib.sha256(plain).hexdigest()}",
        kind="unreadable",
        data={"raw": plain.decode("utf-8", "replace")[:20_000]},
        shop_ref=appid,
        unreadable=why,
    )


def _order_info(data: dict[str, Any]) -> dict[str, Any]:
    info = field_of(data, "order_info", "the event")
    if not isinstance(info, dict):
        raise DeadLetter("unreadable", "order_info is not an object")
    return info


def _order_ref(info: dict[str, Any]) -> str:
    value = field_of(info, "order_id", "the event")
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value):
        raise DeadLetter("unreadable", "order_id is not an id")
    return str(value)
