"""Tokens refreshed before they expire; a refresh that fails turns the connection `failed`."""

from __future__ import annotations

import logging

from events.clock import now_micros
from service.ingest.connections.shops import ShopApis
from service.ingest.connections.store import Connection
from service.ingest.connectors.errors import DetailUnavailable

log = logging.getLogger(__name__)


def refresh_due(connection: Connection, lead_us: int, now: int | None = None) -> bool:
    now = now_micros() if now is None else now
    return (
        bool(connection.secrets.get("refresh_token"))
        and connection.access_expires_at is not None
        and connection.access_expires_at - now < lead_us
    )


def refresh_connection(shops: ShopApis, connection: Connection) -> Connection:
    """New tokens stored (their expiry with them); on failure the connection is marked
    `failed: token refresh failed: ...` and the error raised."""
    try:
        grant = shops.for_connection(connection).refresh(connection)
    except DetailUnavailable as exc:
        shops.book.mark(connection.connection_id, "failed", f"token refresh failed: {exc.detail}")
        log.warning("connection %s: token refresh failed: %s", connection.connection_id, exc.detail)
        raise
    secrets = {"access_token": grant.access_token}
    if grant.refresh_token:
        secrets["refresh_token"] = grant.refresh_token
    return shops.book.update_tokens(
        connection,
        secrets,
        grant.access_expires_at,
        grant.refresh_expires_at or connection.refresh_expires_at,
    )
