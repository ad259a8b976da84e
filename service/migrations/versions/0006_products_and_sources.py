"""Traffic sources carry GMV, the review gets its read model, and every session is projected
again for the new figures.

Products, explanation segments, the ticker and the per-source GMV are kept by the session
fold, so the existing read models are refolded: the checkpoints and snapshots are cleared and
the workers' sweep brings every stream back up (host_day moves by exact deltas from the rows as
they stand, so nothing is counted twice).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "session_source", sa.Column("gmv_fen", sa.BigInteger, nullable=False, server_default="0")
    )
    op.create_table(
        "session_review",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("body", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")


def downgrade() -> None:
    op.drop_table("session_review")
    with op.batch_alter_table("session_source") as batch:
        batch.drop_column("gmv_fen")
