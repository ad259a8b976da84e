"""Traffic sources carry GMV; every session is projected again for the new figures.

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

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("session_source", sa.Column("gmv_fen", sa.BigInteger, nullable=False,
                                              server_default="0"))
    op.execute("DELETE FROM projection_snapshots")
    op.execute("DELETE FROM projection_checkpoints")


def downgrade() -> None:
    with op.batch_alter_table("session_source") as batch:
        batch.drop_column("gmv_fen")
