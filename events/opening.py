"""The one place a recorder is built: callers say where the events live, and get a Recorder."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from events.memory import InMemoryRecorder
from events.recent import RecentEvents
from events.recorder import Recorder
from events.sql import SqlRecorder

MEMORY_URL = "memory://"


def open_recorder(where: Engine | str, recent: RecentEvents | None = None) -> Recorder:
    """The recorder for an engine (SQLite or PostgreSQL), or the in-memory one for
    `memory://` (the shared store suite runs on all three). `recent`: the embedded default's
    cache of what this process appended, which the in-process worker reads without a round
    trip."""
    if isinstance(where, str):
        if where != MEMORY_URL:
            raise ValueError(f"open_recorder takes an engine or {MEMORY_URL!r}, not {where!r}")
        return InMemoryRecorder()
    return SqlRecorder(where, recent)
