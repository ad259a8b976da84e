"""The fold states a worker keeps between runs, so that a run folds only the new events."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cached:
    version: int  # the checkpoint the state is folded up to
    state: Any
    snapshot_version: int
    # The `changed_only` rows written at `version`, by (table, keys): a run leaves out those
    # equal to them. Empty after a restore, so the first run after it writes every row.
    written: dict[tuple[str, tuple[Any, ...]], dict[str, Any]] = field(default_factory=dict)
    # The stream's view row as written at `version` (None until a run here wrote it): the next
    # run's `before`, read from the database only after a restore.
    view_row: dict[str, Any] | None = None


class FoldCache:
    """Least recently used first out. A state is taken out while a run folds it."""

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, stream_id: str, checkpoint: int) -> Cached | None:
        with self._lock:
            cached = self._entries.pop(stream_id, None)
        # Another worker process may have moved the stream on since we cached it.
        return cached if cached is not None and cached.version == checkpoint else None

    def keep(self, stream_id: str, cached: Cached) -> None:
        with self._lock:
            self._entries[stream_id] = cached
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
