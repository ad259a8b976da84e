"""Long broadcasts: the per-event cost of the session fold, the cost of a run's writes, and the
review endpoint, for a 1-hour, 20-product session against a 12-hour, 200-product one.

    python -m benchmarks.review [--runs 5] [--rate 30]

`--rate`: events per second of broadcast (joins, leaves, likes, comments, clicks, orders, and a
pin every 3 minutes). Prints, for each shape, the fold's µs per event over the session's last
20,000 events, the ms a run's writes take at the end of the session, and the review's p50/p95
over 50 requests (Flask test client, SQLite file). Goals: per-event fold within 20% of the
short session; review p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import median  # noqa: E402
from projections.session import SessionState, fold_session  # noqa: E402
from projections.session_rows import session_writes  # noqa: E402
from tests.builders import stored  # noqa: E402
from tests.conftest import fresh_sqlite_url  # noqa: E402
from tests.integration.conftest import make_api  # noqa: E402

T0 = 1_795_000_000  # seconds


def broadcast(hours: float, products: int, rate: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []

    def add(type_: str, t: float, **data: Any) -> None:
        events.append(
            {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "type": type_,
                "session_id": "long",
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + t))
                + f".{int((t % 1) * 1000):03d}Z",
                "data": data,
            }
        )

    add("session.started", 0, host_id="h-1", room_id="r-1", platform="douyin")
    seconds = int(hours * 3600)
    product = "p-0"
    order = 0
    for second in range(seconds):
        if second % 180 == 0:
            product = f"p-{rng.randrange(products)}"
            add("product.pinned", second, product_id=product, name=f"商品{product}", price="99")
        for k in range(rate):
            t = second + k / rate
            viewer = f"v{rng.randrange(10_000 * int(hours) + 1)}"
            roll = rng.random()
            if roll < 0.3:
                add("viewer.joined", t, viewer_id=viewer, source="recommend")
            elif roll < 0.5:
                add("viewer.left", t, viewer_id=viewer)
            elif roll < 0.8:
                add("interaction.recorded", t, kind="like", viewer_id=viewer, count=3)
            elif roll < 0.9:
                add("interaction.recorded", t, kind="comment", viewer_id=viewer, text="好")
            elif roll < 0.97:
                add("product.clicked", t, product_id=product, viewer_id=viewer)
            else:
                order += 1
                add(
                    "order.placed",
                    t,
                    order_id=f"o{order}",
                    buyer_id=viewer,
                    product_id=product,
                    quantity=1,
                    amount="99",
                )
                add("order.paid", t, order_id=f"o{order}")
    add("session.ended", seconds)
    return events


def measure(hours: float, products: int, rate: int, runs: int) -> dict[str, float]:
    wire = broadcast(hours, products, rate)
    events = stored(wire)
    tail = 20_000
    per_event, write_ms = [], []
    for _ in range(runs):
        state = SessionState("long")
        for event in events[:-tail]:
            state = fold_session(state, event)
        started = time.perf_counter()
        for event in events[-tail:]:
            state = fold_session(state, event)
        per_event.append((time.perf_counter() - started) / tail * 1e6)
        started = time.perf_counter()
        session_writes(state, None)
        write_ms.append((time.perf_counter() - started) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        api = make_api(fresh_sqlite_url(Path(tmp)))
        for start in range(0, len(wire), 5000):
            response = api.post({"events": wire[start : start + 5000]})
            assert response.status_code == 201, response.json
        api.project_all()
        times = []
        for _ in range(50):
            started = time.perf_counter()
            response = api.get("/api/v1/sessions/long/review")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        api.runtime.close()
    times.sort()
    return {
        "events": len(events),
        "fold_us": median(per_event),
        "write_ms": median(write_ms),
        "review_p50": times[len(times) // 2],
        "review_p95": times[int(len(times) * 0.95)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=int, default=30)
    args = parser.parse_args()
    short = measure(1, 20, args.rate, args.runs)
    long = measure(12, 200, args.rate, args.runs)
    for name, m in (("1 h, 20 products", short), ("12 h, 200 products", long)):
        print(
            f"{name}: {m['events']:,} events; fold {m['fold_us']:.2f} µs/event; "
            f"a run's writes {m['write_ms']:.1f} ms; review p50 {m['review_p50']:.1f} ms, "
            f"p95 {m['review_p95']:.1f} ms",
            flush=True,
        )
    print(
        f"per-event fold, 12 h / 1 h: {long['fold_us'] / short['fold_us']:.2f} "
        f"(goal <= 1.20); review p95 goal <= 200 ms"
    )


if __name__ == "__main__":
    main()
