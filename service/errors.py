"""Every error is JSON that says what is wrong, and with which field."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


def error_response(status: int, code: str, message: str,
                   errors: dict[str, Any] | None = None, **extra: Any) -> Any:
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
