"""The worker's errors."""

from __future__ import annotations

from events.errors import LivetallyError


class CheckpointMoved(LivetallyError):
    """Raised when a stream kept being projected elsewhere while this worker folded it."""


class StreamBusy(LivetallyError):
    """Raised when another worker holds the stream's lock (PostgreSQL): the message is retried
    later instead of queueing behind a holder that may be frozen."""
