"""INSERT ... ON CONFLICT DO UPDATE for both backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_statements: dict[tuple[Any, ...], Any] = {}


def add_to(conn: Connection, table: sa.Table, row: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert the row, or add its values to the existing row's (negative values subtract)."""
    key = ("add", conn.dialect.name, table.name, tuple(row), tuple(keys))
    statement = _statements.get(key)
    if statement is None:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + insert.excluded[name] for name in row if name not in keys})
        _statements[key] = statement
    conn.execute(statement, [row])


def upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str]) -> None:
    if not rows:
        return
    # Building the statement costs more than running it on the hot path: build it once.
    key = (conn.dialect.name, table.name, tuple(rows[0]), tuple(keys))
    statement = _statements.get(key)
    if statement is None:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
        updates = {name: insert.excluded[name] for name in rows[0] if name not in keys}
        statement = insert.on_conflict_do_update(index_elements=list(keys), set_=updates)
        _statements[key] = statement
    conn.execute(statement, rows)
