"""Alerts carry their lifecycle (on, cleared, resolved, with times), a drop is raised once per
drop, and a silence is logged when it ends: the session fold writes them, so the read models
are refolded online by a running worker (a rebuild request), while the service goes on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from worker.requested_rebuilds import request_rebuild

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    request_rebuild("0016: alerts carry their lifecycle; one drop alert per drop")


def downgrade() -> None:
    request_rebuild("0016 undone: alerts as before")
