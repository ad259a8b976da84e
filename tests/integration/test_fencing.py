"""A worker frozen inside a pipelined statement keeps its locks past the server's idle timeout;
a live worker ends that transaction once the frozen one's heartbeat is stale."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events import create_engine
from events.clock import now_micros
from events.database import write_transaction
from tests.conftest import fresh_postgres_url
from tests.servers import PostgresServer
from tests.waiting import wait_until
from worker.heartbeat import Heartbeat, application_name, beat, fence_frozen

S = 1_000_000
LOCK = 4242


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    return fresh_postgres_url(postgres)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


class Frozen:
    """A connection frozen inside a pipeline, with the pipeline and cursor kept alive (letting
    them go would end the pipeline)."""

    def __init__(self, conn: psycopg.Connection, *parts: object) -> None:
        self.conn = conn
        self.parts = parts

    def finish(self) -> None:
        self.conn.pgconn.finish()


def frozen_mid_pipeline(url: str, worker_id: str) -> Frozen:
    """A connection of `worker_id` holding an advisory lock, stopped inside a pipeline: the
    statement is sent, no Sync follows, so the server waits on the client inside it."""
    conn = psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"),
        application_name=application_name(worker_id),
        options="-c idle_in_transaction_session_timeout=500",
    )
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
    pipeline = conn.pipeline()
    pipeline.__enter__()
    cursor = conn.cursor()
    cursor.execute("SELECT 1")
    conn.pgconn.flush()
    return Frozen(conn, pipeline, cursor)


def lock_is_free(engine: Engine) -> bool:
    with engine.connect() as conn:
        free = bool(
            conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK}).scalar()
        )
        conn.rollback()
    return free


def test_the_idle_timeout_does_not_end_a_transaction_frozen_inside_a_pipeline(
    pg_url: str, pg_engine: Engine
) -> None:
    ghost = frozen_mid_pipeline(pg_url, "ghost:1")
    try:
        time.sleep(1.5)  # three times the ghost's idle-in-transaction timeout
        assert not lock_is_free(pg_engine)
    finally:
        ghost.finish()


def test_a_live_worker_ends_the_transaction_of_a_worker_without_heartbeat(
    pg_url: str, pg_engine: Engine
) -> None:
    ghost = frozen_mid_pipeline(pg_url, "ghost:1")
    try:
        with write_transaction(pg_engine) as conn:
            beat(conn, "ghost:1", now_micros() - 20 * S)
        time.sleep(1.1)
        with pg_engine.connect() as conn:
            assert fence_frozen(conn, "healthy:2", now_micros(), stale_seconds=1) == ["ghost:1"]
        # The server ends the backend a moment after pg_terminate_backend returns.
        wait_until(lambda: lock_is_free(pg_engine), 10, "the ghost's lock freed")
    finally:
        ghost.finish()


def test_a_worker_with_a_fresh_heartbeat_keeps_its_long_transaction(
    pg_url: str, pg_engine: Engine
) -> None:
    busy = frozen_mid_pipeline(pg_url, "busy:3")
    try:
        time.sleep(1.1)
        with write_transaction(pg_engine) as conn:
            beat(conn, "busy:3", now_micros())
        with pg_engine.connect() as conn:
            assert fence_frozen(conn, "healthy:2", now_micros(), stale_seconds=1) == []
            # and a worker never fences itself, whatever its heartbeat says
            assert fence_frozen(conn, "busy:3", now_micros() + 60 * S, stale_seconds=1) == []
        assert not lock_is_free(pg_engine)
    finally:
        busy.finish()


def test_the_heartbeat_thread_beats_and_fences_on_postgresql(
    pg_url: str, pg_engine: Engine
) -> None:
    ghost = frozen_mid_pipeline(pg_url, "ghost:1")  # it never beat at all
    heartbeat = Heartbeat(pg_engine, "healthy:2", interval=0.1, stale_seconds=1)
    heartbeat.start()
    try:
        wait_until(lambda: lock_is_free(pg_engine), 10, "the ghost's lock freed")
        with pg_engine.connect() as conn:
            seen = conn.execute(
                sa.text("SELECT seen_at FROM worker_heartbeats WHERE worker_id = 'healthy:2'")
            ).scalar()
        assert seen is not None and now_micros() - seen < 5 * S
    finally:
        heartbeat.stop()
        ghost.finish()
