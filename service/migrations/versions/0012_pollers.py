"""Live-room pollers: each connection's last reading, failures and next poll; which person
hosts a room (`livetally rooms map`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection") as batch:
        batch.add_column(sa.Column("polled_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("poll_error", sa.Text, nullable=True))
        batch.add_column(sa.Column("poll_failures", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("next_poll_at", sa.BigInteger, nullable=False, server_default="0")
        )
    op.create_table(
        "room_host",
        sa.Column("room_key", sa.String(128), primary_key=True),
        sa.Column("person_id", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("room_host")
    with op.batch_alter_table("connection") as batch:
        for name in ("next_poll_at", "poll_failures", "poll_error", "polled_at"):
            batch.drop_column(name)
