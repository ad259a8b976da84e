"""HTTP ingest throughput against raw sqlite3 executemany, measured side by side in one run.

    python benchmarks/ingest.py [--events 100000] [--runs 3] [--backends sqlite,postgresql]

Posts N events in batches of 1,000 to a `livetally up` process (its worker folds them at the
same time, as in production) and prints events/s; each run first inserts the same rows with
plain sqlite3 executemany in one transaction, and the ratio is taken against that run's raw
rate. Goal: HTTP >= 25% of raw. benchmarks/ingest_floor.py splits the gap into layers.
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
    bodies = [
        json.dumps({"events": events[i : i + BATCH]}).encode() for i in range(0, count, BATCH)
    ]
    with database(backend) as url, running_instance(url) as instance:
        conn = instance.connection()
        instance.post(conn, bodies[0])  # warm-up: first connection, first transaction
        started = time.perf_counter()
        for body in bodies[1:]:
            instance.post(conn, body)
        elapsed = time.perf_counter() - started
    return (len(bodies) - 1) * BATCH / elapsed


def raw_sqlite_rate(
    count: int, per_transaction: int | None = None, binary_ids: bool = False
) -> float:
    """The same rows, the same unique indexes, plain sqlite3: one transaction, or one per
    `per_transaction` rows (what a durable per-request commit costs with no Python around it);
    `binary_ids` keeps event_id as its 16 bytes instead of 36 characters."""
    events = wire_events(count, sessions=20)
    rows = [
        (
            uuid.UUID(e["event_id"]).bytes if binary_ids else e["event_id"],
            f"session-{e['session_id']}",
            i // 20 + 1,
            e["type"],
            1,
            json.dumps(e["data"]),
            json.dumps(e["metadata"]),
            i,
            i,
        )
        for i, e in enumerate(events)
    ]
    folder = tempfile.mkdtemp(prefix="livetally-raw-")
    db = sqlite3.connect(f"{folder}/raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("""CREATE TABLE events (position INTEGER PRIMARY KEY, event_id TEXT UNIQUE,
                  stream_id TEXT, version INTEGER, type TEXT, schema_version INTEGER, data TEXT,
                  metadata TEXT, occurred_at INTEGER, recorded_at INTEGER,
                  UNIQUE (stream_id, version))""")
    step = per_transaction or count
    started = time.perf_counter()
    for start in range(0, count, step):
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO events (event_id, stream_id, version, type, schema_version,"
            " data, metadata, occurred_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
            rows[start : start + step],
        )
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
    backends = args.backends.split(",")
    raws: list[float] = []
    rates: dict[str, list[float]] = {backend: [] for backend in backends}
    # Raw and HTTP runs alternate, so that each HTTP run is compared with a raw run measured
    # moments before it: this machine's speed drifts by a third within minutes.
    for run in range(1, args.runs + 1):
        raws.append(raw_sqlite_rate(args.events))
        line = [f"run {run}: raw {raws[-1]:,.0f} rows/s"]
        for backend in backends:
            rates[backend].append(http_rate(backend, args.events))
            line.append(
                f"{backend} {rates[backend][-1]:,.0f} events/s "
                f"({rates[backend][-1] / raws[-1]:.0%})"
            )
        print("; ".join(line), flush=True)
    print(
        f"raw sqlite3 executemany, one transaction: {median(raws):,.0f} rows/s "
        f"(median of {args.runs})"
    )
    for backend in backends:
        shares = [rate / raw for rate, raw in zip(rates[backend], raws, strict=True)]
        print(
            f"HTTP ingest, {backend}, batches of {BATCH}: {median(rates[backend]):,.0f} "
            f"events/s (median of {args.runs}: "
            f"{', '.join(f'{r:,.0f}' for r in rates[backend])}); "
            f"{median(shares):.0%} of raw sqlite3 (median of the runs' ratios)"
        )


if __name__ == "__main__":
    main()
