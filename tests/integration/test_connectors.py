"""The connectors end to end on both backends: recorded platform pushes with correct
signatures produce the hand-computed session numbers; retries, shuffles, tampering, late
sessions and an unreachable detail API. Messages that need the platform's API are queued by
the push and finished by a worker (`finish_queued` stands in for it).

Hand-computed figures (fixtures under tests/fixtures/connectors):
- Doudian, shop 95250, session dd-live from 07:30Z: order 1 (SKU ...002) 29.90 paid; order 2
  two SKU orders 100.00 (...022) and 58.00 (...023), paid, ...023 refunded in full a week later
  (206); order 3 (...032) 19.90 cancelled; order 5 (...052) 88.00 created, then paid-pending
  (110: no pay time or amount in the message, both from the order detail), 30.00 of it refunded
  as a special-rights refund (225). Placed 5, paid 4, GMV 29.90 + 100 + 58 + 88 = 275.90,
  refunds 58 + 30 = 88.00, net 187.90, buyers 3. Tag 999 is a dead letter; 109, 102, 200, 207,
  126, 212, 224, 226 and 227 are acknowledged and ignored with why.
- TikTok Shop: order ...752 two units of product ...345 at 25.00 and one of ...999 at 9.90,
  paid: two catalogue orders 50.00 and 9.90; one unit of ...345 returned (25.00) a week later,
  and the ...999 replacement turned into a refund (9.90); order ...760 (9.90) cancelled (the
  webhook says CANCEL); order ...770 (19.90) paid, then cancelled by a type 11 cancellation.
  Placed 4, paid 2, GMV 59.90, refunds 25.00 + 9.90 = 34.90, net 25.00, buyers 1. Type 99 is a
  dead letter; type 3, the pending return and the pending cancellation are ignored; a webhook
  without tts_notification_id (the overview's sample shape) is taken.
- Douyin live, room ...596: 2 comments, a gift of 3, 15 likes, one fan-club join (a level-up is
  ignored).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from service.auth.tokens import create_token
from service.cli import main
from service.ingest.connectors import ledger
from service.process.app import create_app
from service.process.runtime import build_runtime
from service.process.settings import Settings
from tests.connector_support import (
    CONNECTOR_SETTINGS,
    DOUYIN_PUSHED_AT_US,
    RecordedDetails,
    doudian_request,
    doudian_signed,
    douyin_request,
    figures,
    finish_queued,
    fixture,
    push,
    start,
    tiktok_request,
)
from tests.integration.conftest import Api

DD_SHOP, TT_SHOP, DY_ROOM = "95250", "7494049642642441621", "7358965436128930596"


@pytest.fixture
def api_conn(database_url: str) -> Iterator[Api]:
    runtime = build_runtime(Settings(database_url=database_url, **CONNECTOR_SETTINGS))
    runtime.intake.details = RecordedDetails()
    douyin = runtime.intake.connectors["douyin_live"]
    douyin.clock = lambda: DOUYIN_PUSHED_AT_US  # type: ignore[attr-defined]
    app = create_app(runtime=runtime)
    tokens = {scope: create_token(runtime.engine, [scope]) for scope in ("ingest", "read", "admin")}
    yield Api(app.test_client(), runtime, tokens)
    runtime.close()


DD_EXPECTED = {
    "orders_placed": 5,
    "orders_paid": 4,
    "gmv": 275.9,
    "refunds": 88.0,
    "net_gmv": 187.9,
    "buyers": 3,
}
TT_EXPECTED = {
    "orders_placed": 4,
    "orders_paid": 2,
    "gmv": 59.9,
    "refunds": 34.9,
    "net_gmv": 25.0,
    "buyers": 1,
}


def doudian_messages() -> list[dict[str, Any]]:
    return [entry["message"] for entry in fixture("doudian", "pushes.json")["messages"]]


def test_doudian_pushes_give_the_hand_computed_numbers(api_conn: Api) -> None:
    start(api_conn, "dd-live", datetime(2021, 4, 21, 7, 30, tzinfo=UTC), shop=DD_SHOP)
    for message in doudian_messages():
        response = push(api_conn, "doudian", *doudian_request([message]))
        assert response.status_code == 200
        assert response.json == {"code": 0, "msg": "success"}
    assert figures(api_conn, "dd-live") == DD_EXPECTED
    dead = api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"]
    assert [(d["message_id"], d["reason"].split(":")[0]) for d in dead] == [
        ("dd-m-012", "unknown_tag")
    ]
    events = api_conn.get("/api/v1/events?stream=session-dd-live").json["events"]
    placed = [e["data"] for e in events if e["type"] == "order.placed"]
    # a paid message for an order not folded yet carries its placement too (folded once)
    assert sorted(
        {(d["order_id"], d["product_id"], d["quantity"], d["amount"]) for d in placed}
    ) == [
        ("doudian:4810000000000000002", "3580000000000000001", 1, 29.9),
        ("doudian:4810000000000000022", "3580000000000000002", 2, 100.0),
        ("doudian:4810000000000000023", "3580000000000000003", 1, 58.0),
        ("doudian:4810000000000000032", "3580000000000000001", 1, 19.9),
        ("doudian:4810000000000000052", "3580000000000000002", 1, 88.0),
    ]
    # the open id holds '#' and '=' (not an identifier): a stable hash stands for it
    assert all(d["buyer_id"].startswith("h-") for d in placed)


def test_doudian_retries_and_shuffles_change_nothing(api_conn: Api) -> None:
    start(api_conn, "dd-live", datetime(2021, 4, 21, 7, 30, tzinfo=UTC), shop=DD_SHOP)
    messages = doudian_messages() * 2
    random.Random(7).shuffle(messages)  # paid before created, refunds before payment, ...
    for message in messages:
        assert push(api_conn, "doudian", *doudian_request([message])).status_code == 200
    stored = api_conn.stored_count()
    # one push holding every message again: acknowledged, nothing new stored
    assert push(api_conn, "doudian", *doudian_request(doudian_messages())).status_code == 200
    assert api_conn.stored_count() == stored
    assert figures(api_conn, "dd-live") == DD_EXPECTED


def test_a_tampered_or_unsigned_push_is_401_and_stores_nothing(api_conn: Api) -> None:
    start(api_conn, "dd-live", datetime(2021, 4, 21, 7, 30, tzinfo=UTC), shop=DD_SHOP)
    before = api_conn.stored_count()
    body, headers = doudian_request(doudian_messages()[:3])
    tampered = body.replace(b"2990", b"9990")
    for sent, sent_headers in (
        (tampered, headers),
        (body, {}),
        (body, {**headers, "event-sign": "0" * 32}),
    ):
        response = push(api_conn, "doudian", sent, sent_headers)
        assert response.status_code == 401, response.json
        assert response.json["errors"]["signature"]
    tt_body, tt_headers = tiktok_request(fixture("tiktok_shop", "webhooks.json")["webhooks"][0])
    assert push(api_conn, "tiktok_shop", tt_body + b" ", tt_headers).status_code == 401
    dy_body, dy_headers = douyin_request(
        fixture("douyin_live", "pushes.json")["pushes"][0], DY_ROOM
    )
    assert (
        push(api_conn, "douyin_live", dy_body, {**dy_headers, "x-roomid": "other"}).status_code
        == 401
    )
    assert api_conn.stored_count() == before
    assert api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"] == []


def test_malformed_and_oversize_bodies_are_refused_by_name(api_conn: Api) -> None:
    for body, problem in (
        (b"{not json", "not valid JSON"),
        (b"{}", "non-empty JSON list"),
        (b"[]", "non-empty JSON list"),
    ):
        response = push(api_conn, "doudian", *doudian_signed(body))
        assert response.status_code == 400, body
        assert problem in response.json["message"]
    # a message of a readable push that cannot be read is a dead letter with why: the
    # platform's retries of the push would meet the same message forever
    for body in (b'[{"tag": 100}]', b'[{"msg_id": "m", "tag": "x", "data": {}}]'):
        response = push(api_conn, "doudian", *doudian_signed(body))
        assert response.status_code == 200, body
    dead = api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"]
    assert ["msg_id" in dead[0]["reason"], "tag" in dead[1]["reason"]] == [True, True]
    huge = b"[" + b'{"msgId":"m","tag":100,"data":{}},' * 400_000 + b"{}]"
    response = push(api_conn, "doudian", *doudian_signed(huge))
    assert response.status_code == 413
    assert api_conn.stored_count() == 0


def test_an_unconfigured_connector_is_404(api: Api) -> None:
    body, headers = doudian_request(doudian_messages()[:1])
    response = api.client.post(
        "/api/v1/connectors/doudian",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 404
    assert api.stored_count() == 0


def test_an_order_before_any_session_waits_then_replays_into_the_late_session(
    api_conn: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(api_conn, "dd-live", datetime(2021, 4, 21, 7, 30, tzinfo=UTC), shop=DD_SHOP)
    early = fixture("doudian", "early_order.json")["messages"]
    for message in early:
        assert push(api_conn, "doudian", *doudian_request([message])).status_code == 200
    dead = api_conn.get("/api/v1/connectors/dead-letters?platform=doudian", "admin").json
    assert sorted(d["message_id"] for d in dead["dead_letters"]) == ["dd-m-101", "dd-m-102"]
    assert {d["reason"].split(":")[0] for d in dead["dead_letters"]} == {"no_live_session"}
    # the day-before broadcast is registered late (07:00-09:00 the day before)
    start(api_conn, "dd-early", datetime(2021, 4, 20, 7, 0, tzinfo=UTC), shop=DD_SHOP, end=7200)
    monkeypatch.setattr("service.ingest.wiring.ConnectedDetails", lambda shops: RecordedDetails())
    for name, value in CONNECTOR_SETTINGS.items():
        monkeypatch.setenv(f"LIVETALLY_{name.upper()}", value)
    result = CliRunner().invoke(
        main, ["connectors", "replay", "--platform", "doudian", "--db", database_url]
    )
    assert result.exit_code == 0, result.output
    # placed and paid, each fact once however many messages tell it (the detail read for the
    # created message already shows the payment: the paid message's event is a duplicate)
    assert "2 appended 2 events" in result.output
    assert "0 still dead" in result.output
    assert figures(api_conn, "dd-early") == {
        "orders_placed": 1,
        "orders_paid": 1,
        "gmv": 45.0,
        "refunds": 0.0,
        "net_gmv": 45.0,
        "buyers": 1,
    }
    assert figures(api_conn, "dd-live")["orders_placed"] == 0
    assert api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"] == []


def test_a_refund_a_week_later_lowers_the_right_sessions_net_gmv(api_conn: Api) -> None:
    # two broadcasts of the shop on the day; the refund follows its order to the first
    start(api_conn, "dd-live", datetime(2021, 4, 21, 7, 30, tzinfo=UTC), shop=DD_SHOP, end=3600)
    start(api_conn, "dd-next", datetime(2021, 4, 21, 9, 0, tzinfo=UTC), shop=DD_SHOP)
    messages = doudian_messages()
    for message in messages[:6]:  # orders 1 and 2, paid
        assert push(api_conn, "doudian", *doudian_request([message])).status_code == 200
    assert figures(api_conn, "dd-live")["net_gmv"] == 187.9
    refund = next(m for m in messages if m["tag"] == 206)
    assert push(api_conn, "doudian", *doudian_request([refund])).status_code == 200
    assert figures(api_conn, "dd-live")["net_gmv"] == 129.9
    assert figures(api_conn, "dd-next")["refunds"] == 0.0


def test_tiktok_webhooks_give_the_hand_computed_numbers_in_any_order(api_conn: Api) -> None:
    start(api_conn, "tt-live", datetime(2021, 4, 28, 12, 0, tzinfo=UTC), shop=TT_SHOP)
    hooks = fixture("tiktok_shop", "webhooks.json")["webhooks"]
    shuffled = hooks * 2
    random.Random(3).shuffle(shuffled)
    for hook in shuffled:
        response = push(api_conn, "tiktok_shop", *tiktok_request(hook))
        assert response.status_code == 200
    assert figures(api_conn, "tt-live") == TT_EXPECTED
    dead = api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"]
    assert [(d["message_id"], d["reason"].split(":")[0]) for d in dead] == [
        ("7327112393057371921", "unknown_type")
    ]


def test_tiktok_with_the_detail_api_down_keeps_messages_queued_and_never_guesses(
    api_conn: Api,
) -> None:
    start(api_conn, "tt-live", datetime(2021, 4, 28, 12, 0, tzinfo=UTC), shop=TT_SHOP)
    details = api_conn.runtime.intake.details
    assert isinstance(details, RecordedDetails)
    details.down = True
    hooks = fixture("tiktok_shop", "webhooks.json")["webhooks"]
    for hook in hooks:
        assert push(api_conn, "tiktok_shop", *tiktok_request(hook), worker=False).status_code == 200
    assert finish_queued(api_conn.runtime.intake) == 9  # each tried once: the API is down
    assert figures(api_conn, "tt-live")["orders_placed"] == 0
    reasons = {
        d["reason"].split(":")[0]
        for d in api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"]
    }
    assert reasons == {"unknown_type"}  # the others wait, queued, for the API
    counts = ledger.counts(api_conn.runtime.engine)
    assert counts == {"queued": 9, "ignored": 3, "dead": 1}
    details.down = False
    assert finish_queued(api_conn.runtime.intake) == 9
    assert figures(api_conn, "tt-live") == TT_EXPECTED


def test_douyin_live_pushes_become_interactions_of_the_rooms_session(api_conn: Api) -> None:
    start(api_conn, "dy-live", datetime(2024, 4, 28, 10, 0, tzinfo=UTC), room=DY_ROOM)
    start(api_conn, "dy-other", datetime(2024, 4, 28, 10, 0, tzinfo=UTC), room="r-other")
    for _ in range(2):  # every push delivered twice
        for one in fixture("douyin_live", "pushes.json")["pushes"]:
            response = push(api_conn, "douyin_live", *douyin_request(one, DY_ROOM))
            assert response.status_code == 200
    api_conn.project_all()
    body = api_conn.get("/api/v1/sessions/dy-live").json
    counts = {k: v for k, v in body["metrics"]["interactions"].items() if v}
    assert counts == {"comment": 2, "gift": 3, "like": 15, "fan_club_join": 1}
    comments = [c["text"] for c in body["recent"]["comments"]]
    assert comments == ["<img src=x onerror=alert(1)>", "这个口红什么色号？"]
    other = api_conn.get("/api/v1/sessions/dy-other").json["metrics"]["interactions"]
    assert not any(other.values())
    # a room with no live session: kept as a dead letter
    one = fixture("douyin_live", "pushes.json")["pushes"][0]
    one["payloads"] = [{**p, "msg_id": p["msg_id"] + "-b"} for p in one["payloads"]]
    assert push(api_conn, "douyin_live", *douyin_request(one, "r-nowhere")).status_code == 200
    dead = api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"]
    assert {d["reason"].split(":")[0] for d in dead} == {"no_live_session"}


def test_dead_letters_need_an_admin_token(api_conn: Api) -> None:
    assert api_conn.client.get("/api/v1/connectors/dead-letters").status_code == 401
    assert api_conn.get("/api/v1/connectors/dead-letters", "read").status_code == 403


def test_a_signed_push_with_an_impossible_time_keeps_the_rest_and_answers_200(
    api_conn: Api,
) -> None:
    # A leaked secret or a platform bug: message 3 of 4 names a time past any calendar.
    start(api_conn, "dy-live", datetime(2024, 4, 28, 10, 0, tzinfo=UTC), room=DY_ROOM)
    payloads = [
        {
            "msg_id": f"dy-t-{i}",
            "sec_openid": "_000viewer",
            "content": "好看",
            "timestamp": 2**63 - 1 if i == 3 else 1714300000000 + i,
        }
        for i in (1, 2, 3, 4)
    ]
    one = {
        "msg_type": "live_comment",
        "nonce": "n1",
        "timestamp": 1714300000900,
        "payloads": payloads,
    }
    response = push(api_conn, "douyin_live", *douyin_request(one, DY_ROOM))
    assert response.status_code == 200
    assert response.headers["X-Livetally-Taken"] == "appended=3,dead=1"
    (dead,) = api_conn.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"]
    assert dead["message_id"] == "dy-t-3" and "9999" in dead["reason"]
    api_conn.project_all()
    comments = api_conn.get("/api/v1/sessions/dy-live").json["metrics"]["interactions"]["comment"]
    assert comments == 3
    # the platform's retry of the whole push changes nothing and still answers 200
    assert push(api_conn, "douyin_live", *douyin_request(one, DY_ROOM)).status_code == 200


def test_the_ledger_keeps_each_messages_own_data_so_storage_grows_linearly(
    api_conn: Api,
) -> None:
    start(api_conn, "dy-live", datetime(2024, 4, 28, 10, 0, tzinfo=UTC), room=DY_ROOM)
    sizes = {}
    for count in (100, 1000):
        payloads = [
            {
                "msg_id": f"dy-l{count}-{i}",
                "sec_openid": f"_000v{i}",
                "like_num": 1,
                "timestamp": 1714300000000,
            }
            for i in range(count)
        ]
        one = {
            "msg_type": "live_like",
            "nonce": "n",
            "timestamp": 1714300000900,
            "payloads": payloads,
        }
        body, headers = douyin_request(one, DY_ROOM)
        assert push(api_conn, "douyin_live", body, headers).status_code == 200
        with api_conn.runtime.engine.connect() as conn:
            stored = conn.execute(
                sa.text(
                    "SELECT SUM(LENGTH(CAST(message AS TEXT))) FROM connector_message "
                    "WHERE message_id LIKE :prefix"
                ),
                {"prefix": f"dy-l{count}-%"},
            ).scalar_one()
        sizes[count] = stored / len(body)
    # each row holds its own message (about its share of the body plus a small envelope):
    # the same ratio for a push of 100 and of 1,000 (a copy of the push per row would be 10x)
    assert sizes[1000] < 4 and sizes[1000] < sizes[100] * 1.2, sizes
