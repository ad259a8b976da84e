"""Read models, checkpoints, snapshots and worker heartbeats.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

from projections.tables import metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The tables are declared once, in projections.tables; this revision creates them as
    # declared then. Later changes get revisions of their own with explicit operations.
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
