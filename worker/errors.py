"""The worker's errors."""

from __future__ import annotations

from events.errors import LivetallyError


class CheckpointMoved(LivetallyError):
    """Raised when a stream kept being projected elsewhere while this worker folded it."""


class StreamBusy(LivetallyError):
    """Raised when another worker holds the stream's lock (PostgreSQL): the message is retried
    later instead of queueing behind a holder that may be frozen."""


class WorkersRunning(LivetallyError):
    """Raised when a rebuild is asked for while a worker has a fresh heartbeat: its runs would
    fold streams into the emptied tables alongside the rebuild, counting them twice."""


class RebuildRunning(LivetallyError):
    """Raised when an online rebuild is asked for while another one runs: both would fold into
    the same shadow tables."""


class RebuildStopped(LivetallyError):
    """Raised when an online rebuild is told to stop (its process is stopping): the shadows
    are dropped, the live tables are as they were."""
