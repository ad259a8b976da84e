"""INSERT ... ON CONFLICT DO UPDATE for both backends, straight through the driver: the worker's
read models, checkpoints and heartbeats, and the connectors' ledger write through here.

Projection runs write a handful of rows per stream, many times a second: SQLAlchemy's statement
compilation and parameter processing cost several times what SQLite spends on such a row. The
statements are plain SQL that both backends accept, built once per table and column set; JSON
columns are encoded with orjson here (and cast to jsonb on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.database import dbapi_cursor, fetch_rows
from events.errors import LivetallyError

# (sql, how to turn a row into its parameters), per backend, table, column set and keys
_statements: dict[tuple[Any, ...], tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {}


def _statement(
    postgres: bool, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
    cache_key = (postgres, table.name, columns, keys)
    found = _statements.get(cache_key)
    if found is not None:
        return found
    is_json = tuple(isinstance(table.c[name].type, sa.JSON) for name in columns)
    mark = "%s" if postgres else "?"
    marks = ", ".join(f"{mark}::jsonb" if postgres and j else mark for j in is_json)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(keys)}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
    )
    found = _statements[cache_key] = (sql, _parameters(columns, is_json))
    return found


def _parameters(
    columns: tuple[str, ...], is_json: tuple[bool, ...]
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's parameters in column order, JSON columns encoded: built once per statement,
    since a run's rows pass through here thousands of times a second."""
    pick = itemgetter(*columns)
    if len(columns) == 1:
        only_json = is_json[0]
        return lambda row: (orjson.dumps(row[columns[0]]).decode() if only_json else pick(row),)
    encoded = [i for i, j in enumerate(is_json) if j]
    if not encoded:
        return pick

    def parameters(row: dict[str, Any]) -> tuple[Any, ...]:
        values = list(pick(row))
        for i in encoded:
            values[i] = orjson.dumps(values[i]).decode()
        return tuple(values)

    return parameters


def _execute(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    columns = tuple(rows[0])
    sql, parameters = _statement(conn.dialect.name == "postgresql", table, columns, tuple(keys))
    cursor = dbapi_cursor(conn)
    try:
        if len(rows) == 1:
            cursor.execute(sql, parameters(rows[0]))
        else:
            cursor.executemany(sql, [parameters(row) for row in rows])
    finally:
        cursor.close()


class RowsMissing(LivetallyError):
    """Raised when an update of rows its caller knew to exist found fewer of them: the rows
    moved under the caller (a rebuild swapped the tables), whose transaction is rolled back."""


_updates: dict[tuple[Any, ...], tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {}


def update_each(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Set the other columns of existing rows (all rows share their columns), in one statement.
    Unlike an upsert, an UPDATE leaves alone the indexes on columns it does not set: a session's
    view row takes its counts on every run, while its six indexed columns seldom move."""
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    columns = tuple(rows[0])
    cache_key = (postgres, table.name, columns, tuple(keys))
    found = _updates.get(cache_key)
    if found is None:
        assert not any(isinstance(table.c[name].type, sa.JSON) for name in columns)
        mark = "%s" if postgres else "?"
        values = [name for name in columns if name not in keys]
        sql = (
            f"UPDATE {table.name} SET {', '.join(f'{name} = {mark}' for name in values)} "
            f"WHERE {' AND '.join(f'{name} = {mark}' for name in keys)}"
        )
        found = _updates[cache_key] = (sql, itemgetter(*values, *keys))
    sql, parameters = found
    cursor = dbapi_cursor(conn)
    try:
        cursor.executemany(sql, [parameters(row) for row in rows])
        updated = cursor.rowcount
    finally:
        cursor.close()
    if updated != len(rows):
        raise RowsMissing(f"{table.name}: {updated} of {len(rows)} rows found")


def upsert(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows, or overwrite the existing rows' other columns. All rows share their
    columns (the first row's, in its order)."""
    if rows:
        _execute(conn, table, rows, keys)


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


def current_rows(
    conn: Connection, table: sa.Table, keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """`current_row` for many keys in one query: the rows found, by key."""
    if not keys:
        return {}
    names = tuple(c.name for c in table.columns)
    column = next(iter(table.primary_key.columns)).name
    marks = ", ".join(["{p}"] * len(keys))
    sql = f"SELECT {', '.join(names)} FROM {table.name} WHERE {column} IN ({marks})"
    at = names.index(column)
    return {
        row[at]: dict(zip(names, row, strict=True)) for row in fetch_rows(conn, sql, tuple(keys))
    }
