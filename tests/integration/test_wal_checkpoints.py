"""SQLite checkpoints run on their own thread, keep the WAL bounded and lose nothing."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from events import checkpoints, create_engine, write_transaction
from events.database import _checkpointer


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _write_rows(
    url: str, transactions: int, rows: int = 20, until: Callable[[], bool] | None = None
) -> int:
    """Writes `transactions` transactions, or more until `until()` holds; returns the count."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
    n = 0
    while n < transactions or (until is not None and not until() and n < 50 * transactions):
        with write_transaction(engine) as conn:
            conn.exec_driver_sql(
                "INSERT INTO t (body) VALUES "
                + ",".join([f"('{n}-{i}-" + "x" * 300 + "')" for i in range(rows)])
            )
        n += 1
    engine.dispose()
    return n


def test_commits_leave_checkpoints_to_the_thread_which_copies_every_frame(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    _write_rows(url, 50)
    checkpointer = _checkpointer(engine)
    assert checkpointer is not None
    _wait_for(lambda: checkpointer.stats.passive > 0)
    # Nothing is left uncopied once the thread has caught up (SQLite reports frames, copied).
    probe = sqlite3.connect(tmp_path / "a.db")

    def caught_up() -> bool:
        busy, frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return bool(busy == 0 and frames == copied)

    _wait_for(caught_up)
    assert probe.execute("SELECT count(*) FROM t").fetchone()[0] == 50 * 20
    assert probe.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    probe.close()
    engine.dispose()


def test_a_wal_growing_under_constant_writes_is_reset_and_cut_back_to_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "RESET_FRAMES", 100)
    monkeypatch.setattr(checkpoints, "GATHER_SECONDS", 0.005)
    path = tmp_path / "b.db"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    checkpointer = _checkpointer(engine)
    assert checkpointer is not None
    with engine.connect() as conn:  # the limit the file is cut back to when the WAL restarts
        limit = conn.exec_driver_sql("PRAGMA journal_size_limit").scalar()
    assert limit == checkpoints.wal_size_limit() == 2 * 100 * 4096
    # Write until the WAL has been reset several times while writes went on. Each transaction
    # appends four or five pages (20 rows of ~300 bytes and the table's interior pages).
    transactions = _write_rows(url, 400, until=lambda: checkpointer.stats.restarts >= 5)
    assert checkpointer.stats.restarts >= 5
    # Once the checkpointer has copied every frame back, the next commit starts the WAL over
    # and cuts the file back to the limit: SQLite alone would keep its largest size for good.
    probe = sqlite3.connect(path)

    def copied_back() -> bool:
        busy, frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return bool(busy == 0 and frames == copied)

    _wait_for(copied_back)
    probe.close()
    with write_transaction(engine) as conn:
        conn.exec_driver_sql("INSERT INTO t (body) VALUES ('one more')")
    assert os.path.getsize(f"{path}-wal") <= limit
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == transactions * 20 + 1
    engine.dispose()


def test_a_writer_lets_a_waiting_restart_take_the_writer_lock_first(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    checkpointer = _checkpointer(engine)
    assert checkpointer is not None
    with engine.begin() as conn:  # the file in WAL mode, as livetally's connections make it
        conn.exec_driver_sql("CREATE TABLE t (x)")
    lock = checkpointer.writer_lock
    lock.acquire()  # a transaction in progress
    restarted = threading.Event()

    def restart() -> None:
        conn = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
        conn.execute("INSERT INTO t VALUES (1)")  # a frame in the WAL
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(checkpoints, "RESET_FRAMES", 0)
            checkpointer.checkpoint(conn)
        conn.close()
        restarted.set()

    thread = threading.Thread(target=restart)
    thread.start()
    _wait_for(lambda: not checkpointer._no_restart_waiting.is_set())
    time.sleep(checkpoints.RESTART_PATIENCE)  # the restart has waited its patience out
    lock.release()  # the transaction ends; a writer arriving now waits for the restart
    checkpointer.let_restart_pass()
    assert checkpointer._no_restart_waiting.is_set()  # the restart had the lock first
    thread.join(5)
    assert restarted.is_set() and checkpointer.stats.restarts == 1
    engine.dispose()
