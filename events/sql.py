"""The SQLAlchemy recorder: one implementation for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from events.catalogue import CATALOGUE
from events.clock import now_micros
from events.database import (
    dbapi_cursor,
    fetch_rows,
    is_postgres,
    read_transaction,
    write_transaction,
)
from events.pg_append import append_in_one_statement, fits_one_statement
from events.recent import RecentEvents
from events.recorder import (
    AppendResult,
    ConcurrencyConflict,
    DuplicateConflict,
    NewEvent,
    StoredEvent,
    content_of,
    iter_positions,
)
from events.tables import events, streams
from events.upcasting import upcast

_CURRENT_VERSION = {name: entry.version for name, entry in CATALOGUE.items()}
_INSERT_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, data, metadata, "
    "occurred_at, recorded_at"
)
_INSERT_SQLITE = f"INSERT INTO events ({_INSERT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
_SELECT_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, {data}, "
    "{metadata}, occurred_at, recorded_at FROM events WHERE "
)
_SELECT_SQLITE = "SELECT " + _SELECT_COLUMNS.format(data="data", metadata="metadata")
_SELECT_PG = "SELECT " + _SELECT_COLUMNS.format(data="data::text", metadata="metadata::text")
_INSERT_RETURNING_PG = (
    "INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, "
    "occurred_at, recorded_at) VALUES (%s,%s,%s,%s,%s,%s::jsonb,%s::jsonb,%s,%s) "
    "RETURNING position"
)
_UPDATE_HEADS_SQLITE = "UPDATE streams SET version = ?, updated_at = ? WHERE stream_id = ?"
_UPDATE_HEADS_PG = "UPDATE streams SET version = %s, updated_at = %s WHERE stream_id = %s"
_ID_CHUNK = 400  # stays under SQLite's bound-parameter limit on old builds
_COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    events.c.data,
    events.c.metadata,
    events.c.occurred_at,
    events.c.recorded_at,
)


def to_stored(row: Sequence[Any]) -> StoredEvent:
    position, event_id, stream_id, version, type_, schema_version, data, meta, occ, rec = row
    if schema_version != _CURRENT_VERSION.get(type_, schema_version):
        data, schema_version = upcast(type_, schema_version, data)
    return StoredEvent(
        position, event_id, stream_id, version, type_, schema_version, data, meta, occ, rec
    )


def _stored_from_rows(
    rows: list[list[Any]], row_index: list[int], new_events: Sequence[NewEvent]
) -> list[StoredEvent]:
    """The inserted rows as a read would return them, without the JSON round trip."""
    stored = []
    for row, index in zip(rows, row_index, strict=True):
        position, event_id, stream_id, version, type_, schema_version, _, _, occ, rec = row
        event = new_events[index]
        data = event.data
        if schema_version != _CURRENT_VERSION.get(type_, schema_version):
            data, schema_version = upcast(type_, schema_version, data)
        stored.append(
            StoredEvent(
                position,
                event_id,
                stream_id,
                version,
                type_,
                schema_version,
                data,
                event.metadata,
                occ,
                rec,
            )
        )
    return stored


_EMPTY_JSON = frozenset({"{}", b"{}"})  # most events carry no metadata: skip decoding it


class HandledPipelineAbort(logging.Filter):
    """psycopg warns "error ignored terminating <Pipeline>: pipeline aborted" when a pipelined
    executemany meets a unique violation. The append path expects that (a batch repeating an
    event already stored: the optimistic first try, then the look-up) and handles it, so the
    warning is noise in an operator's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pipeline aborted" not in record.getMessage()


def _quiet_handled_pipeline_aborts() -> None:
    psycopg_log = logging.getLogger("psycopg")
    if not any(isinstance(f, HandledPipelineAbort) for f in psycopg_log.filters):
        psycopg_log.addFilter(HandledPipelineAbort())


class SqlRecorder:
    """Appends and reads events through SQLAlchemy Core, in as few statements as possible."""

    def __init__(self, engine: Engine, recent: RecentEvents | None = None) -> None:
        self.engine = engine
        _quiet_handled_pipeline_aborts()
        # Shared with this process's in-process worker (embedded default only).
        self.recent = recent

    # -- writing ---------------------------------------------------------------------------

    def append(self, new_events: Sequence[NewEvent]) -> AppendResult:
        if not new_events:
            return AppendResult(0, 0, [], {})
        # Optimistic first: most batches hold no repeat, so skip looking their ids up and let
        # the unique index on event_id say when one does; then look again, carefully.
        look_up = False
        # (The one-statement path hands back no rows for the recent-events cache, so
        # `livetally up` on a PostgreSQL URL, the one setup with both, takes the general path.)
        if self.recent is None and is_postgres(self.engine) and fits_one_statement(new_events):
            try:
                return append_in_one_statement(self.engine, new_events, now_micros())
            except psycopg.IntegrityError:
                look_up = True  # nothing was stored; the general path sorts it out
        for attempt in range(3):
            try:
                with write_transaction(self.engine) as conn:
                    result, rows, row_index = self._append(conn, new_events, look_up)
                if self.recent is not None and rows:
                    self.recent.add(_stored_from_rows(rows, row_index, new_events))
                return result
            except (IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError):
                # A stored event_id (or, on PostgreSQL, one a concurrent request stored after
                # we looked): the next attempt finds it as a duplicate or a conflict.
                look_up = True
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _append(
        self, conn: Connection, new_events: Sequence[NewEvent], look_up: bool
    ) -> tuple[AppendResult, list[list[Any]], list[int]]:
        """The result, the rows inserted (driver parameters) and their events' indexes."""
        first_index: dict[str, int] = {}
        repeats: dict[int, int] = {}  # index -> index of the first occurrence in the batch
        for index, event in enumerate(new_events):
            seen = first_index.get(event.event_id)
            if seen is None:
                first_index[event.event_id] = index
            elif content_of(new_events[seen]) == content_of(event):
                repeats[index] = seen
            else:
                raise DuplicateConflict(index, event.event_id)

        heads = self._lock_heads(conn, sorted({e.stream_id for e in new_events}))
        stored = self._find_stored(conn, list(first_index)) if look_up else {}

        positions: list[int | None] = [None] * len(new_events)
        rows: list[list[Any]] = []  # driver parameters; the position is filled in below
        row_index: list[int] = []
        recorded_at = now_micros()
        dumps = orjson.dumps
        for index, event in enumerate(new_events):
            if index in repeats:
                continue
            original = stored.get(event.event_id)
            if original is not None:
                if content_of(original) != content_of(event):
                    raise DuplicateConflict(index, event.event_id)
                positions[index] = original.position
                continue
            head = heads[event.stream_id]
            if event.expected_version is not None and event.expected_version != head:
                raise ConcurrencyConflict(index, event.stream_id, event.expected_version, head)
            heads[event.stream_id] = head + 1
            rows.append(
                [
                    0,
                    event.event_id,
                    event.stream_id,
                    head + 1,
                    event.type,
                    event.schema_version,
                    dumps(event.data).decode(),
                    dumps(event.metadata).decode(),
                    event.occurred_at,
                    recorded_at,
                ]
            )
            row_index.append(index)

        moved: dict[str, int] = {}
        if rows:
            for index, position in zip(row_index, self._insert(conn, rows), strict=True):
                positions[index] = position
            for row in rows:
                moved[row[2]] = row[3]
            dbapi_cursor(conn).executemany(
                _UPDATE_HEADS_PG if is_postgres(conn) else _UPDATE_HEADS_SQLITE,
                [(head, recorded_at, sid) for sid, head in moved.items()],
            )
        for index, first in repeats.items():
            positions[index] = positions[first]
        return (
            AppendResult(
                appended=len(rows),
                duplicates=len(new_events) - len(rows),
                positions=[p for p in positions if p is not None],
                heads=moved,
            ),
            rows,
            row_index,
        )

    def _insert(self, conn: Connection, rows: list[list[Any]]) -> list[int]:
        """Insert with positions chosen up front, as one driver-level executemany.

        SQLite: this transaction holds the only write lock (BEGIN IMMEDIATE), so the next
        positions are max + 1... and no RETURNING is needed. PostgreSQL: the sequence assigns
        them and psycopg's pipelined executemany returns them. This path talks to the driver
        directly: SQLAlchemy's statement and per-row parameter processing cost more than the
        inserts themselves here.
        """
        if is_postgres(conn):
            # psycopg pipelines executemany and returns each row's position, in order.
            cursor = dbapi_cursor(conn)
            cursor.executemany(
                _INSERT_RETURNING_PG, [tuple(row[1:]) for row in rows], returning=True
            )
            positions = []
            while True:
                positions.append(cursor.fetchone()[0])
                if not cursor.nextset():
                    break
            for position, row in zip(positions, rows, strict=True):
                row[0] = position
            return positions
        cursor = dbapi_cursor(conn)
        last = cursor.execute("SELECT max(position) FROM events").fetchone()[0] or 0
        positions = list(range(last + 1, last + 1 + len(rows)))
        for position, row in zip(positions, rows, strict=True):
            row[0] = position
        cursor.executemany(_INSERT_SQLITE, rows)
        return positions

    def _lock_heads(self, conn: Connection, stream_ids: list[str]) -> dict[str, int]:
        """Create missing heads and read every head, locked, in one statement per chunk.

        ON CONFLICT DO UPDATE row-locks an existing head on PostgreSQL (in the sorted order
        given, so two batches cannot deadlock) and RETURNING gives its version; SQLite is
        serialised by BEGIN IMMEDIATE already.
        """
        postgres = is_postgres(conn)
        mark = "%s" if postgres else "?"
        now = now_micros()
        heads: dict[str, int] = {}
        for start in range(0, len(stream_ids), _ID_CHUNK):
            chunk = stream_ids[start : start + _ID_CHUNK]
            values = ", ".join([f"({mark}, 0, {mark})"] * len(chunk))
            sql = (
                f"INSERT INTO streams (stream_id, version, updated_at) VALUES {values} "
                "ON CONFLICT (stream_id) DO UPDATE SET stream_id = excluded.stream_id "
                "RETURNING stream_id, version"
            )
            params = tuple(v for sid in chunk for v in (sid, now))
            cursor = dbapi_cursor(conn)
            cursor.execute(sql, params)
            heads.update((sid, version) for sid, version in cursor.fetchall())
        return heads

    def _find_stored(self, conn: Connection, event_ids: list[str]) -> dict[str, StoredEvent]:
        found: dict[str, StoredEvent] = {}
        for start in range(0, len(event_ids), _ID_CHUNK):
            chunk = event_ids[start : start + _ID_CHUNK]
            query = sa.select(*_COLUMNS).where(events.c.event_id.in_(chunk))
            for row in conn.execute(query):
                found[row.event_id] = to_stored(row)
        return found

    # -- reading ---------------------------------------------------------------------------

    def read_stream(
        self,
        stream_id: str,
        after_version: int = 0,
        limit: int | None = None,
        conn: Connection | None = None,
    ) -> list[StoredEvent]:
        if self.recent is not None:
            held = self.recent.read(stream_id, after_version, limit)
            if held:
                return held
        where = "stream_id = {p} AND version > {p} ORDER BY version"
        params: tuple[Any, ...] = (stream_id, after_version)
        if limit is not None:
            where += " LIMIT {p}"
            params += (limit,)
        return self._select(where, params, conn)

    def read_all(
        self, after_position: int = 0, limit: int = 1000, stream_id: str | None = None
    ) -> list[StoredEvent]:
        if stream_id is None:
            return self._select(
                "position > {p} ORDER BY position LIMIT {p}", (after_position, limit)
            )
        return self._select(
            "position > {p} AND stream_id = {p} ORDER BY position LIMIT {p}",
            (after_position, stream_id, limit),
        )

    def read_range(self, after_position: int, upto_position: int) -> list[StoredEvent]:
        """Events with after < position <= upto, in order: a bounded index range, which
        PostgreSQL scans directly (an open-ended `> after ... LIMIT n` over a big table can be
        planned as a sort of everything after)."""
        return self._select(
            "position > {p} AND position <= {p} ORDER BY position", (after_position, upto_position)
        )

    def last_position(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(events.c.position))).scalar() or 0)

    def _select(
        self, where: str, params: tuple[Any, ...], conn: Connection | None = None
    ) -> list[StoredEvent]:
        """Reads through the driver: SQLAlchemy's row and JSON processing would cost more than
        the query on the projection path. JSON is decoded with orjson on both backends."""
        if conn is None:
            with self.engine.connect() as own:
                return self._select(where, params, own)
        sql = (_SELECT_PG if is_postgres(conn) else _SELECT_SQLITE) + where
        loads = orjson.loads
        result = []
        for row in fetch_rows(conn, sql, params):
            position, event_id, stream_id, version, type_, schema_version, raw, meta, occ, rec = row
            data = loads(raw)
            if schema_version != _CURRENT_VERSION.get(type_, schema_version):
                data, schema_version = upcast(type_, schema_version, data)
            result.append(
                StoredEvent(
                    position,
                    event_id,
                    stream_id,
                    version,
                    type_,
                    schema_version,
                    data,
                    {} if meta in _EMPTY_JSON else loads(meta),
                    occ,
                    rec,
                )
            )
        return result

    def transaction(self) -> AbstractContextManager[Connection]:
        return read_transaction(self.engine)

    def iter_all(self, chunk: int = 20_000) -> Iterator[StoredEvent]:
        """Every event in position order, read in chunks (for rebuilds and exports)."""
        return iter_positions(self.read_all, chunk)

    def head(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(streams.c.version).where(streams.c.stream_id == stream_id)
            ).scalar()
        return int(value or 0)

    def heads(self, moved_since: int | None = None) -> dict[str, int]:
        # Through the driver: the sweep lists every stream once a minute, and SQLAlchemy's row
        # processing of 20,000 rows held the interpreter long enough to show in API latency.
        sql = "SELECT stream_id, version FROM streams"
        params: tuple[Any, ...] = ()
        if moved_since is not None:
            sql, params = sql + " WHERE updated_at >= {p}", (moved_since,)
        with read_transaction(self.engine) as conn:
            return dict(fetch_rows(conn, sql, params))
