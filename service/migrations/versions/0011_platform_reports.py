"""Platform-reported figures: sessions fold `room.stats_reported`, and their documents gain
platform, gmv_gap, figure_sources and per-product impressions. The fold's snapshot shape
changed (it is refolded anyway); the checkpoints are cleared too, so the sweep refolds every
stream and every stored document and view row takes the new shape (host_day moves by exact
deltas: nothing is counted twice).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")


def downgrade() -> None:
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")
