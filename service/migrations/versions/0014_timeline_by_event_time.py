"""The timeline's per-minute online is presence by event time: the session fold keeps each
minute's opened-less-closed presences, so the checkpoints and snapshots are cleared and the
sweep refolds every stream (host_day moves by exact deltas).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")


def downgrade() -> None:
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")
