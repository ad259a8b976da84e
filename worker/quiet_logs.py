"""Quiet, useful logs through an expected outage: one line per cause per interval, with how
many more were like it, and no traceback for what is expected (a stream busy in another worker,
a database that went away and is being retried). Unexpected errors keep their tracebacks.

Installed once per process on the loggers that repeat during an outage (dramatiq's worker
threads, SQLAlchemy's pool, livetally's own outage warnings).
"""

from __future__ import annotations

import logging
import threading
import time

INTERVAL_SECONDS = 30.0
# Exceptions that are part of running, not failures: logged as one warning line.
EXPECTED = frozenset(
    {
        "StreamBusy",
        "CheckpointMoved",
        "OperationalError",
        "InterfaceError",
        "ConnectionError",
        "TimeoutError",
        "RedisError",
    }
)


class QuietRepeats(logging.Filter):
    def __init__(self, interval: float = INTERVAL_SECONDS) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        expected = exc is not None and type(exc).__name__ in EXPECTED
        if record.levelno >= logging.ERROR and exc is not None and not expected:
            return True  # unexpected: as it is, traceback and all
        cause = type(exc).__name__ if exc is not None else str(record.msg)
        key = (record.name, cause)
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._last[key] = now
            more = self._suppressed.pop(key, 0)
        if expected:
            assert exc is not None
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {first_line})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        if more:
            record.msg = f"{record.getMessage()} (and {more} more like it in {self.interval:.0f} s)"
            record.args = None
        return True


_installed: set[str] = set()
_install_lock = threading.Lock()
LOGGERS = (
    "dramatiq.worker.WorkerThread",
    "dramatiq.middleware.retries.Retries",
    "sqlalchemy.pool.impl.QueuePool",
    "sqlalchemy.pool.impl.NullPool",
    "sqlalchemy.pool",
    "service.process.http_errors",
    "worker.publish",
    "worker.dispatch",
    "worker.sweep",
    "worker.heartbeat",
    "worker.periodic",
    # dramatiq names a consumer's logger after its queue (and the queue's dead-letter twin).
    *(
        f"dramatiq.worker.ConsumerThread({queue})"
        for queue in ("projections", "projections.DQ", "connectors", "connectors.DQ")
    ),
    "service.ingest.connections.jobs",
    "service.ingest.pollers.runner",
)


def quiet_outage_logs(names: tuple[str, ...] = LOGGERS) -> None:
    """Idempotent: a logger gets its filter once."""
    with _install_lock:
        for name in names:
            if name not in _installed:
                logging.getLogger(name).addFilter(QuietRepeats())
                _installed.add(name)
