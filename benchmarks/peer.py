"""livetally's store against the Python `eventsourcing` library (pip install '.[bench]').

    python benchmarks/peer.py [--events 20000] [--streams 200] [--runs 3]
                              [--backends sqlite,postgresql]

The same events (viewer joins, 10 or 100 per save, one stream per save, streams interleaved)
are appended in process through livetally's SqlRecorder and through an eventsourcing
Application saving aggregates; then everything is read back from the start, decoded, through
livetally's read-all and the peer's notification log (its recorder's select_notifications plus
its mapper, as a notification log reader does). Prints events/s for every line and the ratio.
Goal: livetally >= 2x the peer on every append line, and no slower reading back.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.common import median
from events import NewEvent, create_engine, open_recorder
from service.process.migrate import upgrade
from tests.servers import start_postgres


class Broadcast(Aggregate):
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.views = 0

    @event("ViewerJoined")
    def viewer_joined(self, viewer_id: str, source: str, occurred_at: int) -> None:
        self.views += 1


def plan(total: int, streams: int, per_save: int) -> list[tuple[int, int]]:
    """(stream, first event number) of each save, streams taken in turn."""
    saves = []
    n = 0
    while n < total:
        saves.append((len(saves) % streams, n))
        n += per_save
    return saves


def livetally_append(url: str, total: int, streams: int, per_save: int) -> float:
    engine = create_engine(url)
    upgrade(engine)
    recorder = open_recorder(engine)
    started = time.perf_counter()
    for stream, first in plan(total, streams, per_save):
        recorder.append(
            [
                NewEvent(
                    str(uuid.uuid4()),
                    "viewer.joined",
                    f"session-bench-{stream}",
                    {"viewer_id": f"v{first + i}", "source": "recommend"},
                    1_795_000_000_000_000 + first + i,
                )
                for i in range(per_save)
            ]
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return total / elapsed


def livetally_read(url: str) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    count = sum(1 for _ in open_recorder(engine).iter_all())
    elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed


def peer_app(env: dict[str, str]) -> Application:
    return Application(env=env)


def peer_append(env: dict[str, str], total: int, streams: int, per_save: int) -> float:
    app = peer_app(env)
    aggregates = [Broadcast(f"bench-{i}") for i in range(streams)]
    for aggregate in aggregates:
        app.save(aggregate)  # the created events are not counted
    started = time.perf_counter()
    for stream, first in plan(total, streams, per_save):
        aggregate = aggregates[stream]
        for i in range(per_save):
            aggregate.viewer_joined(
                viewer_id=f"v{first + i}",
                source="recommend",
                occurred_at=1_795_000_000_000_000 + first + i,
            )
        app.save(aggregate)
    elapsed = time.perf_counter() - started
    app.close()
    return total / elapsed


def peer_read(env: dict[str, str]) -> float:
    app = peer_app(env)
    started = time.perf_counter()
    count, start = 0, 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=20_000)
        if not page:
            break
        for notification in page:
            app.mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id + 1
    elapsed = time.perf_counter() - started
    app.close()
    return count / elapsed


def run(backend: str, args: argparse.Namespace) -> None:
    server = start_postgres() if backend == "postgresql" else None
    try:
        for per_save in (10, 100):
            ours: list[float] = []
            peers: list[float] = []
            reads_ours: list[float] = []
            reads_peer: list[float] = []
            for run_no in range(args.runs):
                url, env = _stores(backend, server, f"{per_save}_{run_no}")
                ours.append(livetally_append(url, args.events, args.streams, per_save))
                peers.append(peer_append(env, args.events, args.streams, per_save))
                reads_ours.append(livetally_read(url))
                reads_peer.append(peer_read(env))
            _line(f"{backend} append, {per_save} per save", ours, peers)
            if per_save == 100:
                _line(f"{backend} read back, decoded", reads_ours, reads_peer)
    finally:
        if server is not None:
            server.stop()


def _stores(backend: str, server: Any, name: str) -> tuple[str, dict[str, str]]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="livetally-peer-")
        return (
            f"sqlite:///{folder}/livetally.db",
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/peer.db"},
        )
    server.execute(f"CREATE DATABASE lt_{name}")
    server.execute(f"CREATE DATABASE es_{name}")
    return (
        server.url(f"lt_{name}"),
        {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": f"es_{name}",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(server.port),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
        },
    )


def _line(label: str, ours: list[float], peers: list[float]) -> None:
    a, b = median(ours), median(peers)
    print(
        f"{label}: livetally {a:,.0f} events/s, eventsourcing {b:,.0f} events/s, "
        f"ratio {a / b:.1f}x (medians of {len(ours)})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for backend in args.backends.split(","):
        run(backend, args)


if __name__ == "__main__":
    main()
