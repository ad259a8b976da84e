"""HTTP ingest throughput against raw sqlite3 executemany, measured side by side in one run.

    python benchmarks/ingest.py [--events 100000] [--runs 3] [--backends sqlite,postgresql]

Posts N events in batches of 1,000 to a `livetally up` process (its worker folds them at the
same time, as in production) and prints events/s; then inserts the same rows with plain sqlite3
executemany in one transaction and prints that rate and the ratio. Goal: HTTP >= 25% of raw.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
import uuid

from benchmarks.common import database, median, running_instance, wire_events

BATCH = 1000


def http_rate(backend: str, count: int) -> float:
    events = wire_events(count, sessions=20, seed=uuid.uuid4().hex[:6])
    bodies = [json.dumps({"events": events[i:i + BATCH]}).encode()
              for i in range(0, count, BATCH)]
    with database(backend) as url, running_instance(url) as instance:
        conn = instance.connection()
        instance.post(conn, bodies[0])  # warm-up: first connection, first transaction
        started = time.perf_counter()
        for body in bodies[1:]:
            instance.post(conn, body)
        elapsed = time.perf_counter() - started
    return (len(bodies) - 1) * BATCH / elapsed


def raw_sqlite_rate(count: int) -> float:
    """The same rows, the same unique indexes, plain sqlite3, one transaction."""
    events = wire_events(count, sessions=20)
    rows = [(e["event_id"], f"session-{e['session_id']}", i // 20 + 1, e["type"], 1,
             json.dumps(e["data"]), json.dumps(e["metadata"]), i, i)
            for i, e in enumerate(events)]
    folder = tempfile.mkdtemp(prefix="livetally-raw-")
    db = sqlite3.connect(f"{folder}/raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("""CREATE TABLE events (position INTEGER PRIMARY KEY, event_id TEXT UNIQUE,
                  stream_id TEXT, version INTEGER, type TEXT, schema_version INTEGER, data TEXT,
                  metadata TEXT, occurred_at INTEGER, recorded_at INTEGER,
                  UNIQUE (stream_id, version))""")
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany("INSERT INTO events (event_id, stream_id, version, type, schema_version, data,"
                   " metadata, occurred_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    raw = median([raw_sqlite_rate(args.events) for _ in range(args.runs)])
    print(f"raw sqlite3 executemany, one transaction: {raw:,.0f} rows/s (median of {args.runs})")
    for backend in args.backends.split(","):
        rates = [http_rate(backend, args.events) for _ in range(args.runs)]
        rate = median(rates)
        print(f"HTTP ingest, {backend}, batches of {BATCH}: {rate:,.0f} events/s "
              f"(median of {args.runs}: {', '.join(f'{r:,.0f}' for r in rates)}); "
              f"{rate / raw:.0%} of raw sqlite3")


if __name__ == "__main__":
    main()
