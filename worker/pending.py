"""Coalescing: at most one queued projection message per stream.

The appender claims a stream before naming it in a "streams moved" message; if the claim is
already held, a message naming it is queued and its run has not read it yet, and it will read the
new events too, so nothing is sent. The worker releases the claim just before its run reads the
stream, so an append that lands after that read claims again and sends again. Claims expire,
so a message lost with them is not waited for forever (and the sweep catches it sooner).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol

import redis


class PendingStreams(Protocol):
    def claim(self, stream_id: str) -> bool:
        """True if the caller should send a message for the stream."""
        ...

    def release(self, stream_id: str) -> None: ...

    def release_many(self, stream_ids: list[str]) -> None: ...

    def take(self, limit: int) -> list[str]:
        """Release up to `limit` claims and return their streams, for a run to fold now."""
        ...


class LocalPending:
    """Claims in the order they were made: a run takes the oldest along first, so a stream
    whose claim is held waits for the claims made before it, never behind newer ones (a set's
    order left some streams waiting several turns while others were taken every time)."""

    def __init__(self) -> None:
        self._pending: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, stream_id: str) -> bool:
        with self._lock:
            if stream_id in self._pending:
                return False
            self._pending[stream_id] = None
            return True

    def release(self, stream_id: str) -> None:
        with self._lock:
            self._pending.pop(stream_id, None)

    def release_many(self, stream_ids: list[str]) -> None:
        with self._lock:
            for stream_id in stream_ids:
                self._pending.pop(stream_id, None)

    def take(self, limit: int) -> list[str]:
        with self._lock:
            pending = self._pending
            taken = [pending.popitem(last=False)[0] for _ in range(min(limit, len(pending)))]
        return taken


class RedisPending:
    def __init__(self, client: redis.Redis, ttl_seconds: int = 30) -> None:
        self.client = client
        self.ttl = ttl_seconds

    @staticmethod
    def _key(stream_id: str) -> str:
        return f"livetally:pending:{stream_id}"

    def claim(self, stream_id: str) -> bool:
        return bool(self.client.set(self._key(stream_id), b"1", nx=True, ex=self.ttl))

    def release(self, stream_id: str) -> None:
        self.client.delete(self._key(stream_id))

    def release_many(self, stream_ids: list[str]) -> None:
        self.client.delete(*(self._key(stream_id) for stream_id in stream_ids))

    def take(self, limit: int) -> list[str]:
        # Finding claims would mean scanning keys on every run: with Redis, runs are spread
        # over worker processes and threads instead, each folding the stream it was sent.
        return []
