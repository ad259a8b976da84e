"""InMemoryRecorder: the recorder interface over Python lists, for unit tests and tools.

It means what SqlRecorder means (the shared store suite runs on it too): atomic batches,
idempotent event ids, optimistic concurrency, gap-free versions, upcasting on read. Data is
copied through JSON on the way in, as a database would, so a caller's later change to what it
appended cannot reach the store.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from events.catalogue import CATALOGUE
from events.recorder import (
    AppendResult,
    ConcurrencyConflict,
    DuplicateConflict,
    NewEvent,
    StoredEvent,
    content_of,
    iter_positions,
)
from events.upcasting import upcast

_CURRENT = {name: entry.version for name, entry in CATALOGUE.items()}


class InMemoryRecorder:
    def __init__(self) -> None:
        self._events: list[StoredEvent] = []  # position order; position = index + 1
        self._by_id: dict[str, StoredEvent] = {}
        self._streams: dict[str, list[StoredEvent]] = {}
        self._lock = threading.RLock()  # held by transaction() across a caller's reads

    def append(self, events: Sequence[NewEvent]) -> AppendResult:
        with self._lock:
            first: dict[str, int] = {}
            for index, event in enumerate(events):
                seen = first.get(event.event_id)
                if seen is None:
                    first[event.event_id] = index
                elif content_of(events[seen]) != content_of(event):
                    raise DuplicateConflict(index, event.event_id)
            heads = {sid: len(self._streams.get(sid, ())) for sid in {e.stream_id for e in events}}
            positions: list[int] = []
            new: list[StoredEvent] = []
            placed: dict[str, int] = {}
            recorded_at = time.time_ns() // 1000
            for index, event in enumerate(events):
                original = self._by_id.get(event.event_id)
                if original is not None:
                    if content_of(original) != content_of(event):
                        raise DuplicateConflict(index, event.event_id)
                    positions.append(original.position)
                    continue
                if event.event_id in placed:
                    positions.append(placed[event.event_id])
                    continue
                head = heads[event.stream_id]
                if event.expected_version is not None and event.expected_version != head:
                    raise ConcurrencyConflict(index, event.stream_id, event.expected_version, head)
                heads[event.stream_id] = head + 1
                position = len(self._events) + len(new) + 1
                new.append(
                    StoredEvent(
                        position,
                        event.event_id,
                        event.stream_id,
                        head + 1,
                        event.type,
                        event.schema_version,
                        copy.deepcopy(event.data),
                        copy.deepcopy(event.metadata),
                        event.occurred_at,
                        recorded_at,
                    )
                )
                placed[event.event_id] = position
                positions.append(position)
            # Nothing was raised: the whole batch goes in.
            for stored in new:
                self._events.append(stored)
                self._by_id[stored.event_id] = stored
                self._streams.setdefault(stored.stream_id, []).append(stored)
            moved = {e.stream_id: e.version for e in new}
            return AppendResult(len(new), len(events) - len(new), positions, moved)

    @staticmethod
    def _read(event: StoredEvent) -> StoredEvent:
        data, version = copy.deepcopy(event.data), event.schema_version
        if version != _CURRENT.get(event.type, version):
            data, version = upcast(event.type, version, data)
        return StoredEvent(
            event.position,
            event.event_id,
            event.stream_id,
            event.version,
            event.type,
            version,
            data,
            copy.deepcopy(event.metadata),
            event.occurred_at,
            event.recorded_at,
        )

    def read_stream(
        self,
        stream_id: str,
        after_version: int = 0,
        limit: int | None = None,
        conn: Any = None,
    ) -> list[StoredEvent]:
        # `conn` has no meaning here: the lock makes every read consistent with the appends.
        with self._lock:
            found = self._streams.get(stream_id, [])[after_version:]
            if limit is not None:
                found = found[:limit]
            return [self._read(e) for e in found]

    def read_all(
        self, after_position: int = 0, limit: int = 1000, stream_id: str | None = None
    ) -> list[StoredEvent]:
        with self._lock:
            found = [
                e
                for e in self._events[after_position:]
                if stream_id is None or e.stream_id == stream_id
            ]
            return [self._read(e) for e in found[:limit]]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Appends from other threads wait until the caller's reads are done.
        with self._lock:
            yield None

    def iter_all(self, chunk: int = 20_000) -> Iterator[StoredEvent]:
        """Every event in position order, read in chunks (for rebuilds and exports)."""
        return iter_positions(self.read_all, chunk)

    def head(self, stream_id: str) -> int:
        with self._lock:
            return len(self._streams.get(stream_id, ()))

    def heads(self, moved_since: int | None = None) -> dict[str, int]:
        with self._lock:
            return {
                sid: len(evs)
                for sid, evs in self._streams.items()
                if moved_since is None or evs[-1].recorded_at >= moved_since
            }
