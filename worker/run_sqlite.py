"""One projection pass on SQLite: one writer at a time, and the API's appends wait for the same
lock, so a run reads and folds before its write transaction and holds the lock only to check
and write. The write checks that each checkpoint is still the one the fold started from
(another process may have moved it meanwhile); a stream whose checkpoint moved is reported, to
be read and folded again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine

from events.database import fetch_rows, write_transaction

Fold = Callable[[Connection, Any], Any]
Write = Callable[[Connection, Any], Any]


def run_pass(
    engine: Engine, group: list[Any], fold: Fold, write: Write
) -> tuple[list[tuple[Any, Any]], set[str]]:
    with engine.connect() as conn:
        work = [f for f in (fold(conn, s) for s in group) if f is not None]
    if not work:
        return [], set()
    written: list[tuple[Any, Any]] = []
    moved: set[str] = set()
    with write_transaction(engine) as conn:
        for item in work:
            if checkpoint_of(conn, item.stream[0]) != item.checkpoint:
                moved.add(item.stream[0])
                continue
            written.append((item, write(conn, item)))
    return written, moved


def checkpoint_of(conn: Connection, stream_id: str) -> int:
    rows = fetch_rows(
        conn, "SELECT version FROM projection_checkpoints WHERE stream_id = {p}", (stream_id,)
    )
    return int(rows[0][0]) if rows else 0
