"""Feed fan-out: N clients while sessions change 200 times a second in total.

    python benchmarks/feed.py [--clients 1000] [--changes 200] [--seconds 15] [--max-rate 10]
                              [--sessions 1] [--live-clients 0]

Clients follow one session each (round-robin over `--sessions`), and `--live-clients` of them
follow the all-sessions view (consoles). The feed's resident memory is read before the clients
connect and once they are all connected and idle: their difference over N is the memory per idle
client.

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
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import orjson
import redis

from benchmarks.common import ROOT, livetally
from tests.servers import free_port, start_redis


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def document(version: int, session: str = "bench") -> dict[str, Any]:
    metrics = {
        "views": version * 3,
        "unique_viewers": version * 2,
        "online": 500 + version % 50,
        "gmv": version * 19.9,
        "net_gmv": version * 19.9,
        "buyers": version // 4,
        "conversion_rate": (version // 4) / (version * 2 or 1),
        "new_followers": version,
        "peak_online": 550,
        "gpm": 6633.3,
        "interaction_rate": 0.31,
    }
    return {
        "session_id": session,
        "status": "live",
        "version": version,
        "metrics": metrics,
        "open_incidents": [],
        "last_event_at": None,
    }


class PlainReader:
    """A screen that reads and drops what it gets, with no websocket library and no callback
    per message: a plain socket that one loop drains every POLL_SECONDS (the kernel holds what
    arrives meanwhile, a few KB, far below its buffers, so to the feed it is a client that
    keeps up). Thousands of them then cost this process little, and the probes' timings are
    not queued behind them. At the end it says the highest version in its last bytes."""

    def __init__(self, port: int, path: str, session: str) -> None:
        self.session = session
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            head += data
        head, self.tail = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:80].decode(errors="replace"))
        self.sock.setblocking(False)
        self.first_at = time.monotonic() if self.tail else None

    def drain(self) -> None:
        while True:
            try:
                data = self.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                return
            if not data:
                return
            self.tail = (self.tail + data)[-16384:]
            if self.first_at is None:
                self.first_at = time.monotonic()

    def result(self) -> list[tuple[str, int, float]]:
        self.drain()
        self.sock.close()
        versions = [int(v) for v in re.findall(rb'"version":(\d+)', self.tail)]
        got = [(self.session, 0, self.first_at)] if self.first_at is not None else []
        return [*got, (self.session, max(versions), time.monotonic())] if versions else got


POLL_SECONDS = 0.5


def connect_plain(port: int, path: str, session: str) -> PlainReader | None:
    for attempt in range(6):  # a refused handshake is retried, as screens do
        try:
            return PlainReader(port, path, session)
        except OSError as exc:
            if attempt == 5:
                print(f"plain client: {exc!r}", file=sys.stderr)
            time.sleep(0.25 * 2**attempt)
    return None


async def clients_main(
    port: int, token: str, count: int, seconds: float, sessions: int, live: int, probes: int
) -> None:
    """Run in its own process; prints [[(session, version, received_at)] per client] as JSON
    and the indexes of the probe clients (the ones that time every message)."""
    from websockets.asyncio.client import connect

    raise_fd_limit()
    received: list[list[tuple[str, int, float]]] = [[] for _ in range(count)]
    step = max(1, (count - live) // max(probes, 1))
    probing = set(range(live)) | set(range(live, count, step))

    plain: dict[int, PlainReader] = {}
    polling = True

    async def poll_plain() -> None:
        while polling:
            for reader in list(plain.values()):
                reader.drain()
            await asyncio.sleep(POLL_SECONDS)

    async def one(i: int) -> None:
        query = "" if i < live else f"session=bench-{i % sessions}&"
        async with connect(
            f"ws://127.0.0.1:{port}/feed?{query}token={token}",
            compression=None,
            max_queue=None,
            open_timeout=60,
        ) as ws:
            try:
                async for raw in ws:
                    message = orjson.loads(raw)
                    now = time.monotonic()
                    if message["type"] == "update":
                        received[i].append((message["session_id"], message["version"], now))
                    elif message["type"] == "snapshot":
                        docs = message.get("sessions", [message])
                        for doc in docs:
                            received[i].append((doc["session_id"], doc["version"], now))
            except Exception as exc:
                print(f"client {i}: {exc!r}", file=sys.stderr)
                return

    tasks = [asyncio.create_task(poll_plain())]
    for i in range(count):
        if i in probing:
            tasks.append(asyncio.create_task(one(i)))
        else:  # the handshake blocks this loop a moment: done before anything is timed
            session = f"bench-{i % sessions}"
            reader = await asyncio.to_thread(
                connect_plain, port, f"/feed?session={session}&token={token}", session
            )
            if reader is not None:
                plain[i] = reader
        if i % 100 == 99:
            await asyncio.sleep(0.05)

    def holding() -> int:
        return sum(1 for i, r in enumerate(received) if r and i in probing) + sum(
            1 for r in plain.values() if r.first_at is not None
        )

    while holding() < count - live:  # every screen holds its snapshot
        await asyncio.sleep(0.1)
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    polling = False
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for i, reader in plain.items():
        received[i] = reader.result()
    sys.stdout.write(json.dumps({"received": received, "probes": sorted(probing)}))


def register_sessions(url: str, count: int) -> None:
    """The feed serves sessions the store knows (a made-up id is refused): start them."""
    from events import create_engine, open_recorder
    from events.clock import now_micros
    from events.envelope import parse_body
    from events.fields import format_timestamp

    engine = create_engine(url)
    now = now_micros()
    open_recorder(engine).append(
        parse_body(
            {
                "events": [
                    {
                        "event_id": str(uuid.uuid4()),
                        "type": "session.started",
                        "session_id": f"bench-{k}",
                        "occurred_at": format_timestamp(now),
                        "data": {"host_id": "h-1", "room_id": f"r-{k}", "platform": "douyin"},
                    }
                    for k in range(count)
                ]
            },
            now,
        )
    )
    engine.dispose()


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> None:
    raise_fd_limit()
    rds = start_redis()
    folder = tempfile.mkdtemp(prefix="livetally-feed-")
    env = {
        **os.environ,
        "LIVETALLY_DATABASE_URL": f"sqlite:///{folder}/feed.db",
        "LIVETALLY_REDIS_URL": rds.url,
        "LIVETALLY_FEED_MAX_RATE": str(args.max_rate),
    }
    token = subprocess.run(
        livetally("tokens", "create", "--scope", "read"),
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    register_sessions(env["LIVETALLY_DATABASE_URL"], args.sessions)
    port = free_port()
    feed = subprocess.Popen(
        livetally("feed", "--port", str(port)),
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        preexec_fn=raise_fd_limit,
    )
    publisher = redis.Redis.from_url(rds.url)
    try:
        time.sleep(1.5)
        names = [f"bench-{k}" for k in range(args.sessions)]
        versions = dict.fromkeys(names, 1)
        for name in names:
            publisher.publish(
                "livetally:feed",
                orjson.dumps(
                    {
                        "type": "update",
                        "session_id": name,
                        "version": 1,
                        "document": document(1, name),
                        "changed": [],
                        "alerts": [],
                    }
                ),
            )
        time.sleep(0.5)
        rss_before = rss_kb(feed.pid)
        holders = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.feed",
                "--clients-process",
                str(port),
                token,
                str(args.clients),
                str(args.seconds + 6),
                str(args.sessions),
                str(args.live_clients),
                str(args.probes),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holders.stdout is not None
        assert holders.stdout.readline().strip() == "ready"
        time.sleep(2.0)
        rss_idle = rss_kb(feed.pid)
        published: list[tuple[str, int, float]] = []
        cpu_before = cpu_seconds(feed.pid)
        interval = 1.0 / args.changes
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < args.seconds:
            name = names[n % len(names)]
            n += 1
            versions[name] += 1
            publisher.publish(
                "livetally:feed",
                orjson.dumps(
                    {
                        "type": "update",
                        "session_id": name,
                        "version": versions[name],
                        "document": document(versions[name], name),
                        "changed": ["views"],
                        "alerts": [],
                    }
                ),
            )
            published.append((name, versions[name], time.monotonic()))
            pause = started + n * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        time.sleep(2.0)
        cpu = cpu_seconds(feed.pid) - cpu_before
        held = json.loads(holders.communicate()[0])
    finally:
        feed.terminate()
        feed.wait(10)
        rds.stop()
    report(
        args,
        published,
        held["received"],
        set(held["probes"]),
        cpu,
        versions,
        (rss_idle - rss_before) / max(args.clients, 1),
    )


def report(
    args: argparse.Namespace,
    published: list[tuple[str, int, float]],
    received: list[list[tuple[str, int, float]]],
    probes: set[int],
    cpu: float,
    final: dict[str, int],
    kb_per_client: float,
) -> None:
    staleness: list[float] = []
    deliveries = 0
    finals = 0
    first_published = published[0][2]
    by_session: dict[str, list[tuple[int, float]]] = {}
    for name, v, at in published:
        by_session.setdefault(name, []).append((v, at))
    for index, messages in enumerate(received):
        held: dict[str, tuple[list[int], list[float]]] = {}
        for name, v, t in messages:
            versions, times = held.setdefault(name, ([], []))
            versions.append(v)
            times.append(t)
        if held and all(held[name][0][-1] == final[name] for name in held):
            finals += 1
        if index not in probes:
            continue
        deliveries += sum(1 for _, _, t in messages if t >= first_published)
        # versions only grow per client and session; the first message holding >= v answers v
        for name, (versions, times) in held.items():
            for v, at in by_session.get(name, []):
                i = bisect.bisect_left(versions, v)
                staleness.append((times[i] - at) if i < len(times) else float("inf"))
    staleness.sort()
    lost = sum(1 for s in staleness if s == float("inf"))

    def pct(q: float) -> float:
        return staleness[min(len(staleness) - 1, int(q * len(staleness)))] * 1000

    print(
        f"{args.clients} clients ({args.live_clients} on the all-sessions view, the rest on "
        f"one of {args.sessions} sessions), idle feed memory {kb_per_client:.1f} KB per "
        f"client; {len(published)} changes at {args.changes}/s, max "
        f"{args.max_rate} updates/s per client: staleness p50 {pct(0.5):.0f} ms, "
        f"p99 {pct(0.99):.0f} ms over {len(probes)} probe clients; {deliveries:,} deliveries "
        f"to them ({deliveries / args.seconds:,.0f}/s; est. "
        f"{deliveries * len(received) / max(len(probes), 1) / args.seconds:,.0f}/s to all), "
        f"feed CPU {cpu:.2f} s = "
        f"{cpu / max(deliveries * len(received) / max(len(probes), 1), 1) * 1e6:.1f} us per "
        f"delivery (est.); "
        f"{finals}/{len(received)} clients on the final version; never caught up {lost}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--clients-process":
        port, token, count, seconds, sessions, live, probes = sys.argv[2:9]
        asyncio.run(
            clients_main(
                int(port), token, int(count), float(seconds), int(sessions), int(live), int(probes)
            )
        )
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-rate", type=float, default=10)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--live-clients", type=int, default=0)
    parser.add_argument(
        "--probes",
        type=int,
        default=1000,
        help="clients that time every message; the others read and drop",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
