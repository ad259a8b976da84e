"""One projection run for one stream: read after the checkpoint, fold, write rows and checkpoint
in ONE transaction, and only after commit publish the change.

A run is idempotent: it starts from the committed checkpoint, so a killed run, a retried or
duplicated message, or a sweep that races a message, can never apply an event twice or skip one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.database import is_postgres, write_transaction
from events.sql import SqlRecorder, now_micros
from projections.registry import Projection, projection_for
from projections.tables import checkpoints, snapshots
from projections.upsert import upsert
from worker.actors import UnknownStream
from worker.pending import PendingStreams
from worker.publish import Publisher

log = logging.getLogger(__name__)

BATCH = 5_000  # events folded per transaction
SNAPSHOT_EVERY = 2_000  # events between stored snapshots of a stream's fold state


@dataclass
class _Cached:
    version: int
    state: Any
    snapshot_version: int
    published: dict[str, Any] | None


class Projector:
    def __init__(
        self,
        engine: Engine,
        publisher: Publisher | None = None,
        pending: PendingStreams | None = None,
        cache_streams: int = 512,
    ) -> None:
        self.engine = engine
        self.recorder = SqlRecorder(engine)
        self.publisher = publisher
        self.pending = pending
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_size = cache_streams
        self._lock = threading.Lock()
        self.runs = 0
        self.events_folded = 0

    def project(self, stream_id: str, publish: bool = True) -> int:
        """Bring one stream's projection up to its head. Returns the events folded."""
        found = projection_for(stream_id)
        if found is None:
            raise UnknownStream(stream_id)
        projection, key = found
        if self.pending is not None:
            try:
                self.pending.release(stream_id)
            except Exception as exc:  # a claim left behind expires; the sweep covers the rest
                log.debug("could not release pending claim of %s: %s", stream_id, exc)
        total = 0
        while True:
            folded = self._run(stream_id, projection, key, publish)
            total += folded
            if folded < BATCH:
                return total

    def _run(self, stream_id: str, projection: Projection, key: str, publish: bool) -> int:
        try:
            with write_transaction(self.engine) as conn:
                _lock_stream(conn, stream_id)
                checkpoint = _checkpoint(conn, stream_id)
                new_events = self.recorder.read_stream(stream_id, checkpoint, BATCH, conn)
                if not new_events:
                    return 0
                cached = self._take(stream_id, checkpoint)
                if cached is None:
                    cached = self._restore(conn, projection, key, stream_id, checkpoint)
                state = cached.state
                for event in new_events:
                    state = projection.fold(state, event)
                document = projection.write(conn, state)
                version = new_events[-1].version
                upsert(conn, checkpoints, [{"stream_id": stream_id, "version": version,
                                            "updated_at": now_micros()}], ["stream_id"])
                if version - cached.snapshot_version >= SNAPSHOT_EVERY or len(new_events) >= BATCH:
                    upsert(conn, snapshots, [{"stream_id": stream_id, "version": version,
                                              "state": projection.dump(state)}], ["stream_id"])
                    cached.snapshot_version = version
        except BaseException:
            # The state may hold a half-applied batch: forget it, the next run restores.
            with self._lock:
                self._cache.pop(stream_id, None)
            raise
        alerts = projection.take_alerts(state)
        previous = cached.published
        cached.state, cached.version = state, version
        if document is not None:
            cached.published = document["metrics"]
        self._keep(stream_id, cached)
        self.runs += 1
        self.events_folded += len(new_events)
        if publish and self.publisher is not None and document is not None:
            changed = [k for k, v in document["metrics"].items()
                       if previous is None or previous.get(k) != v]
            self.publisher.publish({
                "type": "update", "session_id": document["session_id"], "version": version,
                "document": document, "changed": changed, "alerts": alerts,
            })
        return len(new_events)

    def _restore(self, conn: Connection, projection: Projection, key: str, stream_id: str,
                 checkpoint: int) -> _Cached:
        """Fold state at the checkpoint: the stored snapshot plus the events after it."""
        state, since = projection.new(key), 0
        row = conn.execute(
            sa.select(snapshots.c.version, snapshots.c.state)
            .where(snapshots.c.stream_id == stream_id)
        ).first()
        if row is not None and row.version <= checkpoint:
            state, since = projection.load(row.state), row.version
        while since < checkpoint:
            page = self.recorder.read_stream(stream_id, since, min(BATCH, checkpoint - since),
                                             conn)
            if not page:
                break
            for event in page:
                state = projection.fold(state, event)
            since = page[-1].version
        projection.take_alerts(state)  # raised when first folded; not news now
        return _Cached(checkpoint, state, row.version if row is not None else 0, None)

    def _take(self, stream_id: str, checkpoint: int) -> _Cached | None:
        with self._lock:
            cached = self._cache.pop(stream_id, None)
        # Another worker process may have moved the stream on since we cached it.
        return cached if cached is not None and cached.version == checkpoint else None

    def _keep(self, stream_id: str, cached: _Cached) -> None:
        with self._lock:
            self._cache[stream_id] = cached
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def _lock_stream(conn: Connection, stream_id: str) -> None:
    """Two workers never fold one stream at once. SQLite: BEGIN IMMEDIATE already serialises."""
    if is_postgres(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": stream_id})


def _checkpoint(conn: Connection, stream_id: str) -> int:
    value = conn.execute(
        sa.select(checkpoints.c.version).where(checkpoints.c.stream_id == stream_id)
    ).scalar()
    return int(value or 0)
