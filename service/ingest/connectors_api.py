"""POST /api/v1/connectors/{platform} (platform pushes) and GET /connectors/dead-letters."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.auth.scopes import requires
from service.ingest.connectors import PLATFORMS, ledger
from service.ingest.connectors.base import Push
from service.ingest.connectors.errors import MalformedPush, SignatureInvalid
from service.process.http_errors import error_response, json_response
from service.reads.openapi_examples import Example

blp = Blueprint(
    "connectors",
    __name__,
    url_prefix="/api/v1",
    description="Platform pushes (signed by the platform, not a bearer token)",
)


class DeadLettersQuerySchema(Schema):
    platform = fields.String(load_default=None, validate=validate.OneOf(PLATFORMS))
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 2**63 - 1),
        metadata={"description": "received_at (µs) to list from"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


def _configured(runtime: Any) -> list[str]:
    return sorted(name for name, ok in runtime.connectors.configured.items() if ok())


@blp.route("/connectors/<string:platform>", methods=["POST"])
@blp.doc(
    description="A platform's push, checked with the platform's own signature scheme "
    "(docs/connectors.md). Acknowledged as the platform expects once every "
    "message is stored, ignored or kept as a dead letter."
)
@blp.alt_response(200, description="acknowledged (the platform's own body)")
@blp.alt_response(400, description="malformed body")
@blp.alt_response(401, description="bad or missing signature: nothing stored")
@blp.alt_response(404, description="no connector configured for this platform")
def post_push(platform: str) -> Response:
    runtime = current_app.extensions["livetally"]
    intake = runtime.intake
    connector = intake.connectors.get(platform)
    configured = runtime.connectors.configured.get(platform)
    if connector is None or configured is None or not configured():
        return error_response(
            404,
            "not_found",
            f"no connector is configured for {platform!r}",
            {
                "platform": [
                    f"must be a configured connector ({', '.join(_configured(runtime)) or 'none'})"
                ]
            },
        )
    push = Push(
        request.get_data(cache=False),
        {name.lower(): value for name, value in request.headers.items()},
        {name: value for name, value in request.args.items()},
    )
    try:
        taken = intake.receive(platform, push)
    except SignatureInvalid as exc:
        return error_response(401, "bad_signature", str(exc), {"signature": [str(exc)]})
    except MalformedPush as exc:
        return error_response(400, "malformed_push", str(exc), {"body": {"body": [str(exc)]}})
    body, status, content_type = connector.acknowledgement(push)
    response = Response(body, status, content_type=content_type)
    response.headers["X-Livetally-Taken"] = ",".join(
        f"{k}={v}" for k, v in sorted(taken.messages.items())
    )
    return response


@blp.route("/connectors/<string:platform>", methods=["GET"])
@blp.doc(
    description="A platform's check of its push URL (WeChat: signature, timestamp, nonce and "
    "echostr in the query; the echostr is answered when the signature is the app's)."
)
@blp.alt_response(200, description="the echostr, as text")
@blp.alt_response(401, description="the signature is not this app's")
@blp.alt_response(404, description="the platform has no such check")
def get_push_check(platform: str) -> Response:
    connector = current_app.extensions["livetally"].intake.connectors.get(platform)
    handshake = getattr(connector, "handshake", None)
    if handshake is None:
        return error_response(
            404, "not_found", f"{platform!r} has no push URL check", {"platform": ["no check"]}
        )
    answer = handshake(Push(b"", {}, {k: v for k, v in request.args.items()}))
    if answer is None:
        return error_response(
            401, "bad_signature", "the signature is not this app's", {"signature": ["mismatch"]}
        )
    return Response(answer, 200, content_type="text/plain; charset=utf-8")


class DeadLetterSchema(Schema):
    platform = fields.String(required=True)
    message_id = fields.String(required=True)
    kind = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True, metadata={"description": "why dead"})
    order_ref = fields.String(required=True, allow_none=True)
    received_at = fields.Integer(required=True, metadata={"description": "µs since the epoch"})
    updated_at = fields.Integer(required=True, metadata={"description": "µs since the epoch"})
    attempts = fields.Integer(required=True)
    message = fields.Raw(required=True, metadata={"description": "the platform's message"})


class DeadLetterPageSchema(Schema):
    dead_letters = fields.List(fields.Nested(DeadLetterSchema), required=True)
    next_after = fields.Integer(required=True, metadata={"description": "the next page's `after`"})


@blp.route("/connectors/dead-letters", methods=["GET"])
@blp.arguments(DeadLettersQuerySchema, location="query")
@blp.response(
    200,
    DeadLetterPageSchema,
    description="dead letters, oldest first",
    example=Example("dead_letters"),
)
@blp.doc(security=[{"bearer": []}])
@requires("admin")
def get_dead_letters(query: dict[str, Any]) -> Response:
    runtime = current_app.extensions["livetally"]
    rows = ledger.dead_letters(runtime.engine, query["platform"], query["limit"], query["after"])
    return json_response(
        {"dead_letters": rows, "next_after": rows[-1]["received_at"] if rows else query["after"]}
    )
