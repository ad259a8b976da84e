"""Connectors: sessions carry their shop, orders map to their session, platform messages are
kept in a ledger (dead letters among them).

session_view gains shop_id and orders_placed, and session_order is new: both are kept by the
session fold, so the checkpoints and snapshots are cleared and the sweep refolds every stream
(host_day moves by exact deltas, nothing is counted twice).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("session_view") as batch:
        batch.add_column(sa.Column("shop_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("orders_placed", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_session_view_shop_started", "session_view", ["shop_id", "started_at"])
    op.create_index("ix_session_view_room_started", "session_view", ["room_id", "started_at"])
    op.create_table(
        "session_order",
        sa.Column("order_id", sa.String(128), primary_key=True),
        sa.Column("session_id", sa.String(128), nullable=False),
    )
    op.create_table(
        "connector_message",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("message_id", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("kind", sa.String(64), nullable=True),
        sa.Column("order_ref", sa.String(128), nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("appended", sa.Integer, nullable=False),
        sa.Column("message", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Index("ix_connector_message_status", "status", "received_at"),
    )
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")


def downgrade() -> None:
    op.drop_table("connector_message")
    op.drop_table("session_order")
    op.drop_index("ix_session_view_room_started", "session_view")
    op.drop_index("ix_session_view_shop_started", "session_view")
    with op.batch_alter_table("session_view") as batch:
        batch.drop_column("orders_placed")
        batch.drop_column("shop_id")
