"""session_minute: a session's timeline a minute a row, so that a run writes the minutes it
redrew (most often the last) instead of every minute of a long broadcast. session_timeline
keeps the markers and segments; a row written before this migration still carries its own
minutes, which the read serves until the session's next run writes them here.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "session_minute",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("minute", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("body", Json, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("session_minute")
