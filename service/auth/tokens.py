"""Bearer API tokens: random, shown once, stored as SHA-256 hashes, with scopes, a name, an
optional expiry, and revocation."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.database import write_transaction
from events.errors import LivetallyError

SCOPES = ("ingest", "read", "admin")
CACHE_SECONDS = 1.0  # a revoked token stops working within this long, in every process
CACHE_ENTRIES = 10_000

metadata = sa.MetaData()

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("scopes", sa.String(64), nullable=False),  # space-separated
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)


class TokenError(LivetallyError, ValueError):
    """Raised when a token command names no token, several, or a bad lifetime."""


def _now_us() -> int:
    return time.time_ns() // 1000


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


_LIFETIME = re.compile(r"([1-9][0-9]{0,5})([smhd])\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_lifetime(text: str) -> int:
    """ "30d", "12h", "90m", "45s" -> seconds."""
    match = _LIFETIME.match(text)
    if match is None:
        raise TokenError(f"a lifetime is a number and a unit (s, m, h, d), like 30d; not {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def create_token(
    engine: Engine,
    scopes: list[str],
    name: str | None = None,
    expires_in_seconds: int | None = None,
) -> str:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {scopes}")
    token = "lt_" + secrets.token_urlsafe(32)
    now = _now_us()
    with write_transaction(engine) as conn:
        conn.execute(
            api_tokens.insert().values(
                token_hash=hash_token(token),
                scopes=" ".join(sorted(set(scopes))),
                name=name,
                created_at=now,
                expires_at=None if expires_in_seconds is None else now + expires_in_seconds * 10**6,
            )
        )
    return token


@dataclass(frozen=True)
class TokenInfo:
    token_id: str  # the first 12 hex digits of the hash: names a token without showing it
    name: str | None
    scopes: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at)).all()
    return [
        TokenInfo(r.token_hash[:12], r.name, r.scopes, r.created_at, r.expires_at, r.revoked_at)
        for r in rows
    ]


def revoke_token(engine: Engine, id_or_name: str) -> TokenInfo:
    """Revoke the one token whose id (hash prefix) or name this is."""
    matches = [
        t
        for t in list_tokens(engine)
        if t.revoked_at is None and id_or_name in (t.token_id, t.name)
    ]
    if not matches:
        raise TokenError(f"no live token with id or name {id_or_name!r}")
    if len(matches) > 1:
        raise TokenError(f"{len(matches)} tokens are named {id_or_name!r}: revoke one by its id")
    found = matches[0]
    now = _now_us()
    with write_transaction(engine) as conn:
        conn.execute(
            api_tokens.update()
            .where(
                api_tokens.c.token_hash.like(found.token_id + "%"),
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    return TokenInfo(
        found.token_id, found.name, found.scopes, found.created_at, found.expires_at, now
    )


def count_tokens(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar() or 0)


class TokenChecker:
    """Looks tokens up by hash, keeping each answer (valid or not) for a second: revocation
    reaches every process within that, and the database sees at most one look-up a second per
    token. The cache is bounded, least recently used first out, so a flood of made-up tokens
    evicts only the oldest answers, never every valid one at once."""

    def __init__(
        self, engine: Engine, ttl_seconds: float = CACHE_SECONDS, entries: int = CACHE_ENTRIES
    ) -> None:
        self.engine = engine
        self.ttl = ttl_seconds
        self.entries = entries
        self._cache: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def scopes(self, token: str) -> frozenset[str]:
        if len(token) > 200:
            return frozenset()  # no token of ours is that long: not worth a look-up
        digest = hash_token(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
            if hit and hit[0] > now:
                self._cache.move_to_end(digest)
                return hit[1]
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    api_tokens.c.scopes, api_tokens.c.expires_at, api_tokens.c.revoked_at
                ).where(api_tokens.c.token_hash == digest)
            ).first()
        granted: frozenset[str] = frozenset()
        if (
            row is not None
            and row.revoked_at is None
            and (row.expires_at is None or row.expires_at > _now_us())
        ):
            granted = frozenset(row.scopes.split())
        if "admin" in granted:
            granted = frozenset(SCOPES)
        with self._lock:
            self._cache[digest] = (now + self.ttl, granted)
            self._cache.move_to_end(digest)
            while len(self._cache) > self.entries:
                self._cache.popitem(last=False)
        return granted

    def allows(self, token: str | None, scope: str) -> bool:
        return bool(token) and scope in self.scopes(token or "")
