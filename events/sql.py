"""The SQLAlchemy recorder: one implementation for SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from events.catalogue import CATALOGUE
from events.database import is_postgres, read_transaction, write_transaction
from events.recorder import (
    AppendResult,
    ConcurrencyConflict,
    DuplicateConflict,
    NewEvent,
    StoredEvent,
)
from events.tables import events, streams
from events.upcasting import upcast

_CURRENT_VERSION = {name: entry.version for name, entry in CATALOGUE.items()}
_INSERT_COLUMNS = ("position, event_id, stream_id, version, type, schema_version, data, metadata, "
                   "occurred_at, recorded_at")
_INSERT_SQLITE = f"INSERT INTO events ({_INSERT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
_INSERT_PG = (f"INSERT INTO events ({_INSERT_COLUMNS}) "
              "VALUES (%s,%s,%s,%s,%s,%s,%s::jsonb,%s::jsonb,%s,%s)")
_SELECT_COLUMNS = ("position, event_id, stream_id, version, type, schema_version, {data}, "
                   "{metadata}, occurred_at, recorded_at FROM events WHERE ")
_SELECT_SQLITE = "SELECT " + _SELECT_COLUMNS.format(data="data", metadata="metadata")
_SELECT_PG = "SELECT " + _SELECT_COLUMNS.format(data="data::text", metadata="metadata::text")
_ID_CHUNK = 900  # stays under SQLite's bound-parameter limit on old builds
_COLUMNS = (
    events.c.position, events.c.event_id, events.c.stream_id, events.c.version, events.c.type,
    events.c.schema_version, events.c.data, events.c.metadata, events.c.occurred_at,
    events.c.recorded_at,
)


def now_micros() -> int:
    return time.time_ns() // 1000


def _content(event: NewEvent | StoredEvent) -> tuple[Any, ...]:
    return (event.type, event.stream_id, event.schema_version, event.occurred_at, event.data)


def to_stored(row: Sequence[Any]) -> StoredEvent:
    position, event_id, stream_id, version, type_, schema_version, data, meta, occ, rec = row
    if schema_version != _CURRENT_VERSION.get(type_, schema_version):
        data, schema_version = upcast(type_, schema_version, data)
    return StoredEvent(position, event_id, stream_id, version, type_, schema_version, data, meta,
                       occ, rec)


class SqlRecorder:
    """Appends and reads events through SQLAlchemy Core, in as few statements as possible."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing ---------------------------------------------------------------------------

    def append(self, new_events: Sequence[NewEvent]) -> AppendResult:
        if not new_events:
            return AppendResult(0, 0, [], {})
        # Optimistic first: most batches hold no repeat, so skip looking their ids up and let
        # the unique index on event_id say when one does; then look again, carefully.
        look_up = False
        for attempt in range(3):
            try:
                with write_transaction(self.engine) as conn:
                    return self._append(conn, new_events, look_up)
            except IntegrityError:
                # A stored event_id (or, on PostgreSQL, one a concurrent request stored after
                # we looked): the next attempt finds it as a duplicate or a conflict.
                look_up = True
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _append(self, conn: Connection, new_events: Sequence[NewEvent],
                look_up: bool) -> AppendResult:
        first_index: dict[str, int] = {}
        repeats: dict[int, int] = {}  # index -> index of the first occurrence in the batch
        for index, event in enumerate(new_events):
            seen = first_index.get(event.event_id)
            if seen is None:
                first_index[event.event_id] = index
            elif _content(new_events[seen]) == _content(event):
                repeats[index] = seen
            else:
                raise DuplicateConflict(index, event.event_id)

        heads = self._lock_heads(conn, sorted({e.stream_id for e in new_events}))
        stored = self._find_stored(conn, list(first_index)) if look_up else {}

        positions: list[int | None] = [None] * len(new_events)
        rows: list[dict[str, Any]] = []
        row_index: list[int] = []
        recorded_at = now_micros()
        for index, event in enumerate(new_events):
            if index in repeats:
                continue
            original = stored.get(event.event_id)
            if original is not None:
                if _content(original) != _content(event):
                    raise DuplicateConflict(index, event.event_id)
                positions[index] = original.position
                continue
            head = heads[event.stream_id]
            if event.expected_version is not None and event.expected_version != head:
                raise ConcurrencyConflict(index, event.stream_id, event.expected_version, head)
            heads[event.stream_id] = head + 1
            rows.append({
                "event_id": event.event_id, "stream_id": event.stream_id, "version": head + 1,
                "type": event.type, "schema_version": event.schema_version, "data": event.data,
                "metadata": event.metadata, "occurred_at": event.occurred_at,
                "recorded_at": recorded_at,
            })
            row_index.append(index)

        moved: dict[str, int] = {}
        if rows:
            for index, position in zip(row_index, self._insert(conn, rows), strict=True):
                positions[index] = position
            for row in rows:
                moved[row["stream_id"]] = row["version"]
            conn.execute(
                streams.update()
                .where(streams.c.stream_id == sa.bindparam("sid"))
                .values(version=sa.bindparam("head"), updated_at=recorded_at),
                [{"sid": sid, "head": head} for sid, head in moved.items()],
            )
        for index, first in repeats.items():
            positions[index] = positions[first]
        return AppendResult(
            appended=len(rows),
            duplicates=len(new_events) - len(rows),
            positions=[p for p in positions if p is not None],
            heads=moved,
        )

    def _insert(self, conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert with positions chosen up front, as one driver-level executemany.

        SQLite: this transaction holds the only write lock (BEGIN IMMEDIATE), so the next
        positions are max + 1... PostgreSQL: they are drawn from the column's sequence. Either way
        no RETURNING is needed, and the rows skip SQLAlchemy's per-row parameter processing,
        which costs more than the insert itself on this path.
        """
        if is_postgres(conn):
            allocated = conn.execute(sa.text(
                "SELECT nextval(pg_get_serial_sequence('events', 'position')) "
                "FROM generate_series(1, :n)"), {"n": len(rows)}).scalars().all()
            positions = sorted(allocated)
            sql = _INSERT_PG
        else:
            last = conn.execute(sa.select(sa.func.max(events.c.position))).scalar() or 0
            positions = list(range(last + 1, last + 1 + len(rows)))
            sql = _INSERT_SQLITE
        dumps = orjson.dumps
        conn.exec_driver_sql(sql, [
            (position, r["event_id"], r["stream_id"], r["version"], r["type"],
             r["schema_version"], dumps(r["data"]).decode(), dumps(r["metadata"]).decode(),
             r["occurred_at"], r["recorded_at"])
            for position, r in zip(positions, rows, strict=True)
        ])
        return positions

    def _lock_heads(self, conn: Connection, stream_ids: list[str]) -> dict[str, int]:
        dialect_insert = postgresql.insert if is_postgres(conn) else sqlite.insert
        conn.execute(
            dialect_insert(streams).on_conflict_do_nothing(),
            [{"stream_id": sid, "version": 0, "updated_at": now_micros()} for sid in stream_ids],
        )
        heads: dict[str, int] = {}
        for start in range(0, len(stream_ids), _ID_CHUNK):
            chunk = stream_ids[start:start + _ID_CHUNK]
            query = (
                sa.select(streams.c.stream_id, streams.c.version)
                .where(streams.c.stream_id.in_(chunk))
                .order_by(streams.c.stream_id)
                .with_for_update()  # rendered on PostgreSQL only; SQLite is already serialised
            )
            heads.update((sid, version) for sid, version in conn.execute(query))
        return heads

    def _find_stored(self, conn: Connection, event_ids: list[str]) -> dict[str, StoredEvent]:
        found: dict[str, StoredEvent] = {}
        for start in range(0, len(event_ids), _ID_CHUNK):
            chunk = event_ids[start:start + _ID_CHUNK]
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
            return self._select("position > {p} ORDER BY position LIMIT {p}",
                                (after_position, limit))
        return self._select("position > {p} AND stream_id = {p} ORDER BY position LIMIT {p}",
                            (after_position, stream_id, limit))

    def _select(self, where: str, params: tuple[Any, ...],
                conn: Connection | None = None) -> list[StoredEvent]:
        """Reads through the driver: SQLAlchemy's row and JSON processing would cost more than
        the query on the projection path. JSON is decoded with orjson on both backends."""
        if conn is None:
            with self.engine.connect() as own:
                return self._select(where, params, own)
        if is_postgres(conn):
            sql = _SELECT_PG + where.format(p="%s")
        else:
            sql = _SELECT_SQLITE + where.format(p="?")
        loads = orjson.loads
        result = []
        for row in conn.exec_driver_sql(sql, params):
            position, event_id, stream_id, version, type_, schema_version, raw, meta, occ, rec = (
                row)
            data = loads(raw)
            if schema_version != _CURRENT_VERSION.get(type_, schema_version):
                data, schema_version = upcast(type_, schema_version, data)
            result.append(StoredEvent(position, event_id, stream_id, version, type_,
                                      schema_version, data, loads(meta), occ, rec))
        return result

    def iter_all(self, chunk: int = 20_000) -> Iterator[StoredEvent]:
        """Every event in position order, read in chunks (for rebuilds and exports)."""
        after = 0
        while True:
            page = self.read_all(after, chunk)
            if not page:
                return
            yield from page
            after = page[-1].position

    def head(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(streams.c.version).where(streams.c.stream_id == stream_id)
            ).scalar()
        return int(value or 0)

    def heads(self) -> dict[str, int]:
        with read_transaction(self.engine) as conn:
            rows = conn.execute(sa.select(streams.c.stream_id, streams.c.version))
            return {sid: version for sid, version in rows}
