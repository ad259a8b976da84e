"""Bearer API tokens: random, shown once, stored as SHA-256 hashes, with scopes."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.database import write_transaction

SCOPES = ("ingest", "read", "admin")

metadata = sa.MetaData()

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("scopes", sa.String(64), nullable=False),  # space-separated
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, scopes: list[str], name: str | None = None) -> str:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {scopes}")
    token = "lt_" + secrets.token_urlsafe(32)
    with write_transaction(engine) as conn:
        conn.execute(api_tokens.insert().values(
            token_hash=hash_token(token), scopes=" ".join(sorted(set(scopes))), name=name,
            created_at=time.time_ns() // 1000,
        ))
    return token


def count_tokens(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar() or 0)


class TokenChecker:
    """Looks tokens up by hash, keeping answers for a few seconds to spare the database."""

    def __init__(self, engine: Engine, ttl_seconds: float = 10.0) -> None:
        self.engine = engine
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def scopes(self, token: str) -> frozenset[str]:
        digest = hash_token(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(api_tokens.c.scopes).where(api_tokens.c.token_hash == digest)
            ).scalar()
        granted = frozenset(row.split()) if row else frozenset()
        if "admin" in granted:
            granted = frozenset(SCOPES)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self.ttl, granted)
        return granted

    def allows(self, token: str | None, scope: str) -> bool:
        return bool(token) and scope in self.scopes(token or "")
