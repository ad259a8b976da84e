"""Alert thresholds that need a clock: the sweep applies them with its own `now`."""

from __future__ import annotations

from projections.clock import US_PER_SECOND

SILENCE_US = 60 * US_PER_SECOND
