"""The connectors' pure parts: platform values, signatures, and message -> events mapping,
with a fake Context that implements the real interface."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.ingest.connectors.base import App, Message, Push, fact_id
from service.ingest.connectors.doudian import DoudianConnector
from service.ingest.connectors.douyin_live import DouyinLiveConnector
from service.ingest.connectors.errors import DeadLetter, SignatureInvalid
from service.ingest.connectors.tiktok_shop import TikTokShopConnector
from service.ingest.connectors.values import (
    fen_of_decimal,
    fen_of_integer,
    identifier,
    platform_id,
    unix_time_us,
)
from tests.connector_support import RecordedDetails


def apps(key: str = "k", secret: str = "s") -> Any:
    return lambda: [App("test", key, secret)]


def doudian(key: str = "k", secret: str = "s") -> DoudianConnector:
    return DoudianConnector(apps(key, secret))


def tiktok(key: str = "k", secret: str = "s") -> TikTokShopConnector:
    return TikTokShopConnector(apps(key, secret))


@dataclass
class FakeContext:
    details: Any = field(default_factory=RecordedDetails)
    orders: dict[str, str] = field(default_factory=dict)
    live: dict[tuple[str, str], str] = field(default_factory=dict)

    def order_session(self, order_id: str) -> str | None:
        return self.orders.get(order_id)

    def live_session(self, column: str, value: str, at_us: int) -> str | None:
        return self.live.get((column, value))


@pytest.mark.parametrize(
    ("text", "fen"),
    [("12.5", 1250), ("12.50", 1250), ("0", 0), ("9.99", 999), ("100000000.01", 10000000001)],
)
def test_decimal_amounts_are_read_as_text_to_the_fen(text: str, fen: int) -> None:
    assert fen_of_decimal(text, "x") == fen


@pytest.mark.parametrize("bad", ["12.345", "1e3", "-1", " 1", "1,000", "１２", 12.5, 12, None])
def test_unreadable_decimal_amounts_are_dead_letters_not_guesses(bad: object) -> None:
    with pytest.raises(DeadLetter, match="unreadable"):
        fen_of_decimal(bad, "x")


def test_integer_fen_refuses_floats_and_negatives() -> None:
    assert fen_of_integer(2990, "x") == 2990
    assert fen_of_integer("2990", "x") == 2990
    for bad in (29.9, -1, True, "29.9"):
        with pytest.raises(DeadLetter):
            fen_of_integer(bad, "x")


def test_unix_times_in_seconds_or_milliseconds_are_utc_microseconds() -> None:
    # 1618990587 s = 2021-04-21T07:36:27Z
    assert unix_time_us(1618990587, "t") == 1_618_990_587_000_000
    assert unix_time_us("1618990587", "t") == 1_618_990_587_000_000
    assert unix_time_us(1714300000123, "t") == 1_714_300_000_123_000
    for bad in (0, -5, 1.5, "soon", None):
        with pytest.raises(DeadLetter):
            unix_time_us(bad, "t")
    # a signed push once carried these: a dead letter with why, never an OverflowError
    for past_9999 in (2**63 - 1, 10**16, "9223372036854775807", 253_402_300_800):
        with pytest.raises(DeadLetter, match="9999"):
            unix_time_us(past_9999, "timestamp")


def test_ids_outside_the_pattern_are_hashed_stably() -> None:
    assert identifier("3580000000000000001", "p") == "3580000000000000001"
    hashed = identifier("1@#aGVsbG8=", "p")
    assert hashed.startswith("h-") and hashed == identifier("1@#aGVsbG8=", "p")
    assert platform_id("doudian", 42, "s") == "doudian:42"
    with pytest.raises(DeadLetter):
        identifier("", "p")


def test_doudian_signature_md5_and_hmac_sha256() -> None:
    connector = doudian("key", "secret")
    body = b'[{"msgId":"1","tag":100,"data":{}}]'
    md5 = hashlib.md5(b"key" + body + b"secret").hexdigest()
    connector.verify(Push(body, {"event-sign": md5}))
    connector.verify(Push(body, {"event-sign": md5.upper()}))
    mac = hmac.new(b"secret", b"key" + body + b"secret", "sha256").hexdigest()
    connector.verify(Push(body, {"event-sign": mac, "event-sign-method": "hmac-sha256"}))
    for headers in (
        {"event-sign": mac},
        {"event-sign": md5, "event-sign-method": "sha1"},
        {"event-sign": md5, "app-id": "other"},
        {},
    ):
        with pytest.raises(SignatureInvalid):
            connector.verify(Push(body, headers))


def test_doudian_pushes_of_any_connected_app_are_verified_with_that_apps_secret() -> None:
    connector = DoudianConnector(lambda: [App("doudian", "a1", "s1"), App("doudian", "a2", "s2")])
    body = b'[{"msg_id":"1","tag":100,"data":{}}]'
    for key, secret in (("a1", "s1"), ("a2", "s2")):
        sign = hashlib.md5(key.encode() + body + secret.encode()).hexdigest()
        connector.verify(Push(body, {"event-sign": sign, "app-id": key}))
        connector.verify(Push(body, {"event-sign": sign}))  # no app-id: any app may match
    crossed = hashlib.md5(b"a1" + body + b"s2").hexdigest()
    with pytest.raises(SignatureInvalid):
        connector.verify(Push(body, {"event-sign": crossed, "app-id": "a1"}))


def test_doudian_data_may_arrive_as_a_json_string() -> None:
    (message,) = doudian().split(Push(b'[{"msg_id":"m1","tag":"206","data":"{\\"p_id\\":7}"}]', {}))
    assert (message.message_id, message.kind, message.data, message.order_ref) == (
        "m1",
        "tag 206",
        {"p_id": 7},
        "7",
    )
    (unreadable,) = doudian().split(Push(b'[{"msgId":"m1","tag":206,"data":"[1"}]', {}))
    with pytest.raises(DeadLetter, match="data is a string but not JSON"):
        doudian().handle(unreadable, FakeContext())


def test_doudian_url_verification_message_is_acknowledged_and_ignored() -> None:
    body = b'[{"tag":"0","msg_id":"0","data":"2020-09-10T16:27:56.52842897+08:00"}]'
    (message,) = doudian().split(Push(body, {}))
    outcome = doudian().handle(message, FakeContext())
    assert outcome.events == [] and "verification" in (outcome.ignored or "")
    assert doudian().acknowledgement(Push(body, {}))[:2] == (b'{"code":0,"msg":"success"}', 200)


def test_doudian_a_bad_message_in_a_push_is_its_own_dead_letter() -> None:
    body = b'[{"msg_id":"ok","tag":102,"data":{}},{"tag":100},7]'
    good, no_id, not_object = doudian().split(Push(body, {}))
    assert doudian().handle(good, FakeContext()).ignored
    for bad, why in ((no_id, "msg_id"), (not_object, "not an object")):
        assert bad.message_id.startswith("sha256:")
        with pytest.raises(DeadLetter, match=why):
            doudian().handle(bad, FakeContext())


def test_doudian_paid_for_a_known_order_needs_no_detail_call() -> None:
    context = FakeContext(orders={"doudian:s1": "sess"})
    message = Message(
        "m",
        "tag 101",
        {"p_id": "p1", "s_ids": ["s1"], "shop_id": 1, "pay_time": 1618990600, "pay_amount": 12345},
    )
    outcome = doudian().handle(message, context)
    assert [(e["type"], e["session_id"], e["data"]) for e in outcome.events] == [
        ("order.paid", "sess", {"order_id": "doudian:s1", "amount": "123.45"})
    ]
    assert outcome.events[0]["event_id"] == fact_id("doudian", "paid:doudian:s1")
    assert context.details.calls == 0


def test_doudian_paid_pending_110_takes_time_and_amount_from_the_order_detail() -> None:
    # 110 carries no pay_time and no pay_amount (the official SDK's TradeTradePendingParam)
    context = FakeContext(live={("shop_id", "95250"): "sess"})
    message = Message(
        "m",
        "tag 110",
        {"p_id": "4810000000000000051", "s_ids": ["4810000000000000052"], "shop_id": 95250},
    )
    events = doudian().handle(message, context).events
    assert [(e["type"], e["occurred_at"], e["data"].get("amount")) for e in events] == [
        ("order.placed", "2021-04-21T07:43:20.000Z", "88.00"),
        ("order.paid", "2021-04-21T07:43:50.000Z", "88.00"),
    ]


def test_doudian_refund_amount_already_includes_its_postage() -> None:
    context = FakeContext(orders={"doudian:s1": "sess"})
    message = Message(
        "m",
        "tag 206",
        {
            "p_id": "p1",
            "s_id": "s1",
            "shop_id": 1,
            "aftersale_id": "as1",
            "refund_amount": 1500,  # 10.00 of goods and 5.00 of postage
            "refund_post_amount": 500,
            "success_time": 1618990600,
        },
    )
    (event,) = doudian().handle(message, context).events
    assert event["data"] == {"order_id": "doudian:s1", "amount": "15.00"}
    assert event["occurred_at"] == "2021-04-21T07:36:40.000Z"
    assert event["event_id"] == fact_id("doudian", "refunded:as1:doudian:s1")


def test_doudian_special_rights_refund_225_counts() -> None:
    context = FakeContext(orders={"doudian:s1": "sess"})
    message = Message(
        "m",
        "tag 225",
        {
            "p_id": "p1",
            "s_id": "s1",
            "shop_id": 1,
            "aftersale_id": "as2",
            "refund_amount": 3000,
            "success_time": 1619600000,
        },
    )
    (event,) = doudian().handle(message, context).events
    assert (event["type"], event["data"]["amount"]) == ("order.refunded", "30.00")


@pytest.mark.parametrize(
    ("tag", "ignored"),
    [
        (102, "seller shipped"),
        (200, "succeeds"),
        (201, "succeeds"),
        (207, "refund closed"),
        (109, "final amount"),
        (126, "shipping deadline"),
        *((tag, "arbitration") for tag in range(212, 219)),
        (224, "tag 225"),
        (226, "resend"),
        (227, "resend"),
    ],
)
def test_doudian_tags_that_change_no_figure_are_ignored(tag: int, ignored: str) -> None:
    outcome = doudian().handle(Message("m", f"tag {tag}", {}), FakeContext())
    assert outcome.events == [] and ignored in (outcome.ignored or "")


def test_doudian_unknown_tag_and_no_session_are_dead_letters() -> None:
    with pytest.raises(DeadLetter, match="unknown_tag"):
        doudian().handle(Message("m", "tag 555", {}), FakeContext())
    message = Message(
        "m",
        "tag 100",
        {
            "p_id": "4810000000000000001",
            "shop_id": 95250,
            "s_ids": ["4810000000000000002"],
            "create_time": 1618990587,
        },
    )
    with pytest.raises(DeadLetter, match="no_live_session"):
        doudian().handle(message, FakeContext())


def test_one_fact_told_by_a_push_and_by_the_order_detail_is_one_event() -> None:
    context = FakeContext(live={("shop_id", "95250"): "sess"})
    created = Message("a", "tag 100", {"p_id": "4810000000000000001", "shop_id": 95250})
    paid = Message(
        "b",
        "tag 110",
        {"p_id": "4810000000000000001", "s_ids": ["4810000000000000002"], "shop_id": 95250},
    )
    first = doudian().handle(created, context).events
    second = doudian().handle(paid, context).events
    assert [e["event_id"] for e in first] == [e["event_id"] for e in second]
    assert [e["data"] for e in first] == [e["data"] for e in second]


def tiktok_message(kind: int, data: dict[str, Any], message_id: str = "n") -> Message:
    return Message(message_id, f"type {kind}", {"shop_id": "shop", "data": data})


def test_tiktok_statuses_map_to_placed_paid_cancelled() -> None:
    context = FakeContext(live={("shop_id", "shop"): "sess"})

    def types(status: str) -> list[str]:
        message = tiktok_message(
            1,
            {"order_id": "576461413038785752", "order_status": status, "update_time": 1619611600},
        )
        return [e["type"] for e in tiktok().handle(message, context).events]

    # the recorded detail of ...752 is paid: every status change shows what the detail says
    assert types("UNPAID") == ["order.placed", "order.paid"] * 2  # two products
    assert types("COMPLETED") == ["order.placed", "order.paid"] * 2
    # CANCEL is the webhook's spelling, CANCELLED the order API's: both cancel
    assert types("CANCEL") == ["order.placed", "order.paid", "order.cancelled"] * 2
    assert types("CANCELLED") == ["order.placed", "order.paid", "order.cancelled"] * 2
    with pytest.raises(DeadLetter, match="unknown_status"):
        types("TELEPORTED")


def test_tiktok_cancellation_webhook_type_11_cancels_when_done() -> None:
    context = FakeContext(live={("shop_id", "shop"): "sess"})
    base = {"order_id": "576461413038785770", "cancel_id": "c1", "create_time": 1619611800}
    pending = tiktok_message(11, {**base, "cancel_status": "CANCELLATION_REQUEST_PENDING"})
    assert tiktok().handle(pending, context).ignored
    done = tiktok_message(11, {**base, "cancel_status": "CANCELLATION_REQUEST_COMPLETE"})
    events = tiktok().handle(done, context).events
    assert [e["type"] for e in events] == ["order.placed", "order.paid", "order.cancelled"]
    assert events[-1]["occurred_at"] == "2021-04-28T12:11:40.000Z"  # the order's cancel_time


def test_tiktok_a_replacement_turned_refund_counts_as_a_refund() -> None:
    context = FakeContext(live={("shop_id", "shop"): "sess"})
    message = tiktok_message(
        12,
        {
            "order_id": "576461413038785752",
            "return_id": "4035318504086278196",
            "return_status": "REPLACEMENT_REQUEST_REFUND_SUCCESS",
            "update_time": 1620216461,
        },
    )
    refunds = [e for e in tiktok().handle(message, context).events if e["type"] == "order.refunded"]
    assert [(e["data"]["order_id"], e["data"]["amount"]) for e in refunds] == [
        ("tiktok_shop:576461413038785752:1729385432999", "9.90")
    ]


def test_tiktok_webhook_without_a_notification_id_is_named_by_its_body() -> None:
    body = (
        b'{"type": 1, "shop_id": "7494049642642441621", "timestamp": 1644412885, "data": '
        b'{"order_id": "576486316948490001", "order_status": "UNPAID", "update_time": 1644412885}}'
    )
    (message,) = tiktok().split(Push(body, {}))
    assert message.message_id == "sha256:" + hashlib.sha256(body).hexdigest()
    assert (message.kind, message.shop_ref, message.unreadable) == (
        "type 1",
        "7494049642642441621",
        None,
    )


def test_tiktok_subscribed_types_without_a_figure_are_ignored_not_dead() -> None:
    for kind in (2, 3, 4, 5, 6, 7):
        assert tiktok().handle(tiktok_message(kind, {}), FakeContext()).ignored
    with pytest.raises(DeadLetter, match="unknown_type"):
        tiktok().handle(tiktok_message(99, {}), FakeContext())


def test_tiktok_signature_is_hmac_of_key_and_body() -> None:
    # the overview's own test vector: app key abcdef, secret 123
    body = (
        b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
        b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
        b'"order_status":"UNPAID","update_time":1718305585}}'
    )
    sign = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
    tiktok("abcdef", "123").verify(Push(body, {"authorization": sign}))
    with pytest.raises(SignatureInvalid):
        tiktok("abcdef", "123").verify(Push(body + b" ", {"authorization": sign}))


def douyin_push(kind: str, body: bytes, secret: str, at_ms: int) -> Push:
    headers = {"x-msg-type": kind, "x-nonce-str": "n", "x-roomid": "r", "x-timestamp": str(at_ms)}
    signed = "&".join(f"{k}={headers[k]}" for k in sorted(headers))
    digest = hashlib.md5(signed.encode() + body + secret.encode()).digest()
    import base64

    return Push(body, {**headers, "x-signature": base64.b64encode(digest).decode()})


def test_douyin_each_message_type_is_checked_with_its_own_secret() -> None:
    now_ms = 1_714_300_000_000
    connector = DouyinLiveConnector(
        "default", {"live_gift": "gift-secret"}, clock=lambda: now_ms * 1000
    )
    body = b'[{"msg_id":"1","sec_openid":"v","gift_num":1,"timestamp":1714300000000}]'
    connector.verify(douyin_push("live_gift", body, "gift-secret", now_ms))
    connector.verify(douyin_push("live_comment", body, "default", now_ms))
    with pytest.raises(SignatureInvalid):
        connector.verify(douyin_push("live_gift", body, "default", now_ms))


def test_douyin_a_stale_or_far_future_push_is_refused() -> None:
    now_ms = 1_714_300_000_000
    connector = DouyinLiveConnector("s", clock=lambda: now_ms * 1000)
    body = b"[]"
    for at in (now_ms - 601_000, now_ms + 601_000):
        with pytest.raises(SignatureInvalid, match="stale or replayed"):
            connector.verify(douyin_push("live_like", body, "s", at))
    connector.verify(douyin_push("live_like", body, "s", now_ms - 30_000))


def test_douyin_like_num_as_a_string_and_out_of_range_times() -> None:
    context = FakeContext(live={("room_id", "r"): "sess"})
    connector = DouyinLiveConnector("secret")
    like = Message(
        "m",
        "live_like",
        {"sec_openid": "v", "like_num": "12", "timestamp": 1714300000000},
        room_id="r",
    )
    (event,) = connector.handle(like, context).events
    assert event["data"]["count"] == 12
    for at in (2**63 - 1, 10**16):
        late = Message(
            "m", "live_like", {"sec_openid": "v", "like_num": 1, "timestamp": at}, room_id="r"
        )
        with pytest.raises(DeadLetter, match="9999"):
            connector.handle(late, context)


def test_douyin_fan_club_level_up_is_ignored_and_a_zero_gift_is_unreadable() -> None:
    context = FakeContext(live={("room_id", "r"): "sess"})
    connector = DouyinLiveConnector("secret")
    level_up = Message(
        "m",
        "live_fansclub",
        {"sec_openid": "v", "fansclub_reason_type": 1, "timestamp": 1714300000000},
        room_id="r",
    )
    assert connector.handle(level_up, context).ignored
    gift = Message(
        "m",
        "live_gift",
        {"sec_openid": "v", "gift_num": 0, "timestamp": 1714300000000},
        room_id="r",
    )
    with pytest.raises(DeadLetter, match="gift_num"):
        connector.handle(gift, context)
    enter = Message("m", "live_enter", {"sec_openid": "v"}, room_id="r", at_us=1)
    assert connector.handle(enter, context).events[0]["type"] == "viewer.joined"
