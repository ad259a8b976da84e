"""Every error is JSON that says what is wrong, and with which field."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import orjson
import psycopg
import sqlalchemy.exc
from flask import Flask, Response, jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from service.ingest.connections.vault import VaultError
from service.process.database_state import UNREACHABLE, cause_of

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON body encoded with orjson (faster than Flask's, and exact for our floats)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


class ErrorSchema(Schema):
    """Every error the API answers (4xx and 5xx): a code, a sentence, and where the request was
    wrong, field by field."""

    class Meta:
        ordered = True

    error = fields.String(
        required=True,
        metadata={"description": "what went wrong, as a code", "example": "bad_request"},
    )
    message = fields.String(
        required=True,
        metadata={
            "description": "what went wrong, in a sentence",
            "example": "the body is not valid",
        },
    )
    errors = fields.Dict(
        metadata={
            "description": "where the request was wrong: location (json, query, path, body), "
            "then field, then the reasons",
            "example": {"json": {"events": {"0": {"type": ["unknown event type"]}}}},
        }
    )
    cause = fields.String(
        metadata={
            "description": "503 only: why the database cannot be used "
            "(read-only, disk full, unreachable)"
        }
    )


def error_response(
    status: int, code: str, message: str, errors: dict[str, Any] | None = None, **extra: Any
) -> Any:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages")  # from flask-smorest's argument parsing
        code = (exc.name or "error").lower().replace(" ", "_")
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = "the request body is over the size limit"
            messages = {"body": {"body": [message]}}
        response = error_response(status, code, message, messages)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="livetally"'
        return response

    @app.errorhandler(VaultError)
    def secrets_unavailable(exc: VaultError) -> Any:
        # The connections' key is not configured, missing or wrong: the request cannot be done
        # as the server is set up now, and says which setting to fix.
        log.warning("connection secrets unavailable: %s", exc)
        return error_response(409, "secrets_unavailable", str(exc), {"secret_key": [str(exc)]})

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.InterfaceError)
    @app.errorhandler(sqlalchemy.exc.TimeoutError)
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg.InterfaceError)
    @app.errorhandler(sqlite3.OperationalError)
    def database_unreachable(exc: Exception) -> Any:
        # The database is down, restarting, out of connections, read-only or out of disk:
        # nothing was stored, and the same request will succeed once it is back. Clients and
        # load balancers can tell that from a 503 with Retry-After and the cause; a 500 would
        # say the request itself was wrong.
        cause = cause_of(exc)
        failures = app.extensions.get("livetally.write_failures")
        if failures is not None and cause != UNREACHABLE:
            failures.failed(cause)
        log.warning("database %s: %s", cause, type(exc).__name__)
        # Hot paths talk to the driver directly, so SQLAlchemy never saw the connection die:
        # drop the pool, and the next request connects afresh instead of reusing a dead one.
        runtime = app.extensions.get("livetally")
        if runtime is not None:
            runtime.engine.dispose()
        response = error_response(
            503,
            "database_unavailable",
            f"the database is {cause}; nothing was stored, retry later",
            cause=cause,
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.before_request
    def json_bodies_only() -> Any:
        """A body sent to the API must be JSON: a form or text body (which a browser page on
        another site can send without a preflight) is refused before anything reads it."""
        if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
            return None
        has_body = (request.content_length or 0) > 0 or "chunked" in (
            request.headers.get("Transfer-Encoding", "").lower()
        )
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and (request.content_length or 0) > limit:
            return None  # reading the body says 413, which comes first
        if has_body and request.mimetype != "application/json":
            return error_response(
                415,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
                {
                    "body": {
                        "Content-Type": [
                            f"must be application/json, not {request.mimetype or 'none'}"
                        ]
                    }
                },
            )
        return None
