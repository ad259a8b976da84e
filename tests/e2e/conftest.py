"""Production-shaped pieces: PostgreSQL, Redis, and `livetally worker` as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events import create_engine, open_recorder
from projections.tables import session_document
from tests.builders import Broadcast
from tests.conftest import fresh_postgres_url
from tests.integration.conftest import Api, make_api
from tests.servers import PostgresServer, RedisServer
from worker.sweep import projection_lag


@dataclass
class Stack:
    database_url: str
    redis: RedisServer
    engine: Engine
    api: Api
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LIVETALLY_DATABASE_URL": self.database_url,
            "LIVETALLY_REDIS_URL": self.redis.url,
            "LIVETALLY_SWEEP_SECONDS": "0.5",
            "LIVETALLY_WORKER_THREADS": "2",
        }

    def start_worker(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()

    def events_behind(self) -> int:
        with self.engine.connect() as conn:
            return projection_lag(open_recorder(self.engine), conn).events_behind

    def wait_until(self, done: Callable[[], bool], timeout: float) -> float:
        started = time.monotonic()
        while not done():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"not done within {timeout} s")
            time.sleep(0.05)
        return time.monotonic() - started

    def wait_caught_up(self, timeout: float = 60) -> float:
        return self.wait_until(lambda: self.events_behind() == 0, timeout)

    def body(self, session_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(session_document.c.body).where(
                    session_document.c.session_id == session_id
                )
            ).scalar()


def order_totals(b: Broadcast) -> dict[str, Any]:
    """The order figures of a broadcast worked out here, from the events as sent and the
    rules as written (docs/metrics.md), without the projection code: paid and not cancelled
    counts; its amount is the paid amount if given, else the placed one; refunds add up,
    capped at the amount; a cancelled order has neither GMV nor refunds."""
    placed: dict[str, int] = {}
    paid: dict[str, int | None] = {}
    cancelled: set[str] = set()
    refunded: dict[str, int] = {}

    def fen(text: Any) -> int:
        whole, _, cents = str(text).partition(".")
        return int(whole) * 100 + int((cents + "00")[:2])

    for e in b.events:
        data = e["data"]
        if e["type"] == "order.placed":
            placed[data["order_id"]] = fen(data["amount"])
        elif e["type"] == "order.paid":
            amount = data.get("amount")
            paid[data["order_id"]] = None if amount is None else fen(amount)
        elif e["type"] == "order.cancelled":
            cancelled.add(data["order_id"])
        elif e["type"] == "order.refunded":
            refunded[data["order_id"]] = refunded.get(data["order_id"], 0) + fen(data["amount"])
    counting = [o for o in paid if o not in cancelled]
    amount = {o: paid[o] if paid[o] is not None else placed.get(o, 0) for o in counting}
    refunds = sum(min(refunded.get(o, 0), amount[o]) for o in counting)
    gmv = sum(amount.values())
    return {
        "orders_paid": len(counting),
        "gmv": gmv / 100,
        "refunds": refunds / 100,
        "net_gmv": (gmv - refunds) / 100,
    }


def counts_by_hand(b: Broadcast) -> dict[str, Any]:
    """The counting figures of a broadcast worked out here from the events as sent and the
    definitions (docs/metrics.md), without the projection code: views count the joins,
    unique viewers the distinct viewers who joined, interactions sum each kind's counts,
    product clicks count the clicks."""
    joins = [e["data"]["viewer_id"] for e in b.events if e["type"] == "viewer.joined"]
    interactions: dict[str, int] = {}
    for e in b.events:
        if e["type"] == "interaction.recorded":
            kind = e["data"]["kind"]
            interactions[kind] = interactions.get(kind, 0) + e["data"].get("count", 1)
    clicks = sum(1 for e in b.events if e["type"] == "product.clicked")
    placed = len({e["data"]["order_id"] for e in b.events if e["type"] == "order.placed"})
    return {
        "views": len(joins),
        "unique_viewers": len(set(joins)),
        "interactions": interactions,
        "product_clicks": clicks,
        "orders_placed": placed,
    }


@pytest.fixture
def stack(postgres: PostgresServer, redis_server: RedisServer) -> Iterator[Stack]:
    if redis_server.process is None:
        redis_server.start()
    redis_server.flush()
    url = fresh_postgres_url(postgres)
    api = make_api(url)
    from service.process.runtime import build_runtime
    from service.process.settings import Settings

    # The API of this stack enqueues to Redis, as `livetally api` does in production.
    runtime = build_runtime(Settings(database_url=url, redis_url=redis_server.url))
    api.runtime.worker = runtime.worker
    made = Stack(url, redis_server, create_engine(url), api)
    yield made
    for process in made.workers:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    made.engine.dispose()
    api.runtime.close()
