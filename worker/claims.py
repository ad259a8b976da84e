"""Pending claims on the worker side, as dramatiq middleware.

The appender claims a stream before sending "stream X moved" (worker/pending.py). A run takes
the claims of other queued streams along (one transaction for many streams); their own
messages, when they come, must then fold nothing twice and skip. Before a message runs, the
middleware either finds that a run here took its claim along (the message is skipped with
dramatiq's SkipMessage) or releases the claim, so that an append landing after the run's read
claims again and sends again. Both happen under the lock runs take claims under, so a claim is
either taken along by a run or released by its message, never both.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import dramatiq
from dramatiq.middleware import SkipMessage

from worker.pending import PendingStreams

log = logging.getLogger(__name__)

PROJECT_ACTOR = "project_stream"


class Claims:
    def __init__(self, pending: PendingStreams | None) -> None:
        self.pending = pending
        # Shared with the projector: its running-streams registry is guarded by it too.
        self.lock = threading.Lock()
        self._taken: Counter[str] = Counter()  # claims runs took along: messages to skip
        self.skipped = 0  # messages skipped so far (their stream was folded along)

    def skip_or_release(self, stream_id: str) -> bool:
        """For a message about to run: True if a run here already folded for it (skip)."""
        with self.lock:
            if self._taken[stream_id] > 0:
                self._taken[stream_id] -= 1
                if not self._taken[stream_id]:
                    del self._taken[stream_id]
                self.skipped += 1
                return True
            self.release(stream_id)
        return False

    def release(self, stream_id: str) -> None:
        if self.pending is not None:
            try:
                self.pending.release(stream_id)
            except Exception as exc:  # a claim left behind expires; the sweep covers the rest
                log.debug("could not release the pending claim of %s: %s", stream_id, exc)

    def take_along(self, limit: int) -> list[str]:
        """Claims of queued streams a run may fold now (call under `lock`; the caller says
        which it took with `taken`)."""
        if self.pending is None:
            return []
        try:
            return self.pending.take(limit)
        except Exception as exc:
            log.debug("could not take pending claims: %s", exc)
            return []

    def taken(self, stream_ids: list[str]) -> None:
        """Under `lock`: these streams' queued messages are to be skipped."""
        self._taken.update(stream_ids)


class QuietSkips(logging.Filter):
    """dramatiq logs every skipped message as a warning; a skip here is coalescing working as
    meant (most messages under load), so those records are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Message %s was skipped."


def quiet_skip_warnings() -> None:
    worker_log = logging.getLogger("dramatiq.worker.WorkerThread")
    if not any(isinstance(f, QuietSkips) for f in worker_log.filters):
        # First: the quiet-logs filter on this logger rewrites the messages it lets through
        # ("... (and N more like it)"), which this one would no longer recognise.
        worker_log.filters.insert(0, QuietSkips())


class ClaimsMiddleware(dramatiq.Middleware):
    """Skips a stream-moved message whose stream a run here already folded for it."""

    def __init__(self, claims: Claims) -> None:
        self.claims = claims

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if (
            message.actor_name == PROJECT_ACTOR
            and message.args
            and self.claims.skip_or_release(message.args[0])
        ):
            raise SkipMessage(f"{message.args[0]} was folded by a run that took its claim")
