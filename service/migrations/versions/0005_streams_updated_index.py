"""Index streams by when they last moved, for the sweep's look at recent streams.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_streams_updated_at", "streams", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_streams_updated_at", "streams")
