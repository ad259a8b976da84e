"""Clean stops leave nothing alive: a stopping worker deletes its heartbeat, /health counts a
worker only while it beats, live workers delete dead workers' rows, and `livetally rebuild`
runs right after a clean stop (and still refuses while a worker beats)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from events import create_engine
from events.clock import now_micros
from events.database import write_transaction
from service.cli import main
from service.process.embedded import Embedded
from service.process.settings import Settings
from tests.conftest import fresh_sqlite_url
from tests.integration.conftest import Api
from tests.waiting import wait_until
from worker.heartbeat import ALIVE_SECONDS, PRUNE_SECONDS, Heartbeat, beat
from worker.tables import worker_heartbeats

SECOND = 1_000_000


def beating(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(worker_heartbeats.c.worker_id, worker_heartbeats.c.seen_at))
        return {worker_id: int(seen) for worker_id, seen in rows}


def beat_at(engine: Engine, worker_id: str, seconds_ago: float) -> None:
    with write_transaction(engine) as conn:
        beat(conn, worker_id, now_micros() - int(seconds_ago * SECOND))


def test_a_clean_stop_deletes_the_workers_heartbeat(engine: Engine) -> None:
    heartbeat = Heartbeat(engine, "host:1", interval=0.05)
    heartbeat.start()
    wait_until(lambda: "host:1" in beating(engine), timeout=10)
    heartbeat.stop()
    assert "host:1" not in beating(engine)


def test_a_beat_after_stop_writes_nothing(engine: Engine) -> None:
    # What a beat still in flight when stop() gave up waiting for it would do.
    heartbeat = Heartbeat(engine, "host:1")
    heartbeat.beat_once()
    heartbeat.stop()
    heartbeat.beat_once()
    assert beating(engine) == {}


def test_a_live_worker_deletes_dead_workers_rows_and_keeps_recent_ones(engine: Engine) -> None:
    beat_at(engine, "dead:1", PRUNE_SECONDS + 60)
    beat_at(engine, "killed-a-minute-ago:2", 60)
    Heartbeat(engine, "live:3").beat_once()  # the first beat looks for dead rows
    assert sorted(beating(engine)) == ["killed-a-minute-ago:2", "live:3"]


def test_health_counts_a_worker_only_while_it_beats(api: Api) -> None:
    engine = api.runtime.engine

    def alive() -> list[str]:
        workers: list[str] = api.client.get("/api/v1/health").json["workers"]["ids"]
        return workers

    beat_at(engine, "beating:1", 0.5)
    beat_at(engine, "killed:2", ALIVE_SECONDS + 1)  # well inside the 15 s fencing waits
    assert alive() == ["beating:1"]
    heartbeat = Heartbeat(engine, "stopping:3")
    heartbeat.beat_once()
    assert alive() == ["beating:1", "stopping:3"]
    heartbeat.stop()
    assert alive() == ["beating:1"]


def test_rebuild_refuses_while_a_worker_beats_and_runs_once_it_stopped(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    heartbeat = Heartbeat(engine, "host:1", interval=0.05)
    heartbeat.start()
    try:
        wait_until(lambda: "host:1" in beating(engine), timeout=10)
        refused = CliRunner().invoke(main, ["rebuild", "--offline", "--db", sqlite_url])
        assert refused.exit_code == 1 and "workers running: host:1" in refused.output
    finally:
        heartbeat.stop()
    rebuilt = CliRunner().invoke(main, ["rebuild", "--offline", "--db", sqlite_url])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt 0 streams" in rebuilt.output
    engine.dispose()


def test_rebuild_runs_right_after_livetally_up_stops(tmp_path: Path) -> None:
    url = fresh_sqlite_url(tmp_path)
    embedded = Embedded(Settings(database_url=url, api_port=0, feed_port=0))
    embedded.start()
    try:
        wait_until(lambda: len(beating(embedded.runtime.engine)) == 1, timeout=10)
    finally:
        embedded.stop()
    # at once: before, the stopped process's beat kept rebuild refusing for 15 s
    result = CliRunner().invoke(main, ["rebuild", "--offline", "--db", url])
    assert result.exit_code == 0, result.output
