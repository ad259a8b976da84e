"""The one-call path of parse_event means exactly what the general path means, on any event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import events.envelope as envelope
from events.catalogue import CATALOGUE, INGESTIBLE_TYPES
from events.envelope import _parse_event_generally, parse_event
from tests.unit.test_fast_loader import TRICKY, accepted, draw_fields

NOW_US = 1_795_075_500_000_000  # 2026-11-19T08:05:00Z
VALID_ENVELOPE: dict[str, list[Any]] = {
    "event_id": ["7f8a4b8e-2f3c-4d5e-9a1b-0c2d3e4f5a6b", "7F8A4B8E-2F3C-4D5E-9A1B-0C2D3E4F5A6B"],
    "occurred_at": ["2026-11-19T08:00:00Z", "2026-11-19T16:00:00.123456+08:00",
                    "2026-11-19T08:10:01Z"],  # the last is more than 5 minutes ahead of NOW_US
    "session_id": ["s-1", "s-1", None], "person_id": ["p-7", None, None],
    "expected_version": [None, 0, 3], "schema_version": [None, None, None, None, 1, 2],
    "metadata": [{}, {"source": "console"}, {"source": None, "correlation_id": "c"}],
}


def outcome(parse: Any, raw: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(raw, NOW_US)
    except ValidationError as exc:
        return "error", exc.messages


@st.composite
def wire_events(draw: st.DrawFn) -> Any:
    """Mostly valid events of every type, with some envelope or data fields wrong or missing."""
    event_type = draw(st.sampled_from(sorted(INGESTIBLE_TYPES)))
    data = draw_fields(draw, CATALOGUE[event_type].schema(), valid=18, out_of=20)
    raw: dict[str, Any] = {"type": event_type, "data": data}
    for name, values in VALID_ENVELOPE.items():
        roll = draw(st.integers(0, 19))
        if roll < 18:
            raw[name] = draw(st.sampled_from(values))
        elif roll < 19:
            raw[name] = draw(st.sampled_from(TRICKY))
    if draw(st.integers(0, 19)) == 0:
        raw[draw(st.sampled_from(["unexpected", "type"]))] = draw(st.sampled_from(TRICKY))
    return raw


@settings(max_examples=1500, deadline=None)
@given(raw=wire_events())
def test_the_one_call_path_agrees_with_the_general_path(raw: Any) -> None:
    assert outcome(parse_event, raw) == outcome(_parse_event_generally, raw)


def valid_data(event_type: str) -> dict[str, Any]:
    """Every field of the type, each with the first tricky value it accepts."""
    data = {}
    for name, field in CATALOGUE[event_type].schema().load_fields.items():
        data[field.data_key or name] = next(v for v in TRICKY if accepted(field, v))
    return data


def general_path_refused(raw: Any, now_us: int) -> Any:
    raise AssertionError("took the general path")


@pytest.mark.parametrize("event_type", sorted(set(INGESTIBLE_TYPES) - {
    "violation.recorded", "person.registered", "period.closed"}))
def test_a_valid_event_of_each_plain_type_takes_the_one_call_path(
        monkeypatch: pytest.MonkeyPatch, event_type: str) -> None:
    entry = CATALOGUE[event_type]
    raw = {"event_id": "7f8a4b8e-2f3c-4d5e-9a1b-0c2d3e4f5a6b", "type": event_type,
           "occurred_at": "2026-11-19T08:00:00Z", f"{entry.family}_id": "k-1",
           "data": valid_data(event_type)}
    expected = _parse_event_generally(raw, NOW_US)
    monkeypatch.setattr(envelope, "_parse_event_generally", general_path_refused)
    assert parse_event(raw, NOW_US) == expected


def test_a_plain_event_takes_the_one_call_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envelope, "_parse_event_generally", general_path_refused)
    raw = {"event_id": "7f8a4b8e-2f3c-4d5e-9a1b-0c2d3e4f5a6b", "type": "order.placed",
           "occurred_at": "2026-11-19T08:00:00Z", "session_id": "s-1",
           "data": {"order_id": "o-1", "buyer_id": "v-1", "product_id": "p-1",
                    "quantity": 2, "amount": "19.90"},
           "metadata": {"source": "console", "correlation_id": None}}
    event = parse_event(raw, NOW_US)
    assert (event.stream_id, event.data["amount_fen"], event.metadata) == (
        "session-s-1", 1990, {"source": "console"})


def test_unknown_type_strings_are_not_remembered() -> None:
    before = len(envelope._fast_envelopes)
    for n in range(50):
        with pytest.raises(ValidationError):
            parse_event({"type": f"made.up.{n}"}, NOW_US)
    assert len(envelope._fast_envelopes) == before
