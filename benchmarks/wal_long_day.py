"""A long day on the embedded default: steady ingest, the WAL's size, reads at the end against
the start.

    python -m benchmarks.wal_long_day [--minutes 30] [--rate 200] [--sessions 10]

`livetally up` runs as its own process on a fresh SQLite file; this process posts `--rate`
events/s (joins, interactions, clicks, orders) over `--sessions` live sessions, samples the
WAL file's size ten times a second, and times reads (a session's document and the sessions
list) between the posts. Reported: the WAL's largest size and where it ended, the database's
size, and the reads' p50 / p99 in the first and the last minute (goal: the WAL bounded near
its limit, `journal_size_limit`; reads at the end as fast as at the start).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import Instance, median, running_instance
from benchmarks.latency import percentile

KINDS = ("viewer.joined", "interaction.recorded", "product.clicked", "order.placed")


def batch(n: int, sessions: int, size: int) -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
    events: list[dict[str, Any]] = []
    for i in range(size):
        k = n * size + i
        session = f"day-{k % sessions}"
        kind = KINDS[k % 10 % len(KINDS)] if k % 10 < 8 else "viewer.joined"
        data: dict[str, Any] = {"viewer_id": f"v{k % 20_000}"}
        if kind == "interaction.recorded":
            data["kind"] = "comment"
        elif kind == "product.clicked":
            data["product_id"] = f"p{k % 12}"
        elif kind == "order.placed":
            data = {
                "order_id": f"o{k}",
                "buyer_id": data["viewer_id"],
                "product_id": f"p{k % 12}",
                "quantity": 1,
                "amount": "59.90",
            }
        events.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": kind,
                "occurred_at": now,
                "session_id": session,
                "data": data,
            }
        )
    return orjson.dumps({"events": events})


def start_sessions(instance: Instance, sessions: int) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
    body = {
        "events": [
            {
                "event_id": str(uuid.uuid4()),
                "type": "session.started",
                "occurred_at": now,
                "session_id": f"day-{s}",
                "data": {"host_id": f"h{s}", "room_id": f"r{s}", "platform": "douyin"},
            }
            for s in range(sessions)
        ]
    }
    instance.post(instance.connection(), orjson.dumps(body))


def timed_read(instance: Instance, path: str) -> float:
    conn = instance.connection()
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {instance.token}"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, (path, response.status)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="livetally-day-")
    path = Path(folder) / "day.db"
    wal = Path(f"{path}-wal")
    largest = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal largest
        while not stop.wait(0.1):
            with contextlib.suppress(FileNotFoundError):
                largest = max(largest, wal.stat().st_size)

    with running_instance(f"sqlite:///{path}") as instance:
        start_sessions(instance, args.sessions)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        conn = instance.connection()
        per_post = 20
        interval = per_post / args.rate
        seconds = args.minutes * 60
        reads: list[tuple[float, float]] = []  # (time into the run, latency)
        began = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - began) < seconds:
            instance.post(conn, batch(n, args.sessions, per_post))
            n += 1
            if n % 5 == 0:  # two reads a second at 200 events/s
                path_read = (
                    f"/api/v1/sessions/day-{n % args.sessions}" if n % 10 else "/api/v1/sessions"
                )
                reads.append((elapsed, timed_read(instance, path_read)))
            pause = began + n * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        stop.set()
        sampler.join()
        ended_wal = wal.stat().st_size if wal.exists() else 0
        database = path.stat().st_size
    first = [r for t, r in reads if t < 60]
    last = [r for t, r in reads if t >= seconds - 60]

    def ms(values: list[float]) -> str:
        return f"p50 {median(values) * 1000:.1f} ms, p99 {percentile(values, 0.99) * 1000:.1f} ms"

    print(
        f"{args.minutes:g} min at {args.rate} events/s ({n * per_post:,} events over "
        f"{args.sessions} sessions): WAL largest {largest / 2**20:.1f} MiB, at the end "
        f"{ended_wal / 2**20:.1f} MiB; database {database / 2**20:.0f} MiB; reads in the first "
        f"minute {ms(first)}, in the last minute {ms(last)}",
        flush=True,
    )
    os.sync()


if __name__ == "__main__":
    main()
