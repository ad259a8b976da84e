"""WeChat 小店 and Kuaishou 快手小店 connectors: their push checks (the official worked example,
AES bodies built here with `cryptography` as the platforms encrypt them), the messages they
split, each event's catalogue events with hand-computed amounts through a fake Context, and the
parsers on the recorded API answers."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from events.fields import format_timestamp
from service.ingest.connections.adapters import KuaishouShop, WeChatShop
from service.ingest.connections.adapters import kuaishou_shop as _kuaishou
from service.ingest.connections.adapters import wechat_shop as _wechat
from service.ingest.connections.shops import ShopApi
from service.ingest.connectors.base import App, Connector, Message, Push, fact_id
from service.ingest.connectors.details import OrderDetails, PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import (
    DeadLetter,
    DetailUnavailable,
    MalformedPush,
    SignatureInvalid,
)
from service.ingest.connectors.kuaishou_shop import KuaishouShopConnector
from service.ingest.connectors.wechat_shop import WeChatShopConnector
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.kuaishou_shop import parse_kuaishou_order
from service.ingest.platform_apis.wechat_shop import parse_wechat_order, parse_wechat_refund

FIXTURES = Path(__file__).parent.parent / "fixtures" / "connectors"

WX_APPID = "wx1234567890abcdef"
WX_TOKEN = "wx-push-token-7f3a"
WX_AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters
WX_APP = App(
    "wechat_shop", WX_APPID, "wx-app-secret", {"token": WX_TOKEN, "encoding_aes_key": WX_AES_KEY}
)

KS_APP_KEY = "ks699183844582124027"
KS_SECRET = base64.b64encode(bytes(range(100, 116))).decode()
KS_APP = App(
    "kuaishou_shop",
    KS_APP_KEY,
    "ks-app-secret",
    {"message_secret": KS_SECRET, "sign_secret": "ks-sign"},
)
KS_SELLER = "2161524184"


def fixture(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


WX_EVENTS = fixture("wechat_shop", "events.json")
WX_ANSWERS = fixture("wechat_shop", "api_answers.json")
KS_MESSAGES = fixture("kuaishou_shop", "messages.json")
KS_ANSWERS = fixture("kuaishou_shop", "api_answers.json")


# -- the platforms' encryption, written from their documents (not from the connectors) -------


def wechat_encrypt(message: bytes, appid: str = WX_APPID, aes_key: str = WX_AES_KEY) -> str:
    """WXBizMsgCrypt: 16 random bytes + 4-byte big-endian length + message + appid, PKCS#7
    padded to 32 bytes, AES-256-CBC with the key's first 16 bytes as IV, Base64."""
    key = base64.b64decode(aes_key + "=")
    plain = b"0123456789abcdef" + len(message).to_bytes(4, "big") + message + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def wechat_push(
    message: bytes | dict[str, Any],
    token: str = WX_TOKEN,
    appid: str = WX_APPID,
    encrypted: str | None = None,
) -> Push:
    raw = message if isinstance(message, bytes) else json.dumps(message).encode()
    encrypt = encrypted or wechat_encrypt(raw, appid)
    timestamp, nonce = "1714036504", "1514711492"
    sign = hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()
    body = json.dumps({"ToUserName": "gh_*", "Encrypt": encrypt}).encode()
    query = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "msg_signature": sign}
    return Push(body, {"content-type": "application/json"}, query)


def kuaishou_encrypt(plain: bytes, secret: str = KS_SECRET) -> bytes:
    """PlatformEventSecurityUtil: AES/CBC/PKCS5Padding, zero IV, key Base64-decoded, Base64."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(secret)), modes.CBC(bytes(16))).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize())


def kuaishou_push(message: dict[str, Any], secret: str = KS_SECRET) -> Push:
    plain = json.dumps(message, ensure_ascii=False).encode()
    return Push(kuaishou_encrypt(plain, secret), {"content-type": "text/plain;charset=utf-8"})


# -- a fake Context over the recorded answers, through the real parsers ---------------------


class RecordedShops:
    """OrderDetails from the recorded answers of both platforms."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        self.calls.append((platform, shop_id, order_ref))
        if platform == "wechat_shop":
            return parse_wechat_order(WX_ANSWERS["orders"][order_ref]["order"])
        return parse_kuaishou_order(KS_ANSWERS["orders"][order_ref]["data"])

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        self.calls.append((platform, shop_id, refund_ref))
        return parse_wechat_refund(WX_ANSWERS["aftersales"][refund_ref]["after_sale_order"])


@dataclass
class FakeContext:
    orders: dict[str, str] = field(default_factory=dict)
    live: dict[tuple[str, str], str] = field(default_factory=dict)
    recorded: RecordedShops = field(default_factory=RecordedShops)
    details: OrderDetails = field(init=False)

    def __post_init__(self) -> None:
        self.details = self.recorded

    def order_session(self, order_id: str) -> str | None:
        return self.orders.get(order_id)

    def live_session(self, column: str, value: str, at_us: int) -> str | None:
        return self.live.get((column, value))


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(e["type"], e["session_id"], e["occurred_at"], e["data"]) for e in events]


def at(seconds: int) -> str:
    return format_timestamp(seconds * 1_000_000)


def at_ms(millis: int) -> str:
    return format_timestamp(millis * 1000)


def wechat() -> WeChatShopConnector:
    return WeChatShopConnector(lambda: [WX_APP])


def kuaishou() -> KuaishouShopConnector:
    return KuaishouShopConnector(lambda: [KS_APP])


def wechat_message(event: dict[str, Any]) -> Message:
    (message,) = wechat().split(wechat_push(event))
    return message


def kuaishou_message(message: dict[str, Any]) -> Message:
    (split,) = kuaishou().split(kuaishou_push(message))
    return split


def test_both_connectors_and_shops_meet_the_interfaces() -> None:
    connectors: list[Connector] = [wechat(), kuaishou()]
    shops: list[ShopApi] = [_wechat(WX_APP, {}), _kuaishou(KS_APP, {})]
    assert [c.name for c in connectors] == ["wechat_shop", "kuaishou_shop"]
    assert isinstance(shops[0], WeChatShop) and isinstance(shops[1], KuaishouShop)


# -- WeChat 小店 --------------------------------------------------------------------------


def test_wechat_url_check_answers_the_official_worked_example() -> None:
    connector = WeChatShopConnector(lambda: [App("wechat_shop", WX_APPID, "s", {"token": "AAAAA"})])
    query = {
        "signature": "f464b24fc39322e44b38aa78f5edd27bd1441696",
        "timestamp": "1714036504",
        "nonce": "1514711492",
        "echostr": "4375120948345356249",
    }
    assert connector.handshake(Push(b"", {}, query)) == b"4375120948345356249"
    assert connector.handshake(Push(b"", {}, {**query, "nonce": "1514711493"})) is None
    assert (
        connector.handshake(Push(b"", {}, {k: v for k, v in query.items() if k != "echostr"}))
        is None
    )
    assert wechat().handshake(Push(b"", {}, query)) is None  # another app's Token


def test_wechat_push_is_verified_and_decrypted_to_one_message() -> None:
    push = wechat_push(WX_EVENTS["samples"]["order_pay"])
    connector = wechat()
    connector.verify(push)
    (message,) = connector.split(push)
    assert message.message_id == "channels_ec_order_pay:3705115058471208928:1662480000"
    assert (message.kind, message.order_ref, message.shop_ref) == (
        "channels_ec_order_pay",
        "3705115058471208928",
        WX_APPID,
    )
    assert message.data["order_info"] == {
        "order_id": "3705115058471208928",
        "pay_time": "1658509200",
    }
    assert connector.acknowledgement(push) == (b"success", 200, "text/plain; charset=utf-8")


def test_wechat_tampered_or_foreign_pushes_are_refused() -> None:
    push = wechat_push(WX_EVENTS["samples"]["order_pay"])
    envelope = json.loads(push.body)
    encrypt = envelope["Encrypt"]
    tampered = ("A" if encrypt[0] != "A" else "B") + encrypt[1:]
    body = json.dumps({**envelope, "Encrypt": tampered}).encode()
    with pytest.raises(SignatureInvalid):
        wechat().verify(Push(body, push.headers, push.query))
    with pytest.raises(SignatureInvalid):
        wechat().verify(wechat_push(WX_EVENTS["samples"]["order_pay"], token="another-token"))
    with pytest.raises(SignatureInvalid):
        wechat().verify(
            Push(push.body, {}, {k: v for k, v in push.query.items() if k != "msg_signature"})
        )
    with pytest.raises(MalformedPush):
        wechat().verify(Push(b"<xml/>", {}, push.query))


def test_wechat_message_of_another_appid_is_not_taken() -> None:
    push = wechat_push(WX_EVENTS["samples"]["order_pay"], appid="wx-someone-else")
    wechat().verify(push)  # signed with the Token: only the appid inside tells
    with pytest.raises(MalformedPush, match="appid"):
        wechat().split(push)


def test_wechat_padding_of_a_whole_32_byte_block_is_read() -> None:
    # 16 + 4 + len(message) + len(appid) a multiple of 32: the padding is a whole block of 32
    message = b'{"Event":"x"}'
    message += b" " * (-(20 + len(message) + len(WX_APPID)) % 32)
    (split,) = wechat().split(wechat_push(message))
    assert split.kind == "x" and split.unreadable is None


def test_wechat_big_integer_order_id_is_kept_exact() -> None:
    raw = json.dumps(WX_EVENTS["samples"]["order_new"]).encode()
    assert b'"order_id": 3705115058471208928' in raw  # a bare JSON number above 2^53
    (message,) = wechat().split(wechat_push(raw))
    assert message.order_ref == "3705115058471208928"
    assert message.data["order_info"]["order_id"] == "3705115058471208928"
    assert message.message_id == "channels_ec_order_new:3705115058471208928:1662480000"


def test_wechat_undecodable_message_inside_a_good_push_is_a_dead_letter() -> None:
    (message,) = wechat().split(wechat_push(b"not json at all"))
    assert message.unreadable and message.message_id.startswith("sha256:")
    with pytest.raises(DeadLetter, match="unreadable"):
        wechat().handle(message, FakeContext())


def test_wechat_new_order_places_and_pays_each_product() -> None:
    context = FakeContext(live={("shop_id", WX_APPID): "sess-1"})
    outcome = wechat().handle(wechat_message(WX_EVENTS["samples"]["order_new"]), context)
    cup, brush = (
        "wechat_shop:3705115058471208928:10000051234567",
        "wechat_shop:3705115058471208928:10000059999999",
    )
    # 3600 + 2250 = 5850 fen for 3 cups; 990 fen for the brush (freight is the order's)
    assert summary(outcome.events) == [
        (
            "order.placed",
            "sess-1",
            at(1658509100),
            {
                "order_id": cup,
                "buyer_id": "OPENID",
                "product_id": "10000051234567",
                "quantity": 3,
                "amount": "58.50",
            },
        ),
        ("order.paid", "sess-1", at(1658509200), {"order_id": cup, "amount": "58.50"}),
        (
            "order.placed",
            "sess-1",
            at(1658509100),
            {
                "order_id": brush,
                "buyer_id": "OPENID",
                "product_id": "10000059999999",
                "quantity": 1,
                "amount": "9.90",
            },
        ),
        ("order.paid", "sess-1", at(1658509200), {"order_id": brush, "amount": "9.90"}),
    ]
    assert context.recorded.calls == [("wechat_shop", WX_APPID, "3705115058471208928")]
    # The pay event tells the same facts: the same event ids, whichever message told them.
    paid = wechat().handle(wechat_message(WX_EVENTS["samples"]["order_pay"]), context)
    assert [e["event_id"] for e in paid.events] == [e["event_id"] for e in outcome.events]
    assert outcome.events[1]["event_id"] == fact_id("wechat_shop", f"paid:{cup}")


def test_wechat_pay_event_gives_the_pay_time_the_detail_lacks() -> None:
    context = FakeContext(live={("shop_id", WX_APPID): "sess-1"})
    message = wechat_message(WX_EVENTS["scenario"]["order_pay_not_in_detail"])
    outcome = wechat().handle(message, context)
    brush = "wechat_shop:3705115058471208930:10000059999999"
    # no real_price in the unpaid detail: 3 x sale_price 990 = 2970 fen
    assert summary(outcome.events) == [
        (
            "order.placed",
            "sess-1",
            at(1658509150),
            {
                "order_id": brush,
                "buyer_id": "OPENID_2",
                "product_id": "10000059999999",
                "quantity": 3,
                "amount": "29.70",
            },
        ),
        ("order.paid", "sess-1", at(1658509290), {"order_id": brush, "amount": "29.70"}),
    ]


def test_wechat_cancel_cancels_each_product_at_the_event_time() -> None:
    context = FakeContext(orders={"wechat_shop:3705115058471208928:10000059999999": "sess-7"})
    outcome = wechat().handle(wechat_message(WX_EVENTS["samples"]["order_cancel"]), context)
    cancelled = [e for e in outcome.events if e["type"] == "order.cancelled"]
    assert summary(cancelled) == [
        (
            "order.cancelled",
            "sess-7",
            at(1662480000),
            {"order_id": "wechat_shop:3705115058471208928:10000051234567"},
        ),
        (
            "order.cancelled",
            "sess-7",
            at(1662480000),
            {"order_id": "wechat_shop:3705115058471208928:10000059999999"},
        ),
    ]
    assert {e["session_id"] for e in outcome.events} == {"sess-7"}


def test_wechat_refund_success_refunds_the_after_sales_product() -> None:
    cup = "wechat_shop:3705115058471208928:10000051234567"
    context = FakeContext(orders={cup: "sess-1"})
    outcome = wechat().handle(wechat_message(WX_EVENTS["scenario"]["aftersale_refunded"]), context)
    refunds = [e for e in outcome.events if e["type"] == "order.refunded"]
    assert summary(refunds) == [
        ("order.refunded", "sess-1", at(1658600000), {"order_id": cup, "amount": "22.50"})
    ]
    assert refunds[0]["event_id"] == fact_id("wechat_shop", f"refunded:4000000000000000001:{cup}")
    assert ("wechat_shop", WX_APPID, "4000000000000000001") in context.recorded.calls


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (WX_EVENTS["samples"]["aftersale_update"], "USER_WAIT_RETURN"),
        (WX_EVENTS["samples"]["order_confirm"], "confirmed receipt"),
        (WX_EVENTS["scenario"]["order_deliver"], "shipped"),
    ],
)
def test_wechat_events_that_change_no_figure_are_ignored_with_why(
    event: dict[str, Any], why: str
) -> None:
    context = FakeContext()
    outcome = wechat().handle(wechat_message(event), context)
    assert outcome.events == [] and outcome.ignored is not None and why in outcome.ignored
    assert context.recorded.calls == []


def test_wechat_unknown_event_is_a_dead_letter() -> None:
    with pytest.raises(DeadLetter) as caught:
        wechat().handle(wechat_message(WX_EVENTS["scenario"]["unknown"]), FakeContext())
    assert caught.value.reason == "unknown_type"


def test_wechat_order_outside_every_session_is_a_dead_letter() -> None:
    with pytest.raises(DeadLetter) as caught:
        wechat().handle(wechat_message(WX_EVENTS["samples"]["order_new"]), FakeContext())
    assert caught.value.reason == "no_live_session"


# -- Kuaishou 快手小店 --------------------------------------------------------------------


def test_kuaishou_push_is_opened_with_the_apps_message_secret() -> None:
    push = kuaishou_push(KS_MESSAGES["sample"])
    connector = kuaishou()
    connector.verify(push)
    (message,) = connector.split(push)
    assert (message.message_id, message.kind, message.shop_ref, message.order_ref) == (
        "243_4027_2375715766426",
        "kwaishop_order_addOrder",
        KS_SELLER,
        "2607602240240301",
    )
    assert message.data["info"]["buyerOpenId"] == "f1b68e8f2a4995ed14bf572415fe3aff"
    assert connector.acknowledgement(push) == (b'{"result":1}', 200, "application/json")


def test_kuaishou_push_of_another_secret_or_app_is_refused() -> None:
    other = base64.b64encode(bytes(range(16))).decode()
    with pytest.raises(SignatureInvalid):
        kuaishou().verify(kuaishou_push(KS_MESSAGES["sample"], secret=other))
    with pytest.raises(SignatureInvalid):
        kuaishou().verify(kuaishou_push({**KS_MESSAGES["sample"], "appKey": "ks-another-app"}))
    with pytest.raises(SignatureInvalid):
        kuaishou().verify(Push(b"%%% not base64 %%%", {}))
    with pytest.raises(SignatureInvalid):  # a message in clear is not the app's
        kuaishou().verify(Push(json.dumps(KS_MESSAGES["sample"]).encode(), {}))


@pytest.mark.parametrize("encrypted", [True, False])
def test_kuaishou_heartbeat_carries_no_message(encrypted: bool) -> None:
    plain = json.dumps(KS_MESSAGES["heartbeat"]).encode()
    push = Push(kuaishou_encrypt(plain) if encrypted else plain, {})
    kuaishou().verify(push)
    assert kuaishou().split(push) == []


def test_kuaishou_added_order_is_placed_and_paid_from_its_detail() -> None:
    context = FakeContext(live={("shop_id", KS_SELLER): "sess-k"})
    outcome = kuaishou().handle(kuaishou_message(KS_MESSAGES["sample"]), context)
    order = "kuaishou_shop:2607602240240301"
    assert summary(outcome.events) == [
        (
            "order.placed",
            "sess-k",
            at_ms(1773750942425),
            {
                "order_id": order,
                "buyer_id": "f1b68e8f2a4995ed14bf572415fe3aff",
                "product_id": "23456789012",
                "quantity": 1,
                "amount": "99.00",
            },
        ),
        ("order.paid", "sess-k", at_ms(1773750959000), {"order_id": order, "amount": "99.00"}),
    ]
    assert context.recorded.calls == [("kuaishou_shop", KS_SELLER, "2607602240240301")]
    paid = kuaishou().handle(kuaishou_message(KS_MESSAGES["scenario"]["pay_success"]), context)
    assert [e["event_id"] for e in paid.events] == [e["event_id"] for e in outcome.events]


def test_kuaishou_pay_success_uses_its_update_time_when_the_detail_has_no_pay_time() -> None:
    context = FakeContext(live={("shop_id", KS_SELLER): "sess-k"})
    message = kuaishou_message(KS_MESSAGES["scenario"]["pay_success_unpaid_detail"])
    outcome = kuaishou().handle(message, context)
    assert summary(outcome.events)[1] == (
        "order.paid",
        "sess-k",
        at_ms(1773750990000),
        {"order_id": "kuaishou_shop:2607602240240303", "amount": "29.90"},
    )


def test_kuaishou_failed_known_order_is_cancelled_without_a_look_up() -> None:
    order = "kuaishou_shop:2607602240240302"
    context = FakeContext(orders={order: "sess-k"})
    outcome = kuaishou().handle(kuaishou_message(KS_MESSAGES["scenario"]["order_fail"]), context)
    assert summary(outcome.events) == [
        ("order.cancelled", "sess-k", at_ms(1773751800000), {"order_id": order})
    ]
    assert context.recorded.calls == []


def test_kuaishou_failed_unseen_order_is_placed_from_its_detail_then_cancelled() -> None:
    context = FakeContext(live={("shop_id", KS_SELLER): "sess-k"})
    outcome = kuaishou().handle(kuaishou_message(KS_MESSAGES["scenario"]["order_fail"]), context)
    order = "kuaishou_shop:2607602240240302"
    assert summary(outcome.events) == [
        (
            "order.placed",
            "sess-k",
            at_ms(1773751000000),
            {
                "order_id": order,
                "buyer_id": "f1b68e8f2a4995ed14bf572415fe3b00",
                "product_id": "23456789013",
                "quantity": 2,
                "amount": "59.80",
            },
        ),
        ("order.cancelled", "sess-k", at_ms(1773751800000), {"order_id": order}),
    ]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("delivering", "shipped"),
        ("add_refund", "counts when it succeeds"),
        ("update_refund", "not documented"),
    ],
)
def test_kuaishou_events_that_change_no_figure_are_ignored_with_why(name: str, why: str) -> None:
    context = FakeContext()
    outcome = kuaishou().handle(kuaishou_message(KS_MESSAGES["scenario"][name]), context)
    assert outcome.events == [] and outcome.ignored is not None and why in outcome.ignored
    assert context.recorded.calls == []


def test_kuaishou_unknown_event_is_a_dead_letter() -> None:
    with pytest.raises(DeadLetter) as caught:
        kuaishou().handle(kuaishou_message(KS_MESSAGES["scenario"]["unknown"]), FakeContext())
    assert caught.value.reason == "unknown_type"


def test_kuaishou_unreadable_info_is_a_dead_letter_named_by_its_event_id() -> None:
    message = kuaishou_message({**KS_MESSAGES["sample"], "info": "{not json"})
    assert (message.message_id, message.unreadable) == (
        "243_4027_2375715766426",
        "info is a string but not JSON",
    )
    with pytest.raises(DeadLetter, match="unreadable"):
        kuaishou().handle(message, FakeContext())


# -- the parsers on the recorded answers -----------------------------------------------------


def test_wechat_order_parser_sums_each_products_paid_lines() -> None:
    order = parse_wechat_order(WX_ANSWERS["orders"]["3705115058471208928"]["order"])
    assert (order.order_ref, order.buyer_ref, order.created_at_us, order.paid_at_us) == (
        "3705115058471208928",
        "OPENID",
        1658509100_000_000,
        1658509200_000_000,
    )
    assert [(x.line_ref, x.product_ref, x.quantity, x.amount_fen) for x in order.lines] == [
        ("10000051234567", "10000051234567", 3, 5850),
        ("10000059999999", "10000059999999", 1, 990),
    ]
    assert order.cancelled_at_us is None


def test_wechat_order_parser_reads_cancelled_statuses_at_their_update() -> None:
    order = parse_wechat_order(WX_ANSWERS["orders"]["3705115058471208931"]["order"])
    assert (order.paid_at_us, order.cancelled_at_us) == (None, 1658511200_000_000)


def test_wechat_refund_parser_keys_the_amount_by_product() -> None:
    refund = parse_wechat_refund(
        WX_ANSWERS["aftersales"]["4000000000000000001"]["after_sale_order"]
    )
    assert refund == PlatformRefund(
        "4000000000000000001", "3705115058471208928", 2250, {"10000051234567": 2250}
    )


def test_kuaishou_order_parser_reads_the_one_item_order() -> None:
    paid = parse_kuaishou_order(KS_ANSWERS["orders"]["2607602240240301"]["data"])
    failed = parse_kuaishou_order(KS_ANSWERS["orders"]["2607602240240302"]["data"])
    assert (paid.paid_at_us, paid.cancelled_at_us, paid.lines[0].amount_fen) == (
        1773750959000_000,
        None,
        9900,
    )
    assert (failed.paid_at_us, failed.cancelled_at_us) == (None, 1773751800000_000)
    assert [(x.product_ref, x.quantity, x.amount_fen) for x in failed.lines] == [
        ("23456789013", 2, 5980)
    ]


def test_parsers_refuse_answers_missing_what_they_read() -> None:
    with pytest.raises(PlatformApiError, match="unreadable"):
        parse_wechat_order({"order_id": "1"})
    with pytest.raises(PlatformApiError, match="unreadable"):
        parse_kuaishou_order({"orderBaseInfo": {"oid": 1}, "orderItemInfo": [{"itemId": 1}]})
    bad = dict(KS_ANSWERS["orders"]["2607602240240301"]["data"])
    bad["orderBaseInfo"] = {**bad["orderBaseInfo"], "totalFee": 99.5}  # never through a float
    with pytest.raises(DeadLetter, match="unreadable"):
        parse_kuaishou_order(bad)


def test_wechat_shop_is_not_authorised_through_oauth() -> None:
    shop = _wechat(WX_APP, {})
    with pytest.raises(DetailUnavailable, match="appid and secret"):
        shop.authorize_url("state")
