"""Rebuild requests: a migration that changes what a projection writes asks for a refold with
`request_rebuild(reason)` instead of clearing the checkpoints, and a running worker refolds
online (beside the live read models, swapped in at once) and deletes the request.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rebuild_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rebuild_requests")
