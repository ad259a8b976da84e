"""Where HTTP ingest's time goes on SQLite, one layer at a time, against the raw insert.

    python -m benchmarks.ingest_floor [--events 100000] [--runs 3]

Each run measures, one after another at the same N (batches of 1,000, 20 sessions):

- raw: plain sqlite3 executemany, one transaction (benchmarks/ingest.py's comparison);
- per-batch commits: the same plain sqlite3 inserts, one transaction per 1,000 rows, which is
  what an append that is durable when its request is answered costs with no Python around it
  (SQLite checkpointing inside commits, its default; livetally checkpoints on a thread); and
  the same with event_id stored as 16 bytes, the size of the random-key index that every
  commit rewrites pages of;
- recorder: livetally's SqlRecorder.append of already validated events (with the recent-events
  cache, as in `livetally up`);
- decode + validate + append: orjson and parse_body in front of it, in one thread.

What HTTP ingest adds to the last line is the HTTP server and, on the same interpreter, the
in-process projection worker (see benchmarks/ingest.py).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable

import orjson

from benchmarks.common import median, wire_events
from benchmarks.ingest import BATCH, raw_sqlite_rate
from events import NewEvent, create_engine, open_recorder, parse_body
from events.clock import now_micros
from events.recent import RecentEvents
from service.process.gc_tuning import tune_garbage_collector
from service.process.migrate import upgrade


def recorder_rates(count: int) -> tuple[float, float]:
    """(append alone, decode + validate + append) in events/s, each into a fresh database."""
    events = wire_events(count, sessions=20, seed=uuid.uuid4().hex[:6])
    bodies = [orjson.dumps({"events": events[i : i + BATCH]}) for i in range(0, count, BATCH)]

    def timed(events_of: Callable[[bytes], list[NewEvent]]) -> float:
        engine = create_engine(f"sqlite:///{tempfile.mkdtemp(prefix='livetally-floor-')}/f.db")
        upgrade(engine)
        recorder = open_recorder(engine, RecentEvents())
        started = time.perf_counter()
        for body in bodies:
            recorder.append(events_of(body))
        elapsed = time.perf_counter() - started
        engine.dispose()
        return count / elapsed

    validated = {body: parse_body(orjson.loads(body), now_micros()) for body in bodies}
    append_alone = timed(validated.__getitem__)
    del validated
    whole = timed(lambda body: parse_body(orjson.loads(body), now_micros()))
    return append_alone, whole


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tune_garbage_collector()  # as `livetally up` does
    lines: dict[str, list[float]] = {}
    for _ in range(args.runs):
        raw = raw_sqlite_rate(args.events)
        per_batch = raw_sqlite_rate(args.events, per_transaction=BATCH)
        per_batch_binary = raw_sqlite_rate(args.events, per_transaction=BATCH, binary_ids=True)
        append_alone, whole = recorder_rates(args.events)
        for name, rate in (
            ("raw sqlite3, one transaction", raw),
            (f"plain sqlite3, one transaction per {BATCH:,}", per_batch),
            ("the same, 16-byte event ids", per_batch_binary),
            ("SqlRecorder.append, validated events", append_alone),
            ("orjson + parse_body + append, one thread", whole),
        ):
            lines.setdefault(name, []).append(rate)
            print(f"{name}: {rate:,.0f}/s ({rate / raw:.0%} of raw)", flush=True)
    print(f"medians of {args.runs} runs ({args.events:,} events):")
    raws = lines["raw sqlite3, one transaction"]
    for name, rates in lines.items():
        shares = [rate / raw for rate, raw in zip(rates, raws, strict=True)]
        print(f"  {name}: {median(rates):,.0f}/s, {median(shares):.0%} of raw")


if __name__ == "__main__":
    main()
