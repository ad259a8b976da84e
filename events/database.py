"""Engines and transactions for SQLite and PostgreSQL, the two backends livetally runs on."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events import checkpoints
from events.checkpoints import WalCheckpointer, checkpointer_for


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, application_name: str | None = None, **kwargs: Any) -> Engine:
    """An engine configured for livetally. Creating it does not connect. On PostgreSQL its
    connections carry `application_name` (a worker's name its process: worker/heartbeat.py)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        # No pre-ping: it costs a round trip per checkout on the ingest path. A connection
        # broken by a server restart fails one statement, and SQLAlchemy then discards the pool.
        options.update(pool_size=10, max_overflow=20, pool_recycle=1800, pool_timeout=5)
        # A process frozen mid-transaction (SIGSTOP, a hung VM) holds its locks: the server
        # ends such a transaction after 15 s, so what it locked frees by itself. connect_timeout
        # keeps a request from hanging on a database that is unreachable.
        options["connect_args"] = {
            "connect_timeout": 3,
            "options": "-c idle_in_transaction_session_timeout=15000",
        }
        if application_name is not None:
            options["connect_args"]["application_name"] = application_name
    options.update(kwargs)
    engine = sa.create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _configure_sqlite)
        if _checkpointable(engine):
            sa.event.listen(engine, "connect", _leave_checkpoints_to_thread)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module, so that write transactions can
    # start with BEGIN IMMEDIATE (see write_transaction) instead of upgrading a read lock later,
    # which fails with "database is locked" under concurrent writers.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_sqlite_writers: dict[str, threading.Lock] = {}
_sqlite_writers_guard = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock:
    """One lock per SQLite file in this process, shared by every engine on that file."""
    key = engine.url.database or ""
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(key, threading.Lock())


def _checkpointable(engine: Engine) -> bool:
    path = engine.url.database or ""
    return path not in ("", ":memory:") and not path.startswith("file:")


def _leave_checkpoints_to_thread(dbapi_connection: Any, _record: Any) -> None:
    # Checkpoints happen on a thread of their own (events/checkpoints.py), not inside commits.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
    # SQLite reuses a WAL file from its start after a checkpoint but never shrinks it: without
    # a limit the file keeps the largest size it ever reached. With one, the first commit after
    # the WAL starts over cuts the file back to the limit.
    dbapi_connection.execute(f"PRAGMA journal_size_limit={checkpoints.wal_size_limit()}")


def _checkpointer(engine: Engine) -> WalCheckpointer | None:
    if not _checkpointable(engine):
        return None
    return checkpointer_for(engine.url.database or "", _writer_lock(engine))


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that will write: serialised up front on SQLite, row-locked on PostgreSQL.

    SQLite allows one writer at a time, and a writer that finds the file locked sleeps in
    SQLite's busy handler (up to 100 ms a nap) however soon the lock frees. Writers in the same
    process (API threads, worker threads, sweep) therefore queue on a Python lock first and
    are woken the moment it is released; the busy handler is left to arbitrate only between
    processes (a `livetally import` next to `livetally up`).
    """
    sqlite = engine.dialect.name == "sqlite"
    checkpointer = _checkpointer(engine) if sqlite else None
    if checkpointer is not None:
        checkpointer.let_restart_pass()
    with _writer_lock(engine) if sqlite else nullcontext(), engine.connect() as conn, conn.begin():
        if sqlite:
            # Straight to the driver: SQLAlchemy's execution path costs more than the statement.
            dbapi_cursor(conn).execute("BEGIN IMMEDIATE")
        yield conn
    if checkpointer is not None:
        checkpointer.committed()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent snapshot for several reads."""
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        yield conn


def is_postgres(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "postgresql"


def dbapi_cursor(conn: Connection) -> Any:
    """The driver's cursor under a SQLAlchemy connection (same transaction), for hot paths."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def fetch_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Run one query through the driver and return its rows as tuples.

    For hot paths only: it skips SQLAlchemy's compilation and row processing, which cost more
    than a small query itself. Write placeholders as {p}: they become ? or %s.
    """
    postgres = conn.dialect.name == "postgresql"
    cursor = dbapi_cursor(conn)
    try:
        cursor.execute(sql.format(p="%s" if postgres else "?"), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
