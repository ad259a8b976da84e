"""A run redraws the timeline only from the earliest minute that could have moved
(projections/timeline.py): each case folds in two runs, checks the minutes by hand, and checks
them against the timeline drawn whole from a freshly loaded state."""

from __future__ import annotations

from typing import Any

import orjson

from projections.session import SessionState, fold_session
from projections.timeline import session_timeline
from tests.builders import Broadcast


def two_runs(b: Broadcast, first: int) -> list[dict[str, Any]]:
    """The minutes after a run over the first `first` events and one over the rest; the same
    as those drawn whole from the state loaded afresh."""
    events = b.stored()
    state = SessionState("s-1")
    for event in events[:first]:
        state = fold_session(state, event)
    session_timeline(state)  # the first run draws every minute
    for event in events[first:]:
        state = fold_session(state, event)
    minutes: list[dict[str, Any]] = session_timeline(state)["minutes"]
    fresh = SessionState.load(orjson.loads(orjson.dumps(state.dump())))
    assert fresh is not None
    assert minutes == session_timeline(fresh)["minutes"]
    return minutes


def column(minutes: list[dict[str, Any]], name: str) -> list[Any]:
    return [minute[name] for minute in minutes]


def test_the_platform_starting_to_count_comments_redraws_the_minutes_before_its_reading() -> None:
    b = Broadcast().start(0)
    b.interact(10, "comment", "v1", text="好").interact(20, "comment", "v2", text="好")
    b.report(150, comments=7)  # minute 2: the platform counts comments from now on
    minutes = two_runs(b, 3)
    # minute 0's two comment events give way to the readings, whose first counts whole
    assert column(minutes, "interactions") == [0, 0, 7]


def test_a_cancellation_later_moves_the_minute_the_order_was_paid_in() -> None:
    b = Broadcast().start(0)
    b.place(10, "o-1", "v1", "100.00").pay(20, "o-1")
    b.join(130, "v2")
    b.cancel(200, "o-1")  # minute 3, of an order paid in minute 0
    minutes = two_runs(b, 4)
    assert column(minutes, "paid_orders") == [0, 0, 0, 0]
    assert column(minutes, "gmv") == [0.0, 0.0, 0.0, 0.0]


def test_a_late_join_moves_online_in_its_minute_and_every_one_after() -> None:
    b = Broadcast().start(0)
    b.join(10, "v1").join(250, "v2")  # minutes 0 and 4
    b.join(70, "v3")  # arrives last, for minute 1
    minutes = two_runs(b, 3)
    assert column(minutes, "online") == [1, 2, 2, 2, 3]
    assert column(minutes, "joins") == [1, 1, 0, 0, 1]


def test_minutes_the_clock_moved_past_are_filled_in() -> None:
    b = Broadcast().start(0)
    b.join(10, "v1")
    b.interact(200, "like", "v1", 2)  # minute 3: minutes 1 and 2 are drawn empty
    minutes = two_runs(b, 2)
    assert column(minutes, "interactions") == [0, 0, 0, 2]
    assert column(minutes, "online") == [1, 1, 1, 1]


def test_an_online_reading_is_carried_forward_from_its_minute_on() -> None:
    b = Broadcast().start(0)
    b.join(10, "v1").join(200, "v2")
    b.report(70, online=50)  # minute 1, folded after minute 3 was drawn
    minutes = two_runs(b, 3)
    assert column(minutes, "online") == [1, 50, 50, 50]
