"""The sweep: finds streams whose projection is behind their head, and silent live sessions.

Messages can be lost (Redis restarted, a worker killed before it acked, an enqueue that failed
after the append committed). Every `interval` seconds the sweep lists the streams whose checkpoint
is behind their head; one that is still behind at the same checkpoint on the next sweep has no run
coming, and the sweep projects it itself. It also writes this worker's heartbeat and raises the
"no events for 60 s while live" alert, once per silence (the row update decides which worker
raises it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.clock import now_micros
from events.database import write_transaction
from events.fields import format_timestamp
from events.tables import streams
from projections.alerts import SILENCE_US
from projections.tables import checkpoints, session_view, worker_heartbeats
from worker.publish import Publisher
from worker.upsert import upsert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lag:
    streams_behind: int
    events_behind: int
    worst_stream: str | None
    worst_lag: int


FULL_SWEEP_US = 60 * 1_000_000  # every stream, once a minute
RECENT_MARGIN_US = 10 * 1_000_000  # otherwise those appended to since the last sweep, and more


def behind_query(since: int | None = None) -> sa.Select[Any]:
    done = sa.func.coalesce(checkpoints.c.version, 0)
    query = (
        sa.select(streams.c.stream_id, streams.c.version, done.label("done"))
        .select_from(streams.outerjoin(checkpoints, checkpoints.c.stream_id == streams.c.stream_id))
        .where(streams.c.version > done)
    )
    return query if since is None else query.where(streams.c.updated_at >= since)


def streams_behind(conn: Connection, since: int | None = None,
                   among: list[str] | None = None) -> dict[str, int]:
    query = behind_query(since)
    if among is not None:
        query = query.where(streams.c.stream_id.in_(among))
    return {row.stream_id: row.done for row in conn.execute(query)}


def projection_lag(conn: Connection) -> Lag:
    rows = conn.execute(behind_query()).all()
    if not rows:
        return Lag(0, 0, None, 0)
    worst = max(rows, key=lambda r: r.version - r.done)
    return Lag(len(rows), sum(r.version - r.done for r in rows), worst.stream_id,
               worst.version - worst.done)


class Sweeper:
    def __init__(
        self,
        engine: Engine,
        project: Callable[[str], object],
        publisher: Publisher | None,
        worker_id: str,
        interval: float = 1.0,
    ) -> None:
        self.engine = engine
        self.project = project
        self.publisher = publisher
        self.worker_id = worker_id
        self.interval = interval
        self._seen: dict[str, int] = {}
        self._last_full = 0
        self._last_sweep = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> list[str]:
        # A full pass costs a join over every stream; most seconds only streams appended to
        # recently can have a lost message, so only they are looked at, with a full pass each
        # minute for the rest (and at start, after a crash).
        started = now_micros()
        full = started - self._last_full >= FULL_SWEEP_US
        since = None if full else self._last_sweep - RECENT_MARGIN_US
        with self.engine.connect() as conn:
            behind = streams_behind(conn, since)
            if not full and self._seen:
                # Streams the last pass saw behind are looked at again now, not a minute later
                # at the next full pass: a stream whose message was lost is projected within
                # two sweeps, whenever it was last appended to.
                behind.update(streams_behind(conn, None, sorted(self._seen)))
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
            upsert(conn, worker_heartbeats, [{"worker_id": self.worker_id, "seen_at": now}],
                   ["worker_id"])
            silent = self._mark_silent(conn, now)
        if self.publisher is not None:
            for session_id, last in silent:
                self.publisher.publish({"type": "alert", "session_id": session_id, "alert": {
                    "kind": "no_events", "since": format_timestamp(last),
                    "at": format_timestamp(now)}})
        return stuck

    @staticmethod
    def _mark_silent(conn: Connection, now: int) -> list[tuple[str, int]]:
        result = conn.execute(
            session_view.update()
            .where(session_view.c.status == "live", session_view.c.silent_since.is_(None),
                   session_view.c.last_recorded_at < now - SILENCE_US)
            .values(silent_since=now)
            .returning(session_view.c.session_id, session_view.c.last_recorded_at)
        )
        return [(row.session_id, row.last_recorded_at) for row in result]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="livetally-sweep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep_once()
            except Exception as exc:
                log.warning("sweep failed: %s", exc)
