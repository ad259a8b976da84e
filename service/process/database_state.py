"""Why the database cannot be used, said plainly: `read-only`, `disk full` or `unreachable`, and
the last write failure this process saw (so /health does not say `ok` while writes fail)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

READ_ONLY, DISK_FULL, UNREACHABLE = "read-only", "disk full", "unreachable"
REMEMBER_SECONDS = 60.0  # a write failure older than this, with none since, is forgotten


def cause_of(exc: BaseException) -> str:
    """The cause of a database error, from the driver's own words (SQLite's and PostgreSQL's
    error texts: SQLITE_READONLY, SQLITE_FULL; read_only_sql_transaction, disk_full)."""
    text = f"{exc} {getattr(exc, 'orig', '')}".lower()
    if "readonly" in text or "read-only" in text or "read only" in text:
        return READ_ONLY
    if "disk is full" in text or "disk full" in text or "no space left" in text:
        return DISK_FULL
    return UNREACHABLE


@dataclass
class WriteFailures:
    """The latest write failure of this process and when; cleared by a later success."""

    cause: str | None = None
    at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, cause: str) -> None:
        with self._lock:
            self.cause, self.at = cause, time.monotonic()

    def succeeded(self) -> None:
        if self.cause is not None:
            with self._lock:
                self.cause = None

    def current(self) -> str | None:
        with self._lock:
            if self.cause is not None and time.monotonic() - self.at > REMEMBER_SECONDS:
                self.cause = None
            return self.cause


def unusable(exc: BaseException, url: str | None = None) -> str:
    """The one line that says why the database cannot be used, from its driver's error."""
    where = f"the database {_shown(url)}" if url else "the database"
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
    return f"{where} cannot be used: it is {cause_of(exc)} ({detail[0][:200]})"


def _shown(url: str) -> str:
    """The URL without its password: this line goes to logs and terminals."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable URL)"


class DatabaseUnusable(Exception):
    """Raised at start when the database cannot be opened or written: the message is the one
    line the operator reads."""
