"""Feed fan-out: 1,000 clients on one session while its metrics change 200 times a second.

    python benchmarks/feed.py [--clients 1000] [--changes 200] [--seconds 15] [--max-rate 10]

A `livetally feed` process follows Redis pub/sub; this process publishes a changing session
document to Redis `--changes` times a second (as workers do) and notes when; a second process
holds the websocket clients and notes when each update arrived. Staleness of a change: the time
from its publication until a client holds a state at least that new. Reports p50/p99 over every
(client, change) pair, the feed's CPU per delivered message (from /proc), and whether every
client ends on the final version. Goal: p99 staleness <= 250 ms, every client final.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import orjson
import redis

from benchmarks.common import ROOT, livetally
from tests.servers import free_port, start_redis


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def document(version: int) -> dict[str, Any]:
    metrics = {"views": version * 3, "unique_viewers": version * 2, "online": 500 + version % 50,
               "gmv": version * 19.9, "net_gmv": version * 19.9, "buyers": version // 4,
               "conversion_rate": (version // 4) / (version * 2 or 1), "new_followers": version,
               "peak_online": 550, "gpm": 6633.3, "interaction_rate": 0.31}
    return {"session_id": "bench", "status": "live", "version": version, "metrics": metrics,
            "open_incidents": [], "last_event_at": None}


async def clients_main(port: int, token: str, count: int, seconds: float) -> None:
    """Run in its own process; prints {client: [(version, received_at)]} as JSON."""
    from websockets.asyncio.client import connect

    raise_fd_limit()
    received: list[list[tuple[int, float]]] = [[] for _ in range(count)]

    async def one(i: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/feed?session=bench&token={token}",
                           compression=None, max_queue=None) as ws:
            try:
                async for raw in ws:
                    message = orjson.loads(raw)
                    if message["type"] in ("update", "snapshot"):
                        received[i].append((message["version"], time.monotonic()))
            except Exception:
                return

    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(one(i)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sys.stdout.write(json.dumps(received))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> None:
    raise_fd_limit()
    rds = start_redis()
    folder = tempfile.mkdtemp(prefix="livetally-feed-")
    env = {**os.environ, "LIVETALLY_DATABASE_URL": f"sqlite:///{folder}/feed.db",
           "LIVETALLY_REDIS_URL": rds.url, "LIVETALLY_FEED_MAX_RATE": str(args.max_rate)}
    token = subprocess.run(livetally("tokens", "create", "--scope", "read"), env=env, cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.strip()
    port = free_port()
    feed = subprocess.Popen(livetally("feed", "--port", str(port)), env=env, cwd=ROOT,
                            stderr=subprocess.DEVNULL, preexec_fn=raise_fd_limit)
    publisher = redis.Redis.from_url(rds.url)
    try:
        time.sleep(1.5)
        publisher.publish("livetally:feed", orjson.dumps(
            {"type": "update", "session_id": "bench", "version": 1, "document": document(1),
             "changed": [], "alerts": []}))
        holders = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.feed", "--clients-process", str(port), token,
             str(args.clients), str(args.seconds + 6)], cwd=ROOT, stdout=subprocess.PIPE,
            text=True)
        assert holders.stdout is not None
        assert holders.stdout.readline().strip() == "ready"
        time.sleep(2.0)
        published: list[tuple[int, float]] = []
        cpu_before = cpu_seconds(feed.pid)
        interval = 1.0 / args.changes
        started = time.monotonic()
        version = 1
        while time.monotonic() - started < args.seconds:
            version += 1
            publisher.publish("livetally:feed", orjson.dumps(
                {"type": "update", "session_id": "bench", "version": version,
                 "document": document(version), "changed": ["views"], "alerts": []}))
            published.append((version, time.monotonic()))
            pause = started + (version - 1) * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        time.sleep(2.0)
        cpu = cpu_seconds(feed.pid) - cpu_before
        received = json.loads(holders.communicate()[0])
    finally:
        feed.terminate()
        feed.wait(10)
        rds.stop()
    report(args, published, received, cpu, version)


def report(args: argparse.Namespace, published: list[tuple[int, float]],
           received: list[list[tuple[int, float]]], cpu: float, final: int) -> None:
    staleness: list[float] = []
    deliveries = 0
    finals = 0
    first_published = published[0][1]
    for messages in received:
        in_window = [(v, t) for v, t in messages if t >= first_published]
        deliveries += len(in_window)
        if messages and messages[-1][0] == final:
            finals += 1
        versions = [v for v, _ in messages]
        times = [t for _, t in messages]
        # versions only grow per client; the first message holding >= v answers v
        for v, at in published:
            i = bisect.bisect_left(versions, v)
            staleness.append((times[i] - at) if i < len(times) else float("inf"))
    staleness.sort()
    lost = sum(1 for s in staleness if s == float("inf"))

    def pct(q: float) -> float:
        return staleness[min(len(staleness) - 1, int(q * len(staleness)))] * 1000

    print(f"{args.clients} clients, {len(published)} changes at {args.changes}/s, max "
          f"{args.max_rate} updates/s per client: staleness p50 {pct(0.5):.0f} ms, "
          f"p99 {pct(0.99):.0f} ms; {deliveries:,} deliveries "
          f"({deliveries / args.seconds:,.0f}/s), feed CPU {cpu:.2f} s = "
          f"{cpu / max(deliveries, 1) * 1e6:.1f} us per delivery; "
          f"{finals}/{len(received)} clients on the final version; never caught up {lost}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--clients-process":
        port, token, count, seconds = sys.argv[2:6]
        asyncio.run(clients_main(int(port), token, int(count), float(seconds)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-rate", type=float, default=10)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
