"""Keeps host_day in step with session_view: a session's contribution moves by exact deltas.

Pure: given the session's previous session_view row (read by the worker) and its new one, it
says which host_day rows change by how much.
"""

from __future__ import annotations

from typing import Any

from projections.tables import SCORED_SUMS, host_day
from projections.writes import DropIfEmpty, RowDelta

DAY_US = 86_400 * 1_000_000
KEYS = ("host_id", "day")
Contribution = tuple[tuple[str, int], dict[str, int]]  # ((host_id, day), values)


def contribution(row: dict[str, Any] | None) -> Contribution | None:
    """What one session_view row adds to its host's day: nothing until it has a host and a
    start."""
    if row is None or row.get("host_id") is None or row.get("started_at") is None:
        return None
    started_at = row["started_at"]
    ended_at, clock = row.get("ended_at"), row.get("clock")
    until = ended_at if ended_at is not None else (clock if clock is not None else started_at)
    values = {
        "sessions": 1,
        "on_air_us": max(0, until - started_at),
        **{name: int(row[name]) for name in SCORED_SUMS},
    }
    return (row["host_id"], started_at // DAY_US), values


def host_day_deltas(
    old: Contribution | None, new: Contribution | None
) -> tuple[list[RowDelta], list[DropIfEmpty]]:
    if old is not None and new is not None and old[0] == new[0]:
        # The usual run: the same host and day, whose sums move by the difference.
        before = old[1]
        moved = {k: v - before[k] for k, v in new[1].items()}
        if not any(moved.values()):
            return [], []
        (host_id, day) = new[0]
        return [RowDelta(host_day, {"host_id": host_id, "day": day, **moved}, KEYS)], []
    changes: dict[tuple[str, int], dict[str, int]] = {}
    if old is not None:
        changes[old[0]] = {k: -v for k, v in old[1].items()}
    if new is not None:
        base = changes.setdefault(new[0], dict.fromkeys(new[1], 0))
        for k, v in new[1].items():
            base[k] += v
    deltas: list[RowDelta] = []
    drops: list[DropIfEmpty] = []
    for (host_id, day), delta in changes.items():
        if not any(delta.values()):
            continue
        deltas.append(RowDelta(host_day, {"host_id": host_id, "day": day, **delta}, KEYS))
        if delta["sessions"] < 0:  # a session left this day: drop the row if it is now empty
            drops.append(DropIfEmpty(host_day, {"host_id": host_id, "day": day}, "sessions"))
    return deltas, drops
