"""Folding is indifferent to how a stream is cut into runs and to snapshot round trips."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.session import SessionState, fold_session
from projections.session_metrics import session_metrics
from projections.timeline import session_timeline
from tests.builders import Broadcast
from tests.strategies import broadcasts


@settings(max_examples=150, deadline=None)
@given(b=broadcasts, cuts=st.lists(st.integers(0, 70), max_size=6))
def test_any_split_into_runs_with_snapshots_between_gives_identical_numbers(
    b: Broadcast, cuts: list[int]
) -> None:
    events = b.stored()
    whole = SessionState("s-1")
    for event in events:
        whole = fold_session(whole, event)

    pieces = SessionState("s-1")
    boundaries = sorted({c for c in cuts if 0 < c < len(events)})
    start = 0
    for end in [*boundaries, len(events)]:
        for event in events[start:end]:
            pieces = fold_session(pieces, event)
        # a worker restart between runs: the state goes through its stored form
        loaded = SessionState.load(orjson.loads(orjson.dumps(pieces.dump())))
        assert loaded is not None
        pieces = loaded
        start = end

    assert session_metrics(pieces) == session_metrics(whole)
    assert session_timeline(pieces) == session_timeline(whole)


@settings(max_examples=100, deadline=None)
@given(b=broadcasts)
def test_metrics_are_internally_consistent(b: Broadcast) -> None:
    state = SessionState("s-1")
    for event in b.stored():
        state = fold_session(state, event)
    m = session_metrics(state)
    assert sum(s["viewers"] for s in m["traffic_sources"].values()) == m["unique_viewers"]
    assert sum(s["views"] for s in m["traffic_sources"].values()) == m["views"]
    assert 0 <= m["refunds"] <= m["gmv"]
    assert m["buyers"] <= m["orders_paid"] <= m["orders_placed"] + 4
    assert m["watch_seconds"] >= 0 and m["online"] >= 0
    assert m["incidents"]["open"] <= m["incidents"]["total"]
