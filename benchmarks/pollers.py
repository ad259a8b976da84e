"""Can the pollers read N connected accounts within their minute? N Qianchuan connections, one
live room each, against the local fake platform answering every call after `--api-ms`; one
pass of `poll_pass` (first: sessions open; second, a minute later: readings only), with the
connection threads given.

    python -m benchmarks.pollers [--connections 500] [--threads 4,16] [--api-ms 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.common import ROOT  # noqa: F401 - puts the repo on sys.path
from service.ingest.connections.store import Connection
from service.process.migrate import upgrade
from service.process.runtime import build_runtime
from service.process.settings import Settings
from tests.connector_support import DOUDIAN_KEY, DOUDIAN_SECRET, TIKTOK_KEY, TIKTOK_SECRET
from tests.fake_platforms import FakePlatforms, serve


def room(i: int) -> dict[str, object]:
    return {
        "room_id": 7_000_000_000_000_000_000 + i,
        "room_status": "LIVING",
        "room_title": f"room {i}",
        "start_time": "2026-12-06 20:00:00",
        "total_live_watch_cnt": 1000 + i,
        "live_click_product_count_alias": 100,
        "total_live_comment_cnt": 50,
        "live_pay_order_gmv_alias": 1234.5,
        "live_pay_order_count_alias": 10,
        "stat_cost": 99.9,
    }


def run(connections: int, threads: int, api_ms: float) -> tuple[float, float]:
    fake = FakePlatforms((DOUDIAN_KEY, DOUDIAN_SECRET), (TIKTOK_KEY, TIKTOK_SECRET))
    httpd, url = serve(fake)
    folder = tempfile.mkdtemp(prefix="livetally-poll-")
    settings = Settings(
        database_url=f"sqlite:///{folder}/poll.db",
        qianchuan_api_url=url,
        poll_threads=threads,
    )
    runtime = build_runtime(settings, create_key=True)
    upgrade(runtime.engine)
    book = runtime.connectors.book
    for i in range(connections):
        advertiser = str(1_760_000_000_000_000 + i)
        access, refresh = fake.issue(advertiser)
        fake.qianchuan_rooms[str(71_000_000 + i)] = [room(i)]
        book.save(
            Connection(
                connection_id="",
                platform="qianchuan",
                account_id=advertiser,
                name=f"qc {i}",
                secrets={
                    "access_token": access,
                    "refresh_token": refresh,
                    "aweme_ids": str(71_000_000 + i),
                },
            )
        )
    fake.delay_seconds = api_ms / 1000
    original = fake._qianchuan

    def slow(*args: object) -> object:
        time.sleep(fake.delay_seconds)
        return original(*args)  # type: ignore[arg-type]

    fake._qianchuan = slow  # type: ignore[method-assign]
    jobs = runtime.connectors.pollers()
    now = time.time_ns() // 1000
    timings = []
    for minute in range(2):
        jobs.clock = lambda m=minute: now + m * 60_000_000
        started = time.perf_counter()
        lines = jobs.poll_pass()
        timings.append(time.perf_counter() - started)
        assert len(lines) == connections, (len(lines), lines[:3])
        assert not [line for line in lines if "failed" in line], lines[:3]
    runtime.close()
    httpd.shutdown()
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--threads", default="4,16")
    parser.add_argument("--api-ms", type=float, default=200)
    args = parser.parse_args()
    for threads in (int(t) for t in args.threads.split(",")):
        first, second = run(args.connections, threads, args.api_ms)
        print(
            f"{args.connections} connections, {threads} threads, API answering in "
            f"{args.api_ms:g} ms: first pass (sessions open) {first:.1f} s, "
            f"next minute {second:.1f} s ({'within' if second <= 60 else 'over'} the minute)",
            flush=True,
        )


if __name__ == "__main__":
    main()
