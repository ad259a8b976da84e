"""Alerts have a lifecycle: raised once per drop or silence, on while it lasts, then cleared (or
resolved). Small hand-made broadcasts; every expected time and count is worked out by hand.

In these tests an event's recorded_at is its occurred_at (tests/builders.py), so a silence is
a gap of over 60 s between two events while live.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from projections.alerts import alert_now, alert_state, open_silence
from projections.review import session_review
from projections.segments import products_and_segments
from projections.session import SessionState, fold_all
from projections.session_metrics import session_metrics
from projections.session_rows import session_document_of
from service.reads.views import with_silence
from tests.builders import Broadcast

S = 1_000_000
T0_US = 1_793_620_800 * S  # tests/builders.T0, 2026-11-02 12:00:00 UTC, in microseconds


def at(seconds: int) -> str:
    """A time in the first hour after T0 as the documents write it."""
    return f"2026-11-02T12:{seconds // 60:02d}:{seconds % 60:02d}.000Z"


def fold(b: Broadcast) -> SessionState:
    return fold_all(SessionState(b.session_id), b.stored())


def of_kind(state: SessionState, kind: str) -> list[dict[str, Any]]:
    return [a for a in state.alert_log if a["kind"] == kind]


def twenty_then_fourteen() -> Broadcast:
    """20 viewers join at 0..19 s (online 20), v0..v5 leave at 30..35 s: online 14, which is
    70% of the 5-minute high of 20, so a drop is raised at 35 s, from 20 to 14."""
    b = Broadcast().start(0)
    for i in range(20):
        b.join(i, f"v{i}")
    for i in range(6):
        b.leave(30 + i, f"v{i}")
    return b


def test_online_hovering_about_the_70_percent_line_is_one_drop() -> None:
    b = twenty_then_fourteen()
    # 15, 14, 15, 14, 15, 14: over and under the 70% line (14) three times, never back to
    # 85% of the high (17): the same drop
    for k in range(3):
        b.join(40 + 2 * k, "v0").leave(41 + 2 * k, "v0")
    state = fold(b)
    drops = of_kind(state, "online_drop")
    assert len(drops) == 1
    assert (drops[0]["from"], drops[0]["to"], drops[0]["at"]) == (20, 14, T0_US + 35 * S)
    assert drops[0]["cleared_at"] is None and state.drop_active
    assert [a["kind"] for a in state.alerts] == ["online_drop"]  # published once


def test_a_drop_clears_when_online_is_back_to_85_percent_and_the_next_fall_is_a_new_drop() -> None:
    b = twenty_then_fourteen()
    b.join(50, "v0").join(51, "v1")  # 15, 16: still under 17
    b.join(52, "v2")  # 17 = 85% of 20: the drop is over at 52 s
    b.leave(55, "v0").leave(56, "v1").leave(57, "v2")  # 16, 15, 14: a new drop at 57 s
    state = fold(b)
    drops = of_kind(state, "online_drop")
    assert [(d["from"], d["to"], d["at"]) for d in drops] == [
        (20, 14, T0_US + 35 * S),
        (20, 14, T0_US + 57 * S),
    ]
    assert drops[0]["cleared_at"] == T0_US + 52 * S
    assert drops[1]["cleared_at"] is None
    assert [alert_state(alert_now(d, {})) for d in drops] == ["cleared", "on"]


def test_a_lower_level_held_for_five_minutes_clears_the_drop() -> None:
    b = twenty_then_fourteen()
    # a like every 50 s keeps the room from going silent; online stays 14. The highs of 19 s
    # (20) and 30..34 s (19..15) leave the 5-minute window once an event comes after 334 s:
    # the one at 350 s, when the high is 14 itself
    for t in range(50, 401, 50):
        b.interact(t, "like", "v10")
    state = fold(b)
    (drop,) = of_kind(state, "online_drop")
    assert drop["cleared_at"] == T0_US + 350 * S
    assert not state.drop_active


def test_a_drop_still_on_when_the_broadcast_ends_ends_with_it() -> None:
    state = fold(twenty_then_fourteen().end(50))
    (drop,) = of_kind(state, "online_drop")
    assert drop["cleared_at"] == T0_US + 50 * S
    assert alert_now(drop, {})["state"] == "cleared"


def test_a_silence_is_logged_cleared_when_events_resume() -> None:
    # last event at 10 s; the next at 100 s, 90 s later: silent for over 60 s
    state = fold(Broadcast().start(0).join(10, "v1").join(100, "v2"))
    (silence,) = of_kind(state, "no_events")
    assert silence == {
        "kind": "no_events",
        "since": T0_US + 10 * S,
        "at": T0_US + 70 * S,  # raised 60 s after the last event
        "cleared_at": T0_US + 100 * S,
    }
    assert state.alerts == []  # the sweep raised it live: not published again
    shown = alert_now(silence, {})
    assert (shown["since"], shown["at"], shown["cleared_at"], shown["state"]) == (
        at(10),
        at(70),
        at(100),
        "cleared",
    )


def test_sixty_seconds_exactly_or_before_the_start_or_after_the_end_is_no_silence() -> None:
    assert of_kind(fold(Broadcast().start(0).join(10, "v1").join(70, "v2")), "no_events") == []
    # pending (no session.started yet): the sweep does not watch it either
    pending = Broadcast().join(0, "v1").join(100, "v2")
    assert of_kind(fold(pending), "no_events") == []
    ended = Broadcast().start(0).join(10, "v1").end(20).join(200, "v2")
    assert of_kind(fold(ended), "no_events") == []


def test_the_end_event_after_a_silence_clears_it() -> None:
    state = fold(Broadcast().start(0).join(10, "v1").end(200))
    (silence,) = of_kind(state, "no_events")
    assert (silence["since"], silence["cleared_at"]) == (T0_US + 10 * S, T0_US + 200 * S)


def test_a_platform_gap_says_when_it_closed() -> None:
    # ours 100.00; two reports in a row 200 and 210 over the threshold of 100: raised at
    # 120 s; one 50 apart at 150 s: cleared then (reports every 30 s: no silence)
    b = (
        Broadcast()
        .start(0)
        .join(10, "v1")
        .place(20, "o1", "v1", "100.00")
        .pay(21, "o1")
        .report(60, gmv="300.00")
        .report(120, gmv="310.00")
        .report(150, gmv="150.00")
    )
    state = fold(b)
    gap, closed = (a for a in state.alert_log if a["kind"].startswith("platform_gap"))
    assert (gap["kind"], gap["at"], gap["cleared_at"]) == (
        "platform_gap",
        T0_US + 120 * S,
        T0_US + 150 * S,
    )
    assert closed["kind"] == "platform_gap_cleared" and "cleared_at" not in closed
    assert [alert_now(a, {})["state"] for a in (gap, closed)] == ["cleared", "raised"]


def test_the_document_and_the_review_carry_each_alert_with_its_state() -> None:
    b = twenty_then_fourteen()
    b.incident(36, "i-1", kind="technical_failure")
    b.join(100, "v0").join(101, "v1").join(102, "v2")  # 36 -> 100 s: a silence; back to 17
    b.resolve(103, "i-1")
    b.leave(104, "v0").leave(105, "v1").leave(106, "v2")  # a second drop, still on
    state = fold(b)
    document = session_document_of(state)
    shown = [(a["kind"], a["at"], a["state"]) for a in document["alerts"]]
    assert shown == [
        ("online_drop", at(35), "cleared"),
        ("incident_opened", at(36), "resolved"),
        ("no_events", at(96), "cleared"),  # logged when events resumed at 100 s
        ("online_drop", at(106), "on"),
    ]
    assert document["alerts"][0]["cleared_at"] == at(102)
    assert document["alerts"][1]["resolved_at"] == at(103)
    assert document["alerts"][2]["since"] == at(36)
    products, segments = products_and_segments(state)
    review = session_review(state, session_metrics(state), products, segments)
    # the review lists incidents on their own: its alerts are the rest, as they stand
    assert [(a["kind"], a["state"]) for a in review["alerts"]] == [
        ("online_drop", "cleared"),
        ("no_events", "cleared"),
        ("online_drop", "on"),
    ]


Row = namedtuple("Row", "status silent_since last_recorded_at")


def test_a_snapshot_taken_while_the_room_is_silent_lists_the_silence_on() -> None:
    last = T0_US + 10 * S
    body: dict[str, Any] = {"alerts": [{"kind": "online_drop", "state": "on"}]}
    with_silence(body, Row("live", last + 60 * S, last))  # the sweep marked it, no event since
    assert body["alerts"][-1] == open_silence(last)
    assert body["alerts"][-1] == {
        "kind": "no_events",
        "since": at(10),
        "at": at(70),
        "cleared_at": None,
        "state": "on",
    }
    for row in (
        Row("live", last + 60 * S, last + 61 * S),  # an event came since: over
        Row("live", None, last),  # not marked
        Row("ended", last + 60 * S, last),
    ):
        body = {"alerts": []}
        with_silence(body, row)
        assert body["alerts"] == []
