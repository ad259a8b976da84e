"""Time from a POST returning to its change being published, at 2,000 events/s over 20 sessions.

    python benchmarks/latency.py [--seconds 20] [--rate 2000] [--sessions 20]
                                 [--modes embedded,redis]

A client process posts one batch per session in turn (rate/sessions events/s per session) and
records when each POST returned; this process records when each (session, version) change was
published: through the in-process hub for the embedded default, through Redis pub/sub for the
production shape (`livetally api` under gunicorn and a `livetally worker` process, PostgreSQL).
A POST's latency is the first publish that covers its last event minus its return time
(time.monotonic is system-wide on Linux, so both processes read the same clock).
Goal: p99 <= 250 ms in both modes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

import orjson
import redis

from benchmarks.common import ROOT, Instance, livetally, median, wait_healthy
from tests.servers import free_port, start_postgres, start_redis


def client(url_port: int, token: str, sessions: int, rate: int, seconds: float) -> None:
    """Posts, and prints [(session, head_version_after_post, returned_at)] as JSON."""
    instance = Instance(url_port, token, "")
    conn = instance.connection()
    per_post = max(1, rate // (sessions * 10))  # ten posts per second per session
    interval = per_post / rate
    heads = dict.fromkeys(range(sessions), 0)
    records = []
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        session = n % sessions
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        events = []
        if heads[session] == 0:
            events.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "session.started",
                    "occurred_at": now,
                    "session_id": f"lat-{session}",
                    "data": {"host_id": "h", "room_id": "r", "platform": "douyin"},
                }
            )
        while len(events) < per_post:
            events.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "viewer.joined",
                    "occurred_at": now,
                    "session_id": f"lat-{session}",
                    "data": {"viewer_id": f"v{n}-{len(events)}", "source": "ad"},
                }
            )
        instance.post(conn, orjson.dumps({"events": events}))
        heads[session] += len(events)
        records.append((session, heads[session], time.monotonic()))
        n += 1
        pause = started + n * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    print(json.dumps(records))


class Published:
    def __init__(self) -> None:
        self.seen: dict[int, list[tuple[int, float]]] = {}
        self.lock = threading.Lock()

    def record(self, message: dict[str, Any]) -> None:
        if message.get("type") != "update":
            return
        session = int(message["session_id"].split("-")[1])
        with self.lock:
            self.seen.setdefault(session, []).append((message["version"], time.monotonic()))

    def latencies(self, records: list[tuple[int, int, float]]) -> list[float]:
        result = []
        for session, version, returned in records:
            times = [t for v, t in self.seen.get(session, []) if v >= version]
            if times:
                result.append(max(0.0, min(times) - returned))
            else:
                result.append(float("inf"))
        return result


def run_client(port: int, token: str, args: argparse.Namespace) -> list[tuple[int, int, float]]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.latency",
            "client",
            str(port),
            token,
            str(args.sessions),
            str(args.rate),
            str(args.seconds),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [tuple(r) for r in json.loads(out)]  # type: ignore[misc]


def embedded(args: argparse.Namespace) -> list[float]:
    from service.process.embedded import Embedded
    from service.process.gc_tuning import tune_garbage_collector
    from service.process.settings import Settings

    folder = tempfile.mkdtemp(prefix="livetally-lat-")
    settings = Settings(database_url=f"sqlite:///{folder}/lat.db", api_port=free_port())
    server = Embedded(settings)
    published = Published()
    assert server.runtime.worker.hub is not None
    server.runtime.worker.hub.subscribe(published.record)
    server.start()
    tune_garbage_collector()  # as `livetally up` does after starting (service/process/embedded.py)
    try:
        from service.auth.tokens import create_token

        token = create_token(server.runtime.engine, ["ingest"])
        records = run_client(server.server.effective_port, token, args)  # type: ignore[union-attr]
        time.sleep(1.0)
    finally:
        server.stop()
    return published.latencies(records)


def production(args: argparse.Namespace) -> list[float]:
    pg, rds = start_postgres(), start_redis()
    pg.execute("CREATE DATABASE lat")
    env = {**os.environ, "LIVETALLY_DATABASE_URL": pg.url("lat"), "LIVETALLY_REDIS_URL": rds.url}
    processes = []
    try:
        subprocess.run(livetally("db", "upgrade"), env=env, cwd=ROOT, check=True)
        token = subprocess.run(
            livetally("tokens", "create", "--scope", "ingest"),
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        processes.append(
            subprocess.Popen(
                livetally("api", "--port", str(port), "--workers", "2"),
                env=env,
                cwd=ROOT,
                stderr=subprocess.DEVNULL,
            )
        )
        processes.append(
            subprocess.Popen(livetally("worker"), env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        )
        published = Published()
        pubsub = redis.Redis.from_url(rds.url).pubsub()
        pubsub.subscribe("livetally:feed")

        def listen() -> None:
            try:
                for message in pubsub.listen():
                    if message["type"] == "message":
                        published.record(orjson.loads(message["data"]))
            except redis.ConnectionError:
                return  # Redis stopped at the end of the run

        threading.Thread(target=listen, daemon=True).start()
        wait_healthy(Instance(port, token, ""))
        records = run_client(port, token, args)
        time.sleep(1.0)
        return published.latencies(records)
    finally:
        for process in processes:
            process.terminate()
            process.wait(20)
        rds.stop()
        pg.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        port, token, sessions, rate, seconds = sys.argv[2:7]
        client(int(port), token, int(sessions), int(rate), float(seconds))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--modes", default="embedded,redis")
    args = parser.parse_args()
    for mode in args.modes.split(","):
        latencies = embedded(args) if mode == "embedded" else production(args)
        missing = sum(1 for x in latencies if x == float("inf"))
        done = [x for x in latencies if x != float("inf")]
        per_post = max(1, args.rate // (args.sessions * 10))
        achieved = len(latencies) * per_post / args.seconds
        print(
            f"{mode}: {len(latencies)} posts, {achieved:,.0f} events/s achieved (asked "
            f"{args.rate}) over {args.sessions} "
            f"sessions: p50 {median(done) * 1000:.0f} ms, p99 {percentile(done, 0.99) * 1000:.0f}"
            f" ms, max {max(done) * 1000:.0f} ms, never published {missing}",
            flush=True,
        )


if __name__ == "__main__":
    main()
