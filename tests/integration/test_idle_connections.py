"""Idle connections from one address past its share are closed as they are accepted, not at
waitress's next sweep, so an address reopening them as fast as they close never holds the
API's connection limit, and other addresses are served meanwhile (service/process/http_limits.py).

The limits are made small (20 an address, 40 in all) and the sweep far away (30 s): a connection
closed within the test was closed at accept, and, before the fix, the flood filled the limit
and another address waited for that sweep.
"""

from __future__ import annotations

import http.client
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.process import http_limits
from service.process.embedded import Embedded, listeners
from service.process.settings import Settings
from tests.conftest import fresh_sqlite_url

SHARE = 20
FLOOD = "127.0.0.1"
OTHER = "127.0.0.2"  # all of 127/8 is loopback: another client address on this machine
SECONDS = 5.0  # any wait in this test: far under the 30 s sweep


def connect(port: int, source: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), SECONDS, source_address=(source, 0))


def health(port: int, source: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, SECONDS, source_address=(source, 0))
    try:
        conn.request("GET", "/api/v1/health")
        return conn.getresponse().status
    finally:
        conn.close()


def still_open(sock: socket.socket) -> bool:
    """Nothing to read and no end of stream: the server keeps it."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(1))
    except BlockingIOError:
        return True
    finally:
        sock.settimeout(SECONDS)


@contextmanager
def flood(port: int, count: int) -> Iterator[list[int]]:
    """`count` idle connections from FLOOD, each reopened as soon as the server closes it; yields
    a one-item list counting the closes."""
    closed = [0]
    stop = threading.Event()

    def run() -> None:
        with selectors.DefaultSelector() as selector:

            def open_one() -> None:
                sock = socket.socket()
                sock.setblocking(False)
                sock.bind((FLOOD, 0))
                sock.connect_ex(("127.0.0.1", port))
                selector.register(sock, selectors.EVENT_READ)

            for _ in range(count):
                open_one()
            while not stop.is_set():
                for key, _ in selector.select(0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    try:
                        data = sock.recv(1)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(sock)
                        sock.close()
                        closed[0] += 1
                        open_one()
            for key in list(selector.get_map().values()):
                selector.unregister(key.fileobj)
                key.fileobj.close()  # type: ignore[union-attr]

    thread = threading.Thread(target=run, name="idle-flood", daemon=True)
    thread.start()
    try:
        yield closed
    finally:
        stop.set()
        thread.join(SECONDS)


def test_idle_connections_past_an_address_share_are_closed_at_once_and_others_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_limits, "PER_CLIENT", SHARE)
    monkeypatch.setitem(http_limits.WAITRESS_OPTIONS, "connection_limit", 2 * SHARE)
    monkeypatch.setitem(http_limits.WAITRESS_OPTIONS, "cleanup_interval", 30)
    embedded = Embedded(Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0))
    embedded.start()
    port = int(listeners(embedded.server)[0].getsockname()[1])
    held = [connect(port, FLOOD) for _ in range(SHARE)]
    try:
        # One more from the same address: accepted and closed at once (the sweep is 30 s away).
        with connect(port, FLOOD) as over:
            started = time.monotonic()
            assert over.recv(1) == b""
            assert time.monotonic() - started < SECONDS
        # The address's share is kept, and it can still be used.
        assert all(still_open(sock) for sock in held)
        held[0].sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\n\r\n")
        assert held[0].recv(64).startswith(b"HTTP/1.1 200 ")

        # Twice the connection limit more from that address, reopened as fast as they close:
        # another address is answered all the while.
        with flood(port, 4 * SHARE) as closed:
            deadline = time.monotonic() + SECONDS
            while closed[0] < 4 * SHARE:
                assert time.monotonic() < deadline, f"{closed[0]} of the flood closed"
                time.sleep(0.01)
            before = closed[0]
            assert [health(port, OTHER) for _ in range(5)] == [200] * 5
            assert closed[0] > before  # the flood went on while the other address was answered
        assert all(still_open(sock) for sock in held)
    finally:
        for sock in held:
            sock.close()
    try:
        # Its share closed, the address is served again.
        deadline = time.monotonic() + SECONDS
        while True:
            try:
                assert health(port, FLOOD) == 200
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                assert time.monotonic() < deadline, "the address's closed connections still count"
                time.sleep(0.05)
    finally:
        embedded.stop()
