"""Hostile clients and outages against real processes, bounded in count and time, traffic to
127.0.0.1 only. After each: the API answers, and nothing acknowledged is lost or doubled."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect

from tests.builders import Broadcast
from tests.conftest import fresh_sqlite_url
from tests.integration.conftest import make_api
from tests.servers import ROOT, free_port, start_postgres, start_redis
from tests.waiting import wait_until


def cli(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    api_port: int
    feed_port: int
    db: str
    ingest: str
    read: str

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, timeout: float = 5
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token or self.read}"}
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, data, headers)
        response = conn.getresponse()
        result = response.status, dict(response.getheaders()), response.read()
        conn.close()
        return result

    def health_seconds(self) -> float:
        started = time.monotonic()
        status, _, _ = self.request("GET", "/api/v1/health")
        assert status == 200
        return time.monotonic() - started

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    db = fresh_sqlite_url(tmp_path)
    ingest = cli("tokens", "create", "--scope", "ingest", "--db", db)
    read = cli("tokens", "create", "--scope", "read", "--db", db)
    api_port, feed_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "up",
            "--db",
            db,
            "--port",
            str(api_port),
            "--feed-port",
            str(feed_port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    made = Up(process, api_port, feed_port, db, ingest, read)
    deadline = time.monotonic() + 30
    while True:
        try:
            made.health_seconds()
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
    yield made
    process.terminate()
    process.wait(30)


def post_session(up: Up, session_id: str) -> dict[str, Any]:
    b = (
        Broadcast(session_id)
        .start(0)
        .join(1, "v1", "ad")
        .join(2, "v2")
        .place(3, "o1", "v1", "12.34")
        .pay(4, "o1")
    )
    status, _, body = up.request("POST", "/api/v1/events", {"events": b.events}, up.ingest)
    assert status == 201, body
    return orjson.loads(body)


def wait_numbers(up: Up, session_id: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = up.request("GET", f"/api/v1/sessions/{session_id}")
        if status == 200 and orjson.loads(body)["version"] >= 5:
            return orjson.loads(body)["metrics"]
        assert time.monotonic() < deadline, "not projected"
        time.sleep(0.05)


def assert_exact(metrics: dict[str, Any]) -> None:
    assert (metrics["views"], metrics["unique_viewers"], metrics["gmv"], metrics["buyers"]) == (
        2,
        2,
        12.34,
        1,
    )


def test_idle_sockets_and_idle_websockets_never_stop_the_api_or_the_feed(up: Up) -> None:
    idle = [socket.create_connection(("127.0.0.1", up.feed_port)) for _ in range(1500)]
    try:
        assert up.health_seconds() < 1.0
        post_session(up, "calm")
        assert_exact(wait_numbers(up, "calm"))

        async def hold_websockets() -> None:
            url = f"ws://127.0.0.1:{up.feed_port}/feed?token={up.read}"
            held = []
            for _ in range(20):
                held += await asyncio.gather(*(connect(url, open_timeout=20) for _ in range(100)))
            assert len(held) == 2000
            assert await asyncio.to_thread(up.health_seconds) < 1.0
            # A new screen still gets its snapshot.
            async with connect(
                f"ws://127.0.0.1:{up.feed_port}/feed?session=calm&token={up.read}"
            ) as ws:
                snapshot = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                assert snapshot["type"] == "snapshot"
            await asyncio.gather(*(ws.close() for ws in held))

        asyncio.run(hold_websockets())
    finally:
        for sock in idle:
            sock.close()
    assert up.process.poll() is None
    assert up.health_seconds() < 1.0


def test_slow_header_clients_time_out_and_never_block_others(up: Up) -> None:
    stop = threading.Event()
    closed_by_server = []

    started: list[int] = []

    def slow_client() -> None:
        sock = socket.create_connection(("127.0.0.1", up.api_port), timeout=30)
        try:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
            started.append(1)
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(1)
        except OSError:
            closed_by_server.append(1)
        finally:
            sock.close()

    threads = [threading.Thread(target=slow_client, daemon=True) for _ in range(150)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(started) == 150, 20, "150 slow clients connected")
        assert max(up.health_seconds() for _ in range(10)) < 1.0
        wait_until(lambda: len(closed_by_server) == 150, 20, "the server closing them")
        # The request deadline (10 s from its first byte) closed every one of them.
        assert len(closed_by_server) == 150
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert up.health_seconds() < 1.0


def test_connections_to_made_up_sessions_leave_no_state_behind(up: Up) -> None:
    post_session(up, "real")
    wait_numbers(up, "real")
    baseline = up.rss_kb()

    async def knock(count: int) -> int:
        refused = 0
        gate = asyncio.Semaphore(64)

        async def one(i: int) -> None:
            nonlocal refused
            async with gate:
                reader, writer = await asyncio.open_connection("127.0.0.1", up.feed_port)
                writer.write(
                    f"GET /feed?session=fake-{i}&token={up.read} HTTP/1.1\r\n"
                    f"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    f"Sec-WebSocket-Version: 13\r\n\r\n".encode()
                )
                await writer.drain()
                line = await asyncio.wait_for(reader.readline(), 10)
                refused += b" 404 " in line
                writer.close()

        await asyncio.gather(*(one(i) for i in range(count)))
        return refused

    assert asyncio.run(knock(20_000)) == 20_000
    time.sleep(1)
    assert up.rss_kb() <= baseline * 1.2, (baseline, up.rss_kb())
    assert up.health_seconds() < 1.0


def test_a_database_outage_is_a_503_with_retry_after_and_heals_by_itself(tmp_path: Path) -> None:
    server = start_postgres()
    try:
        server.execute("CREATE DATABASE outage")
        url = server.url("outage")
        from events import create_engine
        from service.process.migrate import upgrade

        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        api = make_api(url)
        first = Broadcast("pg-1").start(0).join(1, "v1").events
        assert api.post({"events": first}).status_code == 201
        server.pause()
        for _ in range(3):
            down = api.post({"events": Broadcast("pg-1").join(5, "v2").events})
            assert down.status_code == 503, down.json
            assert down.headers["Retry-After"] and down.json["error"] == "database_unavailable"
            assert api.get("/api/v1/sessions").status_code == 503
            health = api.client.get("/api/v1/health")
            assert health.status_code == 503 and health.headers["Retry-After"]
        server.resume()
        deadline = time.monotonic() + 15
        again = Broadcast("pg-1").join(6, "v3").events
        while (status := api.post({"events": again}).status_code) != 201:
            assert status == 503 and time.monotonic() < deadline
            time.sleep(0.2)
        assert api.stored_count() == 3  # nothing from the outage, nothing twice
        api.runtime.close()
    finally:
        server.stop()


def test_a_stopped_or_frozen_redis_costs_an_append_at_most_its_timeout(tmp_path: Path) -> None:
    redis = start_redis()
    try:
        from service.process.runtime import build_runtime
        from service.process.settings import Settings

        url = fresh_sqlite_url(tmp_path)
        api = make_api(url)
        runtime = build_runtime(Settings(database_url=url, redis_url=redis.url))
        api.runtime.worker = runtime.worker
        assert api.post({"events": Broadcast("r-1").start(0).events}).status_code == 201
        assert api.get("/api/v1/health").json["redis"] == "ok"
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)  # hung: accepts, never answers
        try:
            took = []
            for i in range(10):
                started = time.monotonic()
                response = api.post({"events": Broadcast("r-1").join(1 + i, f"v{i}").events})
                took.append(time.monotonic() - started)
                assert response.status_code == 201
            assert max(took) < 0.5, took  # the first waits ~100 ms, the rest skip Redis
            health = api.get("/api/v1/health").json
            assert health["status"] == "degraded" and health["redis"].startswith("down")
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        redis.stop()  # and gone altogether
        started = time.monotonic()
        assert api.post({"events": Broadcast("r-1").join(30, "w").events}).status_code == 201
        assert time.monotonic() - started < 0.5
        assert api.stored_count() == 12
        api.runtime.close()
    finally:
        redis.stop()
