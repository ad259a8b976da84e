"""Alert rules that need a clock, as pure functions of values (the caller passes `now`)."""

from __future__ import annotations

from projections.clock import US_PER_SECOND

SILENCE_US = 60 * US_PER_SECOND


def is_silent(status: str, last_recorded_at: int | None, now: int) -> bool:
    """A live session with no event recorded for 60 s."""
    return status == "live" and last_recorded_at is not None and now - last_recorded_at > SILENCE_US
