"""What one room connected through official sources costs as its broadcast grows long: the
memory its fold state holds, its snapshot, and a run's Python at the start and at the end.

    python -m benchmarks.long_official [--hours 3] [--runs 200] [--pins-every 0]

The room is fed as benchmarks/capacity.py's official mix feeds each of its rooms: a platform
reading a minute, an order placed and paid about once a second, about 5 comments a second,
all spread over `--hours` of broadcast. `--pins-every 3`: the host also explains a product every
3 minutes (a product.pinned, each of 20 products in turn), as a selling room does. Prints:
- the bytes the fold state holds at the end (tracemalloc: what the worker's fold cache keeps
  per live room; times the rooms, what `livetally up` holds for their states);
- the stored snapshot's size and the time to encode it, median of 5 (a snapshot is written
  every 2,000 to 4,000 events of a stream, worker/projector.py);
- a run's Python, p50 over `--runs` runs of 100 ms of events each, in the broadcast's first
  minutes and at its end: the fold, the rows (session_writes), the compare with the last run's
  rows (changed_rows) and the JSON encoding of what is written. No database: the SQL a run
  issues does not grow with the broadcast (one row per table and run).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import orjson

from benchmarks.capacity import pin, reading, wire
from benchmarks.common import median
from events.recorder import StoredEvent
from projections.registry import SessionProjection
from projections.session import SessionState
from service.process.gc_tuning import tune_garbage_collector
from tests.builders import stored
from worker.projector import changed_rows

ROOM = 0
SESSION = f"cap-{ROOM}"
T0 = 1_795_000_000.0  # seconds: the broadcast's start


def _iso(seconds: float) -> str:
    whole = int(seconds)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{int((seconds - whole) * 1000):03d}Z"
    )


def ticks(hours: float, seed: int = 7, pins_every: float = 0) -> Iterator[list[dict[str, Any]]]:
    """The room's events, 100 ms of broadcast at a time; a product pinned every `pins_every`
    minutes (0: none)."""
    rng = random.Random(seed)
    yield [
        wire(
            "session.started",
            SESSION,
            _iso(T0),
            {"host_id": "h", "room_id": "r0", "platform": "douyin"},
        )
    ]
    for tick in range(int(hours * 36_000)):
        now = _iso(T0 + tick / 10)
        events = []
        if pins_every and tick % int(pins_every * 600) == 0:
            events.append(pin(SESSION, tick // int(pins_every * 600), now))
        if tick % 600 == 599:  # a reading a minute
            events.append(reading(ROOM, rng, tick // 600 + 1, now))
        if rng.random() < 0.1:
            order = f"o{tick}"
            data = {"order_id": order, "buyer_id": f"b{tick}", "product_id": "p-1", "quantity": 1}
            events.append(wire("order.placed", SESSION, now, {**data, "amount": "99.00"}))
            events.append(wire("order.paid", SESSION, now, {"order_id": order}))
        if rng.random() < 0.5:
            text = {"kind": "comment", "viewer_id": f"v{rng.randrange(10_000)}", "text": "好"}
            events.append(wire("interaction.recorded", SESSION, now, text))
        yield events


class Room:
    """The room's fold and its runs, as the worker keeps them between runs."""

    def __init__(self) -> None:
        self.projection = SessionProjection()
        self.state: SessionState = self.projection.new(SESSION)
        self.version = 0
        self.written: dict[tuple[str, tuple[Any, ...]], Any] = {}
        self.view_row: dict[str, Any] | None = None

    def stored(self, events: list[dict[str, Any]]) -> list[StoredEvent]:
        """The events validated and numbered as the store would, after those before."""
        out = stored(events)  # numbered from 1: moved on past the room's earlier events
        for event in out:
            self.version += 1
            event.position = event.version = self.version
        return out

    def run(self, events: list[StoredEvent]) -> None:
        """Fold, rows, compare, encode: a run's Python."""
        for event in events:
            self.state = self.projection.fold(self.state, event)
        writes = changed_rows(self.projection.writes(self.state, self.view_row), self.written)
        for row_set in writes.row_sets:
            for row in row_set.rows:
                if "body" in row:
                    orjson.dumps(row["body"])
        self.view_row = writes.view_row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pins-every", type=float, default=0, help="minutes; 0: no pins")
    args = parser.parse_args()
    tune_garbage_collector()  # as `livetally up` does
    total = int(args.hours * 36_000) + 1  # ticks, the start's included
    runs = args.runs
    # Timed, untraced: a run's Python in the first minutes and at the end.
    room = Room()
    early: list[float] = []
    late: list[float] = []
    for index, events in enumerate(ticks(args.hours, pins_every=args.pins_every)):
        stored = room.stored(events)
        began = time.perf_counter()
        room.run(stored)
        if 10 <= index < 10 + runs:
            early.append(time.perf_counter() - began)
        elif index >= total - runs:
            late.append(time.perf_counter() - began)
    dumps = []
    for _ in range(5):
        began = time.perf_counter()
        snapshot = room.projection.dump(room.state)
        dumps.append((time.perf_counter() - began) * 1000)
    dump_ms = median(dumps)
    events_folded, orders = room.version, room.state.orders.totals.placed
    del room
    # Traced, untimed (tracing slows every allocation): what a room's fold state and the
    # worker's memo of its last rows hold at the end.
    gc.collect()
    tracemalloc.start()
    room = Room()
    for events in ticks(args.hours, pins_every=args.pins_every):
        room.run(room.stored(events))
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{args.hours:g} h of one official-mix room: {events_folded:,} events, {orders:,} "
        f"orders; fold state and last rows held {held / 2**20:.1f} MiB; snapshot "
        f"{len(snapshot) / 2**20:.2f} MiB, encoded in {dump_ms:.1f} ms; a run's Python p50 "
        f"{median(early) * 1e6:.0f} µs in the first minutes, "
        f"{median(late) * 1e6:.0f} µs at the end"
    )


if __name__ == "__main__":
    main()
