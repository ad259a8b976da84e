"""The dramatiq actors, declared on a broker handed in (never on a global one at import)."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq

from events.errors import LivetallyError

PROJECTIONS_QUEUE = "projections"


class UnknownStream(LivetallyError):
    """Raised when a stream id is of no family livetally projects: retrying cannot help."""


def declare_project_stream(
    broker: dramatiq.Broker, project: Callable[[list[str]], object]
) -> dramatiq.Actor:
    # One message names the streams one append moved (up to a run's group), so that a busy
    # studio's appends cost a message each, not one per stream (worker/dispatch.py); a message
    # naming one stream, as older versions sent, is the same message.
    def project_stream(stream_id: str, *more: str) -> None:
        project([stream_id, *more])

    return dramatiq.Actor(
        project_stream,
        broker=broker,
        actor_name="project_stream",
        queue_name=PROJECTIONS_QUEUE,
        priority=0,
        options={
            # A run is idempotent (it reads from the checkpoint), so retrying is always safe;
            # after the retries the sweep still finds the stream behind its head.
            "max_retries": 8,
            "min_backoff": 100,
            "max_backoff": 5_000,
            "time_limit": 120_000,
            # A message older than this is stale: a later run or the sweep has done its work.
            "max_age": 3_600_000,
            "throws": (UnknownStream,),
        },
    )
