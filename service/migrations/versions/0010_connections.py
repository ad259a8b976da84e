"""Connections (each authorised shop or account, secrets sealed) and pending OAuth requests;
the connector ledger keeps each message's own data only (the copy of the whole push on every
row, and its headers, are dropped: a push of N messages stored N copies of itself).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection",
        sa.Column("connection_id", sa.String(160), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("app_key", sa.String(128), nullable=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("access_expires_at", sa.BigInteger, nullable=True),
        sa.Column("refresh_expires_at", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=True),
        sa.Column("synced_until", sa.BigInteger, nullable=True),
        sa.Column("sync_attempted_at", sa.BigInteger, nullable=True),
        sa.Column("sync_error", sa.Text, nullable=True),
        sa.Column("sync_orders", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("platform", "account_id", name="uq_connection_platform_account"),
    )
    op.create_table(
        "oauth_request",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("connector_message") as batch:
        batch.drop_column("body")
        batch.drop_column("headers")


def downgrade() -> None:
    with op.batch_alter_table("connector_message") as batch:
        batch.add_column(sa.Column("body", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("headers", sa.JSON(), nullable=False, server_default="{}"))
    op.drop_table("oauth_request")
    op.drop_table("connection")
