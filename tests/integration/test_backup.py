"""Backup and restore of the embedded default: a backup taken while events are appended
restores to a database whose events are a prefix of the original's and whose rebuilt figures
are the fold of those events; a restore is refused while the service runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from events import open_recorder
from events.database import create_engine
from events.envelope import parse_event
from events.recorder import NewEvent
from projections.session import SessionState, fold_all
from projections.session_metrics import session_metrics
from service.cli import main
from service.process.embedded import Embedded
from service.process.settings import Settings
from service.reads.views import session_document_body
from tests.builders import Broadcast


def test_a_backup_under_ingest_restores_a_consistent_prefix_that_rebuilds_exactly(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    embedded = Embedded(Settings(database_url=url, api_port=0, feed_port=0))
    embedded.start()
    stop = threading.Event()
    sent = 0

    def ingest() -> None:
        nonlocal sent
        recorder = embedded.runtime.recorder
        b = Broadcast("bk-1").start(0)
        recorder.append([*map(_new, b.events)])
        i = 0
        while not stop.is_set() and i < 4000:
            batch = Broadcast("bk-1")
            for k in range(20):
                batch.join(1 + i + k, f"v{i + k}")
            recorder.append([*map(_new, batch.events)])
            i += 20
            sent = i

    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        while sent < 400:
            stop.wait(0.01)
        copy = tmp_path / "copy.db"
        result = CliRunner().invoke(main, ["backup", str(copy), "--db", url])
        assert result.exit_code == 0, result.output
        # a restore onto the running service is refused
        refused = CliRunner().invoke(main, ["restore", str(copy), "--db", url])
        assert refused.exit_code == 1 and "running" in refused.output
    finally:
        stop.set()
        writer.join()
        embedded.stop()
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    result = CliRunner().invoke(main, ["restore", str(copy), "--db", restored_url])
    assert result.exit_code == 0, result.output
    original = open_recorder(create_engine(url), None).read_all(0, 1_000_000)
    engine = create_engine(restored_url)
    again = open_recorder(engine, None).read_all(0, 1_000_000)
    assert 0 < len(again) <= len(original)
    assert [e.event_id for e in again] == [e.event_id for e in original[: len(again)]]
    rebuilt = CliRunner().invoke(main, ["rebuild", "--offline", "--force", "--db", restored_url])
    assert rebuilt.exit_code == 0, rebuilt.output
    body = session_document_body(engine, "bk-1")
    assert body is not None
    folded = session_metrics(
        fold_all(SessionState("bk-1"), [e for e in again if e.stream_id == "session-bk-1"])
    )
    assert body["metrics"]["views"] == folded["views"] == len(again) - 1


def test_backup_refuses_an_existing_file_and_a_postgres_url(tmp_path: Path) -> None:
    existing = tmp_path / "there.db"
    existing.write_bytes(b"x")
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = create_engine(url)
    from service.process.migrate import upgrade

    upgrade(engine)
    engine.dispose()
    answer = CliRunner().invoke(main, ["backup", str(existing), "--db", url])
    assert answer.exit_code == 2 and "exists" in answer.output
    answer = CliRunner().invoke(
        main, ["backup", str(tmp_path / "b.db"), "--db", "postgresql://x/y"]
    )
    assert answer.exit_code == 2 and "pg_dump" in answer.output


def _new(raw: dict[str, Any]) -> NewEvent:
    return parse_event(raw, 10**18)
