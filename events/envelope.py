"""Turn a request body into validated NewEvents, or say precisely what is wrong with it.

Errors come back as {"<index>": {"<field>": ["reason"]}}; fields inside `data` are named
`data.<field>`. Any error anywhere rejects the whole batch, so nothing of a bad request is stored.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from events.catalogue import CATALOGUE, INGESTIBLE_TYPES, RULE_BOOK_FINES_YUAN, stream_id_for
from events.errors import LivetallyError
from events.fastload import Loader, compile_loader
from events.fields import Identifier, StrictInteger, Timestamp
from events.recorder import NewEvent
from events.upcasting import schema_for

MAX_BATCH = 5000
FUTURE_TOLERANCE_US = 5 * 60 * 1_000_000
EARLIEST_US = 946_684_800 * 1_000_000  # 2000-01-01T00:00:00Z: no broadcast happened before

Errors = dict[str, dict[str, list[str]]]


class BatchInvalid(LivetallyError):
    """Raised when a request's events are not all valid: `errors` names each field."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("invalid events")
        self.errors = errors


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


class UUIDString(fields.String):
    fast_pattern = _CANONICAL_UUID  # others are valid too, and normalised by _deserialize

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if type(value) is str and _CANONICAL_UUID.match(value):
            return value
        if not isinstance(value, str):
            raise ValidationError("must be a UUID string")
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValidationError("is not a valid UUID") from None


class MetadataSchema(Schema):
    source = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    correlation_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    causation_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    # Who entered it: `account:<name>` for a staff login, `token:<name>` for an API token.
    actor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class EventEnvelopeSchema(Schema):
    """The envelope every event shares; `data` is checked against the type's own schema."""

    event_id = UUIDString(required=True, metadata={"format": "uuid"})
    type = fields.String(
        required=True, validate=validate.OneOf(INGESTIBLE_TYPES, error="is not a known event type")
    )
    occurred_at = Timestamp(required=True)
    session_id = Identifier(load_default=None, allow_none=True)
    person_id = Identifier(load_default=None, allow_none=True)
    expected_version = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    schema_version = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=1)
    )
    data = fields.Dict(load_default=dict)
    metadata = fields.Nested(MetadataSchema, load_default=dict)


class EventBatchSchema(Schema):
    """Documentation shape of a batch post."""

    events = fields.List(
        fields.Nested(EventEnvelopeSchema), required=True, validate=validate.Length(1, MAX_BATCH)
    )


_loaders: dict[tuple[str, int], Loader] = {}
_ENVELOPE = ("<envelope>", 0)


def _envelope_loader() -> Loader:
    # Compiled on first use, not at import: nothing compiles or connects at import time.
    loader = _loaders.get(_ENVELOPE)
    if loader is None:
        loader = _loaders[_ENVELOPE] = compile_loader(EventEnvelopeSchema())
    return loader


def _data_loader(event_type: str, version: int) -> Loader | None:
    key = (event_type, version)
    loader = _loaders.get(key)
    if loader is None:
        cls = schema_for(event_type, version)
        if cls is None:
            return None
        loader = _loaders[key] = compile_loader(cls())
    return loader


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}{key}" if key != "_schema" else (prefix.rstrip(".") or "body")
            if isinstance(value, dict):
                flat.update(_flatten(value, f"{name}."))
            else:
                flat.setdefault(name, []).extend(str(m) for m in value)
    else:
        flat[prefix.rstrip(".") or "body"] = [str(m) for m in messages]
    return flat


def parse_event(raw: Any, now_us: int) -> NewEvent:
    """Validate one event of the wire shape. Raises ValidationError with flat field names."""
    if not isinstance(raw, dict):
        raise ValidationError({"body": ["must be a JSON object"]})
    try:
        env = _envelope_loader()(raw)
    except ValidationError as exc:
        raise ValidationError(_flatten(exc.messages)) from None
    errors: dict[str, list[str]] = {}
    entry = CATALOGUE[env["type"]]
    if env["occurred_at"] > now_us + FUTURE_TOLERANCE_US:
        errors["occurred_at"] = ["is more than 5 minutes in the future"]
    elif env["occurred_at"] < EARLIEST_US:
        errors["occurred_at"] = ["is before 2000-01-01"]
    if entry.family == "session" and env["session_id"] is None:
        errors["session_id"] = [f"is required for {entry.name} (a session event)"]
    if entry.family == "person" and env["person_id"] is None:
        errors["person_id"] = [f"is required for {entry.name} (a person event)"]
    if entry.family != "session" and env["session_id"] is not None:
        errors["session_id"] = [f"must not be given for {entry.name} (a {entry.family} event)"]
    if entry.family != "person" and env["person_id"] is not None:
        errors["person_id"] = [f"must not be given for {entry.name} (a {entry.family} event)"]
    version = env["schema_version"] or entry.version
    load_data = _data_loader(entry.name, version)
    data: dict[str, Any] = {}
    if load_data is None:
        errors["schema_version"] = [f"{entry.name} has no schema version {version}"]
    else:
        try:
            data = load_data(env["data"])
        except ValidationError as exc:
            errors.update(_flatten(exc.messages, "data."))
    if entry.name == "violation.recorded" and not errors:
        _default_fine(data, errors)
    if errors:
        raise ValidationError(errors)
    key = env["session_id"] if entry.family == "session" else env["person_id"]
    if entry.family == "period":
        key = data["period"]
    metadata = {k: v for k, v in env["metadata"].items() if v is not None}
    return NewEvent(
        event_id=env["event_id"],
        type=entry.name,
        stream_id=stream_id_for(entry.family, key),
        data=_jsonable(data) if entry.name == "person.registered" else data,
        occurred_at=env["occurred_at"],
        schema_version=version,
        metadata=metadata,
        expected_version=env["expected_version"],
    )


def _default_fine(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if data.get("fine_fen") is None:
        if data["rule"] not in RULE_BOOK_FINES_YUAN:
            known = ", ".join(RULE_BOOK_FINES_YUAN)
            errors["data.fine"] = [f"is required for a rule not in the rule book ({known})"]
        else:
            data["fine_fen"] = RULE_BOOK_FINES_YUAN[data["rule"]] * 100


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Dates (on_air_since) are kept as ISO strings so stored data is plain JSON.
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def parse_body(payload: Any, now_us: int) -> list[NewEvent]:
    """A single event or {"events": [...]} -> NewEvents, or BatchInvalid naming every problem."""
    if isinstance(payload, dict) and "events" in payload and "type" not in payload:
        extra = sorted(set(payload) - {"events"})
        if extra:
            raise BatchInvalid({"body": {name: ["unknown field"] for name in extra}})
        items = payload["events"]
        if not isinstance(items, list):
            raise BatchInvalid({"body": {"events": ["must be a list of events"]}})
        if not items:
            raise BatchInvalid({"body": {"events": ["must hold at least one event"]}})
        if len(items) > MAX_BATCH:
            raise BatchInvalid(
                {
                    "body": {
                        "events": [f"holds {len(items)} events; at most {MAX_BATCH} in one batch"]
                    }
                }
            )
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise BatchInvalid({"body": {"body": ['must be an event object or {"events": [...]}']}})
    parsed: list[NewEvent] = []
    errors: Errors = {}
    for index, raw in enumerate(items):
        try:
            parsed.append(parse_event(raw, now_us))
        except ValidationError as exc:
            errors[str(index)] = exc.messages  # type: ignore[assignment]
    if errors:
        raise BatchInvalid(errors)
    return parsed
