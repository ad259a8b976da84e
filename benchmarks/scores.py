"""GET /api/v1/scores?period=&role=host with 200 people and 20,000 sessions in one month.

    python benchmarks/scores.py [--people 200] [--sessions 20000] [--requests 60]
                                [--backends sqlite,postgresql]

Everything goes in as events (people, targets, sessions with viewers, follows and orders) and
is projected; then the endpoint is called over HTTP against a `livetally up` process and the
p50/p95 of the requests are printed. Goal: p95 <= 100 ms on both backends.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import database, running_instance
from events import create_engine, open_recorder
from events.envelope import parse_body
from service.process.migrate import upgrade
from worker.rebuild import rebuild

PERIOD_START = datetime(2026, 10, 1, tzinfo=UTC)


def _event(type_: str, at: datetime, data: dict[str, Any], **key: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": type_,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "data": data,
        **key,
    }


def populate(url: str, people: int, sessions: int) -> None:
    engine = create_engine(url)
    upgrade(engine)
    recorder = open_recorder(engine)
    rng = random.Random(3)
    hosts = [f"host-{i}" for i in range(people * 3 // 4)]
    ops = [f"ops-{i}" for i in range(people - len(hosts))]
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        recorder.append(parse_body({"events": batch}, 10**18))
        batch.clear()

    for pid in hosts:
        batch.append(
            _event(
                "person.registered",
                PERIOD_START,
                {"name": pid, "role": "host", "on_air_since": "2026-03-01"},
                person_id=pid,
            )
        )
        for kpi, value in (
            ("gmv", 50_000),
            ("interaction_rate", 0.3),
            ("new_followers", 300),
            ("conversion_rate", 0.05),
        ):
            batch.append(
                _event(
                    "target.set",
                    PERIOD_START,
                    {"period": "2026-10", "kpi": kpi, "value": value},
                    person_id=pid,
                )
            )
    for pid in ops:
        batch.append(
            _event(
                "person.registered", PERIOD_START, {"name": pid, "role": "live_ops"}, person_id=pid
            )
        )
    flush()
    for n in range(sessions):
        sid = f"bs-{n}"
        start = PERIOD_START + timedelta(minutes=rng.randrange(30 * 24 * 60 - 200))
        batch.append(
            _event(
                "session.started",
                start,
                {
                    "host_id": rng.choice(hosts),
                    "ops_id": rng.choice(ops),
                    "room_id": "r",
                    "platform": "douyin",
                },
                session_id=sid,
            )
        )
        for v in range(4):
            at = start + timedelta(seconds=10 + v)
            batch.append(
                _event("viewer.joined", at, {"viewer_id": f"v{v}", "source": "ad"}, session_id=sid)
            )
        batch.append(
            _event(
                "interaction.recorded",
                start + timedelta(seconds=20),
                {"kind": "follow", "viewer_id": "v1"},
                session_id=sid,
            )
        )
        batch.append(
            _event(
                "order.placed",
                start + timedelta(seconds=30),
                {
                    "order_id": "o1",
                    "buyer_id": "v2",
                    "product_id": "p",
                    "quantity": 1,
                    "amount": "99.00",
                },
                session_id=sid,
            )
        )
        batch.append(
            _event("order.paid", start + timedelta(seconds=31), {"order_id": "o1"}, session_id=sid)
        )
        batch.append(
            _event(
                "session.ended", start + timedelta(minutes=rng.randint(60, 180)), {}, session_id=sid
            )
        )
        if len(batch) >= 4000:
            flush()
    flush()
    rebuild(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with database(backend) as url:
            populate(url, args.people, args.sessions)
            with running_instance(url) as instance:
                path = "/api/v1/scores?period=2026-10&role=host"
                first = instance.get(path)
                assert len(first["scorecards"]) == args.people * 3 // 4, first
                timings = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    instance.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
            print(
                f"scores, {backend}, {args.people} people, {args.sessions:,} sessions: "
                f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms "
                f"({args.requests} requests)",
                flush=True,
            )


if __name__ == "__main__":
    main()
