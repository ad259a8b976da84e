"""The online rebuild: folds beside the live tables while events keep arriving and being
projected, swaps the new tables in at once, and leaves every row what an offline rebuild
writes, on both backends."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from events import create_engine, open_recorder
from events.clock import now_micros
from events.database import write_transaction
from projections.tables import session_document, session_view
from service.cli import main
from service.process.embedded import Embedded
from service.process.migrate import upgrade
from service.process.settings import Settings
from tests.builders import Broadcast
from tests.integration.test_projector import stored_body, table_rows, to_new
from tests.waiting import wait_until
from worker import online_rebuild as online_module
from worker import rebuild as rebuild_module
from worker.errors import RebuildRunning
from worker.heartbeat import beat
from worker.online_rebuild import rebuild_online
from worker.projector import Projector
from worker.rebuild import rebuild
from worker.rebuild_lock import RebuildLock
from worker.requested_rebuilds import RequestedRebuilds
from worker.shadow_tables import SWAPPED
from worker.tables import rebuild_requests


def broadcasts(engine: Engine, count: int, projector: Projector) -> None:
    recorder = open_recorder(engine)
    for n in range(count):
        b = Broadcast(f"on-{n}").start(n, host_id=f"h-{n % 3}")
        for i in range(20):
            b.join(n + i, f"v-{i % 7}")
        b.place(n + 30, f"o-{n}", "v-1", 100 + n).pay(n + 31, f"o-{n}")
        recorder.append(to_new(b.events))
        projector.project(f"session-on-{n}")


def schema(engine: Engine) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    return {
        table.name: (
            sorted(
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns(table.name)
            ),
            inspector.get_pk_constraint(table.name),
            sorted(
                (ix["name"], tuple(ix["column_names"])) for ix in inspector.get_indexes(table.name)
            ),
        )
        for table in SWAPPED
    }


def test_an_online_rebuild_under_ingest_counts_every_event_once_and_readers_never_see_a_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuild_module, "IN_PROCESS_EVENTS", 0)  # fold processes, as for 1M
    projector = Projector(engine, open_recorder(engine))
    broadcasts(engine, 40, projector)
    idle_body = stored_body(engine, "on-0")
    schema_before = schema(engine)
    recorder = open_recorder(engine)
    stop = threading.Event()
    seen: list[Any] = []
    errors: list[BaseException] = []

    def ingest() -> None:
        # A live worker beside the rebuild: appends to three sessions and projects each append.
        i = 0
        try:
            while not stop.is_set():
                n = 1 + i % 3
                b = Broadcast(f"on-{n}").join(100 + i, f"late-{i}").interact(100 + i, "like", "v-1")
                recorder.append(to_new(b.events))
                projector.project(f"session-on-{n}")
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        # A reader of a session nothing is appended to: the same document before, during and
        # after the swap, never missing.
        try:
            while not stop.is_set():
                with engine.connect() as conn:
                    seen.append(
                        conn.execute(
                            sa.select(session_document.c.body).where(
                                session_document.c.session_id == "on-0"
                            )
                        ).scalar()
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ingest), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        report = rebuild_online(engine, processes=2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert report.streams == 40
    assert seen and all(body == idle_body for body in seen)
    # What was appended after the swap's last look is folded by the live worker, from the
    # swapped-in checkpoints.
    for n in range(40):
        projector.project(f"session-on-{n}")
    heads = recorder.heads()
    with engine.connect() as conn:
        versions = dict(
            conn.execute(sa.select(session_view.c.session_id, session_view.c.version)).all()
        )
    assert versions == {f"on-{n}": heads[f"session-on-{n}"] for n in range(40)}
    appended = sum(heads[f"session-on-{n}"] for n in (1, 2, 3)) - 3 * 23
    assert report.events > 40 * 23  # the rebuild folded some that arrived while it ran
    joins = (
        stored_body(engine, "on-1")["metrics"]["views"]
        + stored_body(engine, "on-2")["metrics"]["views"]
        + stored_body(engine, "on-3")["metrics"]["views"]
    )
    assert joins == 3 * 20 + appended // 2  # each late append: one join and one like
    assert schema(engine) == schema_before
    after = table_rows(engine)
    rebuild(engine, force=True)
    assert table_rows(engine) == after


def test_an_online_rebuild_replaces_rows_the_fold_would_no_longer_write(engine: Engine) -> None:
    # As after a change to a projection: the live rows differ from what the fold writes now.
    projector = Projector(engine, open_recorder(engine))
    broadcasts(engine, 3, projector)
    expected = table_rows(engine)
    with write_transaction(engine) as conn:
        conn.execute(session_view.update().values(gmv_fen=1))
        conn.execute(session_document.delete().where(session_document.c.session_id == "on-2"))
    assert table_rows(engine) != expected
    # A worker beats meanwhile: the online rebuild needs none of them stopped.
    with write_transaction(engine) as conn:
        beat(conn, "host:9", now_micros())
    result = CliRunner().invoke(main, ["rebuild", "--db", engine.url.render_as_string(False)])
    assert result.exit_code == 0, result.output
    assert "rebuilt 3 streams" in result.output and "swapped in" in result.output
    assert table_rows(engine) == expected


def test_a_rebuild_that_fails_leaves_the_live_tables_and_no_shadow_behind(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    projector = Projector(engine, open_recorder(engine))
    broadcasts(engine, 3, projector)
    before = table_rows(engine)

    def failing_swap(*args: Any) -> int:
        raise RuntimeError("the swap failed")

    monkeypatch.setattr(online_module, "_swap", failing_swap)
    with pytest.raises(RuntimeError, match="the swap failed"):
        rebuild_online(engine, processes=1)
    assert table_rows(engine) == before
    assert not [n for n in sa.inspect(engine).get_table_names() if n.endswith("_next")]
    monkeypatch.undo()
    assert rebuild_online(engine, processes=1).streams == 3  # the next one runs
    assert table_rows(engine) == before


def test_a_second_online_rebuild_is_refused_while_one_holds_the_lock(engine: Engine) -> None:
    with RebuildLock(engine), pytest.raises(RebuildRunning, match="another rebuild"):
        rebuild_online(engine)
    assert rebuild_online(engine).streams == 0  # released with the holder


def test_a_rebuild_a_migration_asks_for_is_run_online_by_a_worker_then_forgotten(
    engine: Engine,
) -> None:
    projector = Projector(engine, open_recorder(engine))
    broadcasts(engine, 3, projector)
    expected = table_rows(engine)
    with write_transaction(engine) as conn:
        conn.execute(session_view.update().values(gmv_fen=1))  # what an older fold wrote
        conn.execute(rebuild_requests.insert().values(reason="a new metric", requested_at=1))
    answering = RequestedRebuilds(engine)
    with RebuildLock(engine):  # another process is rebuilding: this one looks again later
        assert answering.answer() is False
    assert table_rows(engine) != expected
    assert answering.answer() is True
    assert table_rows(engine) == expected
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rebuild_requests)).scalar() == 0
    assert answering.answer() is False  # nothing asked any more


def test_livetally_up_answers_a_waiting_rebuild_request_at_start(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    broadcasts(engine, 2, Projector(engine, open_recorder(engine)))
    expected = table_rows(engine)
    with write_transaction(engine) as conn:
        conn.execute(session_document.delete())
        conn.execute(rebuild_requests.insert().values(reason="a new metric", requested_at=1))
    embedded = Embedded(Settings(database_url=sqlite_url, api_port=0, feed_port=0))
    embedded.start()
    try:

        def answered() -> bool:
            with engine.connect() as conn:
                count = sa.select(sa.func.count()).select_from(rebuild_requests)
                return conn.execute(count).scalar() == 0

        wait_until(answered, timeout=30, what="the request answered")
    finally:
        embedded.stop()
    assert table_rows(engine) == expected
    engine.dispose()


def test_a_stopping_worker_stops_its_rebuild_and_keeps_the_request(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    projector = Projector(engine, open_recorder(engine))
    broadcasts(engine, 3, projector)
    before = table_rows(engine)
    with write_transaction(engine) as conn:
        conn.execute(rebuild_requests.insert().values(reason="a new metric", requested_at=1))
    answering = RequestedRebuilds(engine)
    answering._stopping.set()  # as stop() does while a rebuild runs
    assert answering.answer() is False
    assert table_rows(engine) == before
    assert not [n for n in sa.inspect(engine).get_table_names() if n.endswith("_next")]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rebuild_requests)).scalar() == 1


def test_a_migration_asks_for_a_rebuild_only_of_a_database_with_events(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with_events = f"sqlite:///{tmp_path / 'events.db'}"
    for url in (empty, with_events):
        engine = create_engine(url)
        upgrade(engine, "0015")
        if url == with_events:
            open_recorder(engine).append(to_new(Broadcast("m").start(0).events))
        upgrade(engine)  # 0016 asks for a refold
        with engine.connect() as conn:
            asked = conn.execute(sa.select(rebuild_requests.c.reason)).scalars().all()
        assert len(asked) == (1 if url == with_events else 0)
        engine.dispose()
