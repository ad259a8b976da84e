"""host_day goes: the scorer sums a period's session_view rows by the studio's dates for every
time zone. The per-host-and-UTC-day sums were read only for a studio on UTC, yet every
projection run of every session kept them (a contribution worked out and an upsert that adds):
about a tenth of a run's cost (docs/deploy.md).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
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
    op.drop_index("ix_host_day_day", table_name="host_day")
    op.drop_table("host_day")


def downgrade() -> None:
    # As 0004 made it, filled from the sessions projected (the code before 0019 keeps it).
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
