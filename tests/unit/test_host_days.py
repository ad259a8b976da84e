"""A session's contribution to its host's day moves by exact deltas (projections/host_days.py)."""

from __future__ import annotations

from typing import Any

from projections.host_days import DAY_US, contribution, host_day_deltas
from projections.tables import SCORED_SUMS

STARTED = 20 * DAY_US + 3_600_000_000  # an hour into day 20


def view_row(host_id: str = "h1", clock: int = STARTED + 60_000_000, **sums: int) -> dict[str, Any]:
    return {
        "host_id": host_id,
        "started_at": STARTED,
        "ended_at": None,
        "clock": clock,
        **{name: sums.get(name, 0) for name in SCORED_SUMS},
    }


def test_a_run_on_the_same_day_adds_only_what_moved() -> None:
    before = contribution(view_row(views=10, gmv_fen=9_900))
    after = contribution(view_row(clock=STARTED + 90_000_000, views=12, gmv_fen=9_900))
    deltas, drops = host_day_deltas(before, after)
    assert drops == []
    assert [delta.row for delta in deltas] == [
        {
            "host_id": "h1",
            "day": 20,
            "sessions": 0,
            "on_air_us": 30_000_000,
            **{name: 2 if name == "views" else 0 for name in SCORED_SUMS},
        }
    ]


def test_a_run_that_moved_nothing_adds_nothing() -> None:
    row = contribution(view_row(views=10))
    assert host_day_deltas(row, contribution(view_row(views=10))) == ([], [])


def test_a_new_session_adds_itself_whole() -> None:
    deltas, drops = host_day_deltas(None, contribution(view_row(views=3)))
    assert drops == []
    assert deltas[0].row["sessions"] == 1
    assert deltas[0].row["on_air_us"] == 60_000_000
    assert deltas[0].row["views"] == 3


def test_a_session_moved_to_another_host_leaves_the_first_and_joins_the_second() -> None:
    deltas, drops = host_day_deltas(
        contribution(view_row("h1", views=5)), contribution(view_row("h2", views=6))
    )
    rows = {delta.row["host_id"]: delta.row for delta in deltas}
    assert rows["h1"]["sessions"] == -1
    assert rows["h1"]["views"] == -5
    assert rows["h1"]["on_air_us"] == -60_000_000
    assert rows["h2"]["sessions"] == 1
    assert rows["h2"]["views"] == 6
    assert [drop.where for drop in drops] == [{"host_id": "h1", "day": 20}]
