"""What a projection run costs per stream for rooms connected through official sources: the
work that decides how many such rooms one `livetally up` carries (benchmarks/capacity.py).

    python -m benchmarks.group_runs [--rooms 500] [--ticks 100] [--seed 7] [--age-minutes 0]
                                    [--pins-every 0]

N sessions on a SQLite file, fed as benchmarks/capacity.py's official mix feeds them (each room
about 2 order events and 5 interaction pushes a second, a platform reading a minute). Each tick
appends 100 ms of every room's events through the recorder, then folds every stream that moved
through `Projector.project` exactly as the worker does (claims taken along, groups of up to 64
streams in one transaction). Prints the median and p90 over the ticks of the fold-and-write
time per stream that moved, in µs (wall, and this thread's CPU time, which a busy machine
disturbs less), and the appends' p50 (not part of the figure). `--age-minutes 180`: the
sessions started three hours before the first tick, each with 180 minutes on its timeline.
`--pins-every 3`: each room also explains a product every 3 minutes (with --age-minutes, those
before the first tick sent with its start).
One thread, nothing else running: the figure is the run's own cost, without contention.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from typing import Any

from benchmarks.capacity import official_tick, pins_before
from benchmarks.common import median
from events import create_engine, open_recorder
from events.clock import now_micros
from events.envelope import MAX_BATCH, parse_body
from events.recent import RecentEvents
from service.process.migrate import upgrade
from worker.pending import LocalPending
from worker.projector import Projector


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--ticks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--age-minutes", type=float, default=0.0)
    parser.add_argument("--pins-every", type=float, default=0.0)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="livetally-group-runs-")
    engine = create_engine(f"sqlite:///{folder}/runs.db")
    upgrade(engine)
    recorder = open_recorder(engine, RecentEvents())  # as `livetally up` opens it
    pending = LocalPending()
    projector = Projector(engine, recorder, pending=pending)
    rng = random.Random(args.seed)
    started: set[int] = set()
    per_stream: list[float] = []
    cpu_per_stream: list[float] = []  # this thread's CPU time: steadier on a busy machine
    append_ms: list[float] = []
    opening_ms = 0.0  # the first tick: every session's first run (all its minutes drawn)
    t0 = time.time() - args.ticks / 10
    history = pins_before(args.age_minutes, args.pins_every)
    for tick in range(args.ticks):
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + tick / 10)) + ".000Z"
        session_start = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 - args.age_minutes * 60)) + ".000Z"
        )
        events: list[dict[str, Any]] = official_tick(
            rng, args.rooms, tick, now, started, session_start, args.pins_every, history
        )[0]
        new_events = [
            event
            for first in range(0, len(events), MAX_BATCH)
            for event in parse_body({"events": events[first : first + MAX_BATCH]}, now_micros())
        ]
        began = time.perf_counter()
        recorder.append(new_events)
        append_ms.append((time.perf_counter() - began) * 1000)
        moved = sorted({e.stream_id for e in new_events})
        for stream_id in moved:
            pending.claim(stream_id)
        began, cpu = time.perf_counter(), time.thread_time()
        left = set(moved)
        while left:
            first = left.pop()
            pending.release(first)
            projector.project(first, publish=False)
            left &= set(pending._pending)  # what no run took along yet
        elapsed = time.perf_counter() - began
        if tick == 0:
            opening_ms = elapsed * 1000
        if tick >= 5:  # the first ticks open the sessions
            per_stream.append(elapsed / len(moved) * 1e6)
            cpu_per_stream.append((time.thread_time() - cpu) / len(moved) * 1e6)
    per_stream.sort()
    print(
        f"{args.rooms} rooms, {len(per_stream)} ticks: fold and write per stream that moved "
        f"p50 {median(per_stream):.0f} µs, p90 {per_stream[int(0.9 * len(per_stream))]:.0f} µs "
        f"(CPU p50 {median(cpu_per_stream):.0f} µs); append of a tick p50 "
        f"{median(append_ms):.1f} ms; the first tick (every session's first run) "
        f"{opening_ms:.0f} ms"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
