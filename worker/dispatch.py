"""After an append commits: one "stream X moved" message per touched stream, never per event."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import dramatiq

from worker.pending import PendingStreams

log = logging.getLogger(__name__)


BREAKER_SECONDS = 5.0  # after a failed enqueue, appends skip the broker this long


class StreamDispatcher:
    """Sends the messages, behind a circuit breaker: once the broker fails, appends skip it
    for BREAKER_SECONDS (the sweep projects what they touched), so a Redis that is down or
    hung costs one append its timeout, not every append."""

    def __init__(
        self,
        actor: dramatiq.Actor,
        pending: PendingStreams,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.actor = actor
        self.pending = pending
        self.clock = clock
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
        # Claim them all before sending any: a worker that starts on the first message then
        # finds the others claimed, and folds the whole append in one run (worker/projector.py).
        claimed: list[str] = []
        sent = 0
        try:
            for stream_id in stream_ids:
                if self.pending.claim(stream_id):
                    claimed.append(stream_id)
            for stream_id in claimed:
                self.actor.send(stream_id)
                sent += 1
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
