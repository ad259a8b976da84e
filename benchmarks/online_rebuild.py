"""Online rebuild against offline, and what live ingest sees meanwhile.

    python -m benchmarks.online_rebuild [--events 1000000] [--sessions 200] [--rate 200]
                                        [--backends sqlite,postgresql]

Per backend: N events over S sessions are loaded straight through the recorder (not timed);
the offline rebuild (`rebuild --offline --force`) is timed; then `livetally up`'s parts run in
this process on the same database (the embedded server, in-process broker and workers), a
client process posts `--rate` events/s over 20 other sessions, and `livetally rebuild` (online)
runs as its own process, as an operator would start it. Reported: the online rebuild's time
against the offline one (goal: within 1.3x), and the time from each POST returning to its
change being published, for the POSTs made while the rebuild ran (goal: p99 <= 500 ms), beside
the same client's figures in the seconds before the rebuild started (paired, same run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from benchmarks.common import ROOT, database, livetally, median
from benchmarks.latency import Published, percentile
from benchmarks.projection import load
from events import create_engine
from tests.servers import free_port
from worker.rebuild import rebuild

CLIENT_SESSIONS = 20


class LivePublished(Published):
    """Only the client's sessions (lat-N): the loaded ones are named bench-N."""

    def record(self, message: dict[str, Any]) -> None:
        if str(message.get("session_id", "")).startswith("lat-"):
            super().record(message)


def run(url: str, args: argparse.Namespace) -> str:
    from service.auth.tokens import create_token
    from service.process.embedded import Embedded
    from service.process.gc_tuning import tune_garbage_collector
    from service.process.settings import Settings

    load(url, args.events, args.sessions)
    engine = create_engine(url)
    offline = rebuild(engine, force=True)
    token = create_token(engine, ["ingest"])
    engine.dispose()

    server = Embedded(
        Settings(
            database_url=url,
            api_port=free_port(),
            feed_port=0,
            secret_key_file=f"{tempfile.mkdtemp(prefix='livetally-key-')}/key",
        )
    )
    published = LivePublished()
    assert server.runtime.worker.hub is not None
    server.runtime.worker.hub.subscribe(published.record)
    server.start()
    tune_garbage_collector()
    seconds = args.lead + offline.seconds * 3 + 30  # the client outlasts the rebuild
    client_out: list[str] = []

    def post() -> None:
        client_out.append(
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.latency",
                    "client",
                    str(server.server.effective_port),  # type: ignore[union-attr]
                    token,
                    str(CLIENT_SESSIONS),
                    str(args.rate),
                    str(seconds),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )

    poster = threading.Thread(target=post)
    try:
        poster.start()
        time.sleep(args.lead)
        began = time.monotonic()
        result = subprocess.run(
            livetally("rebuild", "--db", url), cwd=ROOT, capture_output=True, text=True
        )
        ended = time.monotonic()
        poster.join()
        time.sleep(1.0)
    finally:
        server.stop()
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    records = [tuple(r) for r in json.loads(client_out[0])]
    before = [r for r in records if began - args.lead + 1 <= r[2] < began]
    during = [r for r in records if began <= r[2] <= ended]
    online_seconds = ended - began

    def figures(rows: list[Any]) -> str:
        latencies = published.latencies(rows)
        done = [x for x in latencies if x != float("inf")]
        missing = len(latencies) - len(done)
        return (
            f"{len(rows)} posts: p50 {median(done) * 1000:.0f} ms, "
            f"p99 {percentile(done, 0.99) * 1000:.0f} ms, max {max(done) * 1000:.0f} ms, "
            f"never published {missing}"
        )

    return (
        f"{args.events:,} events / {args.sessions} sessions: offline {offline.seconds:.1f} s, "
        f"online (a process beside the live service, {args.rate} events/s posted meanwhile) "
        f"{online_seconds:.1f} s = {online_seconds / offline.seconds:.2f}x; append-to-published "
        f"before the rebuild {figures(before)}; during it {figures(during)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--lead", type=float, default=8.0, help="seconds posted before")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with database(backend) as url:
            print(f"online rebuild, {backend}: {run(url, args)}", flush=True)


if __name__ == "__main__":
    main()
