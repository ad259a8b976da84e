"""The websocket feed with real clients against a running embedded instance."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from service.auth.tokens import create_token
from service.feed import client as feed_client
from service.process.embedded import Embedded
from service.process.settings import Settings
from service.reads.views import headline
from tests.builders import Broadcast
from tests.conftest import fresh_sqlite_url
from tests.waiting import wait_until


class Running:
    def __init__(self, embedded: Embedded) -> None:
        self.embedded = embedded
        self.http = embedded.app.test_client()
        engine = embedded.runtime.engine
        self.read = create_token(engine, ["read"])
        self.ingest = create_token(engine, ["ingest"])

    def post(self, events: list[dict[str, Any]]) -> None:
        response = self.http.post(
            "/api/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {self.ingest}"},
        )
        assert response.status_code == 201, response.json

    def session(self, session_id: str) -> Any:
        return self.http.get(
            f"/api/v1/sessions/{session_id}", headers={"Authorization": f"Bearer {self.read}"}
        ).json

    def url(self, query: str) -> str:
        return f"{self.embedded.feed_url}?{query}"

    def wait_projected(self, session_id: str, version: int, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.session(session_id)
            if body and body.get("version", 0) >= version:
                return body
            time.sleep(0.02)
        raise AssertionError("not projected in time")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    settings = Settings(
        database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0, feed_max_rate=50
    )
    embedded = Embedded(settings)
    embedded.feed.server.ping_seconds = 0.5
    embedded.start()
    yield Running(embedded)
    embedded.stop()


async def receive(ws: ClientConnection, kind: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = orjson.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if message["type"] == kind:
            return message


def test_the_snapshot_is_the_session_document(running: Running) -> None:
    b = Broadcast("f-1").start(0).join(1, "v1", "ad").place(2, "o1", "v1", "9.90").pay(3, "o1")
    running.post(b.events)
    expected = running.wait_projected("f-1", 4)

    async def check() -> None:
        async with connect(running.url(f"session=f-1&token={running.read}")) as ws:
            snapshot = await receive(ws, "snapshot")
            assert snapshot["data"] == expected and snapshot["version"] == 4

    asyncio.run(check())


def test_updates_carry_the_changes_and_end_equal_to_the_api(running: Running) -> None:
    running.post(Broadcast("f-2").start(0).events)
    running.wait_projected("f-2", 1)
    b = Broadcast("f-2")
    for i in range(60):
        b.join(1 + i, f"v{i}", "follow").interact(1 + i, "like", f"v{i}", count=2)

    async def check() -> None:
        async with connect(running.url(f"session=f-2&token={running.read}")) as ws:
            state = (await receive(ws, "snapshot"))["data"]
            metrics = dict(state["metrics"])
            for start in range(0, len(b.events), 10):
                await asyncio.to_thread(running.post, b.events[start : start + 10])
            version = 0
            while version < 121:
                update = await receive(ws, "update")
                metrics.update(update["metrics"])
                version = update["version"]
            assert metrics == running.session("f-2")["metrics"]
            assert metrics["views"] == 60 and metrics["interactions"]["like"] == 120

    asyncio.run(check())


def test_a_reconnect_with_a_version_gets_what_it_missed(running: Running) -> None:
    running.post(Broadcast("f-3").start(0).join(1, "a").events)

    async def check() -> None:
        async with connect(running.url(f"session=f-3&token={running.read}")) as ws:
            await receive(ws, "snapshot")
        seen = running.wait_projected("f-3", 2)["version"]
        # while away: two more viewers
        await asyncio.to_thread(running.post, Broadcast("f-3").join(5, "b").join(6, "c").events)
        await asyncio.to_thread(running.wait_projected, "f-3", 4)
        async with connect(running.url(f"session=f-3&token={running.read}&version={seen}")) as ws:
            # f-3's version 2 went through this feed process: it resumes with a diff
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] == "update"
            assert message["version"] == 4 and message["metrics"]["views"] == 3
        async with connect(running.url(f"session=f-3&token={running.read}&version=1")) as ws:
            snapshot = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            # version 1 was never published here: a fresh snapshot instead
            assert snapshot["type"] == "snapshot" and snapshot["data"]["metrics"]["views"] == 3

    asyncio.run(check())


def test_a_missing_or_wrong_token_is_refused(running: Running) -> None:
    async def status(query: str) -> int:
        try:
            async with connect(running.url(query)):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(status("session=x")) == 401
    assert asyncio.run(status("session=x&token=lt_bogus")) == 401
    assert asyncio.run(status(f"session=x&token={running.ingest}")) == 403


def test_the_live_feed_lists_live_sessions_and_pings(running: Running) -> None:
    running.post(Broadcast("live-a").start(0).events + Broadcast("done-b").start(0).end(5).events)
    running.wait_projected("live-a", 1)
    running.wait_projected("done-b", 2)

    async def check() -> None:
        async with connect(running.url(f"token={running.read}")) as ws:
            snapshot = await receive(ws, "snapshot")
            assert [s["session_id"] for s in snapshot["sessions"]] == ["live-a"]
            ping = await receive(ws, "ping", timeout=3)
            assert "at" in ping

    asyncio.run(check())


def test_the_live_feed_sends_headline_numbers_that_end_equal_to_the_api_s(
    running: Running,
) -> None:
    running.post(Broadcast("h-1").start(0, title="早场").events)
    running.wait_projected("h-1", 1)
    b = Broadcast("h-1")
    for i in range(20):
        b.join(1 + i, f"v{i}", "follow").interact(1 + i, "comment", f"v{i}", text="好")
    b.place(30, "o1", "v1", "9.90").pay(31, "o1")
    later = Broadcast("h-2").start(40, title="晚场", host_id="h-9", room_id="room-9")

    async def check() -> None:
        async with connect(running.url(f"token={running.read}")) as ws:
            (row,) = (await receive(ws, "snapshot"))["sessions"]
            rows = {"h-1": row}
            for start in range(0, len(b.events), 7):
                await asyncio.to_thread(running.post, b.events[start : start + 7])
            await asyncio.to_thread(running.post, later.events)
            while rows["h-1"]["version"] < 43 or "h-2" not in rows:
                update = await receive(ws, "update")
                # the console's numbers, not a session screen's products, ticker and trend
                assert not {"products", "recent", "timeline_tail"} & update.keys()
                known = rows.setdefault(update["session_id"], {"metrics": {}})
                known["metrics"] = {**known["metrics"], **update["metrics"]}
                known.update({k: v for k, v in update.items() if k != "metrics"})
            for session_id in ("h-1", "h-2"):
                api = headline(running.session(session_id))
                assert rows[session_id]["metrics"] == api["metrics"]
            assert rows["h-1"]["metrics"]["gmv"] == 9.9
            assert rows["h-1"]["metrics"]["unique_viewers"] == 20
            # a session started after the snapshot arrives with what the console lists
            assert (rows["h-2"]["title"], rows["h-2"]["host_id"]) == ("晚场", "h-9")
            assert rows["h-2"]["room_id"] == "room-9"

    asyncio.run(check())


def test_the_live_feed_tells_a_session_s_end(running: Running) -> None:
    running.post(Broadcast("e-1").start(0).join(1, "v1").events)
    running.wait_projected("e-1", 2)

    async def check() -> None:
        async with connect(running.url(f"token={running.read}")) as ws:
            (row,) = (await receive(ws, "snapshot"))["sessions"]
            assert row["status"] == "live"
            await asyncio.to_thread(running.post, Broadcast("e-1").end(60).events)
            update = await receive(ws, "update")
            assert (update["session_id"], update["status"]) == ("e-1", "ended")
            assert update["ended_at"] is not None

    asyncio.run(check())


def test_an_incident_comes_as_an_alert(running: Running) -> None:
    running.post(Broadcast("f-5").start(0).events)
    running.wait_projected("f-5", 1)

    async def check() -> None:
        async with connect(running.url(f"session=f-5&token={running.read}")) as ws:
            await receive(ws, "snapshot")
            await asyncio.to_thread(running.post, Broadcast("f-5").incident(9, "i-1").events)
            alert = await receive(ws, "alert")
            assert alert["alert"]["kind"] == "incident_opened"
            assert alert["alert"]["incident_id"] == "i-1"

    asyncio.run(check())


def test_a_client_that_never_reads_is_cut_off_and_costs_no_growing_memory(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_client, "SEND_TIMEOUT", 1.0)
    running.post(Broadcast("f-6").start(0).events)
    running.wait_projected("f-6", 1)
    port = running.embedded.feed.bound_port
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window, never read
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        (
            f"GET /feed?session=f-6&token={running.read} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    server = running.embedded.feed.server
    wait_until(lambda: server.clients == 1, 10, "the raw client's handshake")
    deadline = time.monotonic() + 30
    n = 0
    while server.clients and time.monotonic() < deadline:
        b = Broadcast("f-6")
        for i in range(40):  # every update changes many metrics: big messages
            b.join(10 + n, f"v{n}-{i}", "ad").interact(10 + n, "like", f"v{n}-{i}")
            b.place(10 + n, f"o{n}-{i}", f"v{n}-{i}", "1.00").pay(10 + n, f"o{n}-{i}")
        running.post(b.events)
        n += 1
        time.sleep(0.05)
    assert server.clients == 0, "the hopeless client was never closed"
    sock.close()
    running.wait_projected("f-6", 1 + 160 * n)  # the start, then 4 events per viewer

    async def still_serves() -> None:  # other clients are unaffected
        async with connect(running.url(f"session=f-6&token={running.read}")) as ws:
            assert (await receive(ws, "snapshot"))["data"]["metrics"]["views"] == 40 * n

    asyncio.run(still_serves())


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("version=" + "9" * 5000, 400),
        ("version=１２", 400),
        ("session=s1%0A", 400),
        ("session=never-was", 404),
    ],
)
def test_bad_handshakes_are_refused_before_any_state(
    running: Running, query: str, status: int
) -> None:
    async def refused() -> int:
        try:
            async with connect(running.url(f"{query}&token={running.read}")):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(refused()) == status
    assert "never-was" not in running.embedded.feed.server.hub.channels


def test_a_writing_token_is_refused_in_the_url(running: Running) -> None:
    async def refused() -> int:
        try:
            async with connect(running.url(f"token={running.ingest}")):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(refused()) == 403
