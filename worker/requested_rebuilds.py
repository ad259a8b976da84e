"""Rebuilds that migrations ask for, run online by a live worker.

A migration that changes what a projection writes calls `request_rebuild(reason)` (one row in
`rebuild_requests`). Every worker process looks for requests at start and every
`interval` seconds; the first to take the rebuild lock refolds online (worker/online_rebuild.py)
while it and the others go on serving, then deletes the requests it has answered (those that
existed when it began: a request made meanwhile gets a rebuild of its own). The others find
the lock taken and look again later. A worker that stops mid-rebuild drops the shadows and
leaves the request for the next.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.clock import now_micros
from events.database import write_transaction
from worker.errors import RebuildRunning, RebuildStopped
from worker.online_rebuild import rebuild_online
from worker.periodic import Periodic
from worker.tables import rebuild_requests

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 30.0


def request_rebuild(reason: str) -> None:
    """In a migration's upgrade(): ask the running workers for an online refold (not of a
    database without events: there is nothing to refold)."""
    from alembic import op

    from events.tables import streams

    if op.get_bind().execute(sa.select(streams.c.stream_id).limit(1)).first() is None:
        return
    op.execute(rebuild_requests.insert().values(reason=reason, requested_at=now_micros()))


class RequestedRebuilds:
    """The periodic look for requests, in a thread of its own (a rebuild takes minutes)."""

    def __init__(
        self, engine: Engine, interval: float = INTERVAL_SECONDS, processes: int | None = 1
    ) -> None:
        self.engine = engine
        # One process by default: the rebuild shares the machine with the service it runs in.
        self.processes = processes
        self._stopping = threading.Event()
        self._periodic = Periodic("requested rebuilds", interval, self.answer, at_start=True)

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._stopping.set()
        self._periodic.stop()

    def answer(self) -> bool:
        """Rebuild if a request is waiting and no other process is rebuilding; True if done."""
        with self.engine.connect() as conn:
            requests = conn.execute(
                sa.select(rebuild_requests.c.id, rebuild_requests.c.reason)
            ).all()
        if not requests:
            return False
        reasons = "; ".join(sorted({r.reason for r in requests}))
        log.warning("rebuilding the read models online, as asked: %s", reasons)
        try:
            report = rebuild_online(
                self.engine, processes=self.processes, should_stop=self._stopping.is_set
            )
        except RebuildRunning:
            return False  # another process answers it
        except RebuildStopped:
            return False
        with write_transaction(self.engine) as conn:
            conn.execute(
                rebuild_requests.delete().where(
                    rebuild_requests.c.id <= max(r.id for r in requests)
                )
            )
        log.warning(
            "rebuilt %s streams, %s events online in %.1f s and swapped them in",
            report.streams,
            report.events,
            report.seconds,
        )
        return True
