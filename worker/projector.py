"""Projection runs: read after each stream's checkpoint and fold, then write rows and checkpoints
in ONE transaction, and only after commit publish the change.

A run is idempotent: it starts from the committed checkpoint, so a killed run, a retried or
duplicated message, or a sweep that races a message, can never apply an event twice or skip one.
This module is the run loop (groups, retries, parking, the fold cache, publishing); how a pass
holds its transaction and locks is one module per backend (run_sqlite, run_postgres); pacing and
pending claims are dramatiq middleware (pacing, claims) in front of the actor.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.clock import now_micros
from events.database import is_postgres
from events.recorder import Recorder, StoredEvent
from events.upsert import current_rows, upsert
from projections.registry import Projection, projection_for
from projections.writes import RowSet, Writes
from worker import run_postgres, run_sqlite
from worker.actors import UnknownStream
from worker.apply_writes import apply_writes, combine
from worker.claims import Claims
from worker.errors import CheckpointMoved, StreamBusy
from worker.fold_cache import Cached, FoldCache
from worker.pacing import Pacer
from worker.parking import ParkingLot
from worker.pending import PendingStreams
from worker.publish import Publisher
from worker.run_sqlite import checkpoints_of
from worker.tables import checkpoints, snapshots

log = logging.getLogger(__name__)

BATCH = 5_000  # events folded per stream and transaction
GROUP = 64  # streams folded in one transaction at most
DRAIN = 8  # groups of claimed streams a message's run folds after its own, at most
SNAPSHOT_EVERY = 2_000  # events between stored snapshots of a stream's fold state
ATTEMPTS = 5  # folds of one stream whose checkpoint keeps moving, before giving up

Stream = tuple[str, Projection, str]  # stream id, its projection, the key inside its family


@dataclass
class _Folded:
    stream: Stream
    checkpoint: int  # where the fold started
    cached: Cached
    state: Any
    events: list[StoredEvent]


__all__ = ["CheckpointMoved", "Projector", "StreamBusy"]


class Projector:
    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        publisher: Publisher | None = None,
        pending: PendingStreams | None = None,
        cache_streams: int = 512,
        pacer: Pacer | None = None,
    ) -> None:
        self.engine = engine  # the read models, checkpoints and locks
        self.recorder = recorder  # the events, read inside the run's transaction
        self.publisher = publisher
        self.claims = Claims(pending)
        self.cache = FoldCache(cache_streams)
        self.parking = ParkingLot(engine)
        self._lock = self.claims.lock
        self._running: dict[str, threading.Event] = {}  # streams a thread here is folding
        self.pacer = pacer  # told how long each run took (the embedded default's pace)
        self._run_pass = run_postgres.run_pass if is_postgres(engine) else run_sqlite.run_pass
        self.runs = 0
        self.events_folded = 0

    def project(self, stream_id: str, publish: bool = True, release: bool = True) -> int:
        """Bring one stream's projection up to its head (the sweep, tools). Returns its events
        folded. `release`: give up the stream's pending claim first."""
        _stream(stream_id)  # an unknown stream is an error here, not a stream to leave out
        if release:
            with self._lock:
                self.claims.release(stream_id)
        return self.project_many([stream_id], publish, settle=False).get(stream_id, 0)

    def project_many(
        self, stream_ids: list[str], publish: bool = True, settle: bool = True
    ) -> dict[str, int]:
        """Bring the streams' projections up to their heads, GROUP at a time: what a
        streams-moved message asks for. Returns the events folded per stream.

        `settle`: the streams' pending claims are settled group by group, just before the
        group is read (worker/claims.py): a stream a run here took along meanwhile is left out
        (that run folded it), the others' claims are released, so that an append landing after
        the read claims again and sends again, while one landing before finds the claim held
        and sends nothing.

        Streams that appends have claimed meanwhile (their messages are queued, not started)
        join a group that has room: one transaction for many streams costs little more than
        one for one, and on SQLite, where every transaction queues behind the single writer,
        the transactions saved are what keeps ingest fast under load. Their own messages find
        them settled. A stream another thread here is folding is waited for, not folded twice.
        A stream that fails is kept, or parked; the others are written all the same, then the
        failure is raised (the message is retried).
        """
        unique = list(dict.fromkeys(stream_ids))
        totals: dict[str, int] = {}
        failure: Exception | None = None
        for start in range(0, len(unique), GROUP):
            folded, failed = self._project_group(unique[start : start + GROUP], publish, settle)
            totals.update(folded)
            failure = failure or failed
        if settle:
            # Then what appends claimed meanwhile, a group at a time (at most DRAIN groups):
            # their messages would otherwise wait behind this one and its pace.
            for _ in range(DRAIN):
                folded, _failed = self._project_group([], publish, False)
                if not folded:
                    break
        if failure is not None:
            raise failure
        return totals

    def _project_group(
        self, stream_ids: list[str], publish: bool, settle: bool
    ) -> tuple[dict[str, int], Exception | None]:
        while True:
            with self._lock:
                running = next((self._running[i] for i in stream_ids if i in self._running), None)
                if running is None:
                    if settle:
                        stream_ids = self.claims.settle(stream_ids)
                    asked = self._foldable(stream_ids)
                    ids = {item[0] for item in asked}
                    group = (
                        [*asked, *self._claimed(ids, GROUP - len(asked))]
                        if asked or not stream_ids
                        else []
                    )
                    finished = threading.Event()
                    self._running.update((item[0], finished) for item in group)
            if running is None:
                break
            running.wait()  # then fold what that run did not see
        if not group:
            return {}, None
        began = time.monotonic()
        try:
            totals, failures = self._run_group(group, publish, len(asked))
        finally:
            with self._lock:
                for item in group:
                    self._running.pop(item[0], None)
            if self.pacer is not None:
                self.pacer.run_ended(time.monotonic() - began)
            finished.set()
        raised = None
        for stream_id in ids:
            exc = failures.get(stream_id)
            if exc is None:
                self.parking.succeeded(stream_id)
            elif not self.parking.failed(stream_id, exc):  # parked: the error is kept
                raised = raised or exc
        return {i: totals.get(i, 0) for i in ids or totals}, raised

    def _foldable(self, stream_ids: list[str]) -> list[Stream]:
        """The streams with a projection that are not parked (until `projections retry`)."""
        found = []
        for stream_id in stream_ids:
            projection = projection_for(stream_id)
            if projection is None:
                log.warning("no projection for stream %s: left out", stream_id)
            elif not self.parking.is_parked(stream_id):
                found.append((stream_id, projection[0], projection[1]))
        return found

    def _claimed(self, asked: set[str], room: int) -> list[Stream]:
        """Streams with queued messages that no thread here is folding (claims released)."""
        if room <= 0:
            return []
        taken = self.claims.take_along(room)
        # A taken stream that is running here, or unknown, keeps its queued message for later.
        joining = [
            _stream(s)
            for s in sorted(set(taken))
            if s not in asked
            and s not in self._running
            and projection_for(s) is not None
            and not self.parking.is_parked(s)
        ]
        self.claims.taken([item[0] for item in joining])
        return joining

    def _run_group(
        self, group: list[Stream], publish: bool, asked: int
    ) -> tuple[dict[str, int], dict[str, Exception]]:
        """Fold every stream of the group up to its head: (events folded, the failures of the
        first `asked` streams). A failing stream fails alone; contention is raised."""
        totals = dict.fromkeys((item[0] for item in group), 0)
        asked_ids = {item[0] for item in group[:asked]}
        failures: dict[str, Exception] = {}
        todo, attempts = list(group), 0
        while todo:
            attempts += 1
            try:
                folded, moved = self._run(todo, publish, asked if attempts == 1 else 0)
            except (CheckpointMoved, StreamBusy):
                raise  # contention, not poison
            except Exception as exc:
                if len(todo) > 1:
                    folded, moved, failed = self._run_each(todo, asked_ids, publish)
                    failures.update(failed)
                elif todo[0][0] in asked_ids:
                    failures[todo[0][0]] = exc
                    break
                else:
                    self._failed_along(todo[0][0], exc)
                    break
            for stream_id, count in folded.items():
                totals[stream_id] += count
            if moved and attempts >= ATTEMPTS:
                raise CheckpointMoved(", ".join(sorted(moved)))
            todo = [
                item
                for item in todo
                if (item[0] in moved or folded.get(item[0], 0) >= BATCH) and item[0] not in failures
            ]
        return totals, failures

    def _run_each(
        self, todo: list[Stream], asked: set[str], publish: bool
    ) -> tuple[dict[str, int], set[str], dict[str, Exception]]:
        # One stream took the group's transaction down with it: run each alone, so that only
        # the failing one fails (and the message that asked for it is retried).
        folded: dict[str, int] = {}
        moved: set[str] = set()
        failures: dict[str, Exception] = {}
        for item in todo:
            try:
                one, one_moved = self._run([item], publish, 1 if item[0] in asked else 0)
            except StreamBusy:
                if item[0] in asked:
                    raise
                continue  # its holder folds it
            except Exception as exc:
                if item[0] in asked:
                    failures[item[0]] = exc
                else:
                    self._failed_along(item[0], exc)
                continue
            folded.update(one)
            moved |= one_moved
        return folded, moved, failures

    def _failed_along(self, stream_id: str, exc: Exception) -> None:
        # A stream taken along failed: its claim is released, so a later append, or the sweep,
        # comes back to it.
        log.warning("projection of %s failed: %s", stream_id, exc)
        self.parking.failed(stream_id, exc)

    def _run(
        self, group: list[Stream], publish: bool, asked: int
    ) -> tuple[dict[str, int], set[str]]:
        """One pass: fold each stream's next events, write them all in one transaction. On
        PostgreSQL, one of the first `asked` streams locked elsewhere raises StreamBusy."""
        written, moved = self._run_pass(
            self.engine, group, asked, self._fold, self._prepare, self._apply
        )
        for item, item_writes in written:
            self._finish(item, item_writes, publish)
        return {item.stream[0]: len(item.events) for item, _ in written}, moved

    def _fold(self, conn: Connection, streams: list[Stream]) -> list[_Folded]:
        """Fold each stream's events after its checkpoint (streams with none are left out)."""
        at = checkpoints_of(conn, [stream[0] for stream in streams])
        folded = []
        for stream in streams:
            stream_id, projection, key = stream
            checkpoint = at.get(stream_id, 0)
            new_events = self.recorder.read_stream(stream_id, checkpoint, BATCH, conn)
            if not new_events:
                continue
            # Taken out of the cache: a fold that is not written must not be found there again.
            cached = self.cache.take(stream_id, checkpoint)
            if cached is None:
                cached = self._restore(conn, projection, key, stream_id, checkpoint)
            state = cached.state
            fold = projection.fold
            for event in new_events:
                state = fold(state, event)
            folded.append(_Folded(stream, checkpoint, cached, state, new_events))
        return folded

    def _prepare(self, conn: Connection, items: list[_Folded]) -> list[Writes]:
        """What each folded stream writes, in the items' order. Reads each stream's view row
        as stored at its checkpoint: if the checkpoint has not moved when the writes are
        applied, neither has the row (only runs of the stream write it), so on SQLite this
        runs before the write transaction, and the appends waiting on it do not wait for the
        projections' Python."""
        before: dict[str, dict[str, dict[str, Any]]] = {}  # view table -> key -> its row
        for item in items:
            view = item.stream[1].view
            if view is not None and view.name not in before:
                # A stream whose fold came from the cache wrote the row last (the checkpoint is
                # the one it wrote with): its row is the one it kept.
                keys = [
                    i.stream[2]
                    for i in items
                    if i.stream[1].view is view and i.cached.view_row is None
                ]
                before[view.name] = current_rows(conn, view, keys)
        all_writes = []
        for item in items:
            _, projection, key = item.stream
            view = projection.view
            kept = item.cached.view_row
            writes = projection.writes(
                item.state,
                None if view is None else kept if kept is not None else before[view.name].get(key),
            )
            all_writes.append(changed_rows(writes, item.cached.written))
        return all_writes

    def _apply(self, conn: Connection, items: list[_Folded], all_writes: list[Writes]) -> None:
        """Write the streams' rows, checkpoints and due snapshots, in the run's transaction:
        one statement per table for the whole group."""
        apply_writes(conn, combine(all_writes))
        now = now_micros()
        upsert(
            conn,
            checkpoints,
            [
                {"stream_id": item.stream[0], "version": item.events[-1].version, "updated_at": now}
                for item in items
            ],
            ["stream_id"],
        )
        due = [
            item
            for item in items
            if item.events[-1].version - item.cached.snapshot_version
            >= snapshot_spacing(item.stream[0])
            or len(item.events) >= BATCH
        ]
        if due:
            upsert(
                conn,
                snapshots,
                [
                    {
                        "stream_id": item.stream[0],
                        "version": item.events[-1].version,
                        "state": item.stream[1].dump(item.state),
                    }
                    for item in due
                ],
                ["stream_id"],
            )
            for item in due:
                item.cached.snapshot_version = item.events[-1].version

    def _finish(self, item: _Folded, writes: Writes, publish: bool) -> None:
        """After commit: keep the state for the next run and publish what the projection says
        to (the feed works out what changed for each client)."""
        stream_id, projection, _ = item.stream
        cached = item.cached
        alerts = projection.take_alerts(item.state)
        cached.state, cached.version = item.state, item.events[-1].version
        cached.view_row = writes.view_row
        self.cache.keep(stream_id, cached)
        self.runs += 1
        self.events_folded += len(item.events)
        if publish and self.publisher is not None:
            message = projection.update_message(writes, cached.version, alerts)
            if message is not None:
                self.publisher.publish(message)

    def _restore(
        self, conn: Connection, projection: Projection, key: str, stream_id: str, checkpoint: int
    ) -> Cached:
        """Fold state at the checkpoint: the stored snapshot plus the events after it."""
        state, snapshot_version = restore_state(
            conn, self.recorder, projection, key, stream_id, checkpoint, snapshots
        )
        return Cached(checkpoint, state, snapshot_version)


def restore_state(
    conn: Connection,
    recorder: Recorder,
    projection: Projection,
    key: str,
    stream_id: str,
    checkpoint: int,
    snapshot_table: sa.Table,
) -> tuple[Any, int]:
    """A stream's fold state at `checkpoint` (the stored snapshot in `snapshot_table`, if not
    past it, plus the events after it), and the snapshot's version (0 without one). Alerts
    the fold raises on the way are dropped: they were news when first folded."""
    state, since, snapshot_version = projection.new(key), 0, 0
    row = conn.execute(
        sa.select(snapshot_table.c.version, snapshot_table.c.state).where(
            snapshot_table.c.stream_id == stream_id
        )
    ).first()
    if row is not None and row.version <= checkpoint:
        restored = projection.load(row.state)
        if restored is not None:  # None: a snapshot of an older shape, folded anew
            state, since, snapshot_version = restored, row.version, row.version
    while since < checkpoint:
        page = recorder.read_stream(stream_id, since, min(BATCH, checkpoint - since), conn)
        if not page:
            break
        for event in page:
            state = projection.fold(state, event)
        since = page[-1].version
    projection.take_alerts(state)
    return state, snapshot_version


_key_getters: dict[tuple[str, ...], Callable[[dict[str, Any]], tuple[Any, ...]]] = {}


def _key_of(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's key values as a tuple: one getter per key set (a run looks up several keys)."""
    getter = _key_getters.get(keys)
    if getter is None:
        pick = itemgetter(*keys)
        getter = _key_getters[keys] = pick if len(keys) > 1 else (lambda row: (pick(row),))
    return getter


def changed_rows(writes: Writes, written: dict[tuple[str, tuple[Any, ...]], Any]) -> Writes:
    """`writes` without the `changed_only` rows equal to those in `written` (the stream's rows
    as last written), which is brought up to date. A run that then fails drops `written` with
    the rest of its cached fold, so nothing is left out that was not committed."""
    row_sets = []
    left_out = False
    for row_set in writes.row_sets:
        if not row_set.changed_only:
            row_sets.append(row_set)
            name = row_set.table.name
            if (name, ()) in written:
                # Rows of a table whose rows are left out when unchanged, written whole this
                # time (every stored one replaced): what was written before is forgotten, and
                # these are remembered instead.
                for key in [key for key in written if key[0] == name]:
                    del written[key]
                written[(name, ())] = row_set.rows
                for row in row_set.rows:
                    written[(name, _key_of(row_set.keys)(row))] = row
            continue
        name, keys = row_set.table.name, row_set.keys
        if written.get((name, ())) == row_set.rows:  # the usual case: none of them moved
            left_out = True
            continue
        written[(name, ())] = row_set.rows
        if len(row_set.rows) == 1:  # a one-row set that moved: its row did (no second compare)
            row = row_set.rows[0]
            written[(name, _key_of(keys)(row))] = row
            row_sets.append(row_set)
            continue
        changed = []
        key_of = _key_of(keys)
        for row in row_set.rows:
            key = (name, key_of(row))
            if written.get(key) != row:
                changed.append(row)
                written[key] = row
        if len(changed) < len(row_set.rows):
            left_out = True
            if changed:
                row_sets.append(RowSet(row_set.table, changed, keys, True, row_set.existing))
        else:
            row_sets.append(row_set)
    if not left_out:
        return writes
    return Writes(row_sets, writes.document, writes.view_row, writes.clears)


def snapshot_spacing(stream_id: str) -> int:
    """Events between two snapshots of this stream: SNAPSHOT_EVERY to twice that, fixed per
    stream. Sessions fed in step (one studio, one rate) would otherwise all snapshot in the
    same run, and twenty large snapshots at once held the embedded worker for a second
    (docs/deploy.md); spread, they cost the same, a little at a time."""
    return SNAPSHOT_EVERY + zlib.crc32(stream_id.encode()) % SNAPSHOT_EVERY


def _stream(stream_id: str) -> Stream:
    found = projection_for(stream_id)
    if found is None:
        raise UnknownStream(stream_id)
    return stream_id, found[0], found[1]
