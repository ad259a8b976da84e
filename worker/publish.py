"""Where workers announce a committed change: in-process when embedded, Redis otherwise."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import redis

FEED_CHANNEL = "livetally:feed"
log = logging.getLogger(__name__)

Message = dict[str, Any]


class Publisher(Protocol):
    def publish(self, message: Message) -> None: ...


class LocalHub:
    """In-process fan-out. Subscribers must not block: they are called on the worker's thread."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Message], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, message: Message) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(message)
            except Exception:
                log.exception("a feed subscriber failed")


class RedisPublisher:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def publish(self, message: Message) -> None:
        try:
            self.client.publish(FEED_CHANNEL, orjson.dumps(message))
        except redis.RedisError as exc:
            # The change is committed; screens get it with the next update or on reconnect.
            log.warning("could not publish to the feed: %s", exc)
