"""Adding, authorising and removing connections: what the CLI and the admin API share.

Pasted tokens are the fallback; the OAuth flow is the way in: `start_authorization` gives the
platform's authorise URL with a fresh `state` bound to the admin's browser (a cookie value),
and `finish_authorization` checks that state once, exchanges the code and stores the tokens.
"""

from __future__ import annotations

import re
import secrets as random_tokens
from collections.abc import Mapping
from dataclasses import replace

from events.errors import LivetallyError
from service.ingest.connections.shops import ShopApis
from service.ingest.connections.store import Connection, connection_id_of
from service.ingest.connectors.errors import DetailUnavailable

CONNECTION_PLATFORMS = (
    "doudian",
    "tiktok_shop",
    "wechat_shop",
    "kuaishou_shop",
    "qianchuan",
    "tiktok_business",
)
ACCOUNT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
SECRET_FIELDS = (
    "app_secret",
    "access_token",
    "refresh_token",
    "shop_cipher",  # TikTok Shop: the shop's cipher for API calls
    "token",  # WeChat: the push Token
    "encoding_aes_key",  # WeChat: the push EncodingAESKey
    "message_secret",  # Kuaishou: the message push key
    "sign_secret",  # Kuaishou: the API signSecret
    "advertiser_ids",  # Qianchuan, TikTok Business: the advertisers the token covers (a,b,c)
    "aweme_ids",  # Qianchuan: the Douyin accounts whose rooms the poller reads
    # a Qianchuan account's shop (the sessions it opens sell that shop's orders); a TikTok
    # Business account's TikTok Shop (its GMV Max report gives that shop's LIVE rooms' spend)
    "shop_id",
)
STATE_SECONDS = 600  # an authorisation must come back within 10 minutes


class ConnectionRefused(LivetallyError):
    """Raised when a connection cannot be added or authorised as asked; `field` names the
    input at fault (a 400 on the API, a usage error on the CLI)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def add_connection(
    shops: ShopApis,
    platform: str,
    account_id: str,
    name: str,
    app_key: str | None,
    secrets: Mapping[str, str | None],
    access_expires_at: int | None = None,
    refresh_expires_at: int | None = None,
) -> Connection:
    if platform not in CONNECTION_PLATFORMS:
        raise ConnectionRefused("platform", f"must be one of {', '.join(CONNECTION_PLATFORMS)}")
    if not ACCOUNT_RE.match(account_id):
        raise ConnectionRefused("account_id", "must be 1-128 letters, digits, '_', '.', ':' or '-'")
    if not 0 < len(name) <= 200 or not name.isprintable():
        raise ConnectionRefused("name", "must be 1-200 printable characters")
    unknown = set(secrets) - set(SECRET_FIELDS)
    if unknown:
        raise ConnectionRefused(sorted(unknown)[0], "is not a secret livetally keeps")
    for key, value in secrets.items():
        if value is not None and not 0 < len(value) <= 4096:
            raise ConnectionRefused(key, "must be 1-4096 characters")
    kept = {k: v for k, v in secrets.items() if v}
    if app_key is not None and not kept.get("app_secret"):
        raise ConnectionRefused("app_secret", "is required with app_key")
    existing = shops.book.get(connection_id_of(platform, account_id))
    connection = Connection(
        connection_id=connection_id_of(platform, account_id),
        platform=platform,
        account_id=account_id,
        name=name,
        app_key=app_key,
        secrets={**(existing.secrets if existing else {}), **kept},
        access_expires_at=access_expires_at,
        refresh_expires_at=refresh_expires_at,
        synced_until=existing.synced_until if existing else None,
        created_at=existing.created_at if existing else 0,
    )
    return shops.book.save(connection)


def start_authorization(shops: ShopApis, platform: str, name: str, browser: str) -> str:
    """The URL to send the admin's browser to. `browser`: a random value the caller also set
    as a cookie on that browser, so the callback is accepted from it alone."""
    if platform not in CONNECTION_PLATFORMS:
        raise ConnectionRefused("platform", f"must be one of {', '.join(CONNECTION_PLATFORMS)}")
    if not 0 < len(name) <= 200 or not name.isprintable():
        raise ConnectionRefused("name", "must be 1-200 printable characters")
    state = random_tokens.token_urlsafe(32)
    try:
        url = shops.for_platform(platform).authorize_url(state)
    except DetailUnavailable as exc:
        raise ConnectionRefused("platform", exc.detail) from None
    shops.book.open_request(state, platform, name, browser, STATE_SECONDS)
    return url


def finish_authorization(
    shops: ShopApis, platform: str, code: str, state: str, browser: str
) -> Connection:
    if not code or len(code) > 2048:
        raise ConnectionRefused("code", "is missing or too long")
    name = shops.book.close_request(state, platform, browser)
    if name is None:
        raise ConnectionRefused(
            "state",
            "is unknown, used, expired, for another platform or from another browser: start "
            "the authorisation again",
        )
    try:
        grant = shops.for_platform(platform).exchange_code(code)
    except DetailUnavailable as exc:
        raise ConnectionRefused("code", f"the platform refused it: {exc.detail}") from None
    if not grant.account_id:
        raise ConnectionRefused("code", "the platform's answer names no shop or account")
    secrets: dict[str, str | None] = {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        **(grant.extra or {}),
    }
    added = add_connection(
        shops,
        platform,
        grant.account_id,
        grant.name or name,
        None,
        secrets,
        grant.access_expires_at,
        grant.refresh_expires_at,
    )
    if grant.name and name != grant.name:
        added = shops.book.save(replace(added, name=name))
    return added
