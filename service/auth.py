"""Bearer-token scopes on API routes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    # Pages and websocket-fed screens pass the token in the query string.
    return request.args.get("token") or None


def requires(scope: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            if token is None:
                raise Unauthorized("an API token is required: Authorization: Bearer <token>")
            runtime = current_app.extensions["livetally"]
            if not runtime.tokens.allows(token, scope):
                if not runtime.tokens.scopes(token):
                    raise Unauthorized("the API token is not valid")
                raise Forbidden(f"the API token lacks the '{scope}' scope")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
