"""The worker's heartbeat, and fencing a frozen worker's open transaction (PostgreSQL).

A worker process writes its heartbeat every `interval` seconds from a thread of its own, so a
sweep or a run that waits (on a lock, on a slow fold) never makes a working process look dead.

A process frozen mid-transaction (SIGSTOP, a hung VM) holds its stream locks. PostgreSQL ends a
transaction left idle for 15 s by itself (`idle_in_transaction_session_timeout`, events/database),
but not one frozen in the middle of a pipelined statement (psycopg's executemany) or blocked
sending results: the server then waits on the client inside the statement, where no timeout
runs (`transaction_timeout` arrives only in PostgreSQL 17). So each live worker also ends the
transactions of workers whose heartbeat is older than `STALE_SECONDS`, when those transactions
are older than that too; the connections are found by their application_name, which names the
worker. The frozen process, if it wakes, finds its connection closed and its transaction rolled
back: nothing it wrote there counts, and its streams are folded again from their checkpoints.

A process that stops cleanly deletes its own row as it stops (`Heartbeat.stop`), so neither
`/health` nor `livetally rebuild` mistakes it for a live worker afterwards. One that dies
without stopping leaves its row: `/health` stops counting it after `ALIVE_SECONDS`, rebuild and
fencing after `STALE_SECONDS`, and the live workers delete it once it is `PRUNE_SECONDS` old.
"""

from __future__ import annotations

import logging
import os
import socket
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.clock import now_micros
from events.database import write_transaction
from events.upsert import upsert
from worker.periodic import Periodic
from worker.tables import worker_heartbeats

log = logging.getLogger(__name__)

# A heartbeat older than this: the worker may be dead or frozen. Fencing and `livetally rebuild`
# go by it, where taking a slow worker for a dead one would cost data.
STALE_SECONDS = 15
# /health counts a worker alive while its last beat is under this old: a few missed beats (one
# that waited on a busy database is no death), so a killed worker drops out within seconds;
# mistaking a slow worker for a dead one there costs only a moment of "degraded".
ALIVE_SECONDS = 5
BEAT_SECONDS = 1.0  # the longest interval between beats, whatever the sweep's interval
# A dead worker's row is kept this long, then deleted by a live worker: well past STALE_SECONDS,
# so hosts whose clocks disagree by a minute or two never delete each other's live rows.
PRUNE_SECONDS = 300
PRUNE_EVERY_SECONDS = 60  # how often a worker looks for such rows (the first beat looks too)
APPLICATION_PREFIX = "livetally-worker "
_NAME_LIMIT = 63  # PostgreSQL truncates application_name to NAMEDATALEN - 1 bytes


def worker_identity() -> str:
    """This process's worker id: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def application_name(worker_id: str) -> str:
    """The application_name a worker's database connections carry (fencing finds them by it)."""
    return (APPLICATION_PREFIX + worker_id).encode()[:_NAME_LIMIT].decode(errors="ignore")


def beat(conn: Connection, worker_id: str, now: int) -> None:
    upsert(conn, worker_heartbeats, [{"worker_id": worker_id, "seen_at": now}], ["worker_id"])


def forget(conn: Connection, worker_id: str) -> None:
    """Delete a worker's own row: it has stopped."""
    conn.execute(worker_heartbeats.delete().where(worker_heartbeats.c.worker_id == worker_id))


def prune_dead(conn: Connection, now: int, older_than: float = PRUNE_SECONDS) -> list[str]:
    """Delete the rows of workers whose last beat is over `older_than` seconds old; returns
    their ids."""
    cutoff = now - int(older_than * 1_000_000)
    dead = sorted(
        conn.execute(
            sa.select(worker_heartbeats.c.worker_id).where(worker_heartbeats.c.seen_at < cutoff)
        ).scalars()
    )
    if dead:
        # the same condition again: a worker that beat since the select keeps its row
        conn.execute(
            worker_heartbeats.delete().where(
                worker_heartbeats.c.worker_id.in_(dead), worker_heartbeats.c.seen_at < cutoff
            )
        )
    return dead


def fence_frozen(
    conn: Connection, worker_id: str, now: int, stale_seconds: float = STALE_SECONDS
) -> list[str]:
    """End the open transactions, older than `stale_seconds`, of other workers whose heartbeat
    is that old (or missing); returns the worker ids fenced. PostgreSQL only."""
    rows = conn.execute(
        sa.text(
            "SELECT pid, application_name FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name LIKE :prefix AND xact_start IS NOT NULL"
            " AND xact_start < now() - make_interval(secs => :stale)"
        ),
        {"prefix": APPLICATION_PREFIX + "%", "stale": stale_seconds},
    ).all()
    if not rows:
        return []
    beats = {
        application_name(w): seen
        for w, seen in conn.execute(
            sa.select(worker_heartbeats.c.worker_id, worker_heartbeats.c.seen_at)
        )
    }
    me = application_name(worker_id)
    fenced = []
    for pid, name in rows:
        seen = beats.get(name)
        if name == me or (seen is not None and now - seen < stale_seconds * 1_000_000):
            continue
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        fenced.append(name.removeprefix(APPLICATION_PREFIX))
    for name in sorted(set(fenced)):
        log.warning(
            "ended the open transactions of worker %s: no heartbeat for %s s", name, stale_seconds
        )
    return fenced


class Heartbeat:
    """The heartbeat thread: beat, then (PostgreSQL) fence frozen workers, and now and then
    delete dead workers' rows; on stop, delete its own."""

    def __init__(
        self,
        engine: Engine,
        worker_id: str,
        interval: float = 1.0,
        stale_seconds: float = STALE_SECONDS,
        prune_seconds: float = PRUNE_SECONDS,
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id
        # The sweep's interval (a setting) may be longer than ALIVE_SECONDS allows.
        self.interval = min(interval, BEAT_SECONDS)
        self.stale_seconds = stale_seconds
        self.prune_seconds = prune_seconds
        self.fences = engine.dialect.name == "postgresql"
        self._stopping = False
        self._pruned_at: float | None = None  # time.monotonic() of the last prune
        self._periodic = Periodic("heartbeat", self.interval, self.beat_once, at_start=True)

    def beat_once(self) -> list[str]:
        """Beat (unless stopping) and fence; returns the worker ids fenced."""
        with write_transaction(self.engine) as conn:
            # Read inside the transaction: a beat that began before stop() commits before
            # stop()'s delete runs (the row lock on PostgreSQL, the writer lock on SQLite),
            # and one that begins after it writes nothing, so the row stays deleted.
            if self._stopping:
                return []
            now = now_micros()
            beat(conn, self.worker_id, now)
            fenced = (
                fence_frozen(conn, self.worker_id, now, self.stale_seconds) if self.fences else []
            )
        self._prune_now_and_then()
        return fenced

    def _prune_now_and_then(self) -> None:
        # Its own transaction, once a minute: the beat stays one short write, and two workers
        # deleting the same dead rows at once cost a retry here, never a missed beat.
        clock = time.monotonic()
        if self._pruned_at is not None and clock - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = clock
        try:
            with write_transaction(self.engine) as conn:
                dead = prune_dead(conn, now_micros(), self.prune_seconds)
        except Exception as exc:  # the beat is written; the next prune tries again
            log.warning("could not delete dead workers' heartbeats: %s", type(exc).__name__)
            return
        if dead:
            log.info("deleted the heartbeats of dead workers: %s", ", ".join(dead))

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        """Stop beating and delete this worker's row: a clean stop leaves no live worker
        behind. With the database unreachable the row stays, and ages out as a killed
        worker's would."""
        self._stopping = True
        self._periodic.stop()
        try:
            with write_transaction(self.engine) as conn:
                forget(conn, self.worker_id)
        # Whatever the database says (SQLAlchemy's errors, or the driver's own from the raw
        # BEGIN IMMEDIATE on SQLite), the process goes on stopping.
        except Exception as exc:
            log.warning(
                "could not delete the heartbeat of worker %s as it stops: %s",
                self.worker_id,
                type(exc).__name__,
            )
