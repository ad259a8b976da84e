"""Shared benchmark plumbing: start `livetally up` as its own process, post over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, start_postgres  # noqa: E402


@dataclass
class Instance:
    port: int
    token: str
    database_url: str

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def post(self, conn: http.client.HTTPConnection, body: bytes) -> dict[str, Any]:
        conn.request(
            "POST",
            "/api/v1/events",
            body,
            {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        data = response.read()
        if response.status != 201:
            raise RuntimeError(f"{response.status}: {data[:300]!r}")
        return json.loads(data)  # type: ignore[no-any-return]

    def get(self, path: str) -> Any:
        conn = self.connection()
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        response = conn.getresponse()
        return json.loads(response.read())


def livetally(*args: str) -> list[str]:
    return [sys.executable, "-m", "service.cli", *args]


@contextmanager
def running_instance(
    database_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[Instance]:
    env = {**os.environ, **(extra_env or {})}
    token = subprocess.run(
        livetally("tokens", "create", "--scope", "admin", "--db", database_url),
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        livetally("up", "--db", database_url, "--port", str(port), "--feed-port", str(free_port())),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    instance = Instance(port, token, database_url)
    wait_healthy(instance, process)
    try:
        yield instance
    finally:
        process.terminate()
        process.wait(30)


def wait_healthy(
    instance: Instance, process: subprocess.Popen[Any] | None = None, seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            instance.get("/api/v1/health")
            return
        except OSError:
            if time.monotonic() > deadline or (process is not None and process.poll() is not None):
                raise
            time.sleep(0.1)


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="livetally-bench-")
        yield f"sqlite:///{folder}/bench.db"
        return
    server = start_postgres()
    server.execute("CREATE DATABASE bench")
    try:
        yield server.url("bench")
    finally:
        server.stop()


def wire_events(count: int, sessions: int, seed: str = "") -> list[dict[str, Any]]:
    """A realistic mix: joins, leaves, interactions, clicks, orders across live sessions."""
    events = []
    base = time.time() - 3600
    for i in range(count):
        session = f"bench{seed}-{i % sessions}"
        viewer = f"v{(i * 7919) % 5000}"
        kind = i % 10
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i / 100)) + ".000Z"
        if i < sessions:
            type_, data = (
                "session.started",
                {"host_id": f"h{i}", "room_id": "r", "platform": "douyin"},
            )
        elif kind < 4:
            type_, data = "viewer.joined", {"viewer_id": viewer, "source": "recommend"}
        elif kind < 6:
            type_, data = "viewer.left", {"viewer_id": viewer}
        elif kind < 8:
            type_, data = "interaction.recorded", {"kind": "like", "viewer_id": viewer, "count": 3}
        elif kind == 8:
            type_, data = "product.clicked", {"product_id": "p1", "viewer_id": viewer}
        else:
            type_, data = (
                "order.placed",
                {
                    "order_id": f"o{i}",
                    "buyer_id": viewer,
                    "product_id": "p1",
                    "quantity": 1,
                    "amount": "59.90",
                },
            )
        events.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": type_,
                "occurred_at": at,
                "session_id": session,
                "data": data,
                "metadata": {"source": "bench"},
            }
        )
    return events


def median(values: list[float]) -> float:
    return statistics.median(values)
