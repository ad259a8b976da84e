"""The worker's own tables: how far each stream is folded, fold snapshots, parked streams and
heartbeats. They describe the projection machinery, not what the API reads."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("stream_id", sa.String(160), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Streams whose projection keeps failing: after PARK_AFTER tries a stream is parked (skipped,
# its error kept) until `livetally projections retry STREAM`; other streams go on.
parked_streams = sa.Table(
    "projection_parked",
    metadata,
    sa.Column("stream_id", sa.String(160), primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("first_failed_at", sa.BigInteger, nullable=False),
    sa.Column("parked_at", sa.BigInteger, nullable=True),
)

snapshots = sa.Table(
    "projection_snapshots",
    metadata,
    sa.Column("stream_id", sa.String(160), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
)

worker_heartbeats = sa.Table(
    "worker_heartbeats",
    metadata,
    sa.Column("worker_id", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.BigInteger, nullable=False),
)


# What `livetally rebuild` empties beside the read models: folding starts again from nothing.
FOLD_PROGRESS_TABLES = (checkpoints, snapshots)

# Refolds asked for by migrations (a change to what a projection writes): a running worker
# finds a request, rebuilds online (worker/requested_rebuilds.py) and deletes it once swapped.
rebuild_requests = sa.Table(
    "rebuild_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested_at", sa.BigInteger, nullable=False),
)
