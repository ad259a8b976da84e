"""POST /api/v1/events (ingest) and GET /api/v1/events (audit and replay)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from events import BatchInvalid, ConcurrencyConflict, DuplicateConflict, StoredEvent, parse_body
from events.clock import now_micros
from events.fields import format_timestamp
from events.money import fen_to_yuan
from service.auth.scopes import requires
from service.process.http_errors import error_response, json_response
from service.reads.openapi_examples import Example

blp = Blueprint("events", __name__, url_prefix="/api/v1", description="Append and read events")


class AppendedSchema(Schema):
    appended = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    positions = fields.List(fields.Integer(), required=True)


class EventsQuerySchema(Schema):
    stream = fields.String(
        load_default=None,
        validate=validate.Length(1, 160),
        metadata={"description": "e.g. session-s-001 or person-p-7"},
    )
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 2**63 - 1),
        metadata={"description": "global position to read after"},
    )
    limit = fields.Integer(load_default=1000, validate=validate.Range(1, 10_000))


EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Event"},
                    {"$ref": "#/components/schemas/EventBatch"},
                ]
            }
        }
    },
}


def wire_data(data: dict[str, Any]) -> dict[str, Any]:
    """Stored data back to the catalogue's shape: money as yuan under its wire name."""
    return {
        (key[:-4] if key.endswith("_fen") else key): (
            fen_to_yuan(value) if key.endswith("_fen") and value is not None else value
        )
        for key, value in data.items()
    }


def render_event(event: StoredEvent) -> dict[str, Any]:
    family, _, key = event.stream_id.partition("-")
    return {
        "position": event.position,
        "event_id": event.event_id,
        "stream_id": event.stream_id,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": format_timestamp(event.occurred_at),
        "recorded_at": format_timestamp(event.recorded_at),
        "session_id": key if family == "session" else None,
        "person_id": key if family == "person" else None,
        "data": wire_data(event.data),
        "metadata": event.metadata,
    }


@blp.route("/events", methods=["POST"])
@blp.doc(requestBody=EVENT_BODY, security=[{"bearer": []}])
@blp.alt_response(
    201,
    schema=AppendedSchema,
    description="stored (duplicates reported)",
    example=Example("appended"),
)
@blp.alt_response(422, description="invalid events: {errors: {index: {field: [reason]}}}")
@blp.alt_response(409, description="expected_version or event_id conflict")
@requires("ingest")
def post_events() -> Response:
    raw = request.get_data(cache=False)
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return error_response(
            400,
            "malformed_json",
            f"the body is not valid JSON: {exc}",
            {"body": {"body": [f"malformed JSON: {exc}"]}},
        )
    try:
        new_events = parse_body(payload, now_micros())
    except BatchInvalid as exc:
        return error_response(
            422, "invalid_events", "some events are invalid; none was stored", exc.errors
        )
    runtime = current_app.extensions["livetally"]
    try:
        result = runtime.recorder.append(new_events)
        # a write went through: /health stops reporting an earlier read-only or full disk
        current_app.extensions["livetally.write_failures"].succeeded()
    except ConcurrencyConflict as exc:
        return error_response(
            409,
            "version_conflict",
            str(exc),
            {
                str(exc.index): {
                    "expected_version": [
                        f"stream {exc.stream_id} is at version {exc.actual}, not {exc.expected}"
                    ]
                }
            },
            stream_id=exc.stream_id,
            expected_version=exc.expected,
            actual_version=exc.actual,
        )
    except DuplicateConflict as exc:
        return error_response(
            409,
            "event_id_conflict",
            str(exc),
            {str(exc.index): {"event_id": ["already stored with different content"]}},
            event_id=exc.event_id,
        )
    runtime.streams_moved(result.heads)
    return json_response(
        {
            "appended": result.appended,
            "duplicates": result.duplicates,
            "positions": result.positions,
        },
        201,
    )


class StoredEventSchema(Schema):
    """An event as stored: its envelope, its place in the store, money in yuan."""

    position = fields.Integer(required=True, metadata={"description": "order in the whole store"})
    event_id = fields.String(required=True)
    stream_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "order in its stream"})
    type = fields.String(required=True)
    schema_version = fields.Integer(required=True)
    occurred_at = fields.String(required=True, metadata={"format": "date-time"})
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    session_id = fields.String(required=True, allow_none=True)
    person_id = fields.String(required=True, allow_none=True)
    data = fields.Dict(required=True)
    metadata = fields.Dict(required=True)


class EventPageSchema(Schema):
    events = fields.List(fields.Nested(StoredEventSchema), required=True)
    next_after = fields.Integer(
        required=True, metadata={"description": "the `after` of the next page"}
    )


@blp.route("/events", methods=["GET"])
@blp.arguments(EventsQuerySchema, location="query")
@blp.response(
    200,
    EventPageSchema,
    description="events in store order, after `after`",
    example=Example("event_page"),
)
@blp.doc(security=[{"bearer": []}])
@requires("read")
def get_events(query: dict[str, Any]) -> Response:
    runtime = current_app.extensions["livetally"]
    page = runtime.recorder.read_all(query["after"], query["limit"], query["stream"])
    return json_response(
        {
            "events": [render_event(e) for e in page],
            "next_after": page[-1].position if page else query["after"],
        },
        200,
    )
