"""One projection pass on SQLite: one writer at a time, and the API's appends wait for the same
lock, so a run reads, folds and works out its rows before its write transaction and holds the
lock only to check and write. The write checks that each checkpoint is still the one the fold
started from (another process may have moved it meanwhile); a stream whose checkpoint moved is
reported, to be read and folded again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine

from events.database import fetch_rows, write_transaction

Fold = Callable[[Connection, list[Any]], list[Any]]
Prepare = Callable[[Connection, list[Any]], list[Any]]
Apply = Callable[[Connection, list[Any], list[Any]], None]


def run_pass(
    engine: Engine, group: list[Any], asked: int, fold: Fold, prepare: Prepare, apply: Apply
) -> tuple[list[tuple[Any, Any]], set[str]]:
    """Fold the group's streams and prepare their writes, then write those whose checkpoint
    has not moved meanwhile: ([(folded, writes)], streams moved elsewhere)."""
    with engine.connect() as conn:
        work = fold(conn, group)
        prepared = prepare(conn, work) if work else []
    if not work:
        return [], set()
    with write_transaction(engine) as conn:
        now = checkpoints_of(conn, [item.stream[0] for item in work])
        written = [
            (item, writes)
            for item, writes in zip(work, prepared, strict=True)
            if now.get(item.stream[0], 0) == item.checkpoint
        ]
        if written:
            apply(conn, [item for item, _ in written], [writes for _, writes in written])
    moved = {item.stream[0] for item in work} - {item.stream[0] for item, _ in written}
    return written, moved


def checkpoints_of(conn: Connection, stream_ids: list[str]) -> dict[str, int]:
    """The streams' checkpoints, by stream (a stream never folded is not in it: 0)."""
    if not stream_ids:
        return {}
    marks = ", ".join(["{p}"] * len(stream_ids))
    rows = fetch_rows(
        conn,
        f"SELECT stream_id, version FROM projection_checkpoints WHERE stream_id IN ({marks})",
        tuple(stream_ids),
    )
    return {stream_id: int(version) for stream_id, version in rows}
