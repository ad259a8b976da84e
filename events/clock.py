"""The wall clock, read in one place (projections never read it: they take times from events)."""

from __future__ import annotations

import time

from events.fields import format_timestamp, parse_timestamp

__all__ = ["format_timestamp", "now_micros", "parse_timestamp"]


def now_micros() -> int:
    """Microseconds since the epoch, UTC."""
    return time.time_ns() // 1000
