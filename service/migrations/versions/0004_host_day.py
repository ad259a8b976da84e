"""Per host and day sums for the scorer, filled from the sessions already projected.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SUMS = (
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


def upgrade() -> None:
    op.create_table(
        "host_day",
        sa.Column("host_id", sa.String(128), primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("on_air_us", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMS),
    )
    op.create_index("ix_host_day_day", "host_day", ["day"])
    until = "coalesce(ended_at, clock, started_at)"
    op.execute(
        f"INSERT INTO host_day (host_id, day, sessions, on_air_us, {', '.join(SUMS)}) "
        f"SELECT host_id, started_at / 86400000000, count(*), "
        f"sum(CASE WHEN {until} > started_at THEN {until} - started_at ELSE 0 END), "
        f"{', '.join(f'sum({name})' for name in SUMS)} FROM session_view "
        "WHERE host_id IS NOT NULL AND started_at IS NOT NULL "
        "GROUP BY host_id, started_at / 86400000000"
    )


def downgrade() -> None:
    op.drop_table("host_day")
