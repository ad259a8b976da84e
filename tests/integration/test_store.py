"""One store suite, run against every backend: memory, SQLite and PostgreSQL (the `recorder`
fixture is parametrized); the tests of what only SQL stores do take the `engine` fixture."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events import (
    MEMORY_URL,
    ConcurrencyConflict,
    DuplicateConflict,
    NewEvent,
    create_engine,
    open_recorder,
)
from events import sql as sql_module
from events.memory import InMemoryRecorder
from events.recorder import AppendResult, Recorder
from events.upcasting import UPCASTERS
from tests.builders import Broadcast, event
from tests.conftest import fresh_postgres_url, fresh_sqlite_url
from tests.servers import PostgresServer

NOW = 10**18


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Recorder]:
    if request.param == "memory":
        yield open_recorder(MEMORY_URL)
        return
    url = (
        fresh_sqlite_url(tmp_path)
        if request.param == "sqlite"
        else fresh_postgres_url(request.getfixturevalue("postgres"))
    )
    engine = create_engine(url)
    yield open_recorder(engine)
    engine.dispose()


def test_the_memory_recorder_upcasts_old_shapes_on_read() -> None:
    recorder = InMemoryRecorder()
    UPCASTERS[("audience.sampled", 0)] = lambda data: {"online": data["viewers"]}
    try:
        recorder.append(
            [
                NewEvent(
                    "00000000-0000-4000-8000-000000000001",
                    "audience.sampled",
                    "session-a",
                    {"viewers": 12},
                    1,
                    schema_version=0,
                )
            ]
        )
        read = recorder.read_stream("session-a")[0]
        assert (read.schema_version, read.data) == (1, {"online": 12})
    finally:
        del UPCASTERS[("audience.sampled", 0)]


def new(stream: str, n: int, expected: int | None = None, **data: object) -> NewEvent:
    import uuid

    return NewEvent(
        event_id=str(uuid.uuid4()),
        type="audience.sampled",
        stream_id=stream,
        data={"online": n, **data},
        occurred_at=1_000_000 * n,
        expected_version=expected,
    )


def test_appended_events_read_back_in_stream_order(recorder: Recorder) -> None:
    result = recorder.append([new("session-a", 1), new("session-b", 2), new("session-a", 3)])
    assert result.appended == 3 and result.duplicates == 0
    assert result.heads == {"session-a": 2, "session-b": 1}
    a = recorder.read_stream("session-a")
    assert [(e.version, e.data["online"]) for e in a] == [(1, 1), (2, 3)]
    assert recorder.read_stream("session-a", after_version=1)[0].data["online"] == 3
    assert recorder.head("session-a") == 2 and recorder.head("session-x") == 0


def test_a_read_inside_the_callers_transaction_reads_the_same_events(recorder: Recorder) -> None:
    recorder.append([new("session-a", i) for i in range(1, 6)])
    alone = recorder.read_stream("session-a", 1, 3)
    with recorder.transaction() as conn:
        within = recorder.read_stream("session-a", 1, 3, conn)
        rest = recorder.read_stream("session-a", 4, None, conn)
    assert [e.data["online"] for e in within] == [2, 3, 4] == [e.data["online"] for e in alone]
    assert [(e.version, e.position) for e in within] == [(e.version, e.position) for e in alone]
    assert [e.version for e in rest] == [5]


def test_positions_increase_in_append_order(recorder: Recorder) -> None:
    first = recorder.append([new("session-a", i) for i in range(1, 4)])
    second = recorder.append([new("session-b", 9)])
    positions = first.positions + second.positions
    assert positions == sorted(positions) and len(set(positions)) == 4
    everything = recorder.read_all(0, 100)
    assert [e.position for e in everything] == positions
    assert [e.position for e in recorder.read_all(positions[1], 100)] == positions[2:]
    assert [e.stream_id for e in recorder.read_all(0, 100, "session-b")] == ["session-b"]


def test_a_repeated_event_id_is_reported_as_duplicate_not_stored(recorder: Recorder) -> None:
    original = new("session-a", 1)
    first = recorder.append([original])
    again = recorder.append([original, new("session-a", 2)])
    assert again.appended == 1 and again.duplicates == 1
    assert again.positions[0] == first.positions[0]
    assert recorder.head("session-a") == 2


def test_a_repeat_inside_one_batch_is_stored_once(recorder: Recorder) -> None:
    one = new("session-a", 1)
    result = recorder.append([one, one])
    assert (result.appended, result.duplicates) == (1, 1)
    assert result.positions[0] == result.positions[1]


def test_the_same_event_id_with_other_content_is_a_conflict(recorder: Recorder) -> None:
    original = new("session-a", 1)
    recorder.append([original])
    changed = NewEvent(
        original.event_id, original.type, original.stream_id, {"online": 99}, original.occurred_at
    )
    with pytest.raises(DuplicateConflict) as caught:
        recorder.append([new("session-a", 2), changed])
    assert caught.value.index == 1
    assert recorder.head("session-a") == 1  # the first event of the failed batch is not stored


def test_expected_version_must_match_the_head(recorder: Recorder) -> None:
    recorder.append([new("session-a", 1, expected=0), new("session-a", 2, expected=1)])
    with pytest.raises(ConcurrencyConflict) as caught:
        recorder.append([new("session-a", 3, expected=1)])
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert recorder.head("session-a") == 2


def test_a_failed_batch_stores_nothing(recorder: Recorder) -> None:
    batch = [new("session-a", 1), new("session-b", 2), new("session-a", 3, expected=7)]
    with pytest.raises(ConcurrencyConflict):
        recorder.append(batch)
    assert recorder.read_all(0, 10) == []
    assert recorder.head("session-a") == 0 and recorder.head("session-b") == 0


def test_data_round_trips_exactly(recorder: Recorder) -> None:
    b = Broadcast().start().place(1, "o-1", "b-1", "1999.99")
    from tests.builders import stored

    events = stored(b.events)
    recorder.append(
        [NewEvent(e.event_id, e.type, e.stream_id, e.data, e.occurred_at) for e in events]
    )
    back = recorder.read_stream("session-s-1")
    assert back[1].data["amount_fen"] == 199_999
    assert [e.data for e in back] == [e.data for e in events]
    assert [e.occurred_at for e in back] == [e.occurred_at for e in events]


def test_old_shapes_are_upcast_on_read_and_never_rewritten(engine: Engine) -> None:
    recorder = open_recorder(engine)
    UPCASTERS[("audience.sampled", 0)] = lambda data: {"online": data["viewers"]}
    try:
        old = NewEvent(
            "00000000-0000-4000-8000-000000000001",
            "audience.sampled",
            "session-a",
            {"viewers": 12},
            1,
            schema_version=0,
        )
        recorder.append([old])
        read = recorder.read_stream("session-a")[0]
        assert (read.schema_version, read.data) == (1, {"online": 12})
        with engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT data, schema_version FROM events")).one()
        stored_data = raw[0] if isinstance(raw[0], dict) else __import__("json").loads(raw[0])
        assert stored_data == {"viewers": 12} and raw[1] == 0
    finally:
        del UPCASTERS[("audience.sampled", 0)]


def _append_many(url: str, stream: str, count: int, start_flag: Any, ready: Any) -> None:
    engine = create_engine(url)
    recorder = open_recorder(engine)
    ready.put(1)
    start_flag.wait()
    for n in range(count):
        recorder.append([new(stream, n + 1)])
    engine.dispose()


def test_two_processes_appending_to_one_stream_lose_and_double_nothing(
    engine: Engine, database_url: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    flag, ready = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_append_many, args=(database_url, "session-hot", 150, flag, ready))
        for _ in range(2)
    ]
    for p in workers:
        p.start()
    for _ in workers:  # both are connected and waiting: then they start together
        ready.get(timeout=60)
    flag.set()
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    events = open_recorder(engine).read_stream("session-hot")
    assert [e.version for e in events] == list(range(1, 301))
    assert len({e.event_id for e in events}) == 300
    assert open_recorder(engine).head("session-hot") == 300


def test_session_and_person_events_go_to_their_streams() -> None:
    from events.envelope import parse_body

    parsed = parse_body(
        {
            "events": [
                event("viewer.joined", 0, {"viewer_id": "v"}, session="s-9"),
                event(
                    "target.set",
                    0,
                    {"period": "2026-11", "kpi": "gmv", "value": 5000},
                    person="p-1",
                ),
            ]
        },
        NOW,
    )
    assert [e.stream_id for e in parsed] == ["session-s-9", "person-p-1"]


def test_postgres_appends_plain_batches_in_one_statement_as_the_general_path_would(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(fresh_postgres_url(postgres))
    recorder = open_recorder(engine)
    used: list[AppendResult] = []
    real = sql_module.append_in_one_statement

    def spy(*args: Any) -> AppendResult:
        result = real(*args)
        used.append(result)  # only a statement that stored the batch counts
        return result

    monkeypatch.setattr(sql_module, "append_in_one_statement", spy)

    def batches(prefix: str) -> list[AppendResult]:
        return [
            recorder.append([new(f"{prefix}-a", 1), new(f"{prefix}-b", 2), new(f"{prefix}-a", 3)]),
            recorder.append(
                [
                    new(f"{prefix}-b", 4),
                    new(f"{prefix}-c", 5),
                    new(f"{prefix}-a", 6),
                    new(f"{prefix}-b", 7),
                ]
            ),
        ]

    one = batches("session-one")
    assert len(used) == 2
    monkeypatch.setattr(sql_module, "fits_one_statement", lambda events: False)
    general = batches("session-gen")
    assert len(used) == 2

    def shape(results: list[AppendResult], prefix: str) -> Any:
        stored = [
            (e.stream_id.removeprefix(prefix), e.version, e.data["online"])
            for e in recorder.read_all(0, 100)
            if e.stream_id.startswith(prefix)
        ]
        heads = [{s.removeprefix(prefix): v for s, v in r.heads.items()} for r in results]
        positions = [p for r in results for p in r.positions]
        return (
            stored,
            heads,
            [e.position for e in recorder.read_all(0, 100) if e.stream_id.startswith(prefix)]
            == positions,
        )

    assert shape(one, "session-one") == shape(general, "session-gen")
    assert shape(one, "session-one")[2] is True  # positions in request order
    assert recorder.head("session-one-a") == 3 and recorder.head("session-one-b") == 3
    engine.dispose()
