"""Pending claims on the worker side.

The appender claims a stream before naming it in a "streams moved" message (worker/pending.py).
A run takes the claims of other queued streams along (one transaction for many streams); their
own messages, when they come, must then fold nothing twice. A message's run settles its streams'
claims a group at a time, just before it reads them (Projector.project_many): a stream a run
here took along is left out, the others' claims are released, so that an append landing after
the read claims again and sends again. Settling happens under the lock runs take claims under,
so a claim is either taken along by a run or released by its message, never both. Settling per
group, not when the message starts, keeps the claims of streams still waiting in a long
message held: appends meanwhile send nothing for them.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

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

    def settle(self, stream_ids: list[str]) -> list[str]:
        """Call under `lock`, for a message's streams about to be read by its run: those a run
        here took along meanwhile are left out (that run folded for them); the others' claims
        are released, and they are returned, to be folded now."""
        kept = []
        for stream_id in stream_ids:
            if self._taken[stream_id] > 0:
                self._taken[stream_id] -= 1
                if not self._taken[stream_id]:
                    del self._taken[stream_id]
                self.skipped += 1
            else:
                kept.append(stream_id)
        if kept and self.pending is not None:
            try:
                self.pending.release_many(kept)
            except Exception as exc:  # a claim left behind expires; the sweep covers the rest
                log.debug("could not release pending claims: %s", exc)
        return kept

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
    """dramatiq logs every skipped message as a warning. Since runs settle claims themselves,
    the only skips left are dramatiq's AgeLimit dropping a message older than the actor's
    max_age (worker/actors.py): stale by design, a later run or the sweep did its work, so
    those records are dropped too."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Message %s was skipped."


def quiet_skip_warnings() -> None:
    worker_log = logging.getLogger("dramatiq.worker.WorkerThread")
    if not any(isinstance(f, QuietSkips) for f in worker_log.filters):
        # First: the quiet-logs filter on this logger rewrites the messages it lets through
        # ("... (and N more like it)"), which this one would no longer recognise.
        worker_log.filters.insert(0, QuietSkips())
