"""POST /api/v1/connectors/{platform} (platform pushes) and GET /connectors/dead-letters."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.auth.scopes import requires
from service.ingest.connectors import PLATFORMS, ledger
from service.ingest.connectors.errors import MalformedPush, SignatureInvalid
from service.process.http_errors import error_response, json_response

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
    intake = current_app.extensions["livetally"].intake
    connector = intake.connectors.get(platform)
    if connector is None:
        return error_response(
            404,
            "not_found",
            f"no connector is configured for {platform!r}",
            {
                "platform": [
                    f"must be a configured connector "
                    f"({', '.join(sorted(intake.connectors)) or 'none'})"
                ]
            },
        )
    body = request.get_data(cache=False)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        taken = intake.receive(platform, body, headers)
    except SignatureInvalid as exc:
        return error_response(401, "bad_signature", str(exc), {"signature": [str(exc)]})
    except MalformedPush as exc:
        return error_response(400, "malformed_push", str(exc), {"body": {"body": [str(exc)]}})
    ack, status = connector.acknowledgement()
    response = json_response(ack, status)
    response.headers["X-Livetally-Taken"] = ",".join(
        f"{k}={v}" for k, v in sorted(taken.messages.items())
    )
    return response


@blp.route("/connectors/dead-letters", methods=["GET"])
@blp.arguments(DeadLettersQuerySchema, location="query")
@blp.doc(security=[{"bearer": []}])
@requires("admin")
def get_dead_letters(query: dict[str, Any]) -> Response:
    runtime = current_app.extensions["livetally"]
    rows = ledger.dead_letters(runtime.engine, query["platform"], query["limit"], query["after"])
    return json_response(
        {"dead_letters": rows, "next_after": rows[-1]["received_at"] if rows else query["after"]}
    )
