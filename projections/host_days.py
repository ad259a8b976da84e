"""Keeps host_day in step with session_view: a session's contribution moves by exact deltas."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from events.database import fetch_rows
from projections.tables import SCORED_SUMS, host_day, session_view
from projections.upsert import add_to

DAY_US = 86_400 * 1_000_000
Contribution = tuple[tuple[str, int], dict[str, int]]  # ((host_id, day), values)

_OLD = (f"SELECT host_id, started_at, ended_at, clock, {', '.join(SCORED_SUMS)} "
        f"FROM {session_view.name} WHERE session_id = {{p}}")


def contribution(host_id: str | None, started_at: int | None, ended_at: int | None,
                 clock: int | None, sums: dict[str, int]) -> Contribution | None:
    """What one session adds to its host's day: nothing until it has a host and a start."""
    if host_id is None or started_at is None:
        return None
    until = ended_at if ended_at is not None else (clock if clock is not None else started_at)
    values = {"sessions": 1, "on_air_us": max(0, until - started_at), **sums}
    return (host_id, started_at // DAY_US), values


def previous_contribution(conn: Connection, session_id: str) -> Contribution | None:
    """Read before the session's row is rewritten."""
    rows = fetch_rows(conn, _OLD, (session_id,))
    if not rows:
        return None
    host_id, started_at, ended_at, clock, *sums = rows[0]
    return contribution(host_id, started_at, ended_at, clock, dict(zip(SCORED_SUMS, sums,
                                                                       strict=True)))


def move(conn: Connection, old: Contribution | None, new: Contribution | None) -> None:
    changes: dict[tuple[str, int], dict[str, int]] = {}
    if old is not None:
        changes[old[0]] = {k: -v for k, v in old[1].items()}
    if new is not None:
        base = changes.setdefault(new[0], dict.fromkeys(new[1], 0))
        for k, v in new[1].items():
            base[k] += v
    for (host_id, day), delta in changes.items():
        if not any(delta.values()):
            continue
        add_to(conn, host_day, {"host_id": host_id, "day": day, **delta}, ["host_id", "day"])
        if delta["sessions"] < 0:  # a session left this day: drop the row if it is now empty
            conn.execute(host_day.delete().where(host_day.c.host_id == host_id,
                                                 host_day.c.day == day,
                                                 host_day.c.sessions == 0))


def sums_of(row: dict[str, Any]) -> dict[str, int]:
    return {name: int(row[name]) for name in SCORED_SUMS}
