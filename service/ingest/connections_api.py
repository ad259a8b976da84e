"""The admin API of connections: list, add (pasted tokens), remove, sync, and the OAuth flow
(authorize sets a browser binding cookie and answers the platform's URL; the platform sends the
browser back to the callback, which checks the state against that cookie once)."""

from __future__ import annotations

import secrets as random_tokens
from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from events.clock import now_micros
from events.fields import parse_timestamp
from service.auth.scopes import requires
from service.ingest.connections.manage import (
    CONNECTION_PLATFORMS,
    SECRET_FIELDS,
    ConnectionRefused,
    add_connection,
    finish_authorization,
    start_authorization,
)
from service.process.http_errors import error_response, json_response
from service.reads.openapi_examples import Example

blp = Blueprint(
    "connections",
    __name__,
    url_prefix="/api/v1",
    description="Connections: the shops and accounts livetally reads (admin)",
)
BINDING_COOKIE = "livetally_oauth"
CALLBACK_PATH = "/api/v1/connections/callback"


SecretsSchema = Schema.from_dict(
    {
        name: fields.String(load_default=None, validate=validate.Length(1, 4096), load_only=True)
        for name in SECRET_FIELDS
    },
    name="SecretsSchema",
)


class ConnectionInSchema(Schema):
    platform = fields.String(required=True, validate=validate.OneOf(CONNECTION_PLATFORMS))
    account_id = fields.String(
        required=True,
        validate=validate.Regexp(
            r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z",
            error="must be 1-128 letters, digits, '_', '.', ':' or '-'",
        ),
    )
    name = fields.String(required=True, validate=validate.Length(1, 200))
    app_key = fields.String(load_default=None, validate=validate.Length(1, 128))
    secrets = fields.Nested(SecretsSchema, load_default=dict)
    access_expires_at = fields.String(
        load_default=None, metadata={"description": "ISO 8601, when the access token expires"}
    )
    refresh_expires_at = fields.String(load_default=None)


class ConnectionOutSchema(Schema):
    connection_id = fields.String()
    platform = fields.String()
    account_id = fields.String()
    name = fields.String()
    app_key = fields.String(allow_none=True)
    secrets_set = fields.List(
        fields.String(), metadata={"description": "which are set, never values"}
    )
    access_expires_at = fields.Integer(allow_none=True)
    refresh_expires_at = fields.Integer(allow_none=True)
    state = fields.String(metadata={"description": "ok, expiring, or failed: reason"})
    synced_until = fields.Integer(allow_none=True)
    sync_attempted_at = fields.Integer(allow_none=True)
    sync_error = fields.String(allow_none=True)
    sync_orders = fields.Integer()


class ConnectionListSchema(Schema):
    connections = fields.List(fields.Nested(ConnectionOutSchema))


class AuthorizeInSchema(Schema):
    platform = fields.String(required=True, validate=validate.OneOf(CONNECTION_PLATFORMS))
    name = fields.String(required=True, validate=validate.Length(1, 200))


class SyncInSchema(Schema):
    since = fields.String(load_default=None, metadata={"description": "ISO 8601 backfill start"})


class CallbackQuerySchema(Schema):
    code = fields.String(load_default=None, validate=validate.Length(1, 2048))
    # The TikTok API for Business sends the code back as `auth_code`.
    auth_code = fields.String(load_default=None, validate=validate.Length(1, 2048))
    state = fields.String(required=True, validate=validate.Length(1, 200))

    @validates_schema
    def _a_code(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("code") and not data.get("auth_code"):
            raise ValidationError("Missing data for required field.", "code")


def _side() -> Any:
    return current_app.extensions["livetally"].connectors


def _refused(exc: ConnectionRefused) -> Response:
    return error_response(400, "invalid", str(exc), {exc.field: [exc.reason]})


def _time_field(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    return None if value is None else parse_timestamp(value)


@blp.route("/connections", methods=["GET"])
@blp.doc(security=[{"bearer": []}])
@blp.response(200, ConnectionListSchema, example=Example("connections"))
@requires("admin")
def list_connections() -> Any:
    now = now_micros()
    return {"connections": [c.public(now) for c in _side().book.all()]}


@blp.route("/connections", methods=["POST"])
@blp.arguments(ConnectionInSchema)
@blp.doc(security=[{"bearer": []}])
@blp.response(201, ConnectionOutSchema, example=Example("connection"))
@requires("admin")
def add(body: dict[str, Any]) -> Any:
    """Add (or replace) a connection with pasted tokens; secrets are never answered back."""
    from marshmallow import ValidationError

    try:
        access = _time_field(body, "access_expires_at")
        refresh = _time_field(body, "refresh_expires_at")
    except ValidationError as exc:
        return error_response(
            400, "invalid", "a time is not ISO 8601", {"expires_at": exc.messages}
        )
    try:
        added = add_connection(
            _side().shops,
            body["platform"],
            body["account_id"],
            body["name"],
            body["app_key"],
            {k: v for k, v in body["secrets"].items() if v is not None},
            access,
            refresh,
        )
    except ConnectionRefused as exc:
        return _refused(exc)
    return added.public(now_micros())


@blp.route("/connections/<string:connection_id>", methods=["DELETE"])
@blp.doc(security=[{"bearer": []}])
@blp.response(204)
@requires("admin")
def remove(connection_id: str) -> Any:
    if not _side().book.remove(connection_id):
        return error_response(
            404, "not_found", f"no connection {connection_id!r}", {"connection_id": ["unknown"]}
        )
    return Response(status=204)


class SyncedSchema(Schema):
    result = fields.String(required=True, metadata={"description": "what the sync did, a line"})


class AuthorizeOutSchema(Schema):
    authorize_url = fields.String(
        required=True, metadata={"description": "open this in the browser that asked"}
    )


class AuthorizedSchema(Schema):
    connection_id = fields.String(required=True)
    name = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "ok"})


@blp.route("/connections/<string:connection_id>/sync", methods=["POST"])
@blp.arguments(SyncInSchema)
@blp.response(
    200,
    SyncedSchema,
    description="the sync ran (its line says how it went: orders read, events appended, or "
    "why it failed)",
    example={  # the line jobs.run writes (service/ingest/connections/jobs.py)
        "result": "doudian:shop-1: 12 orders read, 3 events appended, 0 outside any session, "
        "9 facts already told"
    },
)
@blp.doc(security=[{"bearer": []}])
@requires("admin")
def sync(body: dict[str, Any], connection_id: str) -> Response:
    """Pull this connection's orders now (from `since`, or the last sync less the overlap)."""
    from marshmallow import ValidationError

    side = _side()
    if side.book.get(connection_id) is None:
        return error_response(
            404, "not_found", f"no connection {connection_id!r}", {"connection_id": ["unknown"]}
        )
    try:
        since = _time_field(body, "since")
    except ValidationError as exc:
        return error_response(400, "invalid", "since is not ISO 8601", {"since": exc.messages})
    jobs = side.jobs()
    if not side.book.take_lease(connection_id, jobs.owner, 600):
        return error_response(
            409, "busy", "this connection is being synced now", {"connection_id": ["busy"]}
        )
    try:
        line = jobs.run(connection_id, since)
    finally:
        side.book.release_lease(connection_id, jobs.owner)
    return json_response({"result": line})


@blp.route("/connections/authorize", methods=["POST"])
@blp.arguments(AuthorizeInSchema)
@blp.response(
    200,
    AuthorizeOutSchema,
    description="the platform's authorise URL (and a binding cookie for the callback)",
    example={
        "authorize_url": "https://fuwu.jinritemai.com/authorize?service_id=7000000000000000001"
        "&state=Zk3q9V0n4yJ8m2QxW5bT1cR7"
    },
)
@blp.doc(security=[{"bearer": []}])
@requires("admin")
def authorize(body: dict[str, Any]) -> Response:
    """The platform's authorise URL for the admin's browser to open. The state in it is bound
    to this browser by an HttpOnly cookie: the callback accepts it from this browser alone."""
    binding = random_tokens.token_urlsafe(32)
    try:
        url = start_authorization(_side().shops, body["platform"], body["name"], binding)
    except ConnectionRefused as exc:
        return _refused(exc)
    response = json_response({"authorize_url": url})
    settings = current_app.extensions["livetally"].settings
    response.set_cookie(
        BINDING_COOKIE,
        binding,
        max_age=600,
        path=CALLBACK_PATH,
        httponly=True,
        # Lax: the platform sends the browser back with a top-level GET, which Lax allows.
        samesite="Lax",
        secure=bool(settings.public_url and settings.public_url.startswith("https://")),
    )
    return response


@blp.route("/connections/callback/<string:platform>", methods=["GET"])
@blp.arguments(CallbackQuerySchema, location="query")
@blp.response(
    200,
    AuthorizedSchema,
    description="the connection added or renewed",
    example={"connection_id": "doudian:shop-1", "name": "旗舰店", "state": "ok"},
)
@blp.doc(description="Where the platform sends the admin's browser back with code and state.")
def callback(query: dict[str, Any], platform: str) -> Response:
    binding = request.cookies.get(BINDING_COOKIE)
    if not binding:
        return error_response(
            400,
            "invalid",
            "this browser did not start the authorisation (no binding cookie)",
            {"state": ["not from this browser"]},
        )
    try:
        added = finish_authorization(
            _side().shops, platform, query["code"] or query["auth_code"], query["state"], binding
        )
    except ConnectionRefused as exc:
        return _refused(exc)
    response = json_response(
        {"connection_id": added.connection_id, "name": added.name, "state": "ok"}
    )
    response.delete_cookie(BINDING_COOKIE, path=CALLBACK_PATH)
    return response


class RoomHostSchema(Schema):
    person_id = fields.String(
        required=True,
        validate=validate.Regexp(
            r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}\Z",
            error="must be 1-128 letters, digits and . _ : @ - (starting with a letter or digit)",
        ),
    )


class RoomListSchema(Schema):
    rooms = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/rooms", methods=["GET"])
@blp.doc(security=[{"bearer": []}])
@blp.response(200, RoomListSchema, example=Example("rooms"))
@requires("admin")
def list_rooms() -> Any:
    """Which person hosts each room (room id or account key -> person id)."""
    return {"rooms": _side().book.rooms()}


class RoomMappedSchema(Schema):
    room = fields.String(required=True)
    person_id = fields.String(required=True)


@blp.route("/rooms/<string:room>/host", methods=["PUT"])
@blp.arguments(RoomHostSchema)
@blp.response(
    200,
    RoomMappedSchema,
    description="the room and its host, as stored",
    example=Example("room_host"),
)
@blp.doc(security=[{"bearer": []}])
@requires("admin")
def map_room(body: dict[str, Any], room: str) -> Response:
    """Map a room (or the account a poller sees) to its host; the sessions a poller opens for
    it from now on take that host."""
    from events.fields import IDENTIFIER_RE

    if not IDENTIFIER_RE.match(room):
        return error_response(
            400, "invalid", "room is not an identifier", {"room": ["must be an identifier"]}
        )
    _side().book.map_room(room, body["person_id"])
    return json_response({"room": room, "person_id": body["person_id"]})
