"""After an append commits: one "stream X moved" message per touched stream, never per event."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import dramatiq

from worker.pending import PendingStreams

log = logging.getLogger(__name__)


class StreamDispatcher:
    def __init__(self, actor: dramatiq.Actor, pending: PendingStreams) -> None:
        self.actor = actor
        self.pending = pending

    def streams_moved(self, stream_ids: Iterable[str]) -> bool:
        """Send what is needed; False if the broker could not be reached.

        A failure never reaches the appender: the events are stored, and the sweep finds
        streams whose projections are behind their heads.
        """
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
            for unsent in claimed[sent:]:
                self._release_quietly(unsent)
            log.warning("could not enqueue projections (%s); the sweep will", exc)
            return False
        return True

    def _release_quietly(self, stream_id: str) -> None:
        try:
            self.pending.release(stream_id)
        except Exception:
            log.debug("could not release the pending claim of %s", stream_id)
