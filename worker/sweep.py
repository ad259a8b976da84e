"""The sweep: finds streams whose projection is behind their head, and silent live sessions.

Messages can be lost (Redis restarted, a worker killed before it acked, an enqueue that failed
after the append committed). Every `interval` seconds the sweep lists the streams whose checkpoint
is behind their head; one that is still behind at the same checkpoint on the next sweep has no run
coming, and the sweep projects it itself. It also raises the "no events for 60 s while live"
alert, once per silence (the row update decides which worker raises it). The heartbeat has a
thread of its own (worker/heartbeat.py): a sweep that waits must not make its worker look dead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.clock import now_micros
from events.database import fetch_rows, write_transaction
from events.recorder import Recorder
from projections.alerts import SILENCE_US, open_silence
from projections.tables import session_view
from worker.periodic import Periodic
from worker.publish import Publisher
from worker.tables import checkpoints

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lag:
    streams_behind: int
    events_behind: int
    worst_stream: str | None
    worst_lag: int


FULL_SWEEP_US = 60 * 1_000_000  # every stream, once a minute
RECENT_MARGIN_US = 10 * 1_000_000  # otherwise those appended to since the last sweep, and more


def checkpoint_versions(conn: Connection, among: list[str] | None = None) -> dict[str, int]:
    """The projection checkpoints (the worker's own table)."""
    if among is None:  # every checkpoint: through the driver, as SqlRecorder.heads
        return dict(fetch_rows(conn, "SELECT stream_id, version FROM projection_checkpoints", ()))
    query = sa.select(checkpoints.c.stream_id, checkpoints.c.version).where(
        checkpoints.c.stream_id.in_(among)
    )
    return {sid: int(version) for sid, version in conn.execute(query)}


def streams_behind(
    recorder: Recorder, conn: Connection, since: int | None = None, among: list[str] | None = None
) -> dict[str, int]:
    """Streams whose checkpoint is behind their head, with the checkpoint: every stream, those
    appended to since `since`, or those `among` a few named. Heads come from the store through
    the recorder interface; checkpoints from the worker's own table."""
    if among is None:
        heads = recorder.heads(since)
    elif len(among) <= 64:
        heads = {sid: recorder.head(sid) for sid in among}
    else:
        wanted = set(among)
        heads = {sid: head for sid, head in recorder.heads().items() if sid in wanted}
    done = checkpoint_versions(conn, sorted(heads) if len(heads) <= 500 else None)
    return {sid: done.get(sid, 0) for sid, head in heads.items() if head > done.get(sid, 0)}


def projection_lag(recorder: Recorder, conn: Connection) -> Lag:
    heads = recorder.heads()
    done = checkpoint_versions(conn)
    behind = {
        sid: head - done.get(sid, 0) for sid, head in heads.items() if head > done.get(sid, 0)
    }
    if not behind:
        return Lag(0, 0, None, 0)
    worst = max(behind, key=lambda sid: behind[sid])
    return Lag(len(behind), sum(behind.values()), worst, behind[worst])


class Sweeper:
    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        project: Callable[[str], object],
        publisher: Publisher | None,
        interval: float = 1.0,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.project = project
        self.publisher = publisher
        self.interval = interval
        self._seen: dict[str, int] = {}
        self._last_full = 0
        self._last_sweep = 0
        self._periodic = Periodic("sweep", interval, self.sweep_once)

    def sweep_once(self) -> list[str]:
        # A full pass costs a join over every stream; most seconds only streams appended to
        # recently can have a lost message, so only they are looked at, with a full pass each
        # minute for the rest (and at start, after a crash).
        started = now_micros()
        full = started - self._last_full >= FULL_SWEEP_US
        since = None if full else self._last_sweep - RECENT_MARGIN_US
        with self.engine.connect() as conn:
            behind = streams_behind(self.recorder, conn, since)
            if not full and self._seen:
                # Streams the last pass saw behind are looked at again now, not a minute later
                # at the next full pass: a stream whose message was lost is projected within
                # two sweeps, whenever it was last appended to.
                behind.update(streams_behind(self.recorder, conn, None, sorted(self._seen)))
        if full:
            self._last_full = started
        self._last_sweep = started
        stuck = [sid for sid, done in behind.items() if self._seen.get(sid) == done]
        self._seen = behind
        for stream_id in stuck:
            try:
                self.project(stream_id)
            except Exception:
                log.exception("sweep could not project %s", stream_id)
        now = now_micros()
        with write_transaction(self.engine) as conn:
            silent = self._mark_silent(conn, now)
        if self.publisher is not None:
            for session_id, last in silent:
                self.publisher.publish(
                    {"type": "alert", "session_id": session_id, "alert": open_silence(last)}
                )
        return stuck

    @staticmethod
    def _mark_silent(conn: Connection, now: int) -> list[tuple[str, int]]:
        """The sweep alone owns `silent_since`: it clears it once events came after it (so the
        next silence alerts again), and sets it on live sessions silent for 60 s (the row
        update decides which worker raises the alert, so it is raised once) to the moment the
        silence reached 60 s, the last event's time + 60 s (the alert's `at`, the same the fold
        logs when events resume)."""
        conn.execute(
            session_view.update()
            .where(
                session_view.c.silent_since.is_not(None),
                session_view.c.last_recorded_at > session_view.c.silent_since,
            )
            .values(silent_since=None)
        )
        result = conn.execute(
            session_view.update()
            .where(
                session_view.c.status == "live",
                session_view.c.silent_since.is_(None),
                session_view.c.last_recorded_at < now - SILENCE_US,
            )
            .values(silent_since=session_view.c.last_recorded_at + SILENCE_US)
            .returning(session_view.c.session_id, session_view.c.last_recorded_at)
        )
        return [(row.session_id, row.last_recorded_at) for row in result]

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
