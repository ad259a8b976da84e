"""One projection pass on PostgreSQL: row locks let other writers on, so a run locks its
streams first (in stream order, so two runs never wait on each other) and reads, folds and
writes in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.database import write_transaction
from worker.errors import StreamBusy
from worker.rebuild_lock import take_swap_shared

Fold = Callable[[Connection, list[Any]], list[Any]]
Prepare = Callable[[Connection, list[Any]], list[Any]]
Apply = Callable[[Connection, list[Any], list[Any]], None]


def run_pass(
    engine: Engine, group: list[Any], asked: int, fold: Fold, prepare: Prepare, apply: Apply
) -> tuple[list[tuple[Any, Any]], set[str]]:
    """Fold and write the group's streams: ([(folded, writes)], streams moved elsewhere).
    One of the first `asked` streams (those a message asked for) locked by another worker
    raises StreamBusy: the message is retried. Other busy streams are left to their holder."""
    written: list[tuple[Any, Any]] = []
    with write_transaction(engine) as conn:
        take_swap_shared(conn)  # an online rebuild's swap waits for this run, or it for the swap
        busy = {
            stream_id
            for stream_id in sorted(item[0] for item in group)
            if not try_lock_stream(conn, stream_id)
        }
        for stream in group[:asked]:
            if stream[0] in busy:
                raise StreamBusy(stream[0])
        # Other busy streams are left to their holder (and the sweep, if it is frozen).
        work = fold(conn, [stream for stream in group if stream[0] not in busy])
        if work:
            prepared = prepare(conn, work)
            apply(conn, work, prepared)
            written = list(zip(work, prepared, strict=True))
    return written, set()


def try_lock_stream(conn: Connection, stream_id: str) -> bool:
    """Two workers never fold one stream at once; one that finds the stream locked does not
    wait (its holder may be frozen), it says so."""
    return bool(
        conn.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:s))"), {"s": stream_id}
        ).scalar()
    )
