"""`livetally rebuild` while the service runs: fold every stream into shadow read models beside
the live ones, catch up with what arrived meanwhile, and swap them in, atomically.

1. **Fold**: the shadow tables (worker/shadow_tables.py) are created empty and every stream is
   folded into them by the same bulk fold as the offline rebuild, at a lower CPU priority than
   the service. Live workers and the feed go on with the live tables.
2. **Catch up**: streams appended to meanwhile are behind their head in the shadow
   checkpoints; they are folded on from there (the states kept between rounds) until what is
   left is small enough to fold inside the swap.
3. **Swap**: one transaction that first shuts projection runs out (rebuild_lock), folds the
   last events, drops the live tables and renames the shadows in their place. Readers see
   the old tables until it commits and the new ones after; runs waiting on it go on against
   the new tables from the new checkpoints, so no event is folded twice or missed.

A rebuild that stops (an error, Ctrl-C, a kill) leaves the live tables as they were; the next
one drops the shadows it left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from events.database import write_transaction
from events.opening import open_recorder
from events.recorder import Recorder
from events.upsert import current_row
from projections.registry import projection_for
from worker.apply_writes import apply_writes
from worker.errors import RebuildStopped
from worker.projector import restore_state, snapshot_spacing
from worker.rebuild import BATCH, RebuildReport, fold_streams, write_checkpoint
from worker.rebuild_lock import RebuildLock, take_swap_exclusive
from worker.shadow_tables import ShadowTables
from worker.tables import checkpoints, snapshots

log = logging.getLogger(__name__)

SWAP_WHEN_BEHIND = 5_000  # events left to fold few enough to fold inside the swap
CATCH_UP_ROUNDS = 20  # then swap anyway: the swap folds the rest, however many
SWAP_ATTEMPTS = 10
LOCK_TIMEOUT = "3s"  # PostgreSQL: a swap that waits longer on a reader gives up and tries again

Progress = Callable[[str, int, int], None]  # phase ("fold", "catch up", "swap"), done, total


@dataclass
class _Kept:
    version: int
    state: Any
    snapshot_version: int


class CatchUp:
    """Folds streams on from their shadow checkpoints, keeping each state between rounds."""

    def __init__(self, recorder: Recorder, tables: ShadowTables) -> None:
        self.recorder = recorder
        self.tables = tables
        self.kept: dict[str, _Kept] = {}

    def behind(self, conn: Connection) -> dict[str, tuple[int, int]]:
        """Streams whose head is past their shadow checkpoint: (checkpoint, head)."""
        shadow = self.tables[checkpoints]
        folded = dict(conn.execute(sa.select(shadow.c.stream_id, shadow.c.version)).all())
        return {
            stream_id: (folded.get(stream_id, 0), head)
            for stream_id, head in self.recorder.heads().items()
            if head > folded.get(stream_id, 0) and projection_for(stream_id) is not None
        }

    def fold(self, conn: Connection, behind: dict[str, tuple[int, int]]) -> int:
        """Fold each stream up to its head and write it to the shadows in `conn`'s
        transaction. Returns the events folded."""
        count = 0
        for stream_id, (checkpoint, _) in sorted(behind.items()):
            found = projection_for(stream_id)
            assert found is not None
            projection, key = found
            kept = self.kept.get(stream_id)
            if kept is None or kept.version != checkpoint:
                restored, snapshot_version = restore_state(
                    conn,
                    self.recorder,
                    projection,
                    key,
                    stream_id,
                    checkpoint,
                    self.tables[snapshots],
                )
                kept = _Kept(checkpoint, restored, snapshot_version)
            state, version = kept.state, checkpoint
            while page := self.recorder.read_stream(stream_id, version, BATCH, conn):
                for event in page:
                    state = projection.fold(state, event)
                version = page[-1].version
                count += len(page)
            if version == checkpoint:
                continue
            projection.take_alerts(state)  # the live workers published these already
            view = projection.view
            before = None if view is None else current_row(conn, self.tables[view], key)
            apply_writes(conn, self.tables.retarget(projection.writes(state, before)))
            snapshot = version - kept.snapshot_version >= snapshot_spacing(stream_id)
            write_checkpoint(conn, stream_id, projection, state, version, self.tables, snapshot)
            self.kept[stream_id] = _Kept(
                version, state, version if snapshot else kept.snapshot_version
            )
        return count


def rebuild_online(
    engine: Engine,
    progress: Progress | None = None,
    processes: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RebuildReport:
    """Rebuild every read model beside the live ones and swap them in. Raises RebuildRunning
    if another online rebuild holds the lock, RebuildStopped (the shadows dropped) once
    `should_stop()` is true before the swap."""
    told = progress or (lambda phase, done, total: None)

    def report(phase: str, done: int, total: int) -> None:
        if should_stop is not None and should_stop():
            raise RebuildStopped("the rebuild was stopped before its swap")
        told(phase, done, total)

    started = time.perf_counter()
    recorder = open_recorder(engine)
    tables = ShadowTables()
    with RebuildLock(engine):
        with write_transaction(engine) as conn:
            tables.create(conn)
        try:
            streams, events = fold_streams(
                engine,
                recorder.heads(),
                lambda done, total: report("fold", done, total),
                processes,
                shadow=True,
            )
            catch_up = CatchUp(recorder, tables)
            events += _catch_up(engine, catch_up, report)
            events += _swap(engine, catch_up, tables, report)
        except BaseException:
            with write_transaction(engine) as conn:
                tables.drop(conn)
            raise
    told("swap", 1, 1)
    return RebuildReport(streams, events, time.perf_counter() - started)


def _catch_up(engine: Engine, catch_up: CatchUp, report: Progress) -> int:
    """Rounds of folding what arrived during the last one, until little is left."""
    folded = 0
    for _ in range(CATCH_UP_ROUNDS):
        with engine.connect() as conn:
            behind = catch_up.behind(conn)
        left = sum(head - checkpoint for checkpoint, head in behind.values())
        report("catch up", 0, left)
        if left <= SWAP_WHEN_BEHIND:
            break
        with write_transaction(engine) as conn:
            folded += catch_up.fold(conn, behind)
    return folded


def _swap(engine: Engine, catch_up: CatchUp, tables: ShadowTables, report: Progress) -> int:
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with write_transaction(engine) as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                    take_swap_exclusive(conn)
                behind = catch_up.behind(conn)
                left = sum(head - checkpoint for checkpoint, head in behind.values())
                report("swap", 0, left)
                folded = catch_up.fold(conn, behind)
                tables.swap(conn)
            return folded
        except OperationalError as exc:
            if attempt == SWAP_ATTEMPTS or "lock" not in str(exc).lower():
                raise
            log.warning("rebuild: swap waited over %s for readers; trying again", LOCK_TIMEOUT)
            catch_up.kept.clear()  # folded in the transaction that rolled back
    raise AssertionError("unreachable")
