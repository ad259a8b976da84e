"""The in-process worker reads what this process appended from memory, and gets exactly what
the store would have returned (or goes to the store)."""

from __future__ import annotations

import copy
import uuid

import orjson
import pytest
from sqlalchemy.engine import Engine

from events import DuplicateConflict, NewEvent, open_recorder, parse_body
from events.clock import now_micros
from events.recent import RecentEvents
from events.recorder import StoredEvent
from events.upcasting import UPCASTERS
from service.ingest.simulator.model import simulation
from worker.projector import _stream

START = 1_790_000_000.0  # 2026-09-21, in the past, so no event is "in the future"


def sample(stream: str, n: int, **extra: object) -> NewEvent:
    return NewEvent(
        str(uuid.uuid4()), "audience.sampled", stream, {"online": n, **extra}, 1_000_000 * n
    )


def test_served_events_equal_the_stores_for_every_type_in_a_simulated_month(engine: Engine) -> None:
    recent = RecentEvents()
    recorder, plain = open_recorder(engine, recent), open_recorder(engine)
    wire = [e for _, e in simulation(7, 2, 20, START)]
    for i in range(0, len(wire), 300):  # through the wire parser, as the API takes them
        recorder.append(
            parse_body(orjson.loads(orjson.dumps({"events": wire[i : i + 300]})), now_micros())
        )
    streams = plain.heads()
    assert {s.split("-")[0] for s in streams} >= {"session", "person"}
    for stream_id in streams:
        served = recent.read(stream_id, 0, None)
        assert served == plain.read_stream(stream_id), stream_id
    assert recent.hits == len(streams)


def test_an_old_shape_is_served_upcast_as_a_read_upcasts_it(engine: Engine) -> None:
    recent = RecentEvents()
    recorder = open_recorder(engine, recent)
    UPCASTERS[("audience.sampled", 0)] = lambda data: {"online": data["viewers"]}
    try:
        recorder.append(
            [
                NewEvent(
                    str(uuid.uuid4()),
                    "audience.sampled",
                    "session-a",
                    {"viewers": 12},
                    1,
                    schema_version=0,
                )
            ]
        )
        served = recent.read("session-a", 0, None)
        assert served == open_recorder(engine).read_stream("session-a")
        assert (served[0].schema_version, served[0].data) == (1, {"online": 12})
    finally:
        del UPCASTERS[("audience.sampled", 0)]


def test_a_gap_left_by_another_writer_sends_the_read_to_the_store(engine: Engine) -> None:
    recent = RecentEvents()
    ours, theirs = open_recorder(engine, recent), open_recorder(engine)  # another process
    ours.append([sample("session-g", 1)])
    theirs.append([sample("session-g", 2)])
    ours.append([sample("session-g", 3)])
    # Held: version 3 only (2 did not follow on from 1). Reading after 0 or 1 needs the store.
    assert recent.read("session-g", 1, None) == []
    assert [e.version for e in ours.read_stream("session-g", 1)] == [2, 3]
    assert [e.version for e in ours.read_stream("session-g", 2)] == [3]
    assert recent.hits == 1


def test_reads_after_what_is_held_go_to_the_store_and_checkpointed_events_are_dropped(
    engine: Engine,
) -> None:
    recent = RecentEvents()
    ours, theirs = open_recorder(engine, recent), open_recorder(engine)
    ours.append([sample("session-p", 1), sample("session-p", 2), sample("session-p", 3)])
    assert [e.version for e in ours.read_stream("session-p", 1, limit=1)] == [2]
    assert len(recent) == 2  # version 1 was checkpointed
    theirs.append([sample("session-p", 4)])
    # Held up to 3: a prefix, which is a correct read; after 3, the store.
    assert [e.version for e in ours.read_stream("session-p", 1)] == [2, 3]
    assert [e.version for e in ours.read_stream("session-p", 3)] == [4]
    assert len(recent) == 0


def test_the_oldest_streams_are_dropped_past_the_bound(engine: Engine) -> None:
    recent = RecentEvents(max_events=5)
    recorder = open_recorder(engine, recent)
    recorder.append([sample("session-1", n) for n in range(1, 4)])
    recorder.append([sample("session-2", n) for n in range(1, 4)])
    assert len(recent) == 3
    assert recent.read("session-1", 0, None) == []
    assert [e.version for e in recent.read("session-2", 0, None)] == [1, 2, 3]


def test_a_failed_append_leaves_nothing_to_serve(engine: Engine) -> None:
    recent = RecentEvents()
    recorder = open_recorder(engine, recent)
    first = sample("session-f", 1)
    recorder.append([first])
    changed = NewEvent(first.event_id, first.type, first.stream_id, {"online": 99}, 1)
    with pytest.raises(DuplicateConflict):
        recorder.append([sample("session-f", 2), changed])
    assert [e.version for e in recent.read("session-f", 0, None)] == [1]


def test_folds_leave_the_events_they_are_given_unchanged() -> None:
    # The cache hands the same event objects to every read: a fold must not change them.
    wire = [e for _, e in simulation(11, 2, 20, START)]
    events = [
        event
        for i in range(0, len(wire), 1000)
        for event in parse_body(
            orjson.loads(orjson.dumps({"events": wire[i : i + 1000]})), now_micros()
        )
    ]
    stored = []
    versions: dict[str, int] = {}
    for position, event in enumerate(events, 1):
        versions[event.stream_id] = versions.get(event.stream_id, 0) + 1
        stored.append(
            StoredEvent(
                position,
                event.event_id,
                event.stream_id,
                versions[event.stream_id],
                event.type,
                event.schema_version,
                event.data,
                event.metadata,
                event.occurred_at,
                0,
            )
        )
    before = copy.deepcopy(stored)
    states: dict[str, object] = {}
    for one in stored:
        _, projection, key = _stream(one.stream_id)
        if one.stream_id not in states:
            states[one.stream_id] = projection.new(key)
        states[one.stream_id] = projection.fold(states[one.stream_id], one)
    assert {s.split("-")[0] for s in states} >= {"session", "person"}
    assert stored == before
