"""Honest database states: a full disk or a read-only database is named as such in the 503,
/health says degraded (not ok) while writes fail and recovers by itself; a database that cannot
be written at start is one line and an exit code, not a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from service.cli import main
from service.process.database_state import DISK_FULL, READ_ONLY, UNREACHABLE, cause_of
from tests.builders import Broadcast
from tests.integration.conftest import Api


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (sqlite3.OperationalError("attempt to write a readonly database"), READ_ONLY),
        (sqlite3.OperationalError("database or disk is full"), DISK_FULL),
        (
            sa.exc.OperationalError(
                "INSERT", {}, Exception("could not extend file: No space left on device")
            ),
            DISK_FULL,
        ),
        (
            sa.exc.OperationalError(
                "INSERT", {}, Exception("cannot execute INSERT in a read-only transaction")
            ),
            READ_ONLY,
        ),
        (sqlite3.OperationalError("unable to open database file"), UNREACHABLE),
    ],
)
def test_a_database_error_is_named_by_its_cause(error: Exception, cause: str) -> None:
    assert cause_of(error) == cause


def test_a_full_disk_is_a_503_that_says_so_and_health_is_degraded_until_writes_work(
    api: Api,
) -> None:
    assert api.post({"events": Broadcast("full-1").start(0).events}).status_code == 201
    engine = api.runtime.engine
    # SQLite's own limit on the file's pages gives the error a full disk gives (SQLITE_FULL)
    pages = {"limit": 1}

    @sa.event.listens_for(engine, "connect")
    def cap(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages['limit']}")

    engine.dispose()
    big = Broadcast("full-1")
    for i in range(400):
        big.add("interaction.recorded", 1 + i, kind="comment", viewer_id=f"v{i}", text="x" * 400)
    answer = api.post({"events": big.events})
    assert answer.status_code == 503, answer.json
    assert (
        answer.json["message"].startswith("the database is disk full")
        and answer.headers["Retry-After"]
    )
    health = api.client.get("/api/v1/health").json
    assert health["status"] == "degraded" and health["database"] == "disk full: writes fail"
    pages["limit"] = 1_000_000  # space again
    engine.dispose()
    assert api.post({"events": big.events[:5]}).status_code == 201
    assert api.client.get("/api/v1/health").json["database"] == "ok"


def test_up_on_a_database_it_cannot_write_says_so_in_one_line(tmp_path: Path) -> None:
    # a directory where the file should be: it cannot be opened as a database
    target = tmp_path / "not-a-file.db"
    target.mkdir()
    result = CliRunner().invoke(
        main, ["up", "--db", f"sqlite:///{target}", "--port", "0", "--feed-port", "0"]
    )
    assert result.exit_code == 1
    assert "cannot be used" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
