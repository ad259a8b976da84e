"""The events this process just appended, kept for its own in-process worker to read.

On the embedded default the API and the worker share one interpreter, and reading a batch back
(fetching the rows, decoding their JSON) was half of the worker's CPU, taken from the API. The
recorder that appended the events already holds them decoded, so it keeps them here, and the
same process's `read_stream` serves a projection's read from here when it can.

What is served is exactly what the database would return: entries are added only after their
transaction committed, with the positions, versions and recorded_at that were stored, and
upcast the way a read upcasts. A read is served only when this holds the stream's events from
the first one asked for, contiguously; then it returns them up to the last one held. Events
another process appended in between leave a gap, and a gap sends the read to the database. If
another process appended after the last one held, the read returns fewer events than the
database holds, which is a correct prefix: the projection's checkpoint stops there, and the
next message or the sweep reads on. Nothing here decides what is stored.

Entries are dropped once a read asked for events after them (the projection checkpointed
them), and whole streams are dropped, oldest first, past `max_events`. Folds never change the
events they are given (projections are pure), so sharing the objects is safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from events.recorder import StoredEvent


class RecentEvents:
    def __init__(self, max_events: int = 200_000) -> None:
        self.max_events = max_events
        self._streams: OrderedDict[str, list[StoredEvent]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def add(self, stored: Iterable[StoredEvent]) -> None:
        """Events of one committed append, in version order within each stream."""
        by_stream: dict[str, list[StoredEvent]] = {}
        for event in stored:
            by_stream.setdefault(event.stream_id, []).append(event)
        with self._lock:
            for stream_id, new in by_stream.items():
                held = self._streams.get(stream_id)
                if held and held[-1].version + 1 == new[0].version:
                    held.extend(new)
                else:
                    # A first append, or one that does not follow on (appends that committed
                    # in one order and arrived here in another): keep only the newest.
                    self._count -= len(held) if held else 0
                    held = self._streams[stream_id] = new
                self._streams.move_to_end(stream_id)
                self._count += len(new)
            while self._count > self.max_events and self._streams:
                _, dropped = self._streams.popitem(last=False)
                self._count -= len(dropped)

    def read(self, stream_id: str, after_version: int, limit: int | None) -> list[StoredEvent]:
        """The stream's events after `after_version`, if held from there on; else []."""
        with self._lock:
            held = self._streams.get(stream_id)
            if not held:
                self.misses += 1
                return []
            start = after_version + 1 - held[0].version
            if start < 0 or start >= len(held):
                # A gap before what is held, or nothing newer held: the database knows.
                if start >= len(held):
                    self._count -= len(held)
                    del self._streams[stream_id]
                self.misses += 1
                return []
            if start:
                del held[:start]  # checkpointed: never asked for again
                self._count -= start
            self.hits += 1
            return held[:limit] if limit is not None else list(held)

    def __len__(self) -> int:
        return self._count
