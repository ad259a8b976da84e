"""What a projection returned as data (`Writes`), applied to the database in the caller's
transaction."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from events.upsert import add_to, upsert
from projections.writes import Writes


def apply_writes(conn: Connection, writes: Writes) -> None:
    """Apply what a projection returned, in the caller's transaction."""
    for row_set in writes.row_sets:
        upsert(conn, row_set.table, row_set.rows, row_set.keys)
    for delta in writes.deltas:
        add_to(conn, delta.table, delta.row, delta.keys)
    for drop in writes.drops:
        table = drop.table
        conn.execute(
            table.delete().where(
                *(table.c[name] == value for name, value in drop.where.items()),
                table.c[drop.column] == 0,
            )
        )
