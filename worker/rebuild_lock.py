"""One online rebuild at a time, and no projection run during its swap.

Two rebuilds would fold into the same shadow tables, so each holds a lock that its process
gives up by dying as well as by finishing (a rebuild stopped by Ctrl-C or a kill blocks no
later one): a session-level advisory lock on PostgreSQL, a `flock` on a file beside the
database on SQLite.

The swap drops and renames the tables live runs write: on PostgreSQL every run takes the
`SWAP` advisory lock shared at its start and the swap takes it exclusively, so the swap waits
for runs under way and later runs wait for the swap, before either touches a table (no lock
order between them to deadlock on). On SQLite both are write transactions: one at a time.
"""

from __future__ import annotations

import fcntl
import threading
from types import TracebackType
from typing import IO

from sqlalchemy.engine import Connection, Engine

from worker.errors import RebuildRunning

# Two-key advisory locks: a key space apart from the stream locks (pg_try_advisory_xact_lock
# on one bigint key).
REBUILD = (7_301_202, 1)
SWAP = (7_301_202, 2)

_memory_lock = threading.Lock()  # an in-memory database lives in one process


def take_swap_shared(conn: Connection) -> None:
    """At the start of a projection run's transaction (PostgreSQL): wait while a swap runs."""
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock_shared(%s, %s)", SWAP)


def take_swap_exclusive(conn: Connection) -> None:
    """At the start of the swap's transaction (PostgreSQL): wait for the runs under way."""
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", SWAP)


class RebuildLock:
    """Held for the whole of an online rebuild; raises RebuildRunning if another holds it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None
        self._memory = False

    def __enter__(self) -> RebuildLock:
        if self.engine.dialect.name == "postgresql":
            self._conn = self.engine.connect()
            taken = self._conn.exec_driver_sql(
                "SELECT pg_try_advisory_lock(%s, %s)", REBUILD
            ).scalar()
            self._conn.commit()
            if not taken:
                self._conn.close()
                raise RebuildRunning("another rebuild is running")
            return self
        path = self.engine.url.database
        if not path or path == ":memory:":
            if not _memory_lock.acquire(blocking=False):
                raise RebuildRunning("another rebuild is running")
            self._memory = True
            return self
        self._file = open(f"{path}.rebuild-lock", "wb")  # held until __exit__
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise RebuildRunning("another rebuild is running") from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            self._conn.exec_driver_sql("SELECT pg_advisory_unlock(%s, %s)", REBUILD)
            self._conn.commit()
            self._conn.close()
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            # The file stays: unlinking it would let a later rebuild lock a new file while
            # one that opened this one still holds it.
            self._file.close()
        if self._memory:
            _memory_lock.release()
