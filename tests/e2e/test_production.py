"""Production shape end to end: PostgreSQL, Redis, gunicorn API, two workers and a feed as
separate processes, against the embedded default on the same seeded simulation."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from websockets.asyncio.client import connect

from service.auth.tokens import create_token
from service.ingest.simulator.driver import drive
from service.process.embedded import Embedded
from service.process.settings import Settings
from tests.conftest import fresh_postgres_url, fresh_sqlite_url
from tests.servers import PostgresServer, RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
SEED, SESSIONS, MINUTES = 5, 2, 12
START = (time.time() // 3600 - 3) * 3600  # three hours ago, on the hour: same for both runs


def get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_caught_up(api_url: str, token: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(f"{api_url}/api/v1/health", token)["projection_lag"]["events_behind"] == 0:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("projections did not catch up")


class Production:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.env = {
            **os.environ,
            "LIVETALLY_DATABASE_URL": database_url,
            "LIVETALLY_REDIS_URL": redis_url,
            "LIVETALLY_SWEEP_SECONDS": "0.5",
        }
        self.api_port, self.feed_port = free_port(), free_port()
        self.processes: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.processes.append(process)
        return process

    def start(self) -> str:
        subprocess.run(
            [sys.executable, "-m", "service.cli", "db", "upgrade"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        token = subprocess.run(
            [sys.executable, "-m", "service.cli", "tokens", "create", "--scope", "admin"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.cli("api", "--port", str(self.api_port), "--workers", "2")
        self.cli("worker")
        self.cli("worker")
        self.cli("feed", "--port", str(self.feed_port))
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{self.api_url}/api/v1/health", token)
                return token
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def production(postgres: PostgresServer, redis_server: RedisServer) -> Iterator[Production]:
    if redis_server.process is None:
        redis_server.start()
    redis_server.flush()
    stack = Production(fresh_postgres_url(postgres), redis_server.url)
    yield stack
    stack.stop()


def run_embedded(tmp_path: Path) -> dict[str, Any]:
    embedded = Embedded(Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0))
    embedded.start()
    try:
        token = create_token(embedded.runtime.engine, ["admin"])
        report = drive(embedded.api_url, token, SEED, SESSIONS, MINUTES, 0, START)
        assert not report.failures
        wait_caught_up(embedded.api_url, token)
        return collect(embedded.api_url, token, report.sessions)
    finally:
        embedded.stop()


def collect(api_url: str, token: str, sessions: list[str]) -> dict[str, Any]:
    period = time.strftime("%Y-%m", time.gmtime(START))
    return {
        "sessions": {s: get(f"{api_url}/api/v1/sessions/{s}", token) for s in sessions},
        "scores": get(f"{api_url}/api/v1/scores?period={period}&role=host", token),
    }


def test_production_processes_give_the_embedded_numbers(
    production: Production, tmp_path: Path
) -> None:
    token = production.start()
    report = drive(production.api_url, token, SEED, SESSIONS, MINUTES, 0, START)
    assert not report.failures and report.appended > 1000
    wait_caught_up(production.api_url, token)
    produced = collect(production.api_url, token, report.sessions)
    embedded = run_embedded(tmp_path)
    assert produced["sessions"] == embedded["sessions"]
    assert produced["scores"] == embedded["scores"]
    assert all(s["status"] == "ended" for s in produced["sessions"].values())
    assert sum(s["metrics"]["orders_paid"] for s in produced["sessions"].values()) > 0

    # A URL carries only a read-only token.
    read = subprocess.run(
        [sys.executable, "-m", "service.cli", "tokens", "create", "--scope", "read"],
        env=production.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    async def feed_snapshot(session_id: str) -> Any:
        url = f"ws://127.0.0.1:{production.feed_port}/feed?session={session_id}&token={read}"
        async with connect(url) as ws:
            return orjson.loads(await asyncio.wait_for(ws.recv(), 10))

    first = report.sessions[0]
    snapshot = asyncio.run(feed_snapshot(first))
    assert snapshot["type"] == "snapshot" and snapshot["data"] == produced["sessions"][first]


def test_the_compose_file_describes_the_production_stack() -> None:
    from service.cli import main

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "api", "worker", "feed"} <= set(services)
    for name in ("postgres", "redis", "api", "feed"):
        assert "healthcheck" in services[name], name
    for name in ("api", "worker", "feed"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
        assert services[name]["command"][1] in main.commands, name
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["livetally", "db", "upgrade"]
