"""The narrow interface between livetally and its event storage."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.errors import LivetallyError


@dataclass(slots=True)
class NewEvent:
    """A validated event on its way into the store (data already in stored shape)."""

    event_id: str
    type: str
    stream_id: str
    data: dict[str, Any]
    occurred_at: int  # microseconds since the epoch, producer's clock
    schema_version: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)
    expected_version: int | None = None

    def same_content(self, other: StoredEvent) -> bool:
        return content_of(self) == content_of(other)


@dataclass(slots=True)  # not frozen: a frozen __init__ costs ~2 µs per event read
class StoredEvent:
    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: int
    recorded_at: int  # microseconds since the epoch, our clock


@dataclass(frozen=True, slots=True)
class AppendResult:
    appended: int
    duplicates: int
    # One per request event, in request order; a duplicate reports the original's position.
    positions: list[int]
    # Streams that received new events, with their new head versions.
    heads: dict[str, int]


class ConcurrencyConflict(LivetallyError):
    """Raised when an event's expected_version is not its stream's head."""

    def __init__(self, index: int, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.index, self.stream_id, self.expected, self.actual = index, stream_id, expected, actual


class DuplicateConflict(LivetallyError):
    """Raised when an event_id is already stored (or repeated in the batch) with different
    content."""

    def __init__(self, index: int, event_id: str) -> None:
        super().__init__(f"event_id {event_id} is already stored with different content")
        self.index, self.event_id = index, event_id


class Recorder(Protocol):
    def append(self, events: Sequence[NewEvent]) -> AppendResult:
        """Store all of the events or none of them."""
        ...

    def read_stream(
        self,
        stream_id: str,
        after_version: int = 0,
        limit: int | None = None,
        conn: Any = None,
    ) -> list[StoredEvent]:
        """Events after `after_version`, in version order. `conn`: the caller's open
        transaction (a SQLAlchemy Connection on the SQL backends), so that a projection reads
        and writes in one transaction; None reads in one of the recorder's own."""
        ...

    def read_all(
        self, after_position: int = 0, limit: int = 1000, stream_id: str | None = None
    ) -> list[StoredEvent]: ...

    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction for several reads: pass what it yields as `conn`."""
        ...

    def iter_all(self, chunk: int = 20_000) -> Iterator[StoredEvent]:
        """Every event in position order, read in chunks (for rebuilds and exports)."""
        ...

    def head(self, stream_id: str) -> int: ...

    def heads(self, moved_since: int | None = None) -> dict[str, int]:
        """Every stream's head version; with `moved_since` (µs), only streams appended to at
        or after that time (the sweep's look at recent streams)."""
        ...


def numbered_as_stored(
    new_events: Iterable[NewEvent], recorded_at: int | None = None
) -> list[StoredEvent]:
    """New events as a fresh store would hold them after one append: positions from 1 and
    versions per stream, recorded at `recorded_at` (None: each at its own occurred_at). For
    fixtures and documentation examples that fold events without a store."""
    versions: dict[str, int] = {}
    stored = []
    for position, new in enumerate(new_events, start=1):
        version = versions[new.stream_id] = versions.get(new.stream_id, 0) + 1
        stored.append(
            StoredEvent(
                position,
                new.event_id,
                new.stream_id,
                version,
                new.type,
                new.schema_version,
                new.data,
                new.metadata,
                new.occurred_at,
                new.occurred_at if recorded_at is None else recorded_at,
            )
        )
    return stored


def content_of(event: NewEvent | StoredEvent) -> tuple[Any, ...]:
    """What makes two events with one event_id the same event (a duplicate, not a conflict)."""
    return (event.type, event.stream_id, event.schema_version, event.occurred_at, event.data)


def iter_positions(
    read_all: Callable[[int, int], list[StoredEvent]], chunk: int
) -> Iterator[StoredEvent]:
    """Every event in position order, read `chunk` at a time through a recorder's read_all."""
    after = 0
    while True:
        page = read_all(after, chunk)
        if not page:
            return
        yield from page
        after = page[-1].position
