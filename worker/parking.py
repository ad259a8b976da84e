"""Parking poison streams: a stream whose projection keeps failing stops being retried.

Each failure of a stream's run is counted in projection_parked with its error; at PARK_AFTER
failures in a row the stream is parked: runs and the sweep skip it, /health says `degraded`
and names it, and `livetally projections retry STREAM` clears it. A success clears the count.
Which streams are parked is read at most once a second per process (a retry elsewhere is seen
within that), so the check costs nothing on the hot path.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.clock import now_micros
from events.database import write_transaction
from worker.tables import parked_streams

log = logging.getLogger(__name__)

PARK_AFTER = 3
REFRESH_SECONDS = 1.0
MAX_ERROR_CHARS = 2000


class ParkingLot:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._parked: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._failing: set[str] = set()  # streams with a failure count this process wrote
        self._lock = threading.Lock()

    def is_parked(self, stream_id: str) -> bool:
        now = time.monotonic()
        if now - self._read_at >= REFRESH_SECONDS:
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(
                        sa.select(parked_streams.c.stream_id).where(
                            parked_streams.c.parked_at.is_not(None)
                        )
                    )
                    self._parked = frozenset(row[0] for row in rows)
                self._read_at = now
            except sa.exc.SQLAlchemyError as exc:  # the run itself will meet the outage
                log.debug("could not read parked streams: %s", exc)
        return stream_id in self._parked

    def failed(self, stream_id: str, error: BaseException) -> bool:
        """Count a failure; True if the stream is now parked."""
        text = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
        now = now_micros()
        try:
            with write_transaction(self.engine) as conn:
                row = conn.execute(
                    sa.select(parked_streams.c.attempts).where(
                        parked_streams.c.stream_id == stream_id
                    )
                ).first()
                attempts = (row.attempts if row else 0) + 1
                parked_at = now if attempts >= PARK_AFTER else None
                if row is None:
                    conn.execute(
                        parked_streams.insert().values(
                            stream_id=stream_id,
                            attempts=attempts,
                            error=text,
                            first_failed_at=now,
                            parked_at=parked_at,
                        )
                    )
                else:
                    conn.execute(
                        parked_streams.update()
                        .where(parked_streams.c.stream_id == stream_id)
                        .values(attempts=attempts, error=text, parked_at=parked_at)
                    )
        except sa.exc.SQLAlchemyError as exc:
            log.warning("could not count the failure of %s: %s", stream_id, exc)
            return False
        with self._lock:
            self._failing.add(stream_id)
        if parked_at is not None:
            self._read_at = float("-inf")  # seen parked at the next check
            log.error("stream %s parked after %d failed runs: %s", stream_id, attempts, text)
        return parked_at is not None

    def succeeded(self, stream_id: str) -> None:
        if stream_id not in self._failing:
            return
        with self._lock:
            self._failing.discard(stream_id)
        clear(self.engine, stream_id)


def clear(engine: Engine, stream_id: str) -> bool:
    """Forget a stream's failures (and unpark it). True if there was anything to forget."""
    with write_transaction(engine) as conn:
        result = conn.execute(
            parked_streams.delete().where(parked_streams.c.stream_id == stream_id)
        )
    return bool(result.rowcount)


def parked(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(parked_streams)
            .where(parked_streams.c.parked_at.is_not(None))
            .order_by(parked_streams.c.stream_id)
        ).all()
    return [
        {
            "stream_id": r.stream_id,
            "attempts": r.attempts,
            "error": r.error,
            "parked_at": r.parked_at,
        }
        for r in rows
    ]
