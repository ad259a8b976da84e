"""The read models' shadow set for an online rebuild: a copy of every read-model table and of
the fold progress (checkpoints, snapshots), named with `SUFFIX`, folded into beside the live
ones, then swapped in by renaming, in one transaction.

The shadows are created without secondary indexes (a bulk load is faster without them); the
swap creates them under their usual names once the old tables are gone, and on PostgreSQL
gives each primary key its usual name back, so the schema after a swap is the one the
migrations made (the migration test compares them).
"""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.tables import PROJECTION_TABLES
from projections.writes import Writes
from worker.tables import FOLD_PROGRESS_TABLES

SUFFIX = "_next"
SWAPPED = (*PROJECTION_TABLES, *FOLD_PROGRESS_TABLES)  # what an online rebuild replaces


class ShadowTables:
    """The shadow of each swapped table, by the live table's name."""

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        self.by_name: dict[str, sa.Table] = {}
        for table in SWAPPED:
            shadow = table.to_metadata(self.metadata, name=table.name + SUFFIX)
            shadow.indexes.clear()  # made by the swap, under the live names
            self.by_name[table.name] = shadow

    def __getitem__(self, table: sa.Table) -> sa.Table:
        return self.by_name[table.name]

    def retarget(self, writes: Writes) -> Writes:
        """The same writes, aimed at the shadows."""
        return Writes(
            row_sets=[replace(r, table=self[r.table]) for r in writes.row_sets],
            document=writes.document,
            clears=[replace(c, table=self[c.table]) for c in writes.clears],
        )

    def create(self, conn: Connection) -> None:
        """Drop any shadows a stopped rebuild left, and create empty ones."""
        self.drop(conn)
        self.metadata.create_all(conn)

    def drop(self, conn: Connection) -> None:
        self.metadata.drop_all(conn)

    def swap(self, conn: Connection) -> None:
        """Put the shadows in place of the live tables, in the caller's transaction: readers
        see the old tables until it commits and the new ones after, never a mix."""
        postgres = conn.dialect.name == "postgresql"
        for table in SWAPPED:
            shadow = self[table]
            conn.exec_driver_sql(f"DROP TABLE {table.name}")
            conn.exec_driver_sql(f"ALTER TABLE {shadow.name} RENAME TO {table.name}")
            if postgres:
                conn.exec_driver_sql(
                    f"ALTER TABLE {table.name} RENAME CONSTRAINT {shadow.name}_pkey "
                    f"TO {table.name}_pkey"
                )
            for index in table.indexes:
                index.create(conn)
