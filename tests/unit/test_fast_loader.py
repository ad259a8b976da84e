"""The compiled fast loader means exactly what marshmallow's own load means, on any input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from events.catalogue import CATALOGUE
from events.envelope import EventEnvelopeSchema, MetadataSchema
from events.fastload import compile_loader
from events.upcasting import LEGACY_SCHEMAS

SCHEMAS: list[type[Schema]] = [
    EventEnvelopeSchema,
    MetadataSchema,
    *(entry.schema for entry in CATALOGUE.values()),
    *LEGACY_SCHEMAS.values(),
]

# Values near every check the catalogue makes: types, patterns, bounds, money, timestamps.
TRICKY: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**63,
    1.5,
    0.1,
    float("nan"),
    "",
    "a",
    "x" * 129,
    "x" * 201,
    "h-1",
    "bad id!",
    "-lead",
    "9.90",
    "19.999",
    "-1",
    "1e3",
    "12.34",
    25,
    "2026-11",
    "2026-13",
    "0000-01",
    "2026-11-22T08:00:00Z",
    "2026-11-22T08:00:00.123456+08:00",
    "2026-11-22",
    "not a time",
    "7f8a4b8e-2f3c-4d5e-9a1b-0c2d3e4f5a6b",
    "7F8A4B8E-2F3C-4D5E-9A1B-0C2D3E4F5A6B",
    "{7f8a4b8e-2f3c-4d5e-9a1b-0c2d3e4f5a6b}",
    "viewer.joined",
    "like",
    "douyin",
    "recommend",
    "stream_interruption",
    "gmv",
    "host",
    {},
    {"source": "x"},
    {"source": None},
    {"nope": 1},
    [],
    [{}],
    ["a"],
    # the length limits (names 200, comments 500, descriptions 2,000) and just past them
    "x" * 128,
    "y" * 200,
    "z" * 500,
    "z" * 501,
    "d" * 2000,
    "d" * 2001,
    # near-miss ids and money: a final newline, full-width digits, separators, exponents
    "s1\n",
    "\uff11\uff12",
    "1_000",
    " 5 ",
    "-0",
    "100000000",
    "100000000.01",
    10**6,
    10**6 + 1,
]


def loaded_or_error(load: Any, raw: Any) -> tuple[str, Any]:
    try:
        return "ok", load(raw)
    except ValidationError as exc:
        return "error", exc.messages


def accepted(field: Any, value: Any) -> bool:
    try:
        field.deserialize(value)
    except ValidationError:
        return False
    return True


def draw_fields(draw: st.DrawFn, schema: Schema, valid: int, out_of: int) -> dict[str, Any]:
    """Each field of the schema: `valid` in `out_of` times a value it accepts, once missing,
    otherwise any tricky value."""
    raw: dict[str, Any] = {}
    for name, field in schema.load_fields.items():
        good = [v for v in TRICKY if accepted(field, v)]
        roll = draw(st.integers(0, out_of - 1))
        if roll < valid and good:
            raw[field.data_key or name] = draw(st.sampled_from(good))
        elif roll < out_of - 1:
            raw[field.data_key or name] = draw(st.sampled_from(TRICKY))
    return raw


@st.composite
def raw_for(draw: st.DrawFn, schema: Schema) -> Any:
    """Mostly valid objects with a few fields wrong, missing or extra: the edges of each check."""
    raw = draw_fields(draw, schema, valid=7, out_of=10)
    if draw(st.integers(0, 9)) == 0:
        raw["unexpected"] = 1
    return raw if draw(st.integers(0, 19)) else draw(st.sampled_from([[], "x", None]))


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=lambda s: s.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_loader_agrees_with_marshmallow(
    schema_class: type[Schema], data: st.DataObject
) -> None:
    schema = schema_class()
    raw = data.draw(raw_for(schema))
    assert loaded_or_error(compile_loader(schema), raw) == loaded_or_error(schema.load, raw)


def test_fast_loader_takes_the_wire_shape_of_a_valid_event() -> None:
    raw = {
        "event_id": "7f8a4b8e-2f3c-4d5e-9a1b-0c2d3e4f5a6b",
        "type": "viewer.joined",
        "occurred_at": "2026-11-22T08:00:00.5Z",
        "session_id": "s-1",
        "data": {"viewer_id": "v1"},
        "metadata": {"source": "console"},
    }
    assert compile_loader(EventEnvelopeSchema())(raw) == EventEnvelopeSchema().load(raw)
