"""The worker's runs against a real database: exact under duplicates, races and rebuilds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from events import NewEvent, open_recorder
from events.clock import now_micros
from events.database import write_transaction
from events.envelope import parse_event
from events.upsert import RowsMissing, update_each
from projections.tables import (
    PROJECTION_TABLES,
    session_document,
    session_minute,
    session_review,
    session_source,
    session_timeline,
    session_view,
)
from service.reads.views import review_body, session_timeline_body
from tests.builders import FAR_FUTURE_NOW, T0, Broadcast, event
from tests.strategies import broadcasts
from tests.waiting import wait_until
from worker import projector as projector_module
from worker.errors import WorkersRunning
from worker.heartbeat import beat
from worker.pending import LocalPending
from worker.projector import Projector
from worker.rebuild import rebuild
from worker.runtime import build_worker_parts
from worker.tables import FOLD_PROGRESS_TABLES, checkpoints, snapshots


def to_new(wire: list[dict[str, Any]]) -> list[NewEvent]:
    return [parse_event(raw, FAR_FUTURE_NOW) for raw in wire]


def table_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    rows = {}
    with engine.connect() as conn:
        for table in (*PROJECTION_TABLES, *FOLD_PROGRESS_TABLES):
            columns = [c for c in table.c if c.name not in ("updated_at", "state")]
            found = conn.execute(sa.select(*columns)).all()
            rows[table.name] = sorted(tuple(map(repr, r)) for r in found)
    return rows


def stored_body(engine: Engine, session_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(session_document.c.body).where(session_document.c.session_id == session_id)
        ).scalar()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    b=broadcasts,
    chunks=st.lists(st.integers(1, 15), min_size=1, max_size=8),
    deliveries=st.lists(st.integers(0, 3), min_size=8, max_size=8),
)
def test_duplicate_and_racing_deliveries_change_no_number(
    engine: Engine, b: Broadcast, chunks: list[int], deliveries: list[int]
) -> None:
    with engine.begin() as conn:  # hypothesis reuses the fixture's database between examples
        for table in (
            *PROJECTION_TABLES,
            *FOLD_PROGRESS_TABLES,
            sa.table("events"),
            sa.table("streams"),
        ):
            conn.execute(sa.text(f"DELETE FROM {table.name}"))
    recorder = open_recorder(engine)
    one, other = (
        Projector(engine, open_recorder(engine)),
        Projector(engine, open_recorder(engine)),
    )  # two worker processes' caches
    events = to_new(b.events)
    start = 0
    for i, size in enumerate([*chunks, len(events)]):
        recorder.append(events[start : start + size])
        start += size
        for n in range(deliveries[i % len(deliveries)]):
            (one if n % 2 == 0 else other).project("session-s-1")
        if start >= len(events):
            break
    one.project("session-s-1")
    body = stored_body(engine, "s-1")
    # Counted here from the events sent: every event folded once, whatever the deliveries.
    joins = [e["data"]["viewer_id"] for e in b.events if e["type"] == "viewer.joined"]
    assert body["version"] == len(b.events)
    assert (body["metrics"]["views"], body["metrics"]["unique_viewers"]) == (
        len(joins),
        len(set(joins)),
    )

    # And every row equals what one clean replay of the stream writes.
    before = table_rows(engine)
    rebuild(engine)
    assert table_rows(engine) == before


def test_a_cold_worker_restores_from_the_snapshot_and_refolds_the_rest(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projector_module, "SNAPSHOT_EVERY", 5)
    b = Broadcast().start(0)
    for i in range(30):
        b.join(i, f"v{i % 7}").interact(i, "like", f"v{i % 5}")
    recorder = open_recorder(engine)
    events = to_new(b.events)
    warm = Projector(engine, open_recorder(engine))
    for start in range(0, len(events), 7):
        recorder.append(events[start : start + 7])
        warm.project("session-s-1")
    with engine.connect() as conn:
        assert conn.execute(sa.select(snapshots.c.version)).scalar() is not None
    recorder.append(to_new(Broadcast().leave(40, "v1").events))
    Projector(engine, open_recorder(engine)).project("session-s-1")  # a fresh process: no cache
    body = stored_body(engine, "s-1")
    # by hand: the start, 30 joins and 30 likes, the leave; 7 viewers (v0-v6) joined 30 times,
    # 5 of them (v0-v4) liked
    assert body["version"] == 62
    metrics = body["metrics"]
    assert (metrics["views"], metrics["unique_viewers"]) == (30, 7)
    assert (metrics["interactions"]["like"], metrics["interacting_viewers"]) == (30, 5)


def test_person_ledger_keeps_the_latest_target_and_every_rating(engine: Engine) -> None:
    recorder = open_recorder(engine)
    recorder.append(
        to_new(
            [
                event(
                    "person.registered",
                    0,
                    {"name": "Li", "role": "host", "on_air_since": "2026-09-01"},
                    person="p-1",
                ),
                event(
                    "target.set",
                    10,
                    {"period": "2026-11", "kpi": "gmv", "value": 5000},
                    person="p-1",
                ),
                event(
                    "target.set",
                    5,
                    {"period": "2026-11", "kpi": "gmv", "value": 9000},
                    person="p-1",
                ),  # arrives later but happened earlier: does not replace
                event(
                    "rating.recorded", 20, {"kind": "host_satisfaction", "value": 80}, person="p-1"
                ),
                event("violation.recorded", 30, {"rule": "smoking"}, person="p-1"),
            ]
        )
    )
    Projector(engine, open_recorder(engine)).project("person-p-1")
    from projections.tables import person_view

    with engine.connect() as conn:
        row = conn.execute(sa.select(person_view)).one()
    assert (row.role, row.on_air_since) == ("host", "2026-09-01")
    assert row.ledger["targets"]["2026-11"]["gmv"][0] == 5000
    assert len(row.ledger["ratings"]) == 1
    assert row.ledger["violations"][0][:2] == ["smoking", 5000]


def test_checkpoints_follow_the_stream_head(engine: Engine) -> None:
    recorder = open_recorder(engine)
    recorder.append(to_new(Broadcast().start(0).join(1, "v").events))
    projector = Projector(engine, open_recorder(engine))
    assert projector.project("session-s-1") == 2
    assert projector.project("session-s-1") == 0  # a duplicate message finds nothing to do
    with engine.connect() as conn:
        assert conn.execute(sa.select(checkpoints.c.version)).scalar() == 2


class Delivery:
    """The worker's real wiring (broker, middleware, actor, projector) on an in-process broker,
    with one worker thread: messages are delivered as dramatiq delivers them."""

    def __init__(self, engine: Engine, pace: float = 0.0, factor: float | None = None) -> None:
        self.parts = build_worker_parts(engine, None, pace)
        if factor is not None:
            assert self.parts.projector.pacer is not None
            self.parts.projector.pacer.factor = factor
        self.worker = dramatiq.Worker(self.parts.broker, worker_threads=1, worker_timeout=20)
        self.worker.start()

    @property
    def projector(self) -> Projector:
        return self.parts.projector

    def send(self, *stream_ids: str) -> None:
        for stream_id in stream_ids:
            self.parts.actor.send(stream_id)

    def join(self) -> None:
        self.parts.broker.join("projections", fail_fast=True)  # type: ignore[call-arg]
        self.worker.join()

    def stop(self) -> None:
        self.worker.stop()


@pytest.fixture
def delivery(engine: Engine) -> Iterator[Delivery]:
    made = Delivery(engine)
    yield made
    made.stop()


def test_a_run_takes_claimed_streams_along_and_their_messages_fold_nothing_twice(
    engine: Engine,
    delivery: Delivery,
) -> None:
    recorder = open_recorder(engine)
    pending = delivery.parts.pending
    casts = {sid: Broadcast(sid).start(0) for sid in ("g-1", "g-2", "g-3")}
    for cast in casts.values():
        recorder.append(to_new(cast.events))
        assert pending.claim(f"session-{cast.session_id}")  # as the append's dispatcher does
    delivery.send("session-g-1", "session-g-2")
    delivery.join()
    # g-1's run took g-2 and g-3 along (3 events); g-2's message found it settled (skipped)
    assert (delivery.projector.events_folded, delivery.projector.runs) == (3, 3)
    assert delivery.projector.claims.skipped == 1

    # A later append claims g-3 again while g-3's first message is still queued: that message
    # finds g-3 settled (taken along by g-1's run), then folds what appends claimed meanwhile,
    # g-3's new event; the second message finds g-3 settled too. The event is folded once.
    later = Broadcast("g-3").join(5, "v-1")
    recorder.append(to_new(later.events))
    assert pending.claim("session-g-3")
    delivery.send("session-g-3", "session-g-3")
    delivery.join()
    assert (delivery.projector.events_folded, delivery.projector.claims.skipped) == (4, 3)
    # by hand: g-3 has one viewer (v-1, one join), the others none
    assert [stored_body(engine, sid)["version"] for sid in casts] == [1, 1, 2]
    assert [stored_body(engine, sid)["metrics"]["unique_viewers"] for sid in casts] == [0, 0, 1]
    assert stored_body(engine, "g-3")["version"] == 2


def test_a_message_that_started_before_its_claim_was_taken_does_not_skip_a_later_one(
    engine: Engine,
    delivery: Delivery,
) -> None:
    recorder = open_recorder(engine)
    pending = delivery.parts.pending
    first = Broadcast("r-1").start(0)
    recorder.append(to_new(first.events))
    assert pending.claim("session-r-1")
    delivery.send("session-r-1")  # releases its own claim: nothing left to take
    delivery.join()
    assert pending.take(10) == []
    later = Broadcast("r-1").join(3, "v-1")
    recorder.append(to_new(later.events))
    assert pending.claim("session-r-1")
    delivery.send("session-r-1")
    delivery.join()
    assert delivery.projector.events_folded == 2
    body = stored_body(engine, "r-1")  # by hand: the start and one join of v-1
    assert (body["version"], body["metrics"]["views"], body["metrics"]["unique_viewers"]) == (
        2,
        1,
        1,
    )


def test_a_paced_message_waits_and_one_run_folds_the_appends_meanwhile(
    engine: Engine,
) -> None:
    # A factor so large that any run makes the next message wait the whole 0.5 s, with the
    # API taken as saturated (no load meter; with the API idle the worker would not wait).
    delivery = Delivery(engine, pace=0.5, factor=1e6)
    assert delivery.parts.projector.pacer is not None
    delivery.parts.projector.pacer.load = None
    try:
        recorder = open_recorder(engine)
        pending = delivery.parts.pending
        cast = Broadcast("p-1").start(0)
        recorder.append(to_new(cast.events))
        assert pending.claim("session-p-1")
        delivery.send("session-p-1")  # ends a run: the next message waits
        delivery.join()
        runs = delivery.projector.runs

        later = Broadcast("p-1").join(1, "v-1")
        recorder.append(to_new(later.events))
        assert pending.claim("session-p-1")
        delivery.send("session-p-1")
        # The worker takes the message and waits out the pace with the claim held.
        queue = delivery.parts.broker.queues["projections"]
        wait_until(lambda: queue.qsize() == 0, 10, "the worker taking the message")
        more = Broadcast("p-1").join(2, "v-2").leave(3, "v-1")
        recorder.append(to_new(more.events))
        assert not pending.claim("session-p-1")  # still claimed: this append sends no message
        delivery.join()
        assert delivery.projector.runs == runs + 1  # one run folded both: the message waited
        body = stored_body(engine, "p-1")  # by hand: v-1 and v-2 joined, v-1 left
        metrics = body["metrics"]
        assert (body["version"], metrics["views"], metrics["unique_viewers"]) == (4, 2, 2)
        assert metrics["online"] == 1
    finally:
        delivery.stop()


def test_a_rebuild_spread_over_processes_writes_the_rows_runs_wrote(engine: Engine) -> None:
    # 40 sessions of 4 hosts on 2 days, folded by two processes a chunk each.
    recorder = open_recorder(engine)
    projector = Projector(engine, open_recorder(engine))
    for n in range(40):
        b = Broadcast(f"mp-{n}").start(n, host_id=f"h-{n % 4}")
        b.join(n + 1, "v-1").place(n + 2, f"o-{n}", "v-1", 10 + n).pay(n + 3, f"o-{n}")
        if n % 2:
            b.end(n + 60)
        recorder.append(to_new(b.events))
        projector.project(f"session-mp-{n}")
    before = table_rows(engine)
    report = rebuild(engine, processes=2)
    assert (report.streams, report.events) == (40, 40 * 4 + 20)
    assert table_rows(engine) == before


def test_a_rebuild_refuses_while_a_worker_beats_and_leaves_the_rows_alone(engine: Engine) -> None:
    # A running worker would fold streams into the emptied tables beside the rebuild: twice.
    recorder = open_recorder(engine)
    recorder.append(to_new(Broadcast("rb").start(0).join(1, "v-1").events))
    Projector(engine, open_recorder(engine)).project("session-rb")
    with write_transaction(engine) as conn:
        beat(conn, "host:123", now_micros() - 2_000_000)
    before = table_rows(engine)
    with pytest.raises(WorkersRunning, match="host:123"):
        rebuild(engine)
    assert table_rows(engine) == before
    with write_transaction(engine) as conn:  # its heartbeat goes stale: the worker stopped
        beat(conn, "host:123", now_micros() - 60_000_000)
    assert rebuild(engine).streams == 1
    assert table_rows(engine) == before


def test_group_runs_write_the_rows_a_rebuild_writes_leaving_out_only_unchanged_sources(
    engine: Engine,
) -> None:
    # 12 sessions folded in groups (claims taken along), over three rounds: in the second,
    # half of them get only a comment (their nine source rows unchanged, left out of the
    # writes), the other half a join from another source and an order (two source rows
    # change); the third round runs on a cold worker (nothing remembered: every row written).
    recorder = open_recorder(engine)
    pending = LocalPending()
    warm = Projector(engine, recorder, pending=pending)
    streams = [f"session-gr-{n}" for n in range(12)]

    def fold_all(projector: Projector, casts: list[Broadcast]) -> None:
        for cast in casts:
            recorder.append(to_new(cast.events))
        for stream_id in streams:
            pending.claim(stream_id)
        for stream_id in streams:
            projector.project(stream_id)

    fold_all(
        warm, [Broadcast(f"gr-{n}").start(n).join(n + 1, "v-1", "recommend") for n in range(12)]
    )
    second = []
    for n in range(12):
        b = Broadcast(f"gr-{n}")
        if n % 2:
            b.interact(20, "comment", "v-1", text="好")
        else:
            b.join(20, "v-2", "follow").place(21, f"o-{n}", "v-2", 30).pay(22, f"o-{n}")
        second.append(b)
    fold_all(warm, second)
    with engine.connect() as conn:
        follow = conn.execute(
            sa.select(
                session_source.c.session_id, session_source.c.viewers, session_source.c.gmv_fen
            )
            .where(session_source.c.source == "follow")
            .order_by(session_source.c.session_id)
        ).all()
    # by hand: the even sessions have one viewer from "follow", who paid ¥30
    assert {row.session_id: (row.viewers, row.gmv_fen) for row in follow} == {
        f"gr-{n}": (1, 3000) if n % 2 == 0 else (0, 0) for n in range(12)
    }
    cold = Projector(engine, recorder, pending=pending)
    fold_all(cold, [Broadcast(f"gr-{n}").join(40, "v-3", "search") for n in range(12)])
    before = table_rows(engine)
    rebuild(engine)
    assert table_rows(engine) == before


T0_US = int(T0.timestamp()) * 1_000_000


def test_a_run_sets_only_the_moving_view_columns_and_leaves_the_review_row_on_a_comment(
    engine: Engine,
) -> None:
    # A second run that only adds a comment: the view row keeps its settled columns (and the
    # sweep's silent_since, which the run never writes), the review row is not rewritten, and
    # the review as served still shows the comment (its metrics come from the document).
    recorder = open_recorder(engine)
    projector = Projector(engine, recorder)
    recorder.append(to_new(Broadcast("vc-1").start(0).join(1, "v-1", "ad").events))
    projector.project("session-vc-1")
    with write_transaction(engine) as conn:
        conn.execute(
            session_view.update()
            .where(session_view.c.session_id == "vc-1")
            .values(silent_since=123)
        )
        review_before = conn.execute(sa.select(session_review.c.body)).scalar_one()
        # marks the stored review body: a rewrite would drop the mark
        conn.execute(session_review.update().values(body={**review_before, "mark": 1}))
    recorder.append(to_new(Broadcast("vc-1").interact(5, "comment", "v-1", text="好").events))
    projector.project("session-vc-1")
    with engine.connect() as conn:
        view = conn.execute(sa.select(session_view)).one()
        review_after = conn.execute(sa.select(session_review.c.body)).scalar_one()
    assert (view.version, view.interacting_viewers, view.silent_since) == (3, 1, 123)
    assert (view.status, view.room_id, view.started_at) == ("live", "room-1", T0_US)
    assert review_after == {**review_before, "mark": 1}
    review = review_body(engine, "vc-1")
    assert review is not None and review["metrics"]["interactions"]["comment"] == 1
    assert review["version"] == 3 and review["funnel"]["stages"][0]["value"] == 1


def test_a_comment_the_platform_counts_leaves_the_timeline_row_and_the_served_one_moves_on(
    engine: Engine,
) -> None:
    # Once readings carry comments, a pushed comment moves nothing on the timeline: its row is
    # not rewritten (a mark in it stays), and the timeline served carries the new version.
    recorder = open_recorder(engine)
    projector = Projector(engine, recorder)
    recorder.append(to_new(Broadcast("tl-1").start(0).report(30, comments=5).events))
    projector.project("session-tl-1")
    with write_transaction(engine) as conn:
        body = conn.execute(sa.select(session_timeline.c.body)).scalar_one()
        assert "version" not in body
        conn.execute(session_timeline.update().values(body={**body, "mark": 1}))
    recorder.append(to_new(Broadcast("tl-1").interact(40, "comment", "v-1", text="好").events))
    projector.project("session-tl-1")
    with engine.connect() as conn:
        assert conn.execute(sa.select(session_timeline.c.body)).scalar_one()["mark"] == 1
    served = session_timeline_body(engine, "tl-1")
    assert served is not None and served["version"] == 3
    # by hand: the reading's 5 comments in minute 0, the pushed one already among them
    assert [m["interactions"] for m in served["minutes"]] == [5]


def minute_rows(engine: Engine, session_id: str) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(session_minute.c.minute, session_minute.c.body).where(
                session_minute.c.session_id == session_id
            )
        ).all()
    return {row.minute - found[0].minute if found else 0: row.body for row in found}


def mark_minute(engine: Engine, session_id: str, label: str) -> None:
    with write_transaction(engine) as conn:
        where = (session_minute.c.session_id == session_id) & (
            session_minute.c.minute
            == sa.select(sa.func.min(session_minute.c.minute)).scalar_subquery()
        )
        body = conn.execute(sa.select(session_minute.c.body).where(where)).scalar_one()
        conn.execute(session_minute.update().where(where).values(body={**body, "mark": label}))


def test_a_run_writes_the_minutes_it_redrew_and_the_read_serves_every_one_in_order(
    engine: Engine,
) -> None:
    recorder = open_recorder(engine)
    projector = Projector(engine, recorder)
    recorder.append(to_new(Broadcast("mi-1").start(0).join(10, "v-1").join(130, "v-2").events))
    projector.project("session-mi-1")
    assert sorted(minute_rows(engine, "mi-1")) == [0, 1, 2]
    mark_minute(engine, "mi-1", "kept")
    # minute 3: the minutes before it are not written again
    recorder.append(to_new(Broadcast("mi-1").interact(190, "like", "v-1", 2).events))
    projector.project("session-mi-1")
    rows = minute_rows(engine, "mi-1")
    assert sorted(rows) == [0, 1, 2, 3] and rows[0]["mark"] == "kept"
    served = session_timeline_body(engine, "mi-1")
    assert served is not None and served["version"] == 4
    # by hand: joins in minutes 0 and 2, the likes in minute 3
    assert [m["online"] for m in served["minutes"]] == [1, 1, 2, 2]
    assert [m["interactions"] for m in served["minutes"]] == [0, 0, 0, 2]
    assert served["minutes"][0]["mark"] == "kept"
    # a late leave in minute 0 moves minute 0 and every one after it: all are written again
    recorder.append(to_new(Broadcast("mi-1").leave(50, "v-1").events))
    projector.project("session-mi-1")
    rows = minute_rows(engine, "mi-1")
    assert "mark" not in rows[0]
    assert [rows[m]["online"] for m in range(4)] == [0, 0, 1, 1]


def test_minutes_replaced_in_one_run_for_many_sessions_are_replaced_for_each(
    engine: Engine,
) -> None:
    # Two sessions drawn to minute 2 end, in the same append, at 0:30: minute 1, filled in while
    # live, is gone (minute 2 keeps its event). One run replaces both sessions' stored minutes,
    # one statement clearing them.
    recorder = open_recorder(engine)
    projector = Projector(engine, recorder)
    for n in (1, 2):
        recorder.append(to_new(Broadcast(f"cl-{n}").start(0).interact(150, "like", "v-1").events))
    projector.project_many(["session-cl-1", "session-cl-2"])
    for n in (1, 2):
        served = session_timeline_body(engine, f"cl-{n}")
        assert served is not None and len(served["minutes"]) == 3
    recorder.append(to_new([*Broadcast("cl-1").end(30).events, *Broadcast("cl-2").end(30).events]))
    projector.project_many(["session-cl-1", "session-cl-2"])
    for n in (1, 2):
        served = session_timeline_body(engine, f"cl-{n}")
        assert served is not None
        assert [m["minute"][11:16] for m in served["minutes"]] == ["12:00", "12:02"]
        assert minute_rows(engine, f"cl-{n}").keys() == {0, 2}


def test_a_timeline_row_written_before_0018_serves_the_minutes_it_carries(engine: Engine) -> None:
    recorder = open_recorder(engine)
    recorder.append(to_new(Broadcast("old-1").start(0).join(10, "v-1").events))
    Projector(engine, recorder).project("session-old-1")
    minutes = [{"minute": "2026-11-02T12:00:00.000Z", "joins": 7}]
    with write_transaction(engine) as conn:  # as 0017 left it: the minutes in the row
        conn.execute(session_minute.delete().where(session_minute.c.session_id == "old-1"))
        where = session_timeline.c.session_id == "old-1"
        body = conn.execute(sa.select(session_timeline.c.body).where(where)).scalar_one()
        conn.execute(
            session_timeline.update().where(where).values(body={**body, "minutes": minutes})
        )
    served = session_timeline_body(engine, "old-1")
    assert served is not None
    assert served["minutes"] == minutes and served["version"] == 2


def test_an_update_of_rows_known_to_exist_fails_when_one_is_missing(engine: Engine) -> None:
    # A run's view row vanished under it (a rebuild swapped the tables): the update is refused,
    # rolling the run back, instead of writing nothing and moving the checkpoint on.
    moving = {"session_id": "gone", "version": 2, "clock": 1}
    with (
        pytest.raises(RowsMissing, match="session_view: 0 of 1"),
        write_transaction(engine) as conn,
    ):
        update_each(conn, session_view, [moving], ("session_id",))


def test_an_append_over_many_streams_sends_a_message_a_group_and_folds_each_once(
    engine: Engine, delivery: Delivery
) -> None:
    # 150 sessions moved by one append: the dispatcher claims all 150 and names them in three
    # messages (64 + 64 + 22); the worker folds each session's one event exactly once.
    recorder = open_recorder(engine)
    casts = [Broadcast(f"m-{n}").start(n) for n in range(150)]
    for cast in casts:
        recorder.append(to_new(cast.events))
    sent: list[tuple[str, ...]] = []
    actor = delivery.parts.actor
    original_send = actor.send

    def counted_send(*args: str) -> Any:
        sent.append(args)
        return original_send(*args)

    actor.send = counted_send  # type: ignore[method-assign]
    dispatcher = delivery.parts.dispatcher
    assert dispatcher.streams_moved([f"session-m-{n}" for n in range(150)])
    delivery.join()
    assert [len(args) for args in sent] == [150]
    assert sorted(s for args in sent for s in args) == sorted(f"session-m-{n}" for n in range(150))
    assert delivery.projector.events_folded == 150
    # a second append moving every stream again: nothing left claimed, each folds its event once
    for n in range(150):
        recorder.append(to_new(Broadcast(f"m-{n}").join(200, "v-1").events))
    assert dispatcher.streams_moved([f"session-m-{n}" for n in range(150)])
    delivery.join()
    assert delivery.projector.events_folded == 300
    assert [stored_body(engine, f"m-{n}")["version"] for n in (0, 77, 149)] == [2, 2, 2]
    pending = delivery.parts.pending
    assert isinstance(pending, LocalPending)
    assert pending.take(1_000) == []  # every claim released or taken along


def test_a_message_whose_streams_were_all_folded_along_is_skipped_and_one_with_some_left_runs(
    engine: Engine, delivery: Delivery
) -> None:
    recorder = open_recorder(engine)
    pending = delivery.parts.pending
    for sid in ("k-1", "k-2", "k-3"):
        recorder.append(to_new(Broadcast(sid).start(0).events))
        assert pending.claim(f"session-{sid}")
    # A run for k-1 (a tool, as the sweep does) takes k-2 and k-3 along: their claims are gone.
    delivery.projector.project("session-k-1")
    assert delivery.projector.events_folded == 3
    # The message naming k-2 and k-3 finds both folded along: skipped, nothing folded twice.
    delivery.parts.actor.send("session-k-2", "session-k-3")
    delivery.join()
    assert delivery.projector.claims.skipped == 2
    # k-3 moves again and is claimed again; a message naming k-2 (folded along by nobody now:
    # its claim was settled) and k-3 runs and folds k-3's new event.
    recorder.append(to_new(Broadcast("k-3").join(5, "v-1").events))
    assert pending.claim("session-k-3")
    delivery.parts.actor.send("session-k-2", "session-k-3")
    delivery.join()
    assert delivery.projector.events_folded == 4
    assert stored_body(engine, "k-3")["metrics"]["unique_viewers"] == 1
