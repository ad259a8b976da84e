"""SQLite WAL checkpoints on a thread of their own, off the commit path.

By default SQLite checkpoints inside a commit: the connection whose commit takes the WAL past
1,000 frames copies pages back into the database file and fsyncs it before the commit returns.
On this machine that is about half the cost of a small transaction, and the writer holds the
write lock meanwhile. livetally's connections switch that off (wal_autocheckpoint=0) and one
thread per database file and process checkpoints instead, a moment after commits:

- PASSIVE checkpoints run beside the writers (they take no lock a writer needs, and the sqlite3
  module lets go of the GIL while they copy and fsync), so commits stay short and the copying
  overlaps Python work on the other core.
- A WAL can only start over from its beginning once every frame is copied back, which a
  PASSIVE checkpoint rarely sees while writers keep committing. So when the WAL has grown past
  RESET_FRAMES, the checkpointer holds this process's writer lock (writers queue for a moment)
  and runs a RESTART checkpoint, which copies the little that is left and lets the next writer
  reuse the file from the start. The WAL therefore stays under about RESET_FRAMES pages.
- The thread ends after IDLE_EXIT seconds without commits and is started again by the next
  one. When the last connection to the file closes, SQLite checkpoints what is left, as always.

Other processes on the same file (a `livetally import` next to `livetally up`) run their own
checkpointer; SQLite lets one checkpoint run at a time and the other reports busy, harmlessly.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.05  # after a commit, wait for more commits so one checkpoint serves them all
# About 8 MiB of 4 KiB pages. A WAL that starts over sooner is rewritten in place, in pages the
# OS already holds, rather than grown: appends of 100 events per save were faster than with
# 8,192 frames in 8 of 10 paired runs (median ratio 1.06), and 1,000-event ingest the same.
RESET_FRAMES = 2048
IDLE_EXIT = 60.0
RESTART_WAIT_SECONDS = 1.0  # a writer never waits longer on a restart than this
RESTART_PATIENCE = 0.02  # how long a restart waits behind writers before they let it go first
PAGE_BYTES = 4096  # SQLite's default page size, which livetally keeps


def wal_size_limit() -> int:
    """What a WAL file is cut back to once it starts over (journal_size_limit): twice the size
    at which the checkpointer resets it, so a file in steady use is rewritten, not regrown."""
    return 2 * RESET_FRAMES * PAGE_BYTES


@dataclass
class CheckpointStats:
    passive: int = 0
    restarts: int = 0


class WalCheckpointer:
    """Checkpoints one SQLite file for this process; `committed()` after every write commit."""

    def __init__(self, path: str, writer_lock: threading.Lock) -> None:
        self.path = path
        self.writer_lock = writer_lock
        self.stats = CheckpointStats()
        self._dirty = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        # Cleared while a RESTART waits for the writer lock. A Python lock is not fair: a
        # writer in a loop releases and takes it again before a waiting thread wakes, so the
        # restart could wait through hundreds of commits while the WAL grew (the cause of a
        # WAL of 17-24 MB where 8 MiB was meant). Writers let a restart that has waited
        # RESTART_PATIENCE go first; one that has just begun to wait usually gets the lock
        # between two commits anyway, and stopping every writer at once cost small appends 8%.
        self._no_restart_waiting = threading.Event()
        self._no_restart_waiting.set()
        self._restart_waiting_since = 0.0

    def let_restart_pass(self) -> None:
        """Called by a writer before it takes the writer lock: waits (briefly) while a RESTART
        checkpoint has been waiting for that lock longer than RESTART_PATIENCE."""
        if not self._no_restart_waiting.is_set() and (
            time.monotonic() - self._restart_waiting_since > RESTART_PATIENCE
        ):
            self._no_restart_waiting.wait(RESTART_WAIT_SECONDS)

    def committed(self) -> None:
        self._dirty.set()
        if self._thread is None:
            with self._guard:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="livetally-checkpoint", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            while True:
                if not self._dirty.wait(IDLE_EXIT):
                    with self._guard:
                        if not self._dirty.is_set():
                            self._thread = None
                            return
                    continue
                # Commits that land in the meantime are served by this same checkpoint.
                time.sleep(GATHER_SECONDS)
                self._dirty.clear()
                self.checkpoint(conn)
        except Exception:  # a checkpointer must not take the process down
            log.exception("WAL checkpointer for %s stopped; SQLite checkpoints on close", self.path)
            with self._guard:
                self._thread = None
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.stats.passive += 1
        if frames > RESET_FRAMES:
            self._restart_waiting_since = time.monotonic()
            self._no_restart_waiting.clear()
            try:
                with self.writer_lock:
                    conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            finally:
                self._no_restart_waiting.set()
            self.stats.restarts += 1


_checkpointers: dict[str, WalCheckpointer] = {}
_checkpointers_guard = threading.Lock()


def checkpointer_for(path: str, writer_lock: threading.Lock) -> WalCheckpointer:
    with _checkpointers_guard:
        found = _checkpointers.get(path)
        if found is None:
            found = _checkpointers[path] = WalCheckpointer(path, writer_lock)
        return found
