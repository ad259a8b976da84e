"""What projections returned as data (`Writes`), applied to the database in the caller's
transaction: one statement per table and column set for a whole group of streams.

A run writes five or six rows for each of up to 64 streams; one executemany per table costs
a fraction of a statement per row (benchmarks/group_runs.py has the pairs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from events.upsert import update_each, upsert
from projections.writes import Writes


def combine(all_writes: Iterable[Writes]) -> Writes:
    """Many streams' writes as one."""
    combined = Writes()
    for writes in all_writes:
        combined.row_sets += writes.row_sets
        combined.clears += writes.clears
    return combined


def apply_writes(conn: Connection, writes: Writes) -> None:
    """Apply what projections returned, in the caller's transaction: the clears, then the row
    sets (rows of different streams never share keys, so their order does not matter). Clears
    come first: they make room for the rows written anew."""
    # One statement per table for the group's clears on one column (every session's first run
    # after a start replaces its stored minutes: 64 of them at once, not 64 statements).
    by_column: dict[tuple[str, str], tuple[Any, list[Any]]] = {}
    for clear in writes.clears:
        by_column.setdefault((clear.table.name, clear.column), (clear.table, []))[1].append(
            clear.value
        )
    for (_, name), (table, values) in by_column.items():
        conn.execute(table.delete().where(table.c[name].in_(values)))
    batches: dict[tuple[Any, ...], tuple[Any, tuple[str, ...], bool, list[dict[str, Any]]]] = {}
    for row_set in writes.row_sets:
        for row in row_set.rows:
            key = (row_set.table.name, row_set.keys, row_set.existing, tuple(row))
            batch = batches.get(key)
            if batch is None:
                batches[key] = (row_set.table, row_set.keys, row_set.existing, [row])
            else:
                batch[3].append(row)
    for table, keys, existing, rows in batches.values():
        (update_each if existing else upsert)(conn, table, rows, keys)
