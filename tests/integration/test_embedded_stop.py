"""Stopping `livetally up`: requests in flight are answered, and the API loop ends quietly when
stop() closes its socket under it."""

from __future__ import annotations

import errno
import json
import logging
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from waitress.server import TcpWSGIServer, create_server

from events import create_engine, open_recorder
from service.auth.tokens import create_token
from service.process.embedded import Embedded, listeners
from service.process.settings import Settings
from tests.conftest import fresh_sqlite_url


def test_an_api_loop_that_meets_its_closed_socket_fails_unless_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded = Embedded(Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0))

    def closed_under_it() -> None:
        # What waitress's select() raises when close() wins the race (Pylons/waitress#468).
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(embedded.server, "run", closed_under_it)
    try:
        with pytest.raises(OSError):
            embedded._serve()  # not stopping: a real failure, reported
        embedded._stopping = True
        embedded._serve()  # stopping: the loop's end
    finally:
        embedded.server.close()
        embedded.runtime.close()


WAL_MAGIC = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")  # big- or little-endian checksums


def hold_an_append_through_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, released_after_stop: bool
) -> list[int]:
    """POST one event whose append is held until stop() is under way (or over); returns the
    statuses the client got, after checking the WAL, the log and the stored event."""
    embedded = Embedded(Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0))
    embedded.start()
    token = create_token(embedded.runtime.engine, ["ingest"], "test")
    recorder = embedded.runtime.recorder
    inside, release = threading.Event(), threading.Event()
    append = recorder.append

    def held_append(events: Any) -> Any:
        inside.set()
        release.wait(10)
        return append(events)

    recorder.append = held_append  # type: ignore[method-assign]
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "audience.sampled",
        "session_id": "s1",
        "occurred_at": "2026-09-21T12:00:00Z",
        "data": {"online": 5},
    }
    request = urllib.request.Request(
        f"{embedded.api_url}/api/v1/events",
        data=json.dumps(event).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    answers: list[int] = []
    client = threading.Thread(
        target=lambda: answers.append(urllib.request.urlopen(request, timeout=10).status)
    )
    client.start()
    assert inside.wait(10)
    stopper = threading.Thread(target=embedded.stop)
    stopper.start()
    if released_after_stop:
        stopper.join(15)
    else:
        stopper.join(1.0)  # stop() alone takes ~0.2 s here
        assert stopper.is_alive(), "stop() returned with a request still in flight"
    release.set()
    client.join(15)
    stopper.join(15)
    wal = Path(f"{tmp_path / 'livetally.db'}-wal")
    header = wal.read_bytes()[:4] if wal.exists() else b""
    assert header in (b"", *WAL_MAGIC), header
    assert not [
        r for r in caplog.records if r.name.startswith("waitress") and r.levelno >= logging.ERROR
    ]
    engine = create_engine(embedded.settings.database_url)
    try:
        assert [e.data for e in open_recorder(engine).read_stream("session-s1")] == [{"online": 5}]
    finally:
        engine.dispose()
    return answers


def test_stopping_answers_the_append_in_flight_and_keeps_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert hold_an_append_through_stop(tmp_path, caplog, released_after_stop=False) == [201]


def test_an_append_outliving_the_stop_grace_writes_nothing_but_its_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.process.embedded.STOP_GRACE_SECONDS", 0.2)
    assert hold_an_append_through_stop(tmp_path, caplog, released_after_stop=True) == [201]


def test_every_listening_address_is_found_when_the_host_has_several() -> None:
    one = create_server(lambda environ, start: [], host="127.0.0.1", port=0)
    several = create_server(lambda environ, start: [], listen="127.0.0.1:0 127.0.0.1:0")
    try:
        assert listeners(one) == [one]
        found = listeners(several)
        assert len(found) == 2 and all(isinstance(s, TcpWSGIServer) for s in found)
        assert len({s.getsockname()[1] for s in found}) == 2  # two sockets, two ports
    finally:
        one.close()
        several.close()
