"""The event store's tables: events, one row per event; streams, one row per stream head."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")

events = sa.Table(
    "events",
    metadata,
    # INTEGER PRIMARY KEY is SQLite's rowid; BIGINT identity on PostgreSQL.
    sa.Column("position", BigInt, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("stream_id", sa.String(160), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.SmallInteger, nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    # Microseconds since the epoch (UTC): exact, cheap to compare, the same on both backends.
    sa.Column("occurred_at", sa.BigInteger, nullable=False),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

streams = sa.Table(
    "streams",
    metadata,
    sa.Column("stream_id", sa.String(160), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_streams_updated_at", "updated_at"),  # the sweep looks at recent streams
)
