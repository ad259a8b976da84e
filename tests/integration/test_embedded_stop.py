"""Stopping `livetally up`: the API loop ends quietly when stop() closes its socket under it."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from service.embedded import Embedded
from service.settings import Settings
from tests.conftest import fresh_sqlite_url


def test_an_api_loop_that_meets_its_closed_socket_fails_unless_stopping(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = Embedded(Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0,
                                 feed_port=0))

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
