"""Faults with real Redis, PostgreSQL and worker processes: no event lost or counted twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time

import sqlalchemy as sa

from tests.builders import Broadcast
from tests.e2e.conftest import Stack, counts_by_hand, order_totals


def busy_broadcast(session_id: str, seed: int, steps: int) -> Broadcast:
    rng = random.Random(seed)
    b = Broadcast(session_id).start(0, host_id=f"h-{seed % 3}")
    open_orders: list[str] = []
    for i in range(steps):
        t = 1 + i * 0.5
        viewer = f"v{rng.randrange(400)}"
        roll = rng.random()
        if roll < 0.35:
            b.join(t, viewer, rng.choice(["ad", "follow", "recommend", None]))
        elif roll < 0.55:
            b.leave(t, viewer)
        elif roll < 0.75:
            b.interact(t, rng.choice(["like", "comment", "follow"]), viewer, rng.randint(1, 3))
        elif roll < 0.85:
            b.click(t, viewer)
        elif roll < 0.93:
            order = f"o{i}"
            b.place(t, order, viewer, f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}")
            b.pay(t + 0.1, order)
            open_orders.append(order)
        elif open_orders and roll < 0.97:
            b.refund(t, rng.choice(open_orders), "1.50")
        else:
            b.cancel(t, rng.choice(open_orders)) if open_orders else b.join(t, viewer)
    return b


def ingest(stack: Stack, broadcasts: list[Broadcast], batch: int = 250) -> None:
    for b in broadcasts:
        for start in range(0, len(b.events), batch):
            response = stack.api.post({"events": b.events[start : start + batch]})
            assert response.status_code == 201, response.json


def assert_exact(stack: Stack, broadcasts: list[Broadcast]) -> None:
    for b in broadcasts:
        body = stack.body(b.session_id)
        assert body["version"] == len(b.events), b.session_id  # every event folded once
        counts = counts_by_hand(b)
        shown = {k: body["metrics"][k] for k in counts}
        shown["interactions"] = {k: v for k, v in shown["interactions"].items() if v}
        assert shown == counts, b.session_id
        # and the money, worked out by hand from the events sent
        totals = order_totals(b)
        assert {k: body["metrics"][k] for k in totals} == totals, b.session_id


def test_a_worker_killed_mid_batch_and_restarted_changes_no_number(stack: Stack) -> None:
    broadcasts = [busy_broadcast(f"k-{i}", i, 4000) for i in range(24)]
    ingest(stack, broadcasts, batch=2000)
    total = sum(len(b.events) for b in broadcasts)
    victim = stack.start_worker()
    stack.wait_until(lambda: stack.events_behind() < total, 60)  # it has committed a run
    stack.kill(victim)  # at once: it is folding the next ones
    assert stack.events_behind() > 0, "the worker finished before it could be killed"
    stack.start_worker()
    stack.wait_caught_up()
    assert_exact(stack, broadcasts)


def test_ingest_keeps_answering_while_redis_is_down_and_projections_catch_up(
    stack: Stack,
) -> None:
    stack.start_worker()
    before = [busy_broadcast(f"r-{i}", 100 + i, 200) for i in range(4)]
    ingest(stack, before)
    stack.wait_caught_up()

    stack.redis.stop()
    during = [busy_broadcast(f"d-{i}", 200 + i, 200) for i in range(4)]
    ingest(stack, during)  # every batch answers 201 (asserted in ingest)
    stack.redis.start()
    stack.wait_caught_up(timeout=5)  # within the sweep's two passes, not a minute later
    assert_exact(stack, before + during)


def test_two_workers_fold_twenty_concurrent_sessions_exactly(stack: Stack) -> None:
    stack.start_worker()
    stack.start_worker()
    broadcasts = [busy_broadcast(f"c-{i}", 300 + i, 300) for i in range(20)]
    errors: list[BaseException] = []

    def produce(b: Broadcast) -> None:
        try:
            for start in range(0, len(b.events), 20):
                response = stack.api.post({"events": b.events[start : start + 20]})
                assert response.status_code == 201
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=produce, args=(b,)) for b in broadcasts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stack.wait_caught_up()
    assert_exact(stack, broadcasts)


def test_a_frozen_worker_stalls_no_other_stream_and_loses_its_locks(stack: Stack) -> None:
    frozen = stack.start_worker()
    healthy = stack.start_worker()
    broadcasts = [busy_broadcast(f"z-{i}", 400 + i, 600) for i in range(16)]
    half = [b.events[:300] for b in broadcasts]
    for events in half:
        assert stack.api.post({"events": events}).status_code == 201

    # Both workers are folding; a live worker finds a frozen one's connections by their name.
    def connected(worker: subprocess.Popen[bytes]) -> bool:
        with stack.engine.connect() as conn:
            names = conn.execute(sa.text("SELECT application_name FROM pg_stat_activity"))
            return any(name.endswith(f":{worker.pid}") for name in names.scalars())

    stack.wait_until(lambda: connected(frozen) and connected(healthy), timeout=30)
    time.sleep(0.3)
    os.kill(frozen.pid, signal.SIGSTOP)  # mid-run, perhaps holding stream locks
    try:
        for b in broadcasts:
            assert stack.api.post({"events": b.events[300:]}).status_code == 201
        # The healthy worker skips a locked stream and comes back to it; the frozen one's open
        # transaction ends after 15 s: by the server's idle timeout, or, frozen inside a
        # pipelined statement, by the healthy worker once the frozen heartbeat is stale.
        stack.wait_caught_up(timeout=45)
        assert_exact(stack, broadcasts)
        assert healthy.poll() is None
        deadline = time.monotonic() + 30
        while stack.api.get("/api/v1/health").json["workers"]["alive"] != 1:
            assert time.monotonic() < deadline, "the frozen worker still counts as alive"
            time.sleep(0.5)
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
