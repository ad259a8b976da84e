"""Time helpers for folds: integers of microseconds since the epoch, never wall-clock reads."""

from __future__ import annotations

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND


def minute_of(micros: int) -> int:
    """Minute bucket number (minutes since the epoch, UTC)."""
    return micros // US_PER_MINUTE


def ratio(numerator: float, denominator: float) -> float | None:
    """A ratio, or None when the denominator is zero (docs/contract.md: null, not 0 or infinity)."""
    return numerator / denominator if denominator else None
