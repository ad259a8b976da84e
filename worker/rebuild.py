"""`livetally rebuild --offline`: empty the projections and replay every stream into fresh ones;
and the bulk fold an online rebuild (worker/online_rebuild.py) makes into its shadow tables.

The streams are shared out over worker processes (one per core by default: the fold is
CPU-bound Python, and a second interpreter is a second core). Each process reads its streams in
large ordered batches, folds each in memory and writes its read models once, at the end, in
transactions of many streams: no per-event round trips. What is written is exactly what runs
write (the same `writes`, checkpoints, snapshots), so the rebuilt rows equal the incremental ones
(the rebuild property test).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.clock import now_micros
from events.database import create_engine, write_transaction
from events.opening import open_recorder
from events.upsert import upsert
from projections.registry import Projection, projection_for
from projections.tables import PROJECTION_TABLES
from worker.apply_writes import apply_writes, combine
from worker.errors import WorkersRunning
from worker.heartbeat import STALE_SECONDS
from worker.shadow_tables import ShadowTables
from worker.tables import FOLD_PROGRESS_TABLES, checkpoints, snapshots, worker_heartbeats

BATCH = 20_000  # events read per query
CHUNK = 16  # streams a process folds, then writes in one transaction
SNAPSHOT_FROM = 2_000  # as runs: streams shorter than this keep no snapshot
IN_PROCESS_EVENTS = 50_000  # an online rebuild of fewer events folds in the calling process


@dataclass(frozen=True)
class RebuildReport:
    streams: int
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(
    engine: Engine,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
    force: bool = False,
) -> RebuildReport:
    """Empties the read models and replays every stream into them: the offline rebuild.
    Workers must be stopped: they would race the emptying (raises WorkersRunning while one has
    a fresh heartbeat, unless `force`). worker/online_rebuild.py rebuilds beside them instead."""
    if not force:
        refuse_while_workers_run(engine)
    heads = open_recorder(engine).heads()
    started = time.perf_counter()
    with write_transaction(engine) as conn:
        for table in reversed((*PROJECTION_TABLES, *FOLD_PROGRESS_TABLES)):
            conn.execute(table.delete())
    streams, events = fold_streams(engine, heads, progress, processes)
    return RebuildReport(streams, events, time.perf_counter() - started)


def fold_streams(
    engine: Engine,
    heads: dict[str, int],
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
    shadow: bool = False,
) -> tuple[int, int]:
    """Fold every stream from its first event and write its read models, checkpoint and
    snapshot into empty tables: the live ones, or with `shadow` the shadow set (then the
    processes run at a lower priority than the service beside them). Returns (streams,
    events)."""
    total = sum(heads.values())
    stream_ids = sorted(s for s in heads if projection_for(s) is not None)
    # Largest streams first, in the first chunks: the pool hands them out first, so the
    # processes finish together rather than one left with a long stream at the end.
    by_size = sorted(stream_ids, key=lambda s: -heads[s])
    chunks = [by_size[i : i + CHUNK] for i in range(0, len(by_size), CHUNK)]
    url = engine.url.render_as_string(hide_password=False)
    processes = processes or min(os.cpu_count() or 1, 4)
    done = 0
    tables = ShadowTables() if shadow else None
    # Beside a running service the fold runs in processes of its own, even one: in the
    # service's process it would hold the interpreter its requests need. A small one, or an
    # in-memory database (which other processes cannot open), folds here.
    if (
        ":memory:" in url
        or url == "sqlite://"
        or (shadow and total < IN_PROCESS_EVENTS)
        or (not shadow and (processes <= 1 or len(chunks) <= 1))
    ):
        for chunk in chunks:
            done += _rebuild_streams(engine, chunk, tables)
            if progress is not None:
                progress(done, total)
    else:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, no copied pools
        with context.Pool(processes, initializer=_start_process, initargs=(url, shadow)) as pool:
            for folded in pool.imap_unordered(_rebuild_chunk, chunks):
                done += folded
                if progress is not None:
                    progress(done, total)
    return len(stream_ids), done


def refuse_while_workers_run(engine: Engine) -> None:
    """Raises WorkersRunning if a worker's heartbeat is under STALE_SECONDS old."""
    since = now_micros() - STALE_SECONDS * 1_000_000
    with engine.connect() as conn:
        running = sorted(
            conn.execute(
                sa.select(worker_heartbeats.c.worker_id).where(worker_heartbeats.c.seen_at > since)
            ).scalars()
        )
    if running:
        raise WorkersRunning(
            f"workers running: {', '.join(running)}; stop them first "
            f"(their heartbeat is under {STALE_SECONDS} s old)"
        )


_engine: Engine | None = None
_tables: ShadowTables | None = None


def _start_process(url: str, shadow: bool) -> None:
    global _engine, _tables
    _engine = create_engine(url)
    if shadow:
        # Beside a running service: its folds and requests come first, the rebuild takes what
        # CPU is left.
        os.nice(10)
        _tables = ShadowTables()


def _rebuild_chunk(stream_ids: list[str]) -> int:
    assert _engine is not None
    return _rebuild_streams(_engine, stream_ids, _tables)


def _rebuild_streams(engine: Engine, stream_ids: list[str], tables: ShadowTables | None) -> int:
    """Fold each stream from its first event, then write them all in one transaction (into
    the shadow `tables` if given)."""
    recorder = open_recorder(engine)
    folded: list[tuple[str, Projection, Any, int]] = []
    count = 0
    with engine.connect() as conn:
        for stream_id in stream_ids:
            found = projection_for(stream_id)
            assert found is not None
            projection, key = found
            state, version = projection.new(key), 0
            while page := recorder.read_stream(stream_id, version, BATCH, conn):
                fold = projection.fold
                for event in page:
                    state = fold(state, event)
                version = page[-1].version
                count += len(page)
            folded.append((stream_id, projection, state, version))
    for _, projection, state, _ in folded:
        projection.take_alerts(state)  # raised long ago: not news now
    # The tables were emptied: every view row is new.
    combined = combine(projection.writes(state, None) for _, projection, state, _ in folded)
    if tables is not None:
        combined = tables.retarget(combined)
    with write_transaction(engine) as conn:
        apply_writes(conn, combined)
        for stream_id, projection, state, version in folded:
            write_checkpoint(conn, stream_id, projection, state, version, tables)
    return count


def write_checkpoint(
    conn: Connection,
    stream_id: str,
    projection: Projection,
    state: Any,
    version: int,
    tables: ShadowTables | None = None,
    snapshot: bool | None = None,
) -> None:
    """The stream's checkpoint, and its snapshot if `snapshot` (by default: if the stream is
    long enough to keep one)."""
    upsert(
        conn,
        checkpoints if tables is None else tables[checkpoints],
        [{"stream_id": stream_id, "version": version, "updated_at": now_micros()}],
        ["stream_id"],
    )
    if snapshot if snapshot is not None else version >= SNAPSHOT_FROM:
        upsert(
            conn,
            snapshots if tables is None else tables[snapshots],
            [{"stream_id": stream_id, "version": version, "state": projection.dump(state)}],
            ["stream_id"],
        )
