"""POST /api/v1/events: what is stored, and how every kind of bad input is refused."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from tests.builders import Broadcast, at, event
from tests.integration.conftest import Api

GOOD = lambda: event("viewer.joined", 0, {"viewer_id": "v-1", "source": "ad"})  # noqa: E731


def test_one_event_is_stored_and_its_position_returned(api: Api) -> None:
    response = api.post(GOOD())
    assert response.status_code == 201
    assert response.json == {"appended": 1, "duplicates": 0, "positions": [1]}
    assert api.stored_count() == 1


def test_a_batch_is_stored_and_a_repeat_is_reported_as_duplicates(api: Api) -> None:
    events = Broadcast().start().join(1, "v-1").join(2, "v-2").events
    first = api.post({"events": events})
    again = api.post({"events": events})
    assert first.status_code == again.status_code == 201
    assert again.json["appended"] == 0 and again.json["duplicates"] == 3
    assert again.json["positions"] == first.json["positions"]
    assert api.stored_count() == 3


def test_raw_events_read_back_in_the_wire_shape(api: Api) -> None:
    api.post({"events": Broadcast().start().place(1, "o-1", "b-1", "19.9").events})
    body = api.get("/api/v1/events?stream=session-s-1&after=1").json
    assert [e["type"] for e in body["events"]] == ["order.placed"]
    assert body["events"][0]["data"]["amount"] == 19.9
    assert body["events"][0]["session_id"] == "s-1"
    assert body["next_after"] == 2


def test_an_expected_version_behind_the_head_is_a_409_naming_both(api: Api) -> None:
    api.post(event("viewer.joined", 0, {"viewer_id": "v"}, expected_version=0))
    response = api.post(event("viewer.joined", 1, {"viewer_id": "w"}, expected_version=0))
    assert response.status_code == 409
    assert response.json["expected_version"] == 0 and response.json["actual_version"] == 1
    assert "expected_version" in response.json["errors"]["0"]
    assert api.stored_count() == 1


def test_the_same_event_id_with_other_content_is_a_409(api: Api) -> None:
    first = GOOD()
    api.post(first)
    changed = {**first, "data": {"viewer_id": "someone-else"}}
    response = api.post({"events": [GOOD(), changed]})
    assert response.status_code == 409
    assert response.json["errors"] == {"1": {"event_id": ["already stored with different content"]}}
    assert api.stored_count() == 1


def _future() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(minutes=6)).isoformat()


BAD_EVENTS: list[tuple[str, Any, str, str]] = [
    # (case, change to a good event, field named, words in the reason)
    ("unknown type", {"type": "viewer.teleported"}, "type", "not a known event type"),
    ("missing event_id", {"event_id": None}, "event_id", "required"),
    ("bad event_id", {"event_id": "abc"}, "event_id", "not a valid UUID"),
    ("unknown envelope field", {"colour": "red"}, "colour", "Unknown field"),
    (
        "unknown data field",
        {"data": {"viewer_id": "v", "colour": 1}},
        "data.colour",
        "Unknown field",
    ),
    ("missing data field", {"data": {}}, "data.viewer_id", "required"),
    ("wrong type", {"data": {"viewer_id": 42}}, "data.viewer_id", "must be"),
    ("bad enum", {"data": {"viewer_id": "v", "source": "tv"}}, "data.source", "must be one of"),
    ("unparseable time", {"occurred_at": "yesterday"}, "occurred_at", "ISO 8601"),
    ("future time", {"occurred_at": "FUTURE"}, "occurred_at", "5 minutes in the future"),
    ("no session_id", {"session_id": None}, "session_id", "required for viewer.joined"),
    ("bool version", {"expected_version": True}, "expected_version", "integer"),
]


@pytest.mark.parametrize(
    ("case", "change", "field", "reason"), BAD_EVENTS, ids=[c[0] for c in BAD_EVENTS]
)
def test_bad_events_are_422_naming_index_field_and_reason(
    api: Api, case: str, change: dict[str, Any], field: str, reason: str
) -> None:
    bad = {**GOOD(), **change}
    if bad["occurred_at"] == "FUTURE":  # computed now: the suite may run for minutes
        bad["occurred_at"] = _future()
    bad = {k: v for k, v in bad.items() if not (v is None and k in ("event_id", "session_id"))}
    response = api.post({"events": [GOOD(), bad]})
    assert response.status_code == 422, response.json
    messages = response.json["errors"]["1"][field]
    assert any(reason.lower() in m.lower() for m in messages), messages
    assert "0" not in response.json["errors"]
    assert api.stored_count() == 0


MONEY_CASES = [
    (-1, "must not be negative"),
    ("12.345", "at most two decimals"),
    ("lots", "plain decimal"),
    (True, "number or a decimal string"),
    ("NaN", "plain decimal"),
    ("\uff11\uff12", "plain decimal"),
    ("1_000", "plain decimal"),
    (" 5 ", "plain decimal"),
    ("1e2", "plain decimal"),
    ("-0", "negative"),
    ("100000000.01", "at most 100,000,000"),
    (1e9, "at most 100,000,000"),
]


@pytest.mark.parametrize(("amount", "reason"), MONEY_CASES)
def test_bad_money_is_refused(api: Api, amount: Any, reason: str) -> None:
    bad = Broadcast().place(0, "o-1", "b-1", amount).events[0]
    response = api.post(bad)
    assert response.status_code == 422
    assert any(reason in m for m in response.json["errors"]["0"]["data.amount"])
    assert api.stored_count() == 0


def test_a_person_event_without_person_id_is_refused(api: Api) -> None:
    bad = event("target.set", 0, {"period": "2026-11", "kpi": "gmv", "value": 1})
    response = api.post(bad)
    assert response.status_code == 422
    assert "person_id" in response.json["errors"]["0"]


def test_malformed_json_is_a_400(api: Api) -> None:
    response = api.client.post(
        "/api/v1/events",
        data=b'{"type": ',
        headers=api.headers("ingest"),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "malformed JSON" in response.json["errors"]["body"]["body"][0]


def test_a_batch_over_5000_is_refused(api: Api) -> None:
    response = api.post({"events": [GOOD() for _ in range(5001)]})
    assert response.status_code == 422
    assert "at most 5000" in response.json["errors"]["body"]["events"][0]
    assert api.stored_count() == 0


def test_a_body_over_10_mb_is_a_413(api: Api) -> None:
    big = b'{"events": [' + b" " * (10 * 1024 * 1024) + b"]}"
    response = api.client.post("/api/v1/events", data=big, headers=api.headers("ingest"))
    assert response.status_code == 413
    assert "size limit" in response.json["message"]


def test_no_token_is_401_and_a_token_without_the_scope_is_403(api: Api) -> None:
    assert api.client.post("/api/v1/events", json=GOOD()).status_code == 401
    bogus = {"Authorization": "Bearer lt_nope"}
    assert api.client.post("/api/v1/events", json=GOOD(), headers=bogus).status_code == 401
    response = api.post(GOOD(), scope="read")
    assert response.status_code == 403
    assert "ingest" in response.json["message"]
    assert api.get("/api/v1/events", scope="ingest").status_code == 403
    assert api.stored_count() == 0


def test_bad_query_parameters_name_the_parameter(api: Api) -> None:
    response = api.get("/api/v1/events?limit=0")
    assert response.status_code == 422
    assert "limit" in response.json["errors"]["query"]


def test_violations_default_their_fine_from_the_rule_book(api: Api) -> None:
    ok = api.post(event("violation.recorded", 0, {"rule": "smoking"}, person="p-1"))
    assert ok.status_code == 201
    stored = api.get("/api/v1/events?stream=person-p-1").json["events"][0]
    assert stored["data"]["fine"] == 50
    unknown = api.post(event("violation.recorded", 0, {"rule": "juggling"}, person="p-1"))
    assert unknown.status_code == 422
    assert "data.fine" in unknown.json["errors"]["0"]


def test_a_naive_timestamp_is_taken_as_utc(api: Api) -> None:
    body = GOOD()
    body["occurred_at"] = at(0).removesuffix("Z")
    assert api.post(body).status_code == 201
    assert api.get("/api/v1/events").json["events"][0]["occurred_at"] == at(0).replace(
        ":00Z", ":00.000Z"
    )


def test_event_ids_are_normalised(api: Api) -> None:
    body = GOOD()
    body["event_id"] = str(uuid.uuid4()).upper()
    assert api.post(body).status_code == 201
    again = {**body, "event_id": body["event_id"].lower()}
    assert api.post(again).json["duplicates"] == 1


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_a_415_and_stores_nothing(
    api: Api, content_type: str | None
) -> None:
    body = orjson.dumps(Broadcast().start(0).events[0])
    response = api.client.post(
        "/api/v1/events", data=body, headers=api.headers("ingest"), content_type=content_type
    )
    assert response.status_code == 415
    assert "application/json" in response.json["message"]
    assert api.stored_count() == 0


def test_the_api_takes_no_token_from_the_url(api: Api) -> None:
    body = Broadcast().start(0).events[0]
    response = api.client.post(f"/api/v1/events?token={api.tokens['admin']}", json=body)
    assert response.status_code == 401 and "?token=" in response.json["message"]
    assert api.client.get(f"/api/v1/sessions?token={api.tokens['read']}").status_code == 401
    assert api.stored_count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"session_id": "s1\n"}, "session_id"),
        ({"occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "1999-12-31T23:59:59Z"}, "occurred_at"),
        ({"person_id": "p-1"}, "person_id"),
    ],
)
def test_loose_envelopes_are_refused_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    bad = {**Broadcast().start(0).events[0], **change}
    response = api.post(bad)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["0"]
    assert api.stored_count() == 0


def test_a_person_event_with_a_session_id_is_refused(api: Api) -> None:
    bad = {
        **event("target.set", 0, {"period": "2026-11", "kpi": "gmv", "value": 1}, person="p-1"),
        "session_id": "s-1",
    }
    response = api.post(bad)
    assert response.status_code == 422
    assert "session_id" in response.json["errors"]["0"]
    assert api.stored_count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "like", "count": 1_000_001}, "data.count"),
        ({"kind": "comment", "text": "x" * 501}, "data.text"),
    ],
)
def test_counts_and_texts_have_bounds(api: Api, data: dict[str, Any], field: str) -> None:
    bad = Broadcast().add("interaction.recorded", 0, **data).events[0]
    response = api.post(bad)
    assert response.status_code == 422 and field in response.json["errors"]["0"]


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01", "host_id=h%0A"])
def test_session_list_queries_out_of_range_are_422(api: Api, query: str) -> None:
    response = api.get(f"/api/v1/sessions?{query}")
    assert response.status_code == 422, response.json


def test_a_period_that_has_not_ended_cannot_be_closed(api: Api) -> None:
    response = api.client.post("/api/v1/periods/2999-01/close", headers=api.headers("admin"))
    assert response.status_code == 422 and response.json["error"] == "period_not_over"
    assert api.stored_count() == 0
