"""Read models, checkpoints, snapshots and worker heartbeats.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "period_view",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.BigInteger()),
        sa.Column("body", Json, nullable=False),
    )
    op.create_table(
        "person_view",
        sa.Column("person_id", sa.String(128), primary_key=True),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("role", sa.String(32)),
        sa.Column("level", sa.String(32)),
        sa.Column("team_id", sa.String(128)),
        sa.Column("manager_id", sa.String(128)),
        sa.Column("on_air_since", sa.String(10)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ledger", Json, nullable=False),
    )
    op.create_index("ix_person_view_manager", "person_view", ["manager_id"])
    op.create_index("ix_person_view_role", "person_view", ["role"])
    op.create_table(
        "projection_checkpoints",
        sa.Column("stream_id", sa.String(160), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "projection_snapshots",
        sa.Column("stream_id", sa.String(160), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "session_source",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("viewers", sa.Integer(), nullable=False),
        sa.Column("buyers", sa.Integer(), nullable=False),
    )
    op.create_table(
        "session_timeline",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", Json, nullable=False),
    )
    op.create_table(
        "session_view",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("host_id", sa.String(128)),
        sa.Column("ops_id", sa.String(128)),
        sa.Column("room_id", sa.String(128)),
        sa.Column("platform", sa.String(64)),
        sa.Column("started_at", sa.BigInteger()),
        sa.Column("ended_at", sa.BigInteger()),
        sa.Column("clock", sa.BigInteger()),
        sa.Column("last_recorded_at", sa.BigInteger()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("unique_viewers", sa.Integer(), nullable=False),
        sa.Column("online", sa.Integer(), nullable=False),
        sa.Column("peak_online", sa.Integer(), nullable=False),
        sa.Column("interacting_viewers", sa.Integer(), nullable=False),
        sa.Column("new_followers", sa.Integer(), nullable=False),
        sa.Column("clicking_viewers", sa.Integer(), nullable=False),
        sa.Column("orders_paid", sa.Integer(), nullable=False),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunds_fen", sa.BigInteger(), nullable=False),
        sa.Column("ad_spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("incidents_open", sa.Integer(), nullable=False),
        sa.Column("silent_since", sa.BigInteger()),
        sa.Column("body", Json, nullable=False),
    )
    op.create_index("ix_session_view_host_started", "session_view", ["host_id", "started_at"])
    op.create_index("ix_session_view_ops_started", "session_view", ["ops_id", "started_at"])
    op.create_index("ix_session_view_started", "session_view", ["started_at"])
    op.create_index("ix_session_view_status", "session_view", ["status"])
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    op.drop_table("projection_snapshots")
    op.drop_table("projection_checkpoints")
    op.drop_table("period_view")
    op.drop_table("person_view")
    op.drop_table("session_timeline")
    op.drop_table("session_source")
    op.drop_table("session_view")
