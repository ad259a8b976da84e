"""After an append commits: one "streams moved" message naming the streams it touched (up to a
run's group each), never one per event or per stream."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import dramatiq

from worker.pending import PendingStreams

log = logging.getLogger(__name__)


BREAKER_SECONDS = 5.0  # after a failed enqueue, appends skip the broker this long
# Streams one message names at most. In-process (`livetally up`), one message per append: its
# run folds them a group at a time, back to back, and one worker thread at a time can write to
# SQLite anyway. With Redis, a group's worth (worker/projector.py GROUP), so that the worker
# processes share a large append between them.
IN_PROCESS_MESSAGE_STREAMS = 512


class StreamDispatcher:
    """Sends the messages, behind a circuit breaker: once the broker fails, appends skip it
    for BREAKER_SECONDS (the sweep projects what they touched), so a Redis that is down or
    hung costs one append its timeout, not every append."""

    def __init__(
        self,
        actor: dramatiq.Actor,
        pending: PendingStreams,
        clock: Callable[[], float] = time.monotonic,
        streams_per_message: int = IN_PROCESS_MESSAGE_STREAMS,
    ) -> None:
        self.actor = actor
        self.pending = pending
        self.clock = clock
        self.streams_per_message = streams_per_message
        self.open_until = 0.0

    @property
    def broken(self) -> bool:
        return self.clock() < self.open_until

    def streams_moved(self, stream_ids: Iterable[str]) -> bool:
        """Send what is needed; False if the broker could not be reached.

        A failure never reaches the appender: the events are stored, and the sweep finds
        streams whose projections are behind their heads.
        """
        if self.broken:
            return False
        # A stream already claimed has a message queued, whose run will read the new events.
        # The others go out a message per `streams_per_message`: at 500 rooms an append
        # moves about 300 streams ten times a second, and a message per stream, each paced and
        # passed through the broker, held the embedded worker back (docs/deploy.md).
        claimed: list[str] = []
        try:
            for stream_id in stream_ids:
                if self.pending.claim(stream_id):
                    claimed.append(stream_id)
            size = self.streams_per_message
            for start in range(0, len(claimed), size):
                self.actor.send(*claimed[start : start + size])
        except Exception as exc:
            # One failure means the broker is down: skip the rest, the sweep has them.
            # Claims left behind expire by themselves; releasing them now would wait on the
            # same broken Redis once per stream.
            self.open_until = self.clock() + BREAKER_SECONDS
            log.warning(
                "could not enqueue projections (%s); the sweep will, and appends skip "
                "the broker for %.0f s",
                exc,
                BREAKER_SECONDS,
            )
            return False
        return True
