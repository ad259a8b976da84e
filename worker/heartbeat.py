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
"""

from __future__ import annotations

import logging
import os
import socket

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.clock import now_micros
from events.database import write_transaction
from events.upsert import upsert
from worker.periodic import Periodic
from worker.tables import worker_heartbeats

log = logging.getLogger(__name__)

STALE_SECONDS = 15  # a heartbeat older than this: the worker is not alive (health says so too)
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
    """The heartbeat thread: beat, then (PostgreSQL) fence frozen workers."""

    def __init__(
        self,
        engine: Engine,
        worker_id: str,
        interval: float = 1.0,
        stale_seconds: float = STALE_SECONDS,
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.interval = interval
        self.stale_seconds = stale_seconds
        self.fences = engine.dialect.name == "postgresql"
        self._periodic = Periodic("heartbeat", interval, self.beat_once, at_start=True)

    def beat_once(self) -> list[str]:
        with write_transaction(self.engine) as conn:
            now = now_micros()
            beat(conn, self.worker_id, now)
            if not self.fences:
                return []
            return fence_frozen(conn, self.worker_id, now, self.stale_seconds)

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
