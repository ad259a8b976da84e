"""INSERT ... ON CONFLICT DO UPDATE for both backends, straight through the driver: the worker's
read models, checkpoints and heartbeats, and the connectors' ledger write through here.

Projection runs write a handful of rows per stream, many times a second: SQLAlchemy's statement
compilation and parameter processing cost several times what SQLite spends on such a row. The
statements are plain SQL that both backends accept, built once per table and column set; JSON
columns are encoded with orjson here (and cast to jsonb on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.database import dbapi_cursor, fetch_rows

_statements: dict[tuple[Any, ...], tuple[str, tuple[bool, ...]]] = {}


def _statement(
    postgres: bool, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...], adding: bool
) -> tuple[str, tuple[bool, ...]]:
    cache_key = (postgres, table.name, columns, keys, adding)
    found = _statements.get(cache_key)
    if found is not None:
        return found
    is_json = tuple(isinstance(table.c[name].type, sa.JSON) for name in columns)
    mark = "%s" if postgres else "?"
    marks = ", ".join(f"{mark}::jsonb" if postgres and j else mark for j in is_json)
    updates = ", ".join(
        f"{name} = {table.name}.{name} + excluded.{name}" if adding else f"{name} = excluded.{name}"
        for name in columns
        if name not in keys
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(keys)}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
    )
    _statements[cache_key] = (sql, is_json)
    return sql, is_json


def _execute(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    adding: bool,
) -> None:
    columns = tuple(rows[0])
    sql, is_json = _statement(
        conn.dialect.name == "postgresql", table, columns, tuple(keys), adding
    )
    dumps = orjson.dumps
    params = [
        tuple(
            dumps(row[name]).decode() if j else row[name]
            for name, j in zip(columns, is_json, strict=True)
        )
        for row in rows
    ]
    cursor = dbapi_cursor(conn)
    try:
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
    finally:
        cursor.close()


def add_to(conn: Connection, table: sa.Table, row: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert the row, or add its values to the existing row's (negative values subtract)."""
    _execute(conn, table, [row], keys, adding=True)


def upsert(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows, or overwrite the existing rows' other columns. All rows share keys."""
    if rows:
        _execute(conn, table, rows, keys, adding=False)


_selects: dict[str, tuple[str, tuple[str, ...]]] = {}


def current_row(conn: Connection, table: sa.Table, key: str) -> dict[str, Any] | None:
    """The row of `table` whose (single-column) primary key is `key`, as a dict. Plain SQL
    built once per table: this runs once per stream and run."""
    found = _selects.get(table.name)
    if found is None:
        names = tuple(c.name for c in table.columns)
        column = next(iter(table.primary_key.columns)).name
        found = _selects[table.name] = (
            f"SELECT {', '.join(names)} FROM {table.name} WHERE {column} = {{p}}",
            names,
        )
    sql, names = found
    rows = fetch_rows(conn, sql, (key,))
    return dict(zip(names, rows[0], strict=True)) if rows else None
