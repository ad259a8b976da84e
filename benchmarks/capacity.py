"""How many rooms one `livetally up` carries: N simulated rooms at a realistic rate each, and the
largest N at which append -> published p99 stays at or under 250 ms and nothing falls behind.

    python -m benchmarks.capacity [--rooms 5,10,20,30,40,50] [--per-room 300] [--seconds 15]
                                  [--mix official] [--squeeze NICE]

Each room sends about 300 events/s (a 10,000-viewer room): joins 30%, leaves 20%, likes 30%,
comments 10%, clicks 7%, orders placed and paid 3%, in batches of a tenth of a second per room
from one client process. "Falls behind": the client could not post at the asked rate (under
95% of it), or a post's change was never published. Trials stop at the first N that fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import orjson

from benchmarks.common import ROOT, Instance, median
from benchmarks.latency import Published, percentile
from events.envelope import MAX_BATCH
from tests.servers import free_port


def wire(type_: str, session_id: str, now: str, data: dict[str, Any]) -> dict[str, Any]:
    """One event as a client posts it."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": type_,
        "occurred_at": now,
        "session_id": session_id,
        "data": data,
    }


def room_events(
    rng: random.Random, room: int, n: int, count: int, now: str
) -> list[dict[str, Any]]:
    sid = f"cap-{room}"
    out = []
    for k in range(count):
        viewer = f"v{rng.randrange(10_000)}"
        roll = rng.random()
        if roll < 0.30:
            type_, data = "viewer.joined", {"viewer_id": viewer, "source": "recommend"}
        elif roll < 0.50:
            type_, data = "viewer.left", {"viewer_id": viewer}
        elif roll < 0.80:
            type_, data = "interaction.recorded", {"kind": "like", "viewer_id": viewer, "count": 3}
        elif roll < 0.90:
            type_, data = (
                "interaction.recorded",
                {"kind": "comment", "viewer_id": viewer, "text": "好"},
            )
        elif roll < 0.97:
            type_, data = "product.clicked", {"product_id": "p-1", "viewer_id": viewer}
        else:
            order = f"o{n}-{k}"
            out.append(
                wire(
                    "order.placed",
                    sid,
                    now,
                    {
                        "order_id": order,
                        "buyer_id": viewer,
                        "product_id": "p-1",
                        "quantity": 1,
                        "amount": "99.00",
                    },
                )
            )
            type_, data = "order.paid", {"order_id": order}
        out.append(wire(type_, sid, now, data))
    return out


def reading(room: int, rng: random.Random, minute: int, now: str) -> dict[str, Any]:
    """A platform reading of the room (room.stats_reported), as a poller writes it."""
    views = 2000 + minute * 150 + room
    return {
        "event_id": str(uuid.uuid4()),
        "type": "room.stats_reported",
        "occurred_at": now,
        "session_id": f"cap-{room}",
        "data": {
            "source": "qianchuan",
            "online": 300 + rng.randrange(200),
            "views": views,
            "unique_viewers": views * 2 // 3,
            "product_clicks": views // 8,
            "clicking_viewers": views // 12,
            "comments": views // 5,
            "likes": views * 3,
            "shares": views // 50,
            "new_followers": views // 40,
            "watch_seconds": views * 70,
            "ad_spend": f"{minute * 12}.50",
            "gmv": f"{minute * 480}.00",
            "orders_paid": minute * 5,
            "sources": [
                {"source": "recommend", "views": views // 2, "viewers": views // 3},
                {"source": "follow", "views": views // 4},
            ],
            "products": [{"product_id": f"p-{k}", "clicks": views // 40} for k in range(5)],
        },
    }


def official_tick(
    rng: random.Random,
    rooms: int,
    tick: int,
    now: str,
    started: set[int],
    started_at: str | None = None,
    pins_every: float = 0.0,
    pinned_before: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """One 100 ms tick of the official-sources mix for every room: (the events, how many of
    them each room got). `started`: the rooms whose session.started was sent (updated here).
    `started_at`: when the sessions started (default `now`): an earlier time measures rooms
    hours into their broadcasts, with that many minutes on their timelines. `pins_every`: each
    room also explains a product every that many minutes (PRODUCTS of them in turn), as a
    selling room does; `pinned_before`: the times of its explanations before the trial, sent
    with its start."""
    events: list[dict[str, Any]] = []
    counts: dict[int, int] = {}
    every = int(pins_every * 600)  # ticks
    for room in range(rooms):
        sid = f"cap-{room}"
        mine: list[dict[str, Any]] = []
        if room not in started:
            started.add(room)
            mine.append(
                wire(
                    "session.started",
                    sid,
                    started_at or now,
                    {"host_id": "h", "room_id": f"r{room}", "platform": "douyin"},
                )
            )
            mine += [pin(sid, n, at) for n, at in enumerate(pinned_before)]
        if every and (tick + room * 7) % every == 0:  # spread over the rooms
            mine.append(pin(sid, len(pinned_before) + (tick + room * 7) // every, now))
        # a reading a minute per room, spread over the minute
        if (tick + room * 600 // max(rooms, 1)) % 600 == 0:
            mine.append(reading(room, rng, tick // 600 + 1, now))
        if rng.random() < 0.1:  # 2 order events a second: a placement and its payment
            order = f"o{room}-{tick}"
            mine.append(
                wire(
                    "order.placed",
                    sid,
                    now,
                    {
                        "order_id": order,
                        "buyer_id": f"b{tick}",
                        "product_id": "p-1",
                        "quantity": 1,
                        "amount": "99.00",
                    },
                )
            )
            mine.append(wire("order.paid", sid, now, {"order_id": order}))
        if rng.random() < 0.5:  # 5 interaction pushes a second
            mine.append(
                wire(
                    "interaction.recorded",
                    sid,
                    now,
                    {
                        "kind": "comment",
                        "viewer_id": f"v{rng.randrange(10_000)}",
                        "text": "好",
                        "count": 1,
                    },
                )
            )
        if mine:
            events += mine
            counts[room] = len(mine)
    return events, counts


PRODUCTS = 20  # the products a room explains in turn


def pin(session_id: str, n: int, at: str) -> dict[str, Any]:
    """The room's n-th explanation: a product pinned, each of PRODUCTS in turn."""
    product = n % PRODUCTS
    data = {"product_id": f"p-{product}", "name": f"商品{product}", "price": "99.00"}
    return wire("product.pinned", session_id, at, data)


def pins_before(age_minutes: float, pins_every: float) -> list[str]:
    """The times of a room's explanations in the `age_minutes` before now, one every
    `pins_every` minutes from its start."""
    if not pins_every or not age_minutes:
        return []
    count = int(age_minutes / pins_every)
    return [iso_minutes_ago(age_minutes - k * pins_every) for k in range(count)]


def iso_minutes_ago(minutes: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - minutes * 60)) + ".000Z"


def official_client(
    port: int,
    token: str,
    rooms: int,
    seconds: float,
    age_minutes: float = 0.0,
    pins_every: float = 0.0,
) -> None:
    """The official-sources mix: each room about 2 order events and 5 interaction pushes a
    second and a reading a minute, all rooms in one post every 100 ms (as a connector or
    poller process would batch them). `age_minutes`: the sessions started that long ago.
    `pins_every`: each room explains a product every that many minutes (those of the
    `age_minutes` before sent with its start)."""
    instance = Instance(port, token, "")
    conn = instance.connection()
    rng = random.Random(7)
    heads = dict.fromkeys(range(rooms), 0)
    started: set[int] = set()
    session_start = iso_minutes_ago(age_minutes) if age_minutes else None
    history = pins_before(age_minutes, pins_every)
    records, tick, started_at = [], 0, time.monotonic()
    while time.monotonic() - started_at < seconds:
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        events, counts = official_tick(
            rng, rooms, tick, now, started, session_start, pins_every, history
        )
        if events:
            # at most MAX_BATCH a post (a start with hours of explanations holds more)
            for first in range(0, len(events), MAX_BATCH):
                batch = events[first : first + MAX_BATCH]
                instance.post(conn, orjson.dumps({"events": batch}))
            at = time.monotonic()
            for room, n in counts.items():
                heads[room] += n
                records.append((room, heads[room], at, n))
        tick += 1
        pause = started_at + tick * 0.1 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    print(json.dumps(records))


def client(port: int, token: str, rooms: int, per_room: int, seconds: float) -> None:
    instance = Instance(port, token, "")
    conn = instance.connection()
    rng = random.Random(7)
    per_post = max(1, per_room // 10)
    interval = 0.1 / rooms  # each room posts ten times a second
    heads = dict.fromkeys(range(rooms), 0)
    records, n, started = [], 0, time.monotonic()
    while time.monotonic() - started < seconds:
        room = n % rooms
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        events = []
        if heads[room] == 0:
            events.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "session.started",
                    "occurred_at": now,
                    "session_id": f"cap-{room}",
                    "data": {"host_id": "h", "room_id": f"r{room}", "platform": "douyin"},
                }
            )
        events += room_events(rng, room, n, per_post, now)
        instance.post(conn, orjson.dumps({"events": events}))
        heads[room] += len(events)
        records.append((room, heads[room], time.monotonic(), len(events)))
        n += 1
        pause = started + n * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    print(json.dumps(records))


def screens(port: int, token: str, count: int, seconds: float) -> None:
    """`count` wall screens: all-sessions feed clients (as the control room's wall follows every
    live session), reading every frame for `seconds`. Prints what they received."""
    import asyncio

    from websockets.asyncio.client import connect

    totals = {"frames": 0, "bytes": 0}

    async def one() -> None:
        async with connect(
            f"ws://127.0.0.1:{port}/feed?token={token}", compression=None, max_queue=None
        ) as ws:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    async for raw in ws:
                        totals["frames"] += 1
                        totals["bytes"] += len(raw)

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(count)))

    asyncio.run(main())
    print(json.dumps(totals))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Trial(NamedTuple):
    p50: float  # s, append -> published
    p99: float
    missing: int  # posts whose change was never published
    achieved: float  # events/s posted
    resident_mb: float  # after the trial
    settled_p99: float  # s, of the posts from `settle` seconds on
    cpu: float  # the process's CPU seconds per second of trial


def trial(
    rooms: int,
    per_room: int,
    seconds: float,
    mix: str = "viewers",
    worker_threads: int | None = None,
    age_minutes: float = 0.0,
    settle: float = 2.0,
    screen_count: int = 0,
    pins_every: float = 0.0,
) -> Trial:
    """One trial of `rooms` rooms. `age_minutes` (the official mix): the sessions started
    that long before the trial. `screen_count`: wall screens following every live session on
    the feed meanwhile."""
    from service.auth.tokens import create_token
    from service.process.embedded import Embedded
    from service.process.gc_tuning import tune_garbage_collector
    from service.process.settings import Settings

    folder = tempfile.mkdtemp(prefix="livetally-cap-")
    settings = Settings(
        database_url=f"sqlite:///{folder}/cap.db", api_port=free_port(), feed_port=0
    )
    if worker_threads is not None:
        settings = replace(settings, worker_threads=worker_threads)
    server = Embedded(settings)
    published = Published()
    assert server.runtime.worker.hub is not None
    server.runtime.worker.hub.subscribe(published.record)  # "cap-<room>", like "lat-<n>"
    server.start()
    tune_garbage_collector()  # as `livetally up` does after starting (service/process/embedded.py)
    try:
        token = create_token(server.runtime.engine, ["ingest"])
        port = int(server.api_url.rsplit(":", 1)[1])
        watching = None
        if screen_count:
            watching = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.capacity",
                    "screens",
                    str(server.feed.bound_port),
                    create_token(server.runtime.engine, ["read"]),
                    str(screen_count),
                    str(seconds + 2),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # connected, and holding their first snapshot
        cpu_before = time.process_time()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.capacity",
                "client" if mix == "viewers" else "official",
                str(port),
                token,
                str(rooms),
                str(per_room),
                str(seconds),
                str(age_minutes),
                str(pins_every),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        records = json.loads(out)
        time.sleep(1.0)
        cpu = (time.process_time() - cpu_before) / seconds  # of the trial's seconds
        resident = rss_mb()
        if watching is not None:
            received = json.loads(watching.communicate(timeout=30)[0])
            print(
                f"  {screen_count} screen(s): {received['frames']:,} frames, "
                f"{received['bytes'] / 2**20:,.1f} MiB received",
                flush=True,
            )
    finally:
        server.stop()
    latencies = published.latencies([(r, v, t) for r, v, t, _ in records])
    done = [x for x in latencies if x != float("inf")]
    achieved = sum(size for *_, size in records) / seconds
    first = records[0][2] if records else 0.0
    # a run's first seconds (every session's first run) apart from the rest: see --settle
    settled = [
        x
        for x, (_, _, at, _) in zip(latencies, records, strict=True)
        if at - first >= settle and x != float("inf")
    ]
    return Trial(
        p50=median(done),
        p99=percentile(done, 0.99),
        missing=len(latencies) - len(done),
        achieved=achieved,
        resident_mb=resident,
        settled_p99=percentile(settled, 0.99) if settled else float("nan"),
        cpu=cpu,
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        port, token, rooms, per_room, seconds = sys.argv[2:7]
        client(int(port), token, int(rooms), int(per_room), float(seconds))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "screens":
        port, token, count, seconds = sys.argv[2:6]
        screens(int(port), token, int(count), float(seconds))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "official":
        port, token, rooms, _per_room, seconds, age, pins_every = sys.argv[2:9]
        official_client(int(port), token, int(rooms), float(seconds), float(age), float(pins_every))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", default="5,10,20,30,40,50")
    parser.add_argument("--per-room", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--mix",
        choices=["viewers", "official"],
        default="viewers",
        help="viewers: every viewer event; official: what official sources give (a reading a "
        "minute, ~2 order events and 5 interaction pushes a second per room)",
    )
    parser.add_argument(
        "--worker-threads", type=int, default=None, help="the embedded worker's threads"
    )
    parser.add_argument(
        "--screens",
        type=int,
        default=0,
        help="wall screens following every live session on the feed during the trial",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="also report the p99 of the posts from this many seconds into the trial on: the "
        "first seconds hold every session's first run (with --age-minutes, all its minutes "
        "drawn and written), as after a restart; the goal is judged on all posts",
    )
    parser.add_argument(
        "--age-minutes",
        type=float,
        default=0.0,
        help="official mix: the sessions started this many minutes before the trial (a room "
        "three hours into its broadcast has 180 minutes on its timeline)",
    )
    parser.add_argument(
        "--pins-every",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="official mix: each room also explains a product every that many minutes (a "
        "selling room's pins; with --age-minutes, those before the trial sent with its start)",
    )
    parser.add_argument(
        "--squeeze",
        type=int,
        default=None,
        metavar="NICE",
        help="a slower machine, reproducibly: the trial (and its clients) on one core, beside "
        "a busy loop at this niceness on the same core (0-19; the higher, the less it takes)",
    )
    args = parser.parse_args()
    with squeezed(args.squeeze):
        run_trials(args)


# The kernel's weight of each niceness from 0 to 19 (kernel/sched/core.c, sched_prio_to_weight):
# two processes that both want a core share it in proportion to their weights.
NICE_WEIGHTS = (
    1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15
)  # fmt: skip


@contextlib.contextmanager
def squeezed(nice: int | None) -> Iterator[None]:
    """With `nice`, this process and what it starts run on one core beside a busy loop at that
    niceness: about 1024 / (1024 + weight) of the core is left while the trial wants it all."""
    if nice is None:
        yield
        return
    if not 0 <= nice < len(NICE_WEIGHTS):
        raise SystemExit("--squeeze: a niceness from 0 to 19")
    os.sched_setaffinity(0, {0})  # inherited by the clients and the busy loop
    busy = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"], preexec_fn=lambda: os.nice(nice)
    )
    share = 1024 / (1024 + NICE_WEIGHTS[nice])
    print(f"squeezed: one core, beside a busy loop at nice {nice} (about {share:.0%} of it left)")
    try:
        yield
    finally:
        busy.kill()
        busy.wait()


def run_trials(args: argparse.Namespace) -> None:
    carried = 0
    for rooms in (int(r) for r in args.rooms.split(",")):
        p50, p99, missing, achieved, resident, settled, cpu = trial(
            rooms,
            args.per_room,
            args.seconds,
            args.mix,
            args.worker_threads,
            args.age_minutes,
            args.settle,
            args.screens,
            args.pins_every,
        )
        asked = rooms * (args.per_room if args.mix == "viewers" else 7)
        ok = p99 <= 0.250 and missing == 0 and achieved >= 0.95 * asked
        print(
            f"{rooms} rooms: asked {asked:,} events/s, achieved {achieved:,.0f}; append -> "
            f"published p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (from {args.settle:g} s "
            f"on {settled * 1000:.0f} ms), never published "
            f"{missing}, resident {resident:,.0f} MB, CPU {cpu:.2f} s/s: "
            f"{'carried' if ok else 'falls behind'}",
            flush=True,
        )
        if not ok:
            break
        carried = rooms
    goal = 50 if args.mix == "viewers" else 500
    print(f"largest N carried: {carried} rooms (goal {goal})")


if __name__ == "__main__":
    main()
