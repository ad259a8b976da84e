"""connector_message: every platform message livetally has taken, with what became of it.

`appended` and `ignored` messages are done (a platform's retry of one is acknowledged and
nothing is stored); `queued` ones wait for a worker to ask the platform's API (the push was
acknowledged first); `dead` ones are the dead letters, kept with their reason, listed by
GET /connectors/dead-letters and run again by `livetally connectors replay`. Each row keeps the
message's own data (never the whole push it came in), so a push of N messages stores O(N).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine

from events.upsert import upsert

metadata = sa.MetaData()
Json = sa.JSON().with_variant(JSONB(), "postgresql")
DONE = ("appended", "ignored")
QUEUED = "queued"
TAKING = "taking"  # a worker holds it now (claimed; reclaimed if that worker died)
WAITING = (QUEUED, TAKING)

connector_message = sa.Table(
    "connector_message",
    metadata,
    sa.Column("platform", sa.String(32), primary_key=True),
    sa.Column("message_id", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # appended | ignored | dead
    sa.Column("reason", sa.Text),
    sa.Column("kind", sa.String(64)),
    sa.Column("order_ref", sa.String(128)),
    sa.Column("received_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("appended", sa.Integer, nullable=False),
    sa.Column("message", Json, nullable=False),
    sa.Index("ix_connector_message_status", "status", "received_at"),
)


def entry(engine: Engine, platform: str, message_id: str) -> dict[str, Any] | None:
    t = connector_message
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(t.c.status, t.c.attempts, t.c.received_at).where(
                    t.c.platform == platform, t.c.message_id == message_id
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def record(engine: Engine, row: dict[str, Any]) -> None:
    with engine.begin() as conn:
        upsert(conn, connector_message, [row], ("platform", "message_id"))


def dead_letters(
    engine: Engine, platform: str | None = None, limit: int = 100, after: int = 0
) -> list[dict[str, Any]]:
    """Oldest first, from `after` (a received_at) on."""
    t = connector_message
    query = (
        sa.select(
            t.c.platform,
            t.c.message_id,
            t.c.kind,
            t.c.reason,
            t.c.order_ref,
            t.c.received_at,
            t.c.updated_at,
            t.c.attempts,
            t.c.message,
        )
        .where(t.c.status == "dead", t.c.received_at >= after)
        .order_by(t.c.received_at, t.c.platform, t.c.message_id)
        .limit(limit)
    )
    if platform is not None:
        query = query.where(t.c.platform == platform)
    with engine.connect() as conn:
        return [{str(k): v for k, v in r.items()} for r in conn.execute(query).mappings()]


def queued(engine: Engine, limit: int = 500) -> list[dict[str, Any]]:
    """The oldest messages waiting for a worker, or held by one."""
    t = connector_message
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(t.c.platform, t.c.message_id, t.c.status, t.c.attempts, t.c.updated_at)
                .where(t.c.status.in_(WAITING))
                .order_by(t.c.received_at)
                .limit(limit)
            ).mappings()
        ]


def touch(engine: Engine, platform: str, message_ids: list[str], now: int) -> None:
    """Queued messages just sent to the workers again: their wait starts over."""
    t = connector_message
    with engine.begin() as conn:
        conn.execute(
            t.update()
            .where(
                t.c.platform == platform,
                t.c.message_id.in_(message_ids),
                t.c.status == QUEUED,
            )
            .values(updated_at=now)
        )


def claim(engine: Engine, platform: str, message_id: str, now: int, stale_before: int) -> bool:
    """Take a queued message for this worker, once: a conditional UPDATE wins or not (a
    dramatiq message and the queued pass may both ask for it). A message held longer than
    `stale_before` by a worker that died is taken back."""
    t = connector_message
    with engine.begin() as conn:
        return bool(
            conn.execute(
                t.update()
                .where(
                    t.c.platform == platform,
                    t.c.message_id == message_id,
                    sa.or_(
                        t.c.status == QUEUED,
                        sa.and_(t.c.status == TAKING, t.c.updated_at < stale_before),
                    ),
                )
                .values(status=TAKING, updated_at=now)
            ).rowcount
        )


def full_entry(engine: Engine, platform: str, message_id: str) -> dict[str, Any] | None:
    t = connector_message
    with engine.connect() as conn:
        row = (
            conn.execute(sa.select(t).where(t.c.platform == platform, t.c.message_id == message_id))
            .mappings()
            .first()
        )
    return dict(row) if row else None


def counts(engine: Engine) -> dict[str, int]:
    t = connector_message
    with engine.connect() as conn:
        return {
            str(status): int(n)
            for status, n in conn.execute(
                sa.select(t.c.status, sa.func.count()).group_by(t.c.status)
            )
        }


def iter_dead(engine: Engine, platform: str | None = None) -> Iterator[dict[str, Any]]:
    """Every dead letter, with what replay needs, in pages (a replay may make them done)."""
    t = connector_message
    last: tuple[int, str, str] = (-1, "", "")
    while True:
        query = (
            sa.select(t)
            .where(
                t.c.status == "dead",
                sa.tuple_(t.c.received_at, t.c.platform, t.c.message_id) > sa.tuple_(*last),
            )
            .order_by(t.c.received_at, t.c.platform, t.c.message_id)
            .limit(200)
        )
        if platform is not None:
            query = query.where(t.c.platform == platform)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        if not rows:
            return
        yield from rows
        tail = rows[-1]
        last = (tail["received_at"], tail["platform"], tail["message_id"])
