"""`livetally rebuild`: empty the projections and replay every stream into fresh ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from events.database import write_transaction
from events.sql import SqlRecorder
from projections.tables import PROJECTION_TABLES
from worker.projector import Projector


@dataclass(frozen=True)
class RebuildReport:
    streams: int
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(engine: Engine, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
    """Replays every stream. Run it with workers stopped: they would race the emptying."""
    heads = SqlRecorder(engine).heads()
    total = sum(heads.values())
    started = time.perf_counter()
    with write_transaction(engine) as conn:
        for table in reversed(PROJECTION_TABLES):
            conn.execute(table.delete())
    projector = Projector(engine, publisher=None, cache_streams=1)
    done = 0
    for stream_id in sorted(heads):
        done += projector.project(stream_id, publish=False)
        if progress is not None:
            progress(done, total)
    return RebuildReport(len(heads), done, time.perf_counter() - started)
