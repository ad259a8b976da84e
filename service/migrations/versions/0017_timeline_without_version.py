"""session_timeline loses its `version` column: the row holds the timeline without the session's
version, so a run that moves nothing on it (a comment the platform already counts, once its
readings carry comments) leaves the row as it is; the read takes the version from session_view.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("session_timeline") as batch:
        batch.drop_column("version")


def downgrade() -> None:
    op.add_column(
        "session_timeline",
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
