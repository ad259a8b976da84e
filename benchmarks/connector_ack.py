"""How fast a platform push is acknowledged when the platform's detail API is slow: pushes of
50 Doudian "order created" messages (each needs `order.orderDetail`) into one `livetally up`,
with the fake platform server answering every detail after 2 s. The look-ups are queued for the
connector threads, so the acknowledgement should not wait for them.

    python -m benchmarks.connector_ack [--pushes 30] [--messages 50] [--detail-seconds 2]

Prints the acknowledgement time's p50, p99 and max, and how many look-ups the connector
threads finished in the seconds after the last push (their throughput: threads / detail time).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import Instance, database, running_instance
from benchmarks.latency import percentile
from tests.connector_support import (
    DOUDIAN_KEY,
    DOUDIAN_SECRET,
    TIKTOK_KEY,
    TIKTOK_SECRET,
    doudian_request,
)
from tests.fake_platforms import FakePlatforms, serve

SHOP = "95250"


def shop_order(order_id: str, created: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "shop_id": int(SHOP),
        "order_status": 105,
        "create_time": created,
        "update_time": created + 5,
        "pay_time": created + 5,
        "doudian_open_id": f"buyer-{order_id}",
        "sku_order_list": [
            {
                "order_id": f"{order_id}1",
                "product_id": "3580000000000000001",
                "item_num": 1,
                "pay_amount": 2990,
            }
        ],
    }


def post(
    instance: Instance, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, float]:
    conn = instance.connection()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    started = time.perf_counter()
    conn.request(
        "POST",
        path,
        data,
        {
            "Authorization": f"Bearer {instance.token}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=30)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--detail-seconds", type=float, default=2.0)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    args = parser.parse_args()

    fake = FakePlatforms((DOUDIAN_KEY, DOUDIAN_SECRET), (TIKTOK_KEY, TIKTOK_SECRET))
    fake.delay_seconds = args.detail_seconds
    httpd, url = serve(fake)
    key_file = tempfile.mktemp(prefix="livetally-bench-", suffix=".key")
    env = {
        "LIVETALLY_DOUDIAN_APP_KEY": DOUDIAN_KEY,
        "LIVETALLY_DOUDIAN_APP_SECRET": DOUDIAN_SECRET,
        "LIVETALLY_DOUDIAN_API_URL": url,
        "LIVETALLY_SECRET_KEY_FILE": key_file,
        # The benchmark's own connection pass would sync the shop too; keep it to pushes.
        "LIVETALLY_SYNC_SECONDS": "86400",
    }
    started_at = datetime.now(UTC) - timedelta(minutes=10)
    created = int(time.time()) - 60
    total = args.pushes * args.messages
    fake.doudian_orders[SHOP] = {
        str(9_000_000 + i): shop_order(str(9_000_000 + i), created) for i in range(total)
    }
    with database(args.db) as url_db, running_instance(url_db, env) as instance:
        session = {
            "event_id": "9d9f8a64-8f0e-4c1e-9a55-2f7a9a7b0c01",
            "type": "session.started",
            "session_id": "bench-shop",
            "occurred_at": started_at.isoformat().replace("+00:00", "Z"),
            "data": {"host_id": "h1", "room_id": "r1", "platform": "douyin", "shop_id": SHOP},
        }
        assert post(instance, "/api/v1/events", {"events": [session]})[0] == 201
        access, refresh = fake.issue(SHOP)
        status, _ = post(
            instance,
            "/api/v1/connections",
            {
                "platform": "doudian",
                "account_id": SHOP,
                "name": "bench",
                "secrets": {"access_token": access, "refresh_token": refresh},
            },
        )
        assert status == 201, status
        time.sleep(1.0)  # the session folded, so attribution finds it
        acks: list[float] = []
        for p in range(args.pushes):
            messages = [
                {
                    "tag": 100,
                    "msg_id": f"bench-{p}-{m}",
                    "data": json.dumps(
                        {
                            "p_id": str(9_000_000 + p * args.messages + m),
                            "shop_id": int(SHOP),
                            "create_time": created,
                        }
                    ),
                }
                for m in range(args.messages)
            ]
            body, headers = doudian_request(messages)
            status, seconds = post(instance, "/api/v1/connectors/doudian", body, headers)
            assert status == 200, status
            acks.append(seconds)
            time.sleep(0.2)
        last = time.monotonic()
        time.sleep(10)
        done = len(fake.requests_to("/order/orderDetail"))
        print(
            f"{args.pushes} pushes of {args.messages} messages, detail API answering in "
            f"{args.detail_seconds:g} s, {args.db}: acknowledged "
            f"p50 {percentile(acks, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(acks, 0.99) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms; "
            f"{done} of {total} look-ups done {time.monotonic() - last:.0f} s after the last push"
        )
    httpd.shutdown()


if __name__ == "__main__":
    main()
