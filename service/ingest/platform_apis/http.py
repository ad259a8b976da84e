"""One HTTP client for every platform call: timeouts, connection retries, JSON answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from service.ingest.connectors.errors import DetailUnavailable

# The platforms' APIs are asked from workers, never inside a push request, so a slow answer
# delays one job, not an acknowledgement.
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
MAX_ANSWER_BYTES = 4_000_000


class PlatformApiError(DetailUnavailable):
    """Raised when a platform API is unreachable, answers an HTTP error or an error code, or
    answers something unreadable. `rate_limited`: the platform asked us to slow down."""

    def __init__(self, detail: str, rate_limited: bool = False, auth: bool = False) -> None:
        super().__init__(detail)
        self.rate_limited = rate_limited
        self.auth = auth  # the token was refused: refreshing (or re-authorising) may help


@dataclass(frozen=True)
class TokenGrant:
    """What a token exchange or refresh gave: the tokens, their expiry (µs), and the shop or
    account they are for when the platform says."""

    access_token: str
    refresh_token: str | None
    access_expires_at: int | None
    refresh_expires_at: int | None
    account_id: str | None = None
    name: str | None = None
    extra: dict[str, str] | None = None


def new_client() -> httpx.Client:
    # retries: connection failures only (a request that reached the platform is not re-sent).
    return httpx.Client(timeout=TIMEOUT, transport=httpx.HTTPTransport(retries=2))


def call_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    where = url.split("?")[0]
    try:
        answer = client.request(
            method, url, params=params, content=content, data=data, headers=headers
        )
    except httpx.HTTPError as exc:
        raise PlatformApiError(f"{where} unreachable: {type(exc).__name__}: {exc}") from None
    if answer.status_code == 429:
        raise PlatformApiError(f"{where} answered 429 (rate limited)", rate_limited=True)
    if answer.status_code in (401, 403):
        raise PlatformApiError(f"{where} answered {answer.status_code}", auth=True)
    if answer.status_code >= 400:
        raise PlatformApiError(f"{where} answered HTTP {answer.status_code}")
    if len(answer.content) > MAX_ANSWER_BYTES:
        raise PlatformApiError(f"{where} answered more than {MAX_ANSWER_BYTES:,} bytes")
    try:
        loaded = orjson.loads(answer.content)
    except orjson.JSONDecodeError:
        raise PlatformApiError(f"{where} answered something other than JSON") from None
    if not isinstance(loaded, dict):
        raise PlatformApiError(f"{where} answered something other than an object")
    return loaded
