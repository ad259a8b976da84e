"""Poison streams are parked with their error instead of failing forever.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_parked",
        sa.Column("stream_id", sa.String(160), primary_key=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("first_failed_at", sa.BigInteger, nullable=False),
        sa.Column("parked_at", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("projection_parked")
