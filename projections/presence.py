"""Who is watching: presence intervals per viewer, paired in occurred_at order.

A viewer's joins and leaves are kept sorted by (occurred_at, version). Joins open a presence
unless one is open (a re-entry without a leave is another view, not a second presence); a leave
closes the open presence or, with none open, is ignored. Events that arrive in order are applied
in O(1); one that arrives out of order re-pairs that viewer's marks.
"""

from __future__ import annotations

from bisect import insort
from typing import Any

JOIN, LEAVE = 1, 0
US_PER_MINUTE = 60_000_000


class Viewer:
    __slots__ = ("closed_us", "first", "marks", "open_since")

    def __init__(self) -> None:
        self.first: tuple[int, int, str] | None = None  # (occurred_at, version, source)
        self.marks: list[tuple[int, int, int]] = []  # (occurred_at, version, JOIN|LEAVE)
        self.open_since: int | None = None
        self.closed_us = 0

    def dump(self) -> list[Any]:
        return [self.first, self.marks, self.open_since, self.closed_us]

    @classmethod
    def load(cls, raw: list[Any]) -> Viewer:
        viewer = cls()
        first, marks, viewer.open_since, viewer.closed_us = raw
        viewer.first = tuple(first) if first else None
        viewer.marks = [tuple(m) for m in marks]
        return viewer


class Presence:
    """Aggregates over all viewers, kept exact as marks arrive."""

    __slots__ = ("base", "closed_total", "deltas", "open_count", "open_sum")

    def __init__(self) -> None:
        # minute -> presences opened less presences closed in it, by event time: the online
        # at the end of a minute is their sum up to it, whatever order the events came in
        self.deltas: dict[int, int] = {}
        self.closed_total = 0  # microseconds of closed presences
        self.open_count = 0
        # Sum of (open_since - base) over open presences. Relative to a base time, because
        # absolute microseconds (~1.8e15) summed over thousands of viewers overflow 64 bits.
        self.open_sum = 0
        self.base: int | None = None

    def mark(self, viewer: Viewer, occurred_at: int, version: int, kind: int) -> None:
        mark = (occurred_at, version, kind)
        if not viewer.marks or mark > viewer.marks[-1]:
            viewer.marks.append(mark)
            self._delta(occurred_at, self._step(viewer, occurred_at, kind))
            return
        for at, change in _pairing(viewer.marks):  # the old pairing's minutes, taken back
            self._delta(at, -change)
        insort(viewer.marks, mark)
        self._forget(viewer)
        viewer.open_since, viewer.closed_us = None, 0
        for at, _, step_kind in viewer.marks:
            self._delta(at, self._step(viewer, at, step_kind))

    def _delta(self, at: int, change: int) -> None:
        if change:
            minute = at // US_PER_MINUTE
            self.deltas[minute] = self.deltas.get(minute, 0) + change

    def _step(self, viewer: Viewer, at: int, kind: int) -> int:
        """Applies one mark; +1 when it opened a presence, -1 when it closed one, else 0."""
        if kind == JOIN:
            if viewer.open_since is None:
                if self.base is None:
                    self.base = at
                viewer.open_since = at
                self.open_count += 1
                self.open_sum += at - self.base
                return 1
            return 0
        if viewer.open_since is not None:
            duration = at - viewer.open_since
            viewer.closed_us += duration
            self.closed_total += duration
            self.open_count -= 1
            self.open_sum -= viewer.open_since - (self.base or 0)
            viewer.open_since = None
            return -1
        return 0

    def _forget(self, viewer: Viewer) -> None:
        self.closed_total -= viewer.closed_us
        if viewer.open_since is not None:
            self.open_count -= 1
            self.open_sum -= viewer.open_since - (self.base or 0)

    def online_by_minute(self, minutes: list[int]) -> dict[int, int]:
        """The presences open at the end of each of these minutes (sorted), by event time."""
        found: dict[int, int] = {}
        changes = sorted(self.deltas.items())
        running, index = 0, 0
        for minute in minutes:
            while index < len(changes) and changes[index][0] <= minute:
                running += changes[index][1]
                index += 1
            found[minute] = running
        return found

    def open_watch_us(self, until: int, viewers: dict[str, Viewer], exact: bool) -> int:
        """Watch time of open presences counted up to `until`.

        While live every open presence started at or before the clock, so the sum is
        `count * until - sum(open_since)`. After the end a presence may have opened after
        ended_at (a late join): `exact` walks the viewers and counts those as zero.
        """
        if not exact:
            return self.open_count * (until - (self.base or 0)) - self.open_sum
        return sum(
            max(0, until - v.open_since) for v in viewers.values() if v.open_since is not None
        )


def _pairing(marks: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The opens (+1) and closes (-1) a viewer's marks make, by the pairing rule above."""
    changes, open_ = [], False
    for at, _, kind in marks:
        if kind == JOIN and not open_:
            changes.append((at, 1))
            open_ = True
        elif kind == LEAVE and open_:
            changes.append((at, -1))
            open_ = False
    return changes
