"""A room's per-minute figures after it ended, as readings the fold draws the timeline from
(docs/connectors.md, "Per-minute figures after a LIVE"). Pure: the runner fetches and appends.

The platform gives each minute's own change (an increment); the fold draws a minute from the
difference between the last reading in it and the last before it, and takes a figure's final
value from its latest reading. So:
- each figure that has a readable change in every minute becomes a cumulative reading (the sum
  of the changes so far) at the end of each minute (its last microsecond), never later than
  a microsecond before the session's end: every per-minute reading is older than the reading
  that saw the room end, so the latest reading, the final figures, stay as they were;
- a minute that starts at or after the session's end gets no reading of its own;
- a figure is kept only if the fold, given the readings already stored plus these, keeps its
  final value (same reading, same value: a figure no reading carried stays unreported) and
  draws no negative minute that was not already there. Otherwise that figure is left out
  whole: the stored readings alone draw it, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from events.recorder import StoredEvent
from projections.clock import US_PER_MINUTE, minute_of
from projections.reported import Reported
from service.ingest.pollers.base import MinuteFigures


@dataclass(frozen=True)
class MinuteReading:
    occurred_at: int  # µs: the minute's last microsecond (or just before the session's end)
    minute: int  # the minute it is about (minutes since the epoch)
    figures: dict[str, int]  # cumulative since the first minute


def cumulative(minutes: Iterable[MinuteFigures], ended_at_us: int) -> list[MinuteReading]:
    """The cumulative reading at the end of each minute, for the figures every minute gives."""
    by_start: dict[int, dict[str, int | None]] = {}
    for found in minutes:
        known = by_start.get(found.start_us)
        if known is None:
            by_start[found.start_us] = dict(found.changes)
        else:  # one start told twice: a figure whose tellings differ is not known
            for name, value in found.changes.items():
                if known.get(name) != value:
                    known[name] = None
    if not by_start:
        return []
    told = sorted({n for changes in by_start.values() for n in changes})
    names = [n for n in told if all(c.get(n) is not None for c in by_start.values())]
    if not names:
        return []
    totals = dict.fromkeys(names, 0)
    last_of_minute: dict[int, dict[str, int]] = {}
    for start in sorted(by_start):
        changes = by_start[start]
        for name in names:
            totals[name] += changes[name] or 0  # never None here: `names` are told everywhere
        last_of_minute[minute_of(start)] = dict(totals)
    readings = []
    for minute, figures in sorted(last_of_minute.items()):
        at = min((minute + 1) * US_PER_MINUTE - 1, ended_at_us - 1)
        if minute_of(at) == minute:
            readings.append(MinuteReading(at, minute, figures))
    return readings


def verified(
    stored: Iterable[StoredEvent], proposed: list[MinuteReading], source: str
) -> list[MinuteReading]:
    """`proposed`, keeping only the figures the fold can take without changing a final value
    or drawing a new negative minute (module docstring)."""
    before = Reported()
    head = 0
    for event in stored:
        head = max(head, event.version)
        if event.type == "room.stats_reported":
            before.add(event.occurred_at, event.version, event.data)
    after = Reported.load(before.dump())
    for i, reading in enumerate(proposed):
        after.add(reading.occurred_at, head + 1 + i, {"source": source, **reading.figures})
    names = {n for r in proposed for n in r.figures}
    kept = {
        name
        for name in names
        if _same(before.stamp(name), after.stamp(name))
        and not any(
            change < 0 and before.minute_values(name).get(minute) != change
            for minute, change in after.minute_values(name).items()
        )
    }
    readings = [
        MinuteReading(r.occurred_at, r.minute, {n: v for n, v in r.figures.items() if n in kept})
        for r in proposed
    ]
    return [r for r in readings if r.figures]


def _same(first: Any, second: Any) -> bool:
    return first is not None and second is not None and tuple(first) == tuple(second)
