"""The connectors' pure parts: platform values, signatures, and message -> events mapping,
with a fake Context that implements the real interface."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.ingest.connectors.base import Message
from service.ingest.connectors.doudian import DoudianConnector
from service.ingest.connectors.douyin_live import DouyinLiveConnector
from service.ingest.connectors.errors import DeadLetter, MalformedPush, SignatureInvalid
from service.ingest.connectors.tiktok_shop import TikTokShopConnector
from service.ingest.connectors.values import (
    fen_of_decimal,
    fen_of_integer,
    identifier,
    platform_id,
    unix_time_us,
)
from tests.connector_support import RecordedDetails


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


def test_ids_outside_the_pattern_are_hashed_stably() -> None:
    assert identifier("3580000000000000001", "p") == "3580000000000000001"
    hashed = identifier("1@#aGVsbG8=", "p")
    assert hashed.startswith("h-") and hashed == identifier("1@#aGVsbG8=", "p")
    assert platform_id("doudian", 42, "s") == "doudian:42"
    with pytest.raises(DeadLetter):
        identifier("", "p")


def test_doudian_signature_md5_and_hmac_sha256() -> None:
    connector = DoudianConnector("key", "secret")
    body = b'[{"msgId":"1","tag":100,"data":{}}]'
    md5 = hashlib.md5(b"key" + body + b"secret").hexdigest()
    connector.verify(body, {"event-sign": md5})
    connector.verify(body, {"event-sign": md5.upper()})
    mac = hmac.new(b"secret", b"key" + body + b"secret", "sha256").hexdigest()
    connector.verify(body, {"event-sign": mac, "event-sign-method": "hmac-sha256"})
    for headers in (
        {"event-sign": mac},
        {"event-sign": md5, "event-sign-method": "sha1"},
        {"event-sign": md5, "app-id": "other"},
        {},
    ):
        with pytest.raises(SignatureInvalid):
            connector.verify(body, headers)


def test_doudian_data_may_arrive_as_a_json_string() -> None:
    connector = DoudianConnector("key", "secret")
    (message,) = connector.split(b'[{"msg_id":"m1","tag":"206","data":"{\\"p_id\\":7}"}]', {})
    assert (message.message_id, message.kind, message.data, message.order_ref) == (
        "m1",
        "tag 206",
        {"p_id": 7},
        "7",
    )
    with pytest.raises(MalformedPush, match="data"):
        connector.split(b'[{"msgId":"m1","tag":206,"data":"[1"}]', {})


def test_doudian_paid_for_a_known_order_needs_no_detail_call() -> None:
    context = FakeContext(orders={"doudian:s1": "sess"})
    message = Message(
        "m",
        "tag 101",
        {"p_id": "p1", "s_ids": ["s1"], "shop_id": 1, "pay_time": 1618990600, "pay_amount": 12345},
    )
    outcome = DoudianConnector("k", "s").handle(message, context)
    assert [(e["type"], e["session_id"], e["data"]) for e in outcome.events] == [
        ("order.paid", "sess", {"order_id": "doudian:s1", "amount": "123.45"})
    ]
    assert context.details.calls == 0


def test_doudian_refund_success_counts_goods_and_postage() -> None:
    context = FakeContext(orders={"doudian:s1": "sess"})
    message = Message(
        "m",
        "tag 206",
        {
            "p_id": "p1",
            "s_id": "s1",
            "shop_id": 1,
            "refund_amount": 1000,
            "refund_post_amount": 500,
            "success_time": 1618990600,
        },
    )
    (event,) = DoudianConnector("k", "s").handle(message, context).events
    assert event["data"] == {"order_id": "doudian:s1", "amount": "15.00"}
    assert event["occurred_at"] == "2021-04-21T07:36:40.000Z"


@pytest.mark.parametrize(
    ("tag", "ignored"),
    [
        (102, "seller shipped"),
        (200, "succeeds"),
        (201, "succeeds"),
        (207, "refund closed"),
        (109, "final amount"),
    ],
)
def test_doudian_tags_that_change_no_figure_are_ignored(tag: int, ignored: str) -> None:
    outcome = DoudianConnector("k", "s").handle(Message("m", f"tag {tag}", {}), FakeContext())
    assert outcome.events == [] and ignored in (outcome.ignored or "")


def test_doudian_unknown_tag_and_no_session_are_dead_letters() -> None:
    with pytest.raises(DeadLetter, match="unknown_tag"):
        DoudianConnector("k", "s").handle(Message("m", "tag 555", {}), FakeContext())
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
        DoudianConnector("k", "s").handle(message, FakeContext())


def test_tiktok_statuses_map_to_placed_paid_cancelled() -> None:
    context = FakeContext(live={("shop_id", "shop"): "sess"})
    connector = TikTokShopConnector("k", "s")

    def types(status: str) -> list[str]:
        message = Message(
            "n",
            "type 1",
            {
                "shop_id": "shop",
                "data": {
                    "order_id": "576461413038785752",
                    "order_status": status,
                    "update_time": 1619611600,
                },
            },
        )
        return [e["type"] for e in connector.handle(message, context).events]

    assert types("UNPAID") == ["order.placed"] * 2  # two products
    assert types("COMPLETED") == ["order.placed", "order.paid"] * 2
    assert types("CANCELLED") == ["order.placed", "order.cancelled"] * 2
    with pytest.raises(DeadLetter, match="unknown_status"):
        types("TELEPORTED")


def test_tiktok_signature_is_hmac_of_key_and_body() -> None:
    body = b'{"type":1}'
    sign = hmac.new(b"s", b"k" + body, "sha256").hexdigest()
    TikTokShopConnector("k", "s").verify(body, {"authorization": sign})
    with pytest.raises(SignatureInvalid):
        TikTokShopConnector("k", "s").verify(body + b" ", {"authorization": sign})


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
