"""Move the session document out of session_view, so the rows the scorer sums stay narrow.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "session_document",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("body", Json, nullable=False),
    )
    op.execute(
        "INSERT INTO session_document (session_id, body) SELECT session_id, body FROM session_view"
    )
    with op.batch_alter_table("session_view") as batch:
        batch.drop_column("body")


def downgrade() -> None:
    with op.batch_alter_table("session_view") as batch:
        batch.add_column(sa.Column("body", Json, nullable=True))
    op.execute(
        "UPDATE session_view SET body = (SELECT body FROM session_document "
        "WHERE session_document.session_id = session_view.session_id)"
    )
    op.drop_table("session_document")
