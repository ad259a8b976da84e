"""Bearer-token scopes on API routes.

The API takes tokens from the Authorization header only: a token in a URL ends up in logs,
browser history and Referer headers. The screens and the feed (which a browser cannot give a
header) take `?token=`, and only a read-only token there (see `query_token_problem`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])


def parse_bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def bearer_token() -> str | None:
    return parse_bearer(request.headers.get("Authorization"))


def query_token_problem(scopes: frozenset[str]) -> str | None:
    """Why a token given in a URL is refused, or None when it may be used there: only a valid
    token that can do nothing but read."""
    if not scopes:
        return "invalid"
    if scopes != frozenset({"read"}):
        return "not_read_only"
    return None


def requires(scope: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            if token is None:
                message = "an API token is required: Authorization: Bearer <token>"
                if "token" in request.args:
                    message += " (the API does not take ?token= in the URL)"
                raise Unauthorized(message)
            runtime = current_app.extensions["livetally"]
            if not runtime.tokens.allows(token, scope):
                if not runtime.tokens.scopes(token):
                    raise Unauthorized("the API token is not valid (unknown, revoked or expired)")
                raise Forbidden(f"the API token lacks the '{scope}' scope")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
