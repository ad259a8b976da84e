"""How many rooms one `livetally up` carries: N simulated rooms at a realistic rate each, and the
largest N at which append -> published p99 stays at or under 250 ms and nothing falls behind.

    python -m benchmarks.capacity [--rooms 5,10,20,30,40,50] [--per-room 300] [--seconds 15]

Each room sends about 300 events/s (a 10,000-viewer room): joins 30%, leaves 20%, likes 30%,
comments 10%, clicks 7%, orders placed and paid 3%, in batches of a tenth of a second per room
from one client process. "Falls behind": the client could not post at the asked rate (under
95% of it), or a post's change was never published. Trials stop at the first N that fails.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import orjson

from benchmarks.common import ROOT, Instance, median
from benchmarks.latency import Published, percentile
from tests.servers import free_port


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
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "order.placed",
                    "occurred_at": now,
                    "session_id": sid,
                    "data": {
                        "order_id": order,
                        "buyer_id": viewer,
                        "product_id": "p-1",
                        "quantity": 1,
                        "amount": "99.00",
                    },
                }
            )
            type_, data = "order.paid", {"order_id": order}
        out.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": type_,
                "occurred_at": now,
                "session_id": sid,
                "data": data,
            }
        )
    return out


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


def trial(rooms: int, per_room: int, seconds: float) -> tuple[float, float, int, float]:
    """(p50 s, p99 s, never published, achieved events/s)."""
    from service.auth.tokens import create_token
    from service.process.embedded import Embedded
    from service.process.settings import Settings

    folder = tempfile.mkdtemp(prefix="livetally-cap-")
    server = Embedded(
        Settings(database_url=f"sqlite:///{folder}/cap.db", api_port=free_port(), feed_port=0)
    )
    published = Published()
    assert server.runtime.worker.hub is not None
    server.runtime.worker.hub.subscribe(published.record)  # "cap-<room>", like "lat-<n>"
    server.start()
    try:
        token = create_token(server.runtime.engine, ["ingest"])
        port = int(server.api_url.rsplit(":", 1)[1])
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.capacity",
                "client",
                str(port),
                token,
                str(rooms),
                str(per_room),
                str(seconds),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        records = json.loads(out)
        time.sleep(1.0)
    finally:
        server.stop()
    latencies = published.latencies([(r, v, t) for r, v, t, _ in records])
    done = [x for x in latencies if x != float("inf")]
    achieved = sum(size for *_, size in records) / seconds
    return (median(done), percentile(done, 0.99), len(latencies) - len(done), achieved)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        port, token, rooms, per_room, seconds = sys.argv[2:7]
        client(int(port), token, int(rooms), int(per_room), float(seconds))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", default="5,10,20,30,40,50")
    parser.add_argument("--per-room", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    carried = 0
    for rooms in (int(r) for r in args.rooms.split(",")):
        p50, p99, missing, achieved = trial(rooms, args.per_room, args.seconds)
        asked = rooms * args.per_room
        ok = p99 <= 0.250 and missing == 0 and achieved >= 0.95 * asked
        print(
            f"{rooms} rooms: asked {asked:,} events/s, achieved {achieved:,.0f}; append -> "
            f"published p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, never published "
            f"{missing}: {'carried' if ok else 'falls behind'}",
            flush=True,
        )
        if not ok:
            break
        carried = rooms
    print(f"largest N carried: {carried} rooms (goal 50)")


if __name__ == "__main__":
    main()
