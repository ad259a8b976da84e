"""Read-model tables: what the API, the feed and the scorer read. Workers are their only writers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
Json = sa.JSON().with_variant(JSONB(), "postgresql")

session_view = sa.Table(
    "session_view",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("host_id", sa.String(128)),
    sa.Column("ops_id", sa.String(128)),
    sa.Column("room_id", sa.String(128)),
    sa.Column("platform", sa.String(64)),
    # The platform shop whose orders the connectors attribute to this session.
    sa.Column("shop_id", sa.String(128)),
    sa.Column("started_at", sa.BigInteger),
    sa.Column("ended_at", sa.BigInteger),
    sa.Column("clock", sa.BigInteger),  # latest occurred_at: a live session's duration so far
    sa.Column("last_recorded_at", sa.BigInteger),
    sa.Column("version", sa.Integer, nullable=False),
    # Sums the scorer adds up over a period (ratios of sums, never averages of ratios).
    sa.Column("views", sa.Integer, nullable=False),
    sa.Column("unique_viewers", sa.Integer, nullable=False),
    sa.Column("online", sa.Integer, nullable=False),
    sa.Column("peak_online", sa.Integer, nullable=False),
    sa.Column("interacting_viewers", sa.Integer, nullable=False),
    sa.Column("new_followers", sa.Integer, nullable=False),
    sa.Column("clicking_viewers", sa.Integer, nullable=False),
    # Orders with an order.placed: also how many of them session_order already holds.
    sa.Column("orders_placed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("orders_paid", sa.Integer, nullable=False),
    sa.Column("buyers", sa.Integer, nullable=False),
    sa.Column("gmv_fen", sa.BigInteger, nullable=False),
    sa.Column("refunds_fen", sa.BigInteger, nullable=False),
    sa.Column("ad_spend_fen", sa.BigInteger, nullable=False),
    sa.Column("incidents", sa.Integer, nullable=False),
    sa.Column("incidents_open", sa.Integer, nullable=False),
    # Set by the sweep when a live session has been silent for 60 s, to the moment it was (the
    # last event recorded + 60 s); cleared by the sweep once events came after it.
    sa.Column("silent_since", sa.BigInteger),
    sa.Index("ix_session_view_started", "started_at"),
    sa.Index("ix_session_view_host_started", "host_id", "started_at"),
    sa.Index("ix_session_view_ops_started", "ops_id", "started_at"),
    sa.Index("ix_session_view_status", "status"),
    sa.Index("ix_session_view_shop_started", "shop_id", "started_at"),
    sa.Index("ix_session_view_room_started", "room_id", "started_at"),
)

# order_id -> the session it was placed in: a connector sends every later message of an order
# (paid, cancelled, refunded a week on) to the session its placement went to.
session_order = sa.Table(
    "session_order",
    metadata,
    sa.Column("order_id", sa.String(128), primary_key=True),
    sa.Column("session_id", sa.String(128), nullable=False),
)

# The GET /sessions/{id} document, apart from session_view so that the rows the scorer sums over
# stay narrow (with ~1.4 KB of JSON inline a 20,000-session month sums 4-5x slower on SQLite).
session_document = sa.Table(
    "session_document",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("body", Json, nullable=False),
)

# The per-session integers the scorer adds up over a period (session_view columns).
SCORED_SUMS = (
    "views",
    "unique_viewers",
    "interacting_viewers",
    "new_followers",
    "buyers",
    "gmv_fen",
    "refunds_fen",
    "ad_spend_fen",
    "incidents",
)
session_source = sa.Table(
    "session_source",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("views", sa.Integer, nullable=False),
    sa.Column("viewers", sa.Integer, nullable=False),
    sa.Column("buyers", sa.Integer, nullable=False),
    sa.Column("gmv_fen", sa.BigInteger, nullable=False, server_default="0"),
)

# The post-broadcast review's own part (products, segments, incidents, ...): benchmarks against
# earlier sessions are added when it is read.
session_review = sa.Table(
    "session_review",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("body", Json, nullable=False),
)
# The timeline without the session's version (the read adds it from session_view): most runs of
# a session whose platform counts its interactions leave it as it is.
session_timeline = sa.Table(
    "session_timeline",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("body", Json, nullable=False),
)

# One row per minute of a session's timeline (`body`: the minute as served; `minute`: minutes
# since the epoch, UTC, for the order). A run writes the minutes it redrew, most often the last
# one, instead of every minute of a long broadcast; session_timeline keeps the markers and
# segments.
session_minute = sa.Table(
    "session_minute",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("body", Json, nullable=False),
)

person_view = sa.Table(
    "person_view",
    metadata,
    sa.Column("person_id", sa.String(128), primary_key=True),
    sa.Column("registered", sa.Boolean, nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("role", sa.String(32)),
    sa.Column("level", sa.String(32)),
    sa.Column("team_id", sa.String(128)),
    sa.Column("manager_id", sa.String(128)),
    sa.Column("on_air_since", sa.String(10)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("ledger", Json, nullable=False),
    sa.Index("ix_person_view_role", "role"),
    sa.Index("ix_person_view_manager", "manager_id"),
)

period_view = sa.Table(
    "period_view",
    metadata,
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("closed_at", sa.BigInteger),
    sa.Column("body", Json, nullable=False),  # the frozen scorecards
)

# Every table the projections write: what `livetally rebuild` refolds (with the worker's
# checkpoints and snapshots), emptied first offline, replaced by a swap online.
PROJECTION_TABLES = (
    session_view,
    session_order,
    session_document,
    session_source,
    session_timeline,
    session_minute,
    session_review,
    person_view,
    period_view,
)
